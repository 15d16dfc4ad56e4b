"""Communes ask, the agency answers (issue 23): the request through the API and the form, the staff's
answers, the thread, and a session scheduled from a request."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import msgspec
import pytest

from server.communes import directory, reminders
from server.settings import Settings
from server.validation import LOCAL_ZONE, local_today
from tests.apps import app_on
from tests.factories import auth, create_organisation, create_organiser
from tests.test_pages import HTML, csrf_token, text_of


def soon(days: int) -> str:
    return (local_today() + timedelta(days=days)).isoformat()


def request_body(**overrides) -> dict:
    """A valid request from a commune, a month ahead."""
    body = {
        "commune": "esch-sur-alzette",
        "requester_type": "ccci",
        "contact_name": "Ana Ferreira",
        "email": "Ana.Ferreira@Example.lu",
        "phone": "+352 27 54 00 00",
        "language": "pt",
        "subject": "testimonies",
        "preferred": [{"from": soon(30), "to": soon(40)}],
        "audience_size": 40,
        "audience_languages": ["fr", "pt"],
        "interpretation": ["pt", "ar"],
        "venue": "Salle des fêtes, 1 rue X",
        "step_free": True,
        "message": "Une soirée pour les habitants.\nMerci !",
        "consent": True,
    }
    body.update(overrides)
    return body


@pytest.fixture
async def agency(conn: asyncpg.Connection):
    """The agency (ASTI) with an admin, an organiser and a viewer; another organisation with its admin."""
    await create_organisation(conn, "asti", "ASTI")
    await create_organisation(conn, "clae", "CLAE")
    admin, admin_token = await create_organiser(conn, {"asti": "admin"})
    staff, staff_token = await create_organiser(conn, {"asti": "organiser"})
    viewer, viewer_token = await create_organiser(conn, {"asti": "viewer"})
    other, other_token = await create_organiser(conn, {"clae": "admin"})
    return {
        "admin": (admin, admin_token),
        "staff": (staff, staff_token),
        "viewer": (viewer, viewer_token),
        "other": (other, other_token),
    }


def client_for_app(
    conn: asyncpg.Connection, settings: Settings, ip: str = "203.0.113.9", **headers
) -> httpx.AsyncClient:
    app = app_on(settings, conn)
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(ip, 5000)), base_url="https://testserver", headers=headers
    )


async def ask(client: httpx.AsyncClient, **overrides) -> httpx.Response:
    return await client.post("/api/commune-requests", json=request_body(**overrides))


# ---------------------------------------------------------------------------- a commune asks (API)


def test_commune_slugs_follow_the_contract() -> None:
    assert directory.commune_slug("Esch-sur-Alzette") == "esch-sur-alzette"
    assert directory.commune_slug("Groussbus-Wal") == "groussbus-wal"
    assert directory.commune_slug("Vallée de l'Ernz") == "vallee-de-l-ernz"
    assert directory.commune_slug("Käerjeng") == "kaerjeng"


async def test_every_commune_has_its_own_slug(conn) -> None:
    slugs = await directory.communes_by_slug(conn)
    assert len(slugs) == await conn.fetchval("SELECT count(*) FROM communes") == 100
    assert slugs["luxembourg"] == "Luxembourg" and slugs["esch-sur-sure"] == "Esch-sur-Sûre"


async def test_a_request_is_stored_and_mails_are_queued_for_requester_and_staff(client, conn, agency) -> None:
    answer = await ask(client)
    assert answer.status_code == 201, answer.text
    url = answer.json()["status_url"]
    assert re.fullmatch(r"https://zesummen\.test/requests/[A-Za-z0-9_-]{43}", url)
    row = await conn.fetchrow("SELECT * FROM commune_requests")
    assert (row["commune"], row["email"], row["status"], row["organisation_id"]) == (
        "Esch-sur-Alzette",
        "ana.ferreira@example.lu",
        "new",
        await conn.fetchval("SELECT id FROM organisations WHERE slug = 'asti'"),
    )
    assert row["preferred"] == [{"from": soon(30), "to": soon(40)}] and list(row["interpretation"]) == ["pt", "ar"]
    assert row["message"] == "Une soirée pour les habitants.\nMerci !"
    assert url.rsplit("/", 1)[1].encode() not in bytes(row["token_hash"])  # only the hash is kept
    mails = await conn.fetch("SELECT kind, recipient, language FROM outbox ORDER BY id")
    admin, staff = agency["admin"][0], agency["staff"][0]
    assert [tuple(m) for m in mails] == [
        ("commune_request_received", "ana.ferreira@example.lu", "pt"),
        ("commune_request_arrived", admin.email, "fr"),
        ("commune_request_arrived", staff.email, "fr"),
    ]


async def test_a_request_may_name_another_organisation_and_its_staff_are_told(client, conn, agency) -> None:
    answer = await ask(client, organisation="clae", commune="Groussbus-Wal")
    assert answer.status_code == 201
    assert await conn.fetchval("SELECT commune FROM commune_requests") == "Groussbus-Wal"
    assert (
        await conn.fetchval("SELECT recipient FROM outbox WHERE kind = 'commune_request_arrived'")
        == agency["other"][0].email
    )


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"preferred": [{"from": soon(3), "to": soon(4)}]}, "preferred[0].from"),
        ({"commune": "atlantis"}, "commune"),
        ({"organisation": "nobody"}, "organisation"),
        ({"consent": False}, "consent"),
        ({"contact_name": "   "}, "contact_name"),
        ({"email": "not-an-address"}, "email"),
        ({"preferred": [{"from": soon(40), "to": soon(30)}]}, "preferred[0].to"),
    ],
)
async def test_a_refused_field_is_named_and_nothing_is_stored(client, conn, agency, overrides, field) -> None:
    answer = await ask(client, **overrides)
    assert answer.status_code == 422, answer.text
    assert field in [error["field"] for error in answer.json()["errors"]]
    assert await conn.fetchval("SELECT count(*) FROM commune_requests") == 0
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_missing_contact_is_named(client, conn, agency) -> None:
    body = request_body()
    del body["contact_name"]
    answer = await client.post("/api/commune-requests", json=body)
    assert answer.status_code in (400, 422) and "contact_name" in answer.text
    assert await conn.fetchval("SELECT count(*) FROM commune_requests") == 0


async def test_the_lead_time_is_a_setting(conn, settings, agency) -> None:
    quick = msgspec.structs.replace(settings, commune_request_lead_time=timedelta(days=2))
    async with client_for_app(conn, quick) as http:
        assert (await ask(http, preferred=[{"from": soon(3), "to": soon(3)}])).status_code == 201
    async with client_for_app(conn, settings) as http:
        assert (await ask(http, preferred=[{"from": soon(20), "to": soon(22)}])).status_code == 422
        assert (await ask(http, preferred=[{"from": soon(21), "to": soon(22)}])).status_code == 201


async def test_requests_are_limited_per_address(conn, settings, agency) -> None:
    limited = msgspec.structs.replace(settings, commune_requests_per_address=2)
    async with client_for_app(conn, limited, ip="198.51.100.7") as http:
        statuses = [(await ask(http, email=f"p{n}@example.lu")).status_code for n in range(3)]
        assert statuses == [201, 201, 429]
        refused = await ask(http, email="p9@example.lu")
        assert int(refused.headers["retry-after"]) > 0
    async with client_for_app(conn, limited, ip="198.51.100.8") as http:
        assert (await ask(http, email="p3@example.lu")).status_code == 201
    assert await conn.fetchval("SELECT count(*) FROM commune_requests") == 3


# ---------------------------------------------------------------------------- a commune asks (the form)


def form_fields(**overrides) -> dict:
    fields = {
        "commune": "esch-sur-alzette",
        "requester_type": "administration",
        "contact_name": "Jos Schmit",
        "email": "jos@example.lu",
        "phone": "",
        "language": "de",
        "subject": "volunteering",
        "preferred_from_1": soon(30),
        "preferred_to_1": soon(31),
        "audience_size": "25",
        "audience_languages": ["de", "fr"],
        "interpretation": ["ar"],
        "venue": "Gemeindesaal",
        "step_free": "yes",
        "message": "Guten Tag,\r\nwir bitten um eine Veranstaltung.",
        "consent": "yes",
        "website": "",
    }
    fields.update(overrides)
    return fields


async def test_the_form_is_in_five_languages_with_every_commune(conn, settings, agency) -> None:
    async with client_for_app(conn, settings, **HTML) as http:
        for lang, heading in (
            ("fr", "Faire une demande à l'agence interculturelle"),
            ("de", "Anfrage an die interkulturelle Agentur"),
            ("lb", "Ufro un d'interkulturell Agence"),
            ("en", "Ask the intercultural agency"),
            ("pt", "Pedido à agência intercultural"),
        ):
            page = await http.get("/communes/request", params={"lang": lang})
            assert page.status_code == 200 and f'<html lang="{lang}">' in page.text
            assert heading in text_of(page)
            assert page.text.count('<option value="') >= 100 + 5 + 8 + 5
            assert "<script" not in page.text and 'name="website"' in page.text


async def test_the_form_stores_the_request_and_says_the_same_whatever_the_commune(conn, settings, agency) -> None:
    async with client_for_app(conn, settings, **HTML) as http:
        page = await http.get("/communes/request", params={"lang": "de"})
        sent = await http.post("/communes/request?lang=de", data=form_fields(csrf_token=csrf_token(page)))
        assert sent.status_code == 303 and sent.headers["location"] == "/communes/request/sent?lang=de"
        row = await conn.fetchrow("SELECT * FROM commune_requests")
        assert (row["contact_name"], row["language"], row["subject"], row["step_free"]) == (
            "Jos Schmit",
            "de",
            "volunteering",
            True,
        )
        assert list(row["audience_languages"]) == ["de", "fr"] and row["audience_size"] == 25
        assert row["message"] == "Guten Tag,\nwir bitten um eine Veranstaltung."
        other = await http.post(
            "/communes/request?lang=de",
            data=form_fields(csrf_token=csrf_token(page), commune="groussbus-wal", email="other@example.lu"),
        )
        assert other.headers["location"] == sent.headers["location"]
        done = await http.get(sent.headers["location"])
        assert "Vielen Dank für Ihre Anfrage" in text_of(done)


async def test_the_honeypot_stores_nothing_and_answers_like_a_success(conn, settings, agency) -> None:
    async with client_for_app(conn, settings, **HTML) as http:
        page = await http.get("/communes/request", params={"lang": "fr"})
        trap = await http.post(
            "/communes/request?lang=fr", data=form_fields(csrf_token=csrf_token(page), website="http://spam.example")
        )
        assert trap.status_code == 303 and trap.headers["location"] == "/communes/request/sent?lang=fr"
    assert await conn.fetchval("SELECT count(*) FROM commune_requests") == 0
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


@pytest.mark.parametrize(
    ("lang", "overrides", "field", "sentence"),
    [
        ("de", {"preferred_from_1": soon(2), "preferred_to_1": soon(3)}, "preferred", "Bitte geben Sie Termine ab dem"),
        ("fr", {"commune": "atlantis"}, "commune", "Veuillez choisir une commune dans la liste."),
        ("lb", {"contact_name": ""}, "contact_name", "Gitt w.e.g. den Numm vun enger Kontaktpersoun un."),
        ("pt", {"consent": ""}, "consent", "Aceite que guardemos o seu pedido"),
    ],
)
async def test_form_errors_come_next_to_the_field_in_the_language_with_everything_kept(
    conn,
    settings,
    agency,
    lang,
    overrides,
    field,
    sentence,
) -> None:
    async with client_for_app(conn, settings, **HTML) as http:
        page = await http.get("/communes/request", params={"lang": lang})
        answer = await http.post(
            f"/communes/request?lang={lang}", data=form_fields(csrf_token=csrf_token(page), **overrides)
        )
    assert answer.status_code == 422
    error = re.search(rf'id="f-{field}-error">(.*?)</p>', answer.text, re.S)
    assert error and sentence in re.sub(r"<[^>]+>", "", error.group(1)).replace("&#39;", "'")
    assert 'value="Gemeindesaal"' in answer.text and "wir bitten um eine Veranstaltung." in answer.text
    assert re.search(r'value="ar" checked', answer.text) and 'value="25"' in answer.text
    assert await conn.fetchval("SELECT count(*) FROM commune_requests") == 0


async def test_the_form_needs_its_csrf_token(conn, settings, agency) -> None:
    async with client_for_app(conn, settings, **HTML) as http:
        await http.get("/communes/request")
        answer = await http.post("/communes/request", data=form_fields(csrf_token="0" * 64))
    assert answer.status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM commune_requests") == 0


# ---------------------------------------------------------------------------- the agency answers


async def make_request(client: httpx.AsyncClient, conn: asyncpg.Connection, **overrides) -> tuple[int, str]:
    answer = await ask(client, **overrides)
    assert answer.status_code == 201, answer.text
    token = answer.json()["status_url"].rsplit("/", 1)[1]
    return await conn.fetchval("SELECT max(id) FROM commune_requests"), token


async def test_staff_see_only_requests_addressed_to_their_organisation(client, conn, agency) -> None:
    ours, _ = await make_request(client, conn)
    theirs, _ = await make_request(client, conn, organisation="clae", email="x@example.lu")
    listed = await client.get("/api/organiser/commune-requests", headers=auth(agency["staff"][1]))
    assert [item["id"] for item in listed.json()["items"]] == [ours]
    assert listed.json()["items"][0]["commune_slug"] == "esch-sur-alzette"
    other = await client.get("/api/organiser/commune-requests", headers=auth(agency["other"][1]))
    assert [item["id"] for item in other.json()["items"]] == [theirs]
    for method, path, body in (
        ("GET", f"/api/organiser/commune-requests/{ours}", None),
        ("PATCH", f"/api/organiser/commune-requests/{ours}", {"note": "x"}),
        ("POST", f"/api/organiser/commune-requests/{ours}/messages", {"body": "Hello"}),
    ):
        answer = await client.request(method, path, json=body, headers=auth(agency["other"][1]))
        assert answer.status_code == 404, (method, path)
    assert await conn.fetchval("SELECT note FROM commune_requests WHERE id = $1", ours) == ""
    assert await conn.fetchval("SELECT count(*) FROM commune_request_messages") == 0
    viewer = await client.patch(
        f"/api/organiser/commune-requests/{ours}", json={"note": "x"}, headers=auth(agency["viewer"][1])
    )
    assert viewer.status_code == 403
    assert (await client.get("/api/organiser/commune-requests")).status_code == 401


async def test_status_moves_along_the_allowed_transitions_only(client, conn, agency) -> None:
    request_id, _ = await make_request(client, conn)
    headers = auth(agency["staff"][1])
    path = f"/api/organiser/commune-requests/{request_id}"
    skipped = await client.patch(path, json={"status": "done"}, headers=headers)
    assert skipped.status_code == 422 and skipped.json()["errors"][0]["field"] == "status"
    for status in ("in_discussion", "scheduled"):
        answer = await client.patch(path, json={"status": status}, headers=headers)
        assert answer.status_code == 200 and answer.json()["status"] == status
    filtered = await client.get("/api/organiser/commune-requests", params={"status": "scheduled"}, headers=headers)
    assert [item["id"] for item in filtered.json()["items"]] == [request_id]
    assert (await client.get("/api/organiser/commune-requests", params={"status": "new"}, headers=headers)).json()[
        "items"
    ] == []
    no_reason = await client.patch(path, json={"status": "declined"}, headers=headers)
    assert no_reason.status_code == 422 and no_reason.json()["errors"][0]["field"] == "reason"
    declined = await client.patch(
        path, json={"status": "declined", "reason": "No date before summer."}, headers=headers
    )
    assert declined.json()["status"] == "declined" and declined.json()["reason"] == "No date before summer."
    again = await client.patch(path, json={"status": "in_discussion"}, headers=headers)
    assert again.status_code == 422
    assert await conn.fetchval("SELECT status FROM commune_requests WHERE id = $1", request_id) == "declined"


async def test_assignee_and_internal_note(client, conn, agency) -> None:
    request_id, token = await make_request(client, conn)
    path = f"/api/organiser/commune-requests/{request_id}"
    staff = agency["staff"][0]
    answer = await client.patch(
        path, json={"assignee": staff.id, "note": "Call the CCCI first."}, headers=auth(agency["admin"][1])
    )
    assert answer.status_code == 200 and (answer.json()["assignee"], answer.json()["note"]) == (
        staff.id,
        "Call the CCCI first.",
    )
    for outsider in (agency["viewer"][0].id, agency["other"][0].id, 2**40):
        refused = await client.patch(path, json={"assignee": outsider}, headers=auth(agency["admin"][1]))
        assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "assignee"
    # the internal note never reaches the requester's page
    async with client_for_app(conn, client._transport.app.state.settings, **HTML) as http:  # type: ignore[attr-defined]
        page = await http.get(f"/requests/{token}")
    assert page.status_code == 200 and "Call the CCCI" not in page.text


async def test_messages_go_by_mail_and_the_requester_answers_on_the_status_page(client, conn, settings, agency) -> None:
    request_id, token = await make_request(client, conn)
    staff = agency["staff"][0]
    await client.patch(
        f"/api/organiser/commune-requests/{request_id}", json={"assignee": staff.id}, headers=auth(agency["admin"][1])
    )
    written = await client.post(
        f"/api/organiser/commune-requests/{request_id}/messages",
        json={"body": "Bonjour,\nquelle salle ?"},
        headers=auth(agency["staff"][1]),
    )
    assert written.status_code == 201 and written.json()["status"] == "in_discussion"
    assert [m["body"] for m in written.json()["messages"]] == ["Bonjour,\nquelle salle ?"]
    mail = await conn.fetchrow("SELECT recipient, language FROM outbox WHERE kind = 'commune_request_message'")
    assert tuple(mail) == ("ana.ferreira@example.lu", "pt")
    async with client_for_app(conn, settings, **HTML) as http:
        page = await http.get(f"/requests/{token}")
        assert '<html lang="pt">' in page.text  # the request's language on a first visit
        assert "quelle salle ?" in text_of(page) and "em discussão com a agência" in text_of(page)
        empty = await http.post(f"/requests/{token}/reply?lang=pt", data={"csrf_token": csrf_token(page), "body": " "})
        assert empty.status_code == 422 and 'id="f-body-error"' in empty.text
        sent = await http.post(
            f"/requests/{token}/reply?lang=pt",
            data={"csrf_token": csrf_token(page), "body": "A sala de festas.\r\nObrigada"},
        )
        assert sent.status_code == 303
        after = await http.get(sent.headers["location"])
        assert "A sala de festas." in text_of(after) and "a sua resposta foi enviada" in text_of(after)
        assert (await http.get(f"/requests/{'A' * 43}")).status_code == 404
    thread = await conn.fetch("SELECT author, body FROM commune_request_messages ORDER BY id")
    assert [tuple(m) for m in thread] == [
        ("staff", "Bonjour,\nquelle salle ?"),
        ("requester", "A sala de festas.\nObrigada"),
    ]
    answered = await conn.fetch("SELECT recipient FROM outbox WHERE kind = 'commune_request_answered'")
    assert [m["recipient"] for m in answered] == [staff.email]  # the assignee only


# ---------------------------------------------------------------------------- schedule it


async def test_a_scheduled_draft_is_prefilled_and_publishing_it_tells_the_requester(
    client, conn, settings, agency
) -> None:
    request_id, token = await make_request(client, conn)
    headers = auth(agency["staff"][1])
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=35)
    made = await client.post(
        f"/api/organiser/commune-requests/{request_id}/schedule",
        headers=headers,
        json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()},
    )
    assert made.status_code == 201, made.text
    event = made.json()
    assert (event["kind"], event["status"], event["commune"], event["venue"]) == (
        "info_session",
        "draft",
        "Esch-sur-Alzette",
        "Salle des fêtes, 1 rue X",
    )
    assert event["languages"] == ["fr", "pt"] and event["topics"] == ["testimonies"]
    assert "Testemunhos" in event["title"]["pt"] and "Árabe" in event["summary"]["pt"]
    second = await client.post(
        f"/api/organiser/commune-requests/{request_id}/schedule",
        headers=headers,
        json={
            "starts_at": (start + timedelta(days=7)).isoformat(),
            "ends_at": (start + timedelta(days=7, hours=2)).isoformat(),
        },
    )
    assert second.status_code == 201
    linked = (await client.get(f"/api/organiser/commune-requests/{request_id}", headers=headers)).json()
    assert [e["slug"] for e in linked["events"]] == [event["slug"], second.json()["slug"]]
    assert linked["status"] == "new"  # a draft tells nobody
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE kind = 'commune_request_scheduled'") == 0

    published = await client.post(f"/api/organiser/events/{event['slug']}/publish", headers=headers)
    assert published.status_code == 200, published.text
    assert await conn.fetchval("SELECT status FROM commune_requests WHERE id = $1", request_id) == "scheduled"
    rows = await conn.fetch("SELECT recipient, language, payload FROM outbox WHERE kind = 'commune_request_scheduled'")
    assert [(r["recipient"], r["language"]) for r in rows] == [("ana.ferreira@example.lu", "pt")]
    async with client_for_app(conn, settings, **HTML) as http:
        page = await http.get(f"/requests/{token}", params={"lang": "en"})
    assert f'href="/events/{event["slug"]}?lang=en"' in page.text
    assert f"/events/{second.json()['slug']}" not in page.text  # still a draft
    assert "Scheduled sessions" in text_of(page)
    # publishing again (a re-publish) queues nothing more
    await client.post(f"/api/organiser/events/{event['slug']}/publish", headers=headers)
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE kind = 'commune_request_scheduled'") == 1


async def test_only_staff_of_the_organisation_schedule(client, conn, agency) -> None:
    request_id, _ = await make_request(client, conn)
    start = datetime.now(UTC) + timedelta(days=35)
    body = {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()}
    assert (
        await client.post(
            f"/api/organiser/commune-requests/{request_id}/schedule", json=body, headers=auth(agency["other"][1])
        )
    ).status_code == 404
    assert (
        await client.post(
            f"/api/organiser/commune-requests/{request_id}/schedule", json=body, headers=auth(agency["viewer"][1])
        )
    ).status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM events") == 0


# ---------------------------------------------------------------------------- through the mail, end to end


async def test_mails_of_a_request_reach_requester_and_staff_in_their_languages(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
) -> None:
    from server.notifications.worker import Notifier
    from server.outbox import message_id

    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    staff, staff_token = await create_organiser(conn, {"asti": "organiser"})
    await conn.execute("UPDATE organisers SET name = 'Maria Schmit' WHERE id = $1", staff.id)
    app = app_on(notifier_settings, conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        tokens = {}
        for lang, email, name in (
            ("de", "jonas@example.lu", "Jonas Weber"),
            ("lb", "nathalie@example.lu", "Nathalie Hoffmann"),
        ):
            answer = await http.post(
                "/api/commune-requests",
                json=request_body(language=lang, email=email, contact_name=name, commune="groussbus-wal"),
            )
            assert answer.status_code == 201
            tokens[lang] = answer.json()["status_url"]
        ids = {
            lang: await conn.fetchval("SELECT id FROM commune_requests WHERE language = $1", lang) for lang in tokens
        }
        await http.post(
            f"/api/organiser/commune-requests/{ids['de']}/messages",
            headers=auth(staff_token),
            json={"body": "Welcher Saal?\nDanke"},
        )
        start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=40)
        made = await http.post(
            f"/api/organiser/commune-requests/{ids['lb']}/schedule",
            headers=auth(staff_token),
            json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()},
        )
        await http.post(f"/api/organiser/events/{made.json()['slug']}/publish", headers=auth(staff_token))
        rows = await conn.fetch("SELECT id, kind, recipient, language FROM outbox ORDER BY id")
        assert [r["kind"] for r in rows] == [
            "commune_request_received",
            "commune_request_arrived",
            "commune_request_received",
            "commune_request_arrived",
            "commune_request_message",
            "commune_request_scheduled",
        ]
        assert await Notifier(notifier_settings).drain(notifier_pool) == 6
        received = {item.message_id: item for item in await smtp_server.wait_for(6)}
        mails = []
        for row in rows:
            item = received[message_id(row["id"], notifier_settings.mail_from)]
            assert item.rcpt_tos == [row["recipient"]]
            text = item.message.get_body(("plain",)).get_content()
            html = item.message.get_body(("html",)).get_content()
            # (a long encoded subject comes back from its folded header with a double space)
            subject = " ".join(str(item.message["Subject"]).split())
            mails.append((row["kind"], item.message["Content-Language"], subject, text, html))
    received_de, arrived, received_lb, _, message_de, scheduled_lb = mails
    kind, lang, subject, text, html = received_de
    assert lang == "de" and subject == "Ihre Anfrage an die interkulturelle Agentur: Groussbus-Wal"
    assert "Guten Tag Jonas Weber," in text and tokens["de"] in text and tokens["de"] in html
    assert "Erfahrungsberichte von Personen" in text
    kind, lang, subject, text, html = received_lb
    assert lang == "lb" and subject == "Är Ufro un d'interkulturell Agence: Groussbus-Wal"
    assert "Moien Nathalie Hoffmann," in text and tokens["lb"] in text
    kind, lang, subject, text, html = arrived
    assert lang == "fr" and subject.startswith("Nouvelle demande de Groussbus-Wal")
    assert "Jonas Weber (Commission consultative communale d'intégration (CCCI)) a envoyé une demande" in text
    assert f"https://zesummen.test/organiser/requests/{ids['de']}" in text
    kind, lang, subject, text, html = message_de
    assert subject == "Eine Nachricht der interkulturellen Agentur zu Ihrer Anfrage für Groussbus-Wal"
    assert "Welcher Saal?\r\nDanke" in text and "Welcher Saal?<br>Danke" in html and tokens["de"] in text
    kind, lang, subject, text, html = scheduled_lb
    assert lang == "lb" and subject.startswith("Är Versammlung zu Groussbus-Wal ass geplangt: ")
    assert f"https://zesummen.test/events/{made.json()['slug']}?lang=lb" in text and tokens["lb"] in text


# ---------------------------------------------------------------------------- reminders to staff


def test_working_days_skip_the_weekend() -> None:
    friday = datetime(2026, 12, 11, 10, 0, tzinfo=LOCAL_ZONE)
    assert reminders.working_days_before(friday, 5).date() == date(2026, 12, 4)  # the Friday before
    monday = datetime(2026, 12, 14, 10, 0, tzinfo=LOCAL_ZONE)
    assert reminders.working_days_before(monday, 5).date() == date(2026, 12, 7)
    assert reminders.working_days_before(monday, 1).date() == date(2026, 12, 11)


async def test_a_request_untouched_five_working_days_reminds_its_assignee_or_the_admins_once(
    client,
    conn,
    settings,
    agency,
) -> None:
    from server.notifications.messages import build_delivery

    assigned, _ = await make_request(client, conn)
    unassigned, _ = await make_request(client, conn, email="other@example.lu")
    fresh, _ = await make_request(client, conn, email="fresh@example.lu")
    staff = agency["staff"][0]
    await client.patch(
        f"/api/organiser/commune-requests/{assigned}", json={"assignee": staff.id}, headers=auth(agency["admin"][1])
    )
    old = datetime.now(UTC) - timedelta(days=8)
    await conn.execute(
        "UPDATE commune_requests SET updated_at = $1 WHERE id = ANY($2::bigint[])", old, [assigned, unassigned]
    )
    assert await reminders.remind_untouched(conn, settings) == 2
    assert await reminders.remind_untouched(conn, settings) == 0  # once per untouched stretch
    rows = await conn.fetch("SELECT * FROM outbox WHERE kind = 'commune_request_reminder' ORDER BY id")
    assert [(r["payload"]["request"], r["recipient"]) for r in rows] == [
        (assigned, staff.email),
        (unassigned, agency["admin"][0].email),
    ]
    message, recipient = await build_delivery(conn, rows[0], settings)
    assert recipient == staff.email
    assert " ".join(str(message["Subject"]).split()) == "En attente de réponse : demande de Esch-sur-Alzette"
    assert "depuis 5 jours ouvrables" in message.get_body(("plain",)).get_content()
    # a staff message touches the request: no reminder until five more working days pass
    await client.post(
        f"/api/organiser/commune-requests/{unassigned}/messages",
        json={"body": "Bonjour"},
        headers=auth(agency["staff"][1]),
    )
    await conn.execute("UPDATE commune_requests SET updated_at = $1 WHERE id = $2", old, unassigned)
    assert await reminders.remind_untouched(conn, settings) == 0
    assert fresh not in [r["payload"]["request"] for r in rows]
