"""The interpreter's private page and calendar feed: only their own missions and offers, answered by forms."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from icalendar import Calendar

from tests.apps import app_on
from tests.factories import auth, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday
from tests.test_pages import client_for, text_of

MISSIONS = "/api/organiser/interpretation-missions"


@pytest.fixture
async def staff(conn) -> str:
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


def csrf_of(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


async def test_the_page_shows_own_offers_and_missions_and_answers_by_form(client, conn, settings, staff) -> None:
    made = [
        (
            await client.post(
                "/api/organiser/interpreters", headers=auth(staff), json=interpreter_body(name=name, language="lb")
            )
        ).json()
        for name in ("Ana Tesfay", "Luc Kidane")
    ]
    ana, luc = made
    day = monday()
    offered = (await client.post(MISSIONS, headers=auth(staff), json=mission_body(at(day, 10)))).json()
    mine = (
        await client.post(
            MISSIONS, headers=auth(staff), json=mission_body(at(day, 14), remote="phone", place=None, to_language="uk")
        )
    ).json()
    theirs = (await client.post(MISSIONS, headers=auth(staff), json=mission_body(at(day, 16)))).json()
    await client.post(f"{MISSIONS}/{offered['id']}/offers", headers=auth(staff), json={"interpreters": [ana["id"]]})
    await conn.execute("INSERT INTO interpreter_languages VALUES ($1, 'uk', 'C2')", ana["id"])
    assert (
        await client.patch(f"{MISSIONS}/{mine['id']}", headers=auth(staff), json={"interpreter": ana["id"]})
    ).status_code == 200
    assert (
        await client.patch(f"{MISSIONS}/{theirs['id']}", headers=auth(staff), json={"interpreter": luc["id"]})
    ).status_code == 200
    token = ana["link"].rsplit("/", 1)[1]
    async with client_for(app_on(settings, conn)) as pages:
        page = await pages.get(f"/i/{token}", params={"lang": "lb"})
        assert page.status_code == 200 and '<html lang="lb">' in page.text
        words = text_of(page)
        assert "Asätz, déi Iech ugebuede ginn" in words and "Iwwer Telefon" in words and "Ukrainesch" in words
        assert page.text.count('action="/i/') == 2  # accept and decline of the one offer
        assert "<script" not in page.text
        # another interpreter's mission is nowhere on the page
        assert "16:00" not in words and "Luc" not in words
        offer_id = await conn.fetchval("SELECT id FROM interpretation_offers WHERE mission_id = $1", offered["id"])
        answered = await pages.post(f"/i/{token}/offers/{offer_id}/accept?lang=lb", data={"csrf_token": csrf_of(page)})
        assert answered.status_code == 303 and answered.headers["location"] == f"/i/{token}?lang=lb&done=accepted"
        after = text_of(await pages.get(answered.headers["location"]))
        assert "Den Asaz ass Ären." in after and "Am Moment gëtt Iech keen Asaz ugebueden." in after
        unknown = await pages.get("/i/not-a-token")
        assert unknown.status_code == 404

    feed = await client.get(f"/api/interpreters/{token}/calendar.ics")
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    events = Calendar.from_ical(feed.content).walk("VEVENT")
    assert sorted(str(e["UID"]) for e in events) == sorted(
        f"interpretation-{m}@zesummen.test" for m in (offered["id"], mine["id"])
    )
    assert (await client.get("/api/interpreters/nope/calendar.ics")).status_code == 404


def form_fields(**changes: str) -> dict[str, str]:
    day = monday()
    fields = {
        "date": day.isoformat(),
        "start": "10:30",
        "duration": "90",
        "mode": "on_site",
        "commune": "Differdange",
        "address": "Rue de l'Église 2",
        "from_language": "kea",
        "to_language": "pt",
        "field": "school",
        "initials": "M.S.",
        "urgency": "normal",
        "notes": "",
        "organisation": "Lycée de Differdange",
        "type": "school",
        "contact": "Paulo Matos",
        "email": "paulo.matos@example.lu",
        "phone": "+352 58 77 1",
    }
    fields.update(changes)
    return fields


async def test_the_public_form_stores_a_request_and_keeps_what_was_typed_on_errors(conn, settings) -> None:
    await create_organisation(conn, "asti")
    async with client_for(app_on(settings, conn)) as pages:
        page = await pages.get("/interpretation/request", params={"lang": "pt"})
        assert page.status_code == 200 and '<html lang="pt">' in page.text and "<script" not in page.text
        # Cape Verdean Creole, named by CLDR in the reader's language
        assert "Pedir um intérprete" in text_of(page)
        assert '<option value="kea">crioulo cabo-verdiano</option>' in page.text
        token = csrf_of(page)
        wrong = form_fields(date="2020-01-06", to_language="kea", mode="phone", notes="Levar o boletim")
        refused = await pages.post("/interpretation/request?lang=pt", data={**wrong, "csrf_token": token})
        assert refused.status_code == 422
        assert "Para uma marcação presencial, escolha a comuna" in refused.text  # a commune given for a phone call
        wrong = form_fields(date="2020-01-06", to_language="kea", notes="Levar o boletim")
        refused = await pages.post("/interpretation/request?lang=pt", data={**wrong, "csrf_token": token})
        assert refused.status_code == 422
        assert re.search(r'id="f-date-error">.*Indique uma data e uma hora futuras\.', refused.text)
        # nothing typed is lost
        assert 'value="Levar o boletim"' in refused.text and 'value="Paulo Matos"' in refused.text
        assert await conn.fetchval("SELECT count(*) FROM interpretation_missions") == 0
        bad_languages = await pages.post(
            "/interpretation/request?lang=pt", data={**form_fields(to_language="kea"), "csrf_token": token}
        )
        assert re.search(r'id="f-to_language-error">.*Escolha duas línguas diferentes', bad_languages.text)

        robot = await pages.post(
            "/interpretation/request?lang=pt", data={**form_fields(), "website": "x", "csrf_token": token}
        )
        assert robot.status_code == 303 and await conn.fetchval("SELECT count(*) FROM interpretation_missions") == 0
        forged = await pages.post("/interpretation/request?lang=pt", data=form_fields())
        assert forged.status_code == 403

        sent = await pages.post("/interpretation/request?lang=pt", data={**form_fields(), "csrf_token": token})
        assert sent.status_code == 303 and sent.headers["location"] == "/interpretation/request?sent=1&lang=pt"
        assert "Enviámos-lhe uma confirmação" in text_of(await pages.get(sent.headers["location"]))
    row = await conn.fetchrow("SELECT * FROM interpretation_missions")
    assert (row["from_language"], row["to_language"], row["commune"], row["requester_language"]) == (
        "kea",
        "pt",
        "Differdange",
        "pt",
    )
    assert row["starts_at"] == at(monday(), 10, 30) and row["ends_at"] - row["starts_at"] == timedelta(minutes=90)
    assert (
        await conn.fetchval("SELECT kind FROM outbox WHERE payload->>'mission' = $1", str(row["id"]))
        == "interpretation_request_received"
    )
