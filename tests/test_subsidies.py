"""Subsidy requests (issue 26): drafts, the six weeks at their edges, budget, documents, who sees what,
the review through to the decision, the report, the closing, the reminder and the yearly export."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import openpyxl
import pytest

from server.subsidies import deadlines
from tests.factories import auth, create_organisation, create_organiser

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
API = "/api/organiser/subsidies"


def lux_today() -> date:
    return deadlines.today_in_luxembourg()


def draft_body(starts_on: date | None = None, **overrides) -> dict:
    """A complete draft: texts, theme, dates, a balanced budget asking for 1,500 €."""
    starts_on = starts_on or lux_today() + timedelta(days=60)
    body = {
        "title": {"fr": "Café des langues", "de": "Sprachencafé"},
        "summary": {"fr": "Des rencontres mensuelles.", "de": "Monatliche Treffen."},
        "description": {"fr": "Un projet pour se rencontrer.\nEn plusieurs langues."},
        "aims": "Rencontres entre nouveaux arrivants et résidents.",
        "target_public": "Nouveaux arrivants",
        "theme": "participation",
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + timedelta(days=30)).isoformat(),
        "planned_events": "Quatre soirées",
        "deliverables": "Une brochure",
        "budget": [
            {"kind": "expense", "category": "rent", "label": "Salle", "amount_cents": 120000},
            {"kind": "expense", "category": "printing", "label": "Brochure", "amount_cents": 80000},
            {"kind": "own", "amount_cents": 50000},
            {"kind": "requested", "amount_cents": 150000},
        ],
    }
    body.update(overrides)
    return body


async def set_themes(conn: asyncpg.Connection, *years: int) -> None:
    for year in years:
        for code, priority in (("participation", True), ("discrimination", True), ("culture", False)):
            await conn.execute(
                "INSERT INTO subsidy_themes (year, code, title, priority) VALUES ($1, $2, $3, $4) "
                "ON CONFLICT DO NOTHING",
                year,
                code,
                {"fr": code.capitalize(), "en": code},
                priority,
            )


@pytest.fixture
async def world(conn: asyncpg.Connection):
    """Two associations (asbl), a company, a viewer of the first, and a reviewer of the department."""
    for slug, kind in (("asti", "asbl"), ("clae", "federation"), ("acme", "company")):
        await create_organisation(conn, slug, slug.upper())
        await conn.execute("UPDATE organisations SET kind = $2 WHERE slug = $1", slug, kind)
    people = {
        "asti": await create_organiser(conn, {"asti": "admin"}),
        "clae": await create_organiser(conn, {"clae": "organiser"}),
        "acme": await create_organiser(conn, {"acme": "admin"}),
        "viewer": await create_organiser(conn, {"asti": "viewer"}),
        "reviewer": await create_organiser(conn, {}),
        "admin": await create_organiser(conn, {}, is_admin=True),
    }
    await conn.execute("UPDATE organisers SET is_reviewer = true WHERE id = $1", people["reviewer"][0].id)
    today = lux_today()
    await set_themes(conn, today.year, today.year + 1)
    return {name: token for name, (_, token) in people.items()} | {"ids": {n: p[0].id for n, p in people.items()}}


async def new_draft(client: httpx.AsyncClient, token: str, organisation: str = "asti", **overrides) -> dict:
    answer = await client.post(API, json={"organisation": organisation, **draft_body(**overrides)}, headers=auth(token))
    assert answer.status_code == 201, answer.text
    return answer.json()


async def upload(
    client: httpx.AsyncClient,
    token: str,
    application_id: int,
    kind: str = "statutes",
    name: str = "statuts.pdf",
    content: bytes = PDF,
    media: str = "application/pdf",
) -> httpx.Response:
    return await client.post(
        f"{API}/{application_id}/documents",
        data={"kind": kind},
        files={"file": (name, content, media)},
        headers=auth(token),
    )


async def ready(client: httpx.AsyncClient, token: str, organisation: str = "asti", **overrides) -> int:
    """A draft with its statutes and last accounts, ready to submit."""
    draft = await new_draft(client, token, organisation, **overrides)
    assert (await upload(client, token, draft["id"])).status_code == 201
    assert (await upload(client, token, draft["id"], "accounts", "comptes-2025.pdf")).status_code == 201
    return draft["id"]


def fields(answer: httpx.Response) -> list[str]:
    return [error["field"] for error in answer.json().get("errors") or []]


# ---------------------------------------------------------------------------- who may apply


async def test_only_an_asbl_or_a_federation_may_apply(client, world) -> None:
    refused = await client.post(API, json={"organisation": "acme"}, headers=auth(world["acme"]))
    assert refused.status_code == 403 and refused.json()["code"] == "applicant_kind"
    assert "asbl" in refused.json()["detail"] and "company" in refused.json()["detail"]
    assert (await client.post(API, json={"organisation": "clae"}, headers=auth(world["clae"]))).status_code == 201
    # a viewer of the association cannot file for it
    assert (await client.post(API, json={"organisation": "asti"}, headers=auth(world["viewer"]))).status_code == 403


async def test_administrators_set_kinds_and_reviewers(client, conn, world) -> None:
    body = {"kind": "federation"}
    assert (
        await client.put(f"{API}/organisations/acme/kind", json=body, headers=auth(world["acme"]))
    ).status_code == 403
    assert (
        await client.put(f"{API}/organisations/acme/kind", json=body, headers=auth(world["admin"]))
    ).status_code == 204
    assert await conn.fetchval("SELECT kind FROM organisations WHERE slug = 'acme'") == "federation"
    target = world["ids"]["clae"]
    assert (
        await client.put(f"{API}/reviewers/{target}", json={"reviewer": True}, headers=auth(world["asti"]))
    ).status_code == 403
    assert (
        await client.put(f"{API}/reviewers/{target}", json={"reviewer": True}, headers=auth(world["admin"]))
    ).status_code == 204
    assert await conn.fetchval("SELECT is_reviewer FROM organisers WHERE id = $1", target)
    actions = await conn.fetch("SELECT action FROM audit_log WHERE action IN ('organisation_kind_set', 'reviewer_set')")
    assert len(actions) == 2


# ---------------------------------------------------------------------------- drafts keep what was typed


async def test_a_draft_saves_as_typed_and_submission_names_every_missing_field(client, world) -> None:
    created = await client.post(
        API,
        json={"organisation": "asti", "title": {"fr": "Idée"}, "budget": [{"kind": "expense", "amount_cents": 1000}]},
        headers=auth(world["asti"]),
    )
    assert created.status_code == 201
    draft = created.json()
    assert draft["status"] == "draft" and draft["title"] == {"fr": "Idée"} and draft["deadline"] is None
    assert draft["budget"] == [{"kind": "expense", "amount_cents": 1000, "category": "", "label": ""}]
    refused = await client.post(f"{API}/{draft['id']}/submit", headers=auth(world["asti"]))
    assert refused.status_code == 422 and refused.json()["code"] == "incomplete"
    assert set(fields(refused)) >= {
        "summary",
        "description",
        "aims",
        "target_public",
        "theme",
        "starts_on",
        "ends_on",
        "deliverables",
        "budget",
        "documents",
    }
    # the draft is still there as typed
    again = (await client.get(f"{API}/{draft['id']}", headers=auth(world["asti"]))).json()
    assert again["title"] == {"fr": "Idée"} and again["status"] == "draft"


async def test_the_deadline_shows_as_soon_as_the_start_is_saved(client, world) -> None:
    draft = await new_draft(client, world["asti"], starts_on=date(2027, 5, 3))
    assert draft["deadline"] == "2027-03-22"


async def test_a_negative_amount_is_refused_naming_the_line(client, world) -> None:
    draft = await new_draft(client, world["asti"])
    body = draft_body(budget=[{"kind": "expense", "amount_cents": 1000}, {"kind": "own", "amount_cents": -5}])
    refused = await client.put(f"{API}/{draft['id']}", json=body, headers=auth(world["asti"]))
    assert refused.status_code == 422
    assert "budget[1].amount_cents" in " ".join(fields(refused)) or "amount_cents" in refused.text


async def test_the_budget_must_balance(client, world) -> None:
    application_id = await ready(
        client,
        world["asti"],
        budget=[
            {"kind": "expense", "category": "rent", "amount_cents": 200000},
            {"kind": "income", "label": "Commune", "amount_cents": 20000},
            {"kind": "requested", "amount_cents": 150000},
        ],
    )
    refused = await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    assert refused.status_code == 422 and fields(refused) == ["budget"]
    shown = (await client.get(f"{API}/{application_id}", headers=auth(world["asti"]))).json()
    assert shown["totals"] == {
        "expenses_cents": 200000,
        "resources_cents": 170000,
        "requested_cents": 150000,
        "balanced": False,
    }
    balanced = draft_body(
        budget=[
            {"kind": "expense", "category": "rent", "amount_cents": 200000},
            {"kind": "income", "label": "Commune", "amount_cents": 20000},
            {"kind": "own", "amount_cents": 30000},
            {"kind": "requested", "amount_cents": 150000},
        ]
    )
    assert (await client.put(f"{API}/{application_id}", json=balanced, headers=auth(world["asti"]))).status_code == 200
    submitted = await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    assert submitted.status_code == 200 and submitted.json()["status"] == "submitted"


async def test_a_budget_without_an_amount_requested_is_refused(client, world) -> None:
    application_id = await ready(
        client, world["asti"], budget=[{"kind": "expense", "amount_cents": 1000}, {"kind": "own", "amount_cents": 1000}]
    )
    refused = await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    assert refused.status_code == 422 and fields(refused) == ["budget"]


# ---------------------------------------------------------------------------- six weeks, at their edges


@pytest.mark.parametrize(("days", "accepted"), [(41, False), (42, True), (43, True)])
async def test_submission_needs_42_days_before_the_start(client, world, days, accepted) -> None:
    starts_on = lux_today() + timedelta(days=days)
    application_id = await ready(client, world["asti"], starts_on=starts_on)
    answer = await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    if accepted:
        assert answer.status_code == 200, answer.text
        return
    needed = (starts_on - timedelta(days=42)).isoformat()
    assert answer.status_code == 422 and answer.json()["code"] == "too_late"
    assert fields(answer) == ["starts_on"] and needed in answer.json()["detail"]
    assert needed in answer.json()["errors"][0]["message"]


async def test_a_start_in_the_past_is_refused(client, world) -> None:
    application_id = await ready(client, world["asti"], starts_on=lux_today() - timedelta(days=1))
    answer = await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    assert answer.status_code == 422 and fields(answer) == ["starts_on"] and "past" in answer.text


@pytest.mark.parametrize(
    ("now", "starts_on", "accepted"),
    [
        # 00:30 in Luxembourg on 16 February is still the 15th in UTC: Luxembourg's day counts
        (datetime(2027, 2, 15, 23, 30, tzinfo=UTC), date(2027, 3, 30), True),
        (datetime(2027, 2, 15, 23, 30, tzinfo=UTC), date(2027, 3, 29), False),
        # across the change to summer time (28 March 2027): 42 calendar days are 1007 hours, not 1008
        (datetime(2027, 3, 1, 22, 59, tzinfo=UTC), date(2027, 4, 12), True),
        (datetime(2027, 3, 1, 23, 0, tzinfo=UTC), date(2027, 4, 12), False),
        (datetime(2027, 3, 1, 12, 0, tzinfo=UTC), date(2027, 4, 11), False),
        # after the change, a late evening in summer time
        (datetime(2027, 3, 28, 21, 59, tzinfo=UTC), date(2027, 5, 9), True),
        (datetime(2027, 3, 28, 22, 0, tzinfo=UTC), date(2027, 5, 9), False),
    ],
)
async def test_the_six_weeks_count_luxembourg_days_across_summer_time(
    client,
    conn,
    world,
    monkeypatch,
    now,
    starts_on,
    accepted,
) -> None:
    await set_themes(conn, starts_on.year)
    monkeypatch.setattr(deadlines, "current_time", lambda: now)
    application_id = await ready(client, world["asti"], starts_on=starts_on)
    answer = await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    assert answer.status_code == (200 if accepted else 422), answer.text
    if not accepted:
        assert (starts_on - timedelta(days=42)).isoformat() in answer.json()["detail"]


def test_the_deadline_is_six_weeks_of_calendar_days() -> None:
    assert deadlines.deadline_for(date(2027, 4, 12)) == date(2027, 3, 1)
    assert deadlines.lead_time_error(date(2027, 4, 12), date(2027, 3, 1)) is None
    late = deadlines.lead_time_error(date(2027, 4, 12), date(2027, 3, 2))
    assert late is not None and "2027-03-01" in late.message


# ---------------------------------------------------------------------------- documents


async def test_a_pdf_renamed_png_is_refused(client, world) -> None:
    draft = await new_draft(client, world["asti"])
    answer = await upload(client, world["asti"], draft["id"], name="statuts.png", media="image/png")
    assert answer.status_code == 422 and fields(answer) == ["file"] and "PDF" in answer.json()["detail"]


async def test_a_file_of_another_type_is_refused_whatever_its_name(client, world) -> None:
    draft = await new_draft(client, world["asti"])
    answer = await upload(client, world["asti"], draft["id"], name="statuts.pdf", content=b"<html>hello</html>")
    assert answer.status_code == 422 and fields(answer) == ["file"]
    answer = await upload(client, world["asti"], draft["id"], name="vide.pdf", content=b"")
    assert answer.status_code == 422 and fields(answer) == ["file"]


async def test_a_20_mb_file_is_refused_naming_the_field(client, conn, world) -> None:
    draft = await new_draft(client, world["asti"])
    answer = await upload(client, world["asti"], draft["id"], content=PDF + b"\x00" * (20 * 1024 * 1024))
    assert answer.status_code == 422 and fields(answer) == ["file"] and "10 MB" in answer.text
    # just over 10 MB passes the body's limit and is refused by the document's
    answer = await upload(client, world["asti"], draft["id"], content=PDF + b"\x00" * (10 * 1024 * 1024))
    assert answer.status_code == 422 and fields(answer) == ["file"] and "10 MB" in answer.text
    assert await conn.fetchval("SELECT count(*) FROM subsidy_documents") == 0


async def test_a_png_and_a_jpeg_are_kept_outside_the_request_row(client, conn, world) -> None:
    draft = await new_draft(client, world["asti"])
    png = await upload(client, world["asti"], draft["id"], "quote", "devis.PNG", PNG, "image/png")
    jpeg = await upload(
        client, world["asti"], draft["id"], "quote", "devis 2.jpeg", b"\xff\xd8\xff\xe0" + b"1" * 40, "image/jpeg"
    )
    assert png.status_code == jpeg.status_code == 201
    assert png.json()["media_type"] == "image/png" and jpeg.json()["media_type"] == "image/jpeg"
    assert (
        await conn.fetchval("SELECT content FROM subsidy_document_contents WHERE document_id = $1", png.json()["id"])
        == PNG
    )


async def test_documents_download_as_attachments_to_those_who_may_see_them(client, world) -> None:
    application_id = await ready(client, world["asti"])
    shown = (await client.get(f"{API}/{application_id}", headers=auth(world["asti"]))).json()
    url = shown["documents"][0]["url"].replace("https://zesummen.test", "")
    got = await client.get(url, headers=auth(world["asti"]))
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["content-disposition"].startswith('attachment; filename="statuts.pdf"')
    assert got.headers["x-content-type-options"] == "nosniff" and "no-store" in got.headers["cache-control"]
    assert (await client.get(url, headers=auth(world["viewer"]))).status_code == 200
    for stranger in ("clae", "reviewer", "acme"):  # the reviewer sees nothing before submission
        assert (await client.get(url, headers=auth(world[stranger]))).status_code == 404
    assert (await client.get(url)).status_code == 401
    await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    assert (await client.get(url, headers=auth(world["reviewer"]))).status_code == 200
    assert (await client.get(url, headers=auth(world["clae"]))).status_code == 404


# ---------------------------------------------------------------------------- who sees and changes what


async def test_associations_see_only_their_own_and_reviewers_only_submitted_ones(client, world) -> None:
    mine = await ready(client, world["asti"])
    theirs = await ready(client, world["clae"], organisation="clae")
    draft = await new_draft(client, world["clae"], organisation="clae")
    await client.post(f"{API}/{theirs}/submit", headers=auth(world["clae"]))

    def ids(answer: httpx.Response) -> set[int]:
        return {item["id"] for item in answer.json()["items"]}

    assert ids(await client.get(API, headers=auth(world["asti"]))) == {mine}
    assert ids(await client.get(API, headers=auth(world["clae"]))) == {theirs, draft["id"]}
    assert ids(await client.get(API, headers=auth(world["reviewer"]))) == {theirs}
    for path in (f"{API}/{theirs}", f"{API}/{draft['id']}"):
        assert (await client.get(path, headers=auth(world["asti"]))).status_code == 404
        assert (await client.put(path, json=draft_body(), headers=auth(world["asti"]))).status_code == 404
        assert (await client.post(f"{path}/submit", headers=auth(world["asti"]))).status_code == 404
    assert (await client.get(f"{API}/{draft['id']}", headers=auth(world["reviewer"]))).status_code == 404
    # a reviewer reads a submitted request and cannot edit it
    seen = await client.get(f"{API}/{theirs}", headers=auth(world["reviewer"]))
    assert seen.status_code == 200 and seen.json()["may_edit"] is False and seen.json()["may_review"] is True
    assert (await client.put(f"{API}/{theirs}", json=draft_body(), headers=auth(world["reviewer"]))).status_code == 403
    assert (await upload(client, world["reviewer"], theirs)).status_code == 403
    # an association cannot review, even its own
    assert (
        await client.post(
            f"{API}/{theirs}/decision",
            json={"outcome": "eligible", "amount_granted_cents": 1},
            headers=auth(world["clae"]),
        )
    ).status_code == 403
    assert (
        await client.post(f"{API}/{mine}/questions", json={"body": "?"}, headers=auth(world["clae"]))
    ).status_code == 404
    # a viewer reads but does not change
    assert (await client.get(f"{API}/{mine}", headers=auth(world["viewer"]))).status_code == 200
    assert (await client.put(f"{API}/{mine}", json=draft_body(), headers=auth(world["viewer"]))).status_code == 403
    # a submitted request no longer changes, but for the answers to questions
    assert (await client.put(f"{API}/{theirs}", json=draft_body(), headers=auth(world["clae"]))).status_code == 422


async def test_events_of_another_organisation_cannot_be_linked(client, conn, world, settings) -> None:
    from tests.factories import create_event

    own = await create_event(conn, settings, organisation="asti")
    other = await create_event(conn, settings, organisation="clae")
    draft = await new_draft(client, world["asti"], events=[own.slug])
    assert [e["slug"] for e in draft["events"]] == [own.slug]
    refused = await client.put(
        f"{API}/{draft['id']}", json=draft_body(events=[other.slug]), headers=auth(world["asti"])
    )
    assert refused.status_code == 422 and fields(refused) == ["events"]


# ---------------------------------------------------------------------------- the review


async def test_review_questions_answers_decision_report_and_closing(client, conn, world) -> None:
    application_id = await ready(client, world["asti"])
    await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    seen = (await client.get(f"{API}/{application_id}", headers=auth(world["reviewer"]))).json()
    assert {c["code"]: c["ok"] for c in seen["checklist"]} == {
        "applicant_kind": True,
        "deadline": True,
        "documents": True,
        "budget_balanced": True,
        "theme": True,
    }
    assert [c["detail"] for c in seen["checklist"] if c["code"] == "theme"] == ["priority"]
    asked = await client.post(
        f"{API}/{application_id}/questions", json={"body": "Quel public ?"}, headers=auth(world["reviewer"])
    )
    assert asked.status_code == 201 and asked.json()["status"] == "awaiting_applicant"
    # while a question waits, the association may correct its request
    fixed = draft_body(target_public="Nouveaux arrivants et voisins")
    assert (await client.put(f"{API}/{application_id}", json=fixed, headers=auth(world["asti"]))).status_code == 200
    answered = await client.post(
        f"{API}/{application_id}/answers", json={"body": "Les voisins aussi."}, headers=auth(world["asti"])
    )
    assert answered.status_code == 201 and answered.json()["status"] == "submitted"
    assert [m["author"] for m in answered.json()["messages"]] == ["reviewer", "applicant"]
    too_much = await client.post(
        f"{API}/{application_id}/decision",
        json={"outcome": "eligible", "amount_granted_cents": 150001},
        headers=auth(world["reviewer"]),
    )
    assert too_much.status_code == 422 and fields(too_much) == ["amount_granted_cents"]
    early_close = await client.post(f"{API}/{application_id}/close", headers=auth(world["reviewer"]))
    assert early_close.status_code == 422
    decided = await client.post(
        f"{API}/{application_id}/decision",
        json={"outcome": "eligible", "amount_granted_cents": 120000},
        headers=auth(world["reviewer"]),
    )
    assert decided.status_code == 200 and decided.json()["status"] == "eligible"
    assert (await client.post(f"{API}/{application_id}/close", headers=auth(world["reviewer"]))).status_code == 422
    report = await client.put(
        f"{API}/{application_id}/report",
        json={
            "what_happened": "Quatre soirées, une brochure.",
            "attendance": 85,
            "deliverables": "Brochure (500)",
            "actual_budget": [
                {"kind": "expense", "amount_cents": 190000},
                {"kind": "own", "amount_cents": 70000},
                {"kind": "requested", "amount_cents": 120000},
            ],
        },
        headers=auth(world["asti"]),
    )
    assert report.status_code == 200 and report.json()["report"]["attendance"] == 85
    assert report.json()["report"]["actual_totals"]["balanced"] is True
    closed = await client.post(f"{API}/{application_id}/close", headers=auth(world["reviewer"]))
    assert closed.status_code == 200 and closed.json()["status"] == "closed"
    actions = [
        r["action"]
        for r in await conn.fetch(
            "SELECT action FROM audit_log WHERE detail->>'application' = $1 ORDER BY id", str(application_id)
        )
    ]
    assert actions == [
        "subsidy_created",
        "subsidy_document_added",
        "subsidy_document_added",
        "subsidy_submitted",
        "subsidy_question",
        "subsidy_saved",
        "subsidy_answer",
        "subsidy_decided",
        "subsidy_report",
        "subsidy_closed",
    ]


async def test_not_eligible_needs_a_reason(client, world) -> None:
    application_id = await ready(client, world["asti"])
    await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    refused = await client.post(
        f"{API}/{application_id}/decision", json={"outcome": "not_eligible"}, headers=auth(world["reviewer"])
    )
    assert refused.status_code == 422 and fields(refused) == ["reason"]
    decided = await client.post(
        f"{API}/{application_id}/decision",
        json={"outcome": "not_eligible", "reason": "Projet commercial."},
        headers=auth(world["reviewer"]),
    )
    assert decided.json()["status"] == "not_eligible" and decided.json()["decision_reason"] == "Projet commercial."


async def test_the_report_takes_attendance_from_the_linked_events(client, conn, world, settings) -> None:
    from tests.factories import create_event

    event = await create_event(conn, settings, organisation="asti")
    event_id = await conn.fetchval("SELECT id FROM events WHERE slug = $1", event.slug)
    for n in range(3):
        await conn.execute(
            "INSERT INTO registrations (event_id, email, name, language, status, attendance) "
            "VALUES ($1, $2, 'X', 'fr', 'confirmed', $3)",
            event_id,
            f"p{n}@example.lu",
            "present" if n < 2 else "absent",
        )
    application_id = await ready(client, world["asti"], events=[event.slug])
    await client.post(f"{API}/{application_id}/submit", headers=auth(world["asti"]))
    await client.post(
        f"{API}/{application_id}/decision",
        json={"outcome": "eligible", "amount_granted_cents": 1000},
        headers=auth(world["reviewer"]),
    )
    report = await client.put(
        f"{API}/{application_id}/report", json={"what_happened": "Bien."}, headers=auth(world["asti"])
    )
    assert report.status_code == 200, report.text
    assert report.json()["report"]["attendance"] == 2 and report.json()["report"]["attendance_from_events"] == 2


# ---------------------------------------------------------------------------- themes and the yearly export


async def test_reviewers_edit_the_themes_of_the_year(client, world) -> None:
    body = {
        "themes": [
            {"code": "political", "title": {"fr": "Participation politique"}, "priority": True},
            {"code": "culture", "title": {"fr": "Culture"}},
        ]
    }
    assert (await client.put(f"{API}/themes/2030", json=body, headers=auth(world["asti"]))).status_code == 403
    written = await client.put(f"{API}/themes/2030", json=body, headers=auth(world["reviewer"]))
    assert written.status_code == 200
    assert [(t["code"], t["priority"]) for t in written.json()["themes"]] == [("political", True), ("culture", False)]


async def test_the_yearly_export_lists_granted_subsidies_by_theme_and_association(client, conn, world) -> None:
    year = lux_today().year + 1
    starts_on = date(year, 6, 1)  # next year: always more than six weeks away
    ids = []
    for organisation, theme in (("asti", "participation"), ("clae", "culture"), ("asti", "participation")):
        application_id = await ready(
            client, world[organisation], organisation=organisation, theme=theme, starts_on=starts_on
        )
        await client.post(f"{API}/{application_id}/submit", headers=auth(world[organisation]))
        ids.append(application_id)
    for application_id, amount in zip(ids[:2], (100000, 50000), strict=True):
        await client.post(
            f"{API}/{application_id}/decision",
            json={"outcome": "eligible", "amount_granted_cents": amount},
            headers=auth(world["reviewer"]),
        )
    await client.post(
        f"{API}/{ids[2]}/decision", json={"outcome": "not_eligible", "reason": "Non."}, headers=auth(world["reviewer"])
    )
    assert (await client.get(f"{API}/granted/{year}", headers=auth(world["asti"]))).status_code == 403
    answer = await client.get(f"{API}/granted/{year}?lang=en", headers=auth(world["reviewer"]))
    assert answer.status_code == 200 and answer.headers["content-disposition"].startswith("attachment")
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    rows = [tuple(cell for cell in row) for row in sheet.iter_rows(values_only=True)]
    assert rows[0] == ("Theme", "Priority theme", "Association", "Project", "Start", "Amount granted (EUR)")
    assert [(r[0], r[2], r[5]) for r in rows[1:] if r[0] and not r[0].startswith("Total")] == [
        ("participation", "ASTI", 1000),
        ("culture", "CLAE", 500),
    ]
    assert (f"Total granted in {year}", None, None, None, None, 1500) in rows
    assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'subsidy_export'") == 1


# ---------------------------------------------------------------------------- the reminder


async def test_a_draft_is_reminded_two_weeks_before_its_deadline_once(client, conn, world, settings) -> None:
    from server.notifications.messages import build_delivery

    today = lux_today()
    due = await new_draft(client, world["asti"], starts_on=today + timedelta(days=42 + 14), language="de")
    await new_draft(client, world["asti"], starts_on=today + timedelta(days=42 + 15))
    submitted = await ready(client, world["asti"], starts_on=today + timedelta(days=42 + 10))
    await client.post(f"{API}/{submitted}/submit", headers=auth(world["asti"]))
    assert await deadlines.remind_deadlines(conn, settings) == 1
    assert await deadlines.remind_deadlines(conn, settings) == 0
    row = await conn.fetchrow("SELECT * FROM outbox WHERE kind = 'subsidy_deadline_reminder'")
    assert row["payload"]["application"] == due["id"] and row["language"] == "de"
    message, recipient = await build_delivery(conn, row, settings)
    assert message["Content-Language"] == "de"
    assert f"https://zesummen.test/organiser/subsidies/{due['id']}" in message.get_body(("plain",)).get_content()
