"""Interpretation asked for at an event (issue 24 point 7): the back-office shows the languages registrants
asked for, and one form turns a language into a mission pre-filled from the event, shown to staff."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from tests.apps import app_on
from tests.factories import auth, create_event, insert_registration
from tests.interpretation_helpers import at, interpreter_body, monday
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_pages import csrf_token, text_of


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


@pytest.fixture
async def evening(conn, settings, world):
    """ASTI's information session on a Monday morning in Luxembourg city; wishes: 3 ti, 1 ar (and a
    cancelled one), 1 French Sign Language, one person asked for nothing."""
    starts = at(monday(), 10)
    event = await create_event(
        conn,
        settings,
        kind="info_session",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI, 10 rue Auguste Laval",
        commune="Luxembourg",
        organisation="asti",
        title={"en": "Welcome session", "fr": "Séance d'accueil"},
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(hours=2)).isoformat(),
    )
    for status, wish in (
        ("confirmed", "ti"),
        ("confirmed", "ti"),
        ("pending", "ti"),
        ("confirmed", "ar"),
        ("cancelled", "ar"),
        ("confirmed", "fsl"),
        ("confirmed", None),
    ):
        await insert_registration(conn, settings, event.slug, status=status, interpretation=wish)
    return event.slug


async def _interpreter(client, world) -> dict:
    """One of ASTI's pool who speaks French and Tigrinya, free on Mondays in Luxembourg's canton."""
    made = await client.post(
        "/api/organiser/interpreters", headers=auth(world["admin_token"]), json=interpreter_body(name="Selam Haile")
    )
    assert made.status_code == 201, made.text
    return made.json()


async def test_staff_see_the_wishes_and_ask_for_an_interpreter_in_english(app, client, conn, world, evening) -> None:
    await _interpreter(client, world)
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(f"/organiser/events/{evening}/registrations")
        assert page.status_code == 200
        words = text_of(page)
        assert "3 people asked for Tigrinya." in words
        assert "1 person asked for Arabic." in words
        assert "1 person asked for French Sign Language (LSF)." in words
        # the service has no pool for sign languages: no form for it, a word why
        assert "The interpretation service has no interpreters for this language." in words
        assert 'value="fsl"' not in page.text
        assert words.index("Tigrinya") < words.index("Arabic")  # most asked first
        # the field is guessed from the kind of event, and may be changed
        assert re.search(r'<option value="administrative" selected>Administrative</option>', page.text)

        asked = await http.post(
            f"/organiser/events/{evening}/interpretation",
            data={"csrf_token": csrf_token(page), "language": "ti", "field": "social"},
        )
        assert asked.status_code == 303, asked.text
        target = asked.headers["location"]
        mission_id = int(re.fullmatch(r"/organiser/interpretation/missions/(\d+)\?done=created", target).group(1))
        shown = await http.get(target)
        assert shown.status_code == 200
        words = text_of(shown)
        assert "The interpretation request is stored;" in words
        assert "French → Tigrinya" in words and "ASTI, 10 rue Auguste Laval, Luxembourg" in words
        assert "Selam Haile" in words  # ranked among the candidates
        assert "For the event Welcome session" in words
        assert f'href="/organiser/events/{evening}/interpretation"' in shown.text

        again = await http.get(f"/organiser/events/{evening}/registrations")
        assert f'href="/organiser/interpretation/missions/{mission_id}"' in again.text
        assert "The interpretation mission: Waiting for an interpreter" in text_of(again)
        # a second post (another tab, a double click) makes no second mission
        twice = await http.post(
            f"/organiser/events/{evening}/interpretation",
            data={"csrf_token": csrf_token(again), "language": "ti", "field": "social"},
        )
        assert twice.status_code == 422
        assert "Interpretation into this language is asked for already." in text_of(twice)

    mission = await conn.fetchrow("SELECT * FROM interpretation_missions WHERE id = $1", mission_id)
    event = await conn.fetchrow("SELECT * FROM events WHERE slug = $1", evening)
    assert mission["event_id"] == event["id"] and mission["organisation_id"] == event["organisation_id"]
    assert (mission["starts_at"], mission["ends_at"]) == (event["starts_at"], event["ends_at"])
    assert (mission["mode"], mission["commune"], mission["address"]) == (
        "on_site",
        "Luxembourg",
        "ASTI, 10 rue Auguste Laval",
    )
    assert (mission["from_language"], mission["to_language"], mission["field"]) == ("fr", "ti", "social")
    assert mission["requester_organisation"] == "ASTI" and mission["notes"] == "Welcome session"
    assert mission["requester_email"] == world["organiser"].email and mission["requester_language"] == "en"
    # the requester (the staff member, for their organisation) gets the usual confirmation with its status link
    assert await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE kind = 'interpretation_request_received' "
        "AND (payload->>'mission')::bigint = $1",
        mission_id,
    )
    assert await conn.fetchval("SELECT count(*) FROM interpretation_missions WHERE event_id = $1", event["id"]) == 1
    # audited once under the event (the refused second post left no row)
    audit = await conn.fetch("SELECT actor_email, event_id, detail FROM audit_log WHERE action = 'mission_created'")
    assert [(a["actor_email"], a["event_id"], a["detail"]) for a in audit] == [
        (world["organiser"].email, event["id"], {"mission": mission_id})
    ]


async def test_the_wishes_in_french_with_the_plural_and_the_refusals(app, conn, world, evening) -> None:
    async with signed_in(app, world["admin"], "fr") as http:
        page = await http.get(f"/organiser/events/{evening}/interpretation")
        assert page.status_code == 200 and '<html lang="fr">' in page.text
        words = text_of(page)
        assert "3 personnes ont demandé une interprétation en tigrigna." in words
        assert "1 personne a demandé une interprétation en arabe." in words
        assert "Demander une interprétation en arabe" in words
        # a forged post for a sign language: refused next to its line, the choice kept
        refused = await http.post(
            f"/organiser/events/{evening}/interpretation",
            data={"csrf_token": csrf_token(page), "language": "fsl", "field": "health"},
        )
        assert refused.status_code == 422
        assert "Le service d'interprétation n'a pas d'interprète pour cette langue." in text_of(refused)
        # once the event has begun, a mission can no longer start with it
        await conn.execute(
            "UPDATE events SET starts_at = now() - interval '1 hour', ends_at = now() + interval '1 hour' "
            "WHERE slug = $1",
            evening,
        )
        late = await http.post(
            f"/organiser/events/{evening}/interpretation",
            data={"csrf_token": csrf_token(refused), "language": "ar", "field": "health"},
        )
        assert late.status_code == 422
        assert "L'événement a commencé ou est terminé" in text_of(late)
        assert re.search(r'<option value="health" selected>Santé</option>', late.text)
        assert 'aria-invalid="true"' in late.text
        # a cancelled event needs no interpreter: no form, and a forged post is refused
        await conn.execute("UPDATE events SET status = 'cancelled', cancelled_at = now() WHERE slug = $1", evening)
        cancelled = await http.get(f"/organiser/events/{evening}/interpretation")
        assert 'name="field"' not in cancelled.text
        forged = await http.post(
            f"/organiser/events/{evening}/interpretation",
            data={"csrf_token": csrf_token(cancelled), "language": "ar", "field": "social"},
        )
        assert forged.status_code == 422
        assert "L'événement est annulé : il n'a pas besoin d'interprète." in text_of(forged).replace("\u00a0", " ")
    assert await conn.fetchval("SELECT count(*) FROM interpretation_missions") == 0


async def test_a_viewer_reads_only_and_another_organisation_sees_nothing(app, conn, world, evening) -> None:
    async with signed_in(app, world["viewer"], "de") as http:
        page = await http.get(f"/organiser/events/{evening}/interpretation")
        assert page.status_code == 200
        assert "3 Personen haben Dolmetschen auf Tigrinya angefragt." in text_of(page)
        assert 'action="/organiser/events/' not in page.text
        forged = await http.post(
            f"/organiser/events/{evening}/interpretation",
            data={"csrf_token": csrf_token(page), "language": "ti", "field": "social"},
        )
        assert forged.status_code == 403
    async with signed_in(app, world["caritas_admin"], "en") as http:
        home = await http.get("/organiser/")
        for method, path in (("GET", "interpretation"), ("GET", "registrations"), ("POST", "interpretation")):
            data = {"csrf_token": csrf_token(home), "language": "ti", "field": "social"}
            url = f"/organiser/events/{evening}/{path}"
            answer = await (http.post(url, data=data) if method == "POST" else http.get(url))
            assert answer.status_code == 404, (method, path)
    assert await conn.fetchval("SELECT count(*) FROM interpretation_missions") == 0


async def test_a_mission_page_is_refused_to_another_organisation(app, client, conn, world, evening) -> None:
    async with signed_in(app, world["organiser"], "lb") as http:
        page = await http.get(f"/organiser/events/{evening}/interpretation")
        assert "3 Persoune hunn Dolmetschen op Tigrinja gefrot." in text_of(page)
        asked = await http.post(
            f"/organiser/events/{evening}/interpretation",
            data={"csrf_token": csrf_token(page), "language": "ar", "field": "legal"},
        )
        assert asked.status_code == 303
        target = asked.headers["location"]
        assert (await http.get(target)).status_code == 200
    async with signed_in(app, world["caritas_admin"], "en") as http:
        assert (await http.get(target)).status_code == 404
