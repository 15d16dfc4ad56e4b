"""The back-office pages of subsidy requests: filing through forms, errors next to fields, the reviewer's
view, documents through the session, and other associations kept out."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

import pytest

from server.subsidies import deadlines
from server.validation import LOCAL_ZONE
from tests.apps import app_on
from tests.factories import create_event, create_organisation, create_organiser
from tests.test_backoffice_signin import browser, sign_in, with_password
from tests.test_pages import csrf_token, text_of
from tests.test_subsidies import PDF, set_themes


@pytest.fixture
async def people(conn):
    """ASTI (asbl) and CLAE (asbl) with an admin each, CEFIS (other), and a reviewer; all with passwords."""
    for slug, kind in (("asti", "asbl"), ("clae", "asbl"), ("cefis", "other")):
        await create_organisation(conn, slug, slug.upper())
        await conn.execute("UPDATE organisations SET kind = $2 WHERE slug = $1", slug, kind)
    found = {}
    for key, roles in (
        ("asti", {"asti": "admin"}),
        ("clae", {"clae": "admin"}),
        ("cefis", {"cefis": "admin"}),
        ("reviewer", {}),
    ):
        person, _ = await create_organiser(conn, roles)
        await with_password(conn, person.email)
        found[key] = person
    await conn.execute("UPDATE organisers SET is_reviewer = true WHERE id = $1", found["reviewer"].id)
    today = deadlines.today_in_luxembourg()
    await set_themes(conn, today.year, today.year + 1)
    return found


@asynccontextmanager
async def signed_in(conn, settings, person, lang: str = "en"):
    async with browser(app_on(settings, conn)) as http:
        assert (await sign_in(http, person.email, lang=lang)).status_code == 303
        yield http


async def start_draft(http) -> tuple[int, str]:
    page = await http.get("/organiser/subsidies")
    answer = await http.post("/organiser/subsidies", data={"csrf_token": csrf_token(page), "organisation": "asti"})
    assert answer.status_code == 303
    application_id = int(answer.headers["location"].rsplit("/", 1)[-1])
    return application_id, csrf_token(await http.get(f"/organiser/subsidies/{application_id}"))


def form(token: str, starts_on, **changes) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "title_fr": "Café des langues",
        "summary_fr": "Des rencontres.",
        "description_fr": "Un projet.\nEn plusieurs langues.",
        "aims": "Se rencontrer",
        "target_public": "Tous",
        "theme": "participation",
        "starts_on": starts_on.isoformat(),
        "ends_on": (starts_on + timedelta(days=10)).isoformat(),
        "deliverables": "Une brochure",
        "budget_kind_0": "expense",
        "budget_category_0": "Salle",
        "budget_amount_0": "1 200,50",
        "budget_kind_1": "own",
        "budget_category_1": "Fonds propres",
        "budget_amount_1": "200.50",
        "budget_kind_2": "requested",
        "budget_category_2": "Demande",
        "budget_amount_2": "1000",
        "contact_email": "asti@example.lu",
        "language": "fr",
        "action": "save",
    }
    data.update(changes)
    return data


async def test_an_association_files_a_request_through_the_pages(conn, settings, people) -> None:
    starts_on = deadlines.today_in_luxembourg() + timedelta(days=50)
    async with signed_in(conn, settings, people["asti"]) as http:
        application_id, token = await start_draft(http)
        path = f"/organiser/subsidies/{application_id}"
        saved = await http.post(path, data=form(token, starts_on))
        assert saved.status_code == 303 and saved.headers["location"].endswith("done=saved")
        page = await http.get(path)
        deadline = deadlines.deadline_for(starts_on)
        assert f"submit the request by {deadline.day} " in text_of(page)
        assert 'value="1200.50"' in page.text and 'value="Café des langues"' in page.text
        # submitting without documents: the error is next to the field, and the typed text is still there
        refused = await http.post(path, data=form(csrf_token(page), starts_on, action="submit", aims="Changé"))
        assert refused.status_code == 422
        assert 'id="f-documents-error"' in refused.text
        assert "Please attach the statutes and the last accounts." in text_of(refused)
        assert ">Changé</textarea>" in refused.text
        for kind in ("statutes", "accounts"):
            uploaded = await http.post(
                f"{path}/documents",
                data={"csrf_token": csrf_token(refused), "kind": kind},
                files={"file": (f"{kind}.pdf", PDF, "application/pdf")},
            )
            assert uploaded.status_code == 303
        bad = await http.post(
            f"{path}/documents",
            data={"csrf_token": csrf_token(refused), "kind": "quote"},
            files={"file": ("devis.png", PDF, "image/png")},
        )
        assert bad.status_code == 422 and 'id="f-file-error"' in bad.text
        submitted = await http.post(path, data=form(csrf_token(bad), starts_on, action="submit"))
        assert submitted.status_code == 303 and submitted.headers["location"].endswith("done=submitted")
        shown = await http.get(path)
        assert "Submitted" in text_of(shown) and "Save the draft" not in shown.text
        document = re.search(rf'href="({path}/documents/\d+)"', shown.text).group(1)
        got = await http.get(document)
        assert got.status_code == 200 and got.headers["content-disposition"].startswith("attachment")
    async with signed_in(conn, settings, people["clae"]) as http:
        assert (await http.get(path)).status_code == 404
        assert (await http.get(document)).status_code == 404
    async with signed_in(conn, settings, people["reviewer"], lang="fr") as http:
        page = await http.get(path)
        assert page.status_code == 200
        text = text_of(page)
        assert "Liste de vérification de l'éligibilité" in text and "Enregistrer le brouillon" not in page.text
        refused = await http.post(
            f"{path}/decision", data={"csrf_token": csrf_token(page), "outcome": "eligible", "amount_granted": "5000"}
        )
        assert refused.status_code == 422 and 'id="f-amount_granted-error"' in refused.text
        decided = await http.post(
            f"{path}/decision", data={"csrf_token": csrf_token(page), "outcome": "eligible", "amount_granted": "900"}
        )
        assert decided.status_code == 303
    assert (
        await conn.fetchval("SELECT amount_granted_cents FROM subsidy_applications WHERE id = $1", application_id)
        == 90000
    )


async def test_the_events_to_link_show_their_day_where_they_are_held(conn, settings, people) -> None:
    # half past midnight in Luxembourg on New Year's Day is still New Year's Eve in UTC
    year = deadlines.today_in_luxembourg().year + 1
    starts = datetime(year, 1, 1, 0, 30, tzinfo=LOCAL_ZONE)
    await create_event(
        conn,
        settings,
        title={"fr": "Nouvel An"},
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
    )
    async with signed_in(conn, settings, people["asti"]) as http:
        application_id, _ = await start_draft(http)
        text = text_of(await http.get(f"/organiser/subsidies/{application_id}"))
    assert f"Nouvel An (1 January {year})" in text


async def test_the_deadline_error_names_the_day_in_the_persons_language(conn, settings, people) -> None:
    starts_on = deadlines.today_in_luxembourg() + timedelta(days=41)
    async with signed_in(conn, settings, people["asti"], lang="de") as http:
        application_id, token = await start_draft(http)
        refused = await http.post(
            f"/organiser/subsidies/{application_id}", data=form(token, starts_on, action="submit")
        )
        assert refused.status_code == 422
        assert 'id="f-starts_on-error"' in refused.text and "Zu spät" in text_of(refused)


async def test_an_organisation_of_another_kind_is_told_why_it_cannot_apply(conn, settings, people) -> None:
    async with signed_in(conn, settings, people["cefis"]) as http:
        page = await http.get("/organiser/subsidies")
        assert "Start the draft" not in page.text
        assert "ask an administrator to record it: CEFIS" in text_of(page)
        refused = await http.post(
            "/organiser/subsidies", data={"csrf_token": csrf_token(page), "organisation": "cefis"}
        )
        assert refused.status_code == 403 and 'id="f-organisation-error"' in refused.text


@pytest.mark.parametrize("lang", ["fr", "de", "lb", "en", "pt"])
async def test_the_pages_speak_every_language(conn, settings, people, lang) -> None:
    async with signed_in(conn, settings, people["asti"], lang=lang) as http:
        application_id, _ = await start_draft(http)
        page = await http.get(f"/organiser/subsidies/{application_id}")
        assert page.status_code == 200
        listing = await http.get("/organiser/subsidies")
        assert listing.status_code == 200
        if lang != "en":
            assert "Save the draft" not in page.text and "Subsidy requests" not in listing.text


async def test_a_mistyped_amount_or_date_comes_back_next_to_its_field_with_what_was_typed(
    conn,
    settings,
    people,
) -> None:
    starts_on = deadlines.today_in_luxembourg() + timedelta(days=50)
    async with signed_in(conn, settings, people["asti"]) as http:
        application_id, token = await start_draft(http)
        refused = await http.post(
            f"/organiser/subsidies/{application_id}",
            data=form(token, starts_on, budget_amount_1="-20", ends_on="31/12/2027", aims="Gardé"),
        )
        assert refused.status_code == 422
        assert 'id="f-budget-error"' in refused.text and 'id="f-ends_on-error"' in refused.text
        assert 'value="-20"' in refused.text and 'value="31/12/2027"' in refused.text
        assert ">Gardé</textarea>" in refused.text
        # nothing half-saved: the stored draft is still the empty one
        assert await conn.fetchval("SELECT aims FROM subsidy_applications WHERE id = $1", application_id) == ""


async def test_reviewers_download_the_granted_subsidies_from_the_list(conn, settings, people) -> None:
    year = deadlines.today_in_luxembourg().year
    async with signed_in(conn, settings, people["reviewer"], lang="pt") as http:
        page = await http.get("/organiser/subsidies")
        assert f"Subsídios concedidos em {year} (XLSX)" in text_of(page)
        got = await http.get(f"/organiser/subsidies/granted/{year}")
        assert got.status_code == 200 and got.content[:2] == b"PK"
        assert got.headers["content-disposition"].startswith("attachment")
    async with signed_in(conn, settings, people["asti"]) as http:
        assert "XLSX" not in (await http.get("/organiser/subsidies")).text
        assert (await http.get(f"/organiser/subsidies/granted/{year}")).status_code == 403


async def test_reviewers_write_the_themes_of_a_year(conn, settings, people) -> None:
    async with signed_in(conn, settings, people["asti"]) as http:
        assert (await http.get("/organiser/subsidies/themes/2031")).status_code == 403
    async with signed_in(conn, settings, people["reviewer"]) as http:
        page = await http.get("/organiser/subsidies/themes/2031")
        assert page.status_code == 200
        refused = await http.post(
            "/organiser/subsidies/themes/2031",
            data={"csrf_token": csrf_token(page), "code_0": "Pas un code!", "title_fr_0": "Participation politique"},
        )
        assert refused.status_code == 422 and 'id="f-themes-error"' in refused.text
        assert 'value="Participation politique"' in refused.text
        saved = await http.post(
            "/organiser/subsidies/themes/2031",
            data={
                "csrf_token": csrf_token(page),
                "code_0": "political",
                "title_fr_0": "Participation politique",
                "priority_0": "yes",
                "code_1": "culture",
                "title_de_1": "Kultur",
            },
        )
        assert saved.status_code == 303
    rows = await conn.fetch("SELECT code, title, priority FROM subsidy_themes WHERE year = 2031 ORDER BY code")
    assert [(r["code"], r["title"], r["priority"]) for r in rows] == [
        ("culture", {"de": "Kultur"}, False),
        ("political", {"fr": "Participation politique"}, True),
    ]
