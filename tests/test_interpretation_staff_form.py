"""A request typed by staff in the back-office (issue 24, point 2): the public form's fields and checks,
stored through the API's service with the same confirmation to the requester; viewers and other
organisations are refused; every staff write to a mission leaves an audit row."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest

from server.backoffice.labels import ACTIONS
from server.notifications.worker import Notifier
from server.pages.translations import gettext
from tests.apps import app_on
from tests.factories import auth, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_backoffice_signin import with_password
from tests.test_interpretation_pages import form_fields
from tests.test_pages import csrf_token, text_of

NEW = "/organiser/interpretation/missions/new"
MISSIONS = "/api/organiser/interpretation-missions"


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


def staff_fields(page, **changes: str) -> dict[str, str]:
    """The public form's fields as staff type them, with the page's CSRF token."""
    return {"language": "fr", **form_fields(**changes), "csrf_token": csrf_token(page)}


async def test_staff_enter_a_phoned_in_request_stored_like_the_public_one(app, conn, world) -> None:
    async with signed_in(app, world["organiser"], "de") as http:
        listed = await http.get("/organiser/interpretation/")
        assert f'href="{NEW}"' in listed.text and "Neue Anfrage" in text_of(listed)
        page = await http.get(NEW)
        assert page.status_code == 200 and "Neue Dolmetschanfrage" in text_of(page)
        assert 'name="pool"' not in page.text  # one organisation: nothing to choose
        assert '<option value="de" selected>Deutsch</option>' in page.text  # the requester's language
        assert "Anfragende Dienststelle" in text_of(page) and 'name="website"' not in page.text

        # a date in the past: 422, said in the staff member's language next to the field, nothing lost
        past = staff_fields(page, date="2020-01-06", notes="Mutter bringt den Schulbericht mit", language="pt")
        refused = await http.post(NEW, data=past)
        assert refused.status_code == 422
        assert re.search(
            r'id="f-date-error">.*Bitte geben Sie ein Datum und eine Uhrzeit in der Zukunft an\.', refused.text
        )
        assert 'value="Mutter bringt den Schulbericht mit"' in refused.text and 'value="Paulo Matos"' in refused.text
        assert '<option value="pt" selected>Português</option>' in refused.text
        same = await http.post(NEW, data=staff_fields(page, to_language="kea"))
        assert same.status_code == 422 and 'id="f-to_language-error"' in same.text
        nameless = await http.post(NEW, data=staff_fields(page, organisation=" "))
        assert nameless.status_code == 422
        assert re.search(
            r'id="f-organisation-error">.*Bitte geben Sie den Namen der anfragenden Dienststelle an\.', nameless.text
        )
        unknown = await http.post(NEW, data={**staff_fields(page), "language": "xx"})
        assert unknown.status_code == 422 and "Bitte wählen Sie eine der fünf Sprachen." in unknown.text
        forged = await http.post(NEW, data=form_fields())  # no CSRF token
        assert forged.status_code == 403
        assert await conn.fetchval("SELECT count(*) FROM interpretation_missions") == 0

        stored = await http.post(NEW, data={**staff_fields(page), "language": "pt"})
        assert stored.status_code == 303, stored.text
        mission_id = int(
            re.fullmatch(r"/organiser/interpretation/missions/(\d+)\?done=created", stored.headers["location"]).group(1)
        )
        shown = text_of(await http.get(stored.headers["location"]))
        assert "Die Dolmetschanfrage ist gespeichert" in shown and "Lycée de Differdange" in shown
    row = await conn.fetchrow(
        "SELECT m.*, o.slug FROM interpretation_missions m JOIN organisations o ON o.id = m.organisation_id"
    )
    assert (row["id"], row["slug"], row["status"], row["requester_language"], row["beneficiary_initials"]) == (
        mission_id,
        "asti",
        "requested",
        "pt",
        "M.S.",
    )
    assert row["starts_at"] == at(monday(), 10, 30) and row["ends_at"] - row["starts_at"] == timedelta(minutes=90)
    # the requester's confirmation with the status link, as for the public form
    assert (
        await conn.fetchval("SELECT kind FROM outbox WHERE payload->>'mission' = $1", str(mission_id))
        == "interpretation_request_received"
    )
    audit = await conn.fetch(
        "SELECT actor_email, action, organisation_id, detail FROM audit_log WHERE action LIKE 'mission%'"
    )
    assert [(a["actor_email"], a["action"], a["detail"]) for a in audit] == [
        (world["organiser"].email, "mission_created", {"mission": mission_id})
    ]
    assert audit[0]["organisation_id"] == row["organisation_id"]


async def test_a_viewer_sees_no_link_and_is_refused_and_no_one_writes_to_another_pool(app, conn, world) -> None:
    async with signed_in(app, world["viewer"], "en") as http:
        listed = await http.get("/organiser/interpretation/")
        assert listed.status_code == 200 and NEW not in listed.text and "New request" not in text_of(listed)
        assert (await http.get(NEW)).status_code == 403
        assert (await http.post(NEW, data=staff_fields(listed, pool="asti"))).status_code == 403
    # a Caritas organiser who only reads ASTI: Caritas's form, and ASTI's pool is missing to them
    async with signed_in(app, world["both"], "en") as http:
        page = await http.get(NEW)
        assert page.status_code == 200 and 'name="pool"' not in page.text
        assert (await http.post(NEW, data=staff_fields(page, pool="asti"))).status_code == 404
        assert (await http.post(NEW, data=staff_fields(page, pool="nowhere"))).status_code == 404
        own = await http.post(NEW, data=staff_fields(page))
        assert own.status_code == 303
    async with signed_in(app, world["caritas_admin"], "en") as http:
        page = await http.get(NEW)
        assert (await http.post(NEW, data=staff_fields(page, pool="asti"))).status_code == 404
    assert [
        r["slug"]
        for r in await conn.fetch(
            "SELECT o.slug FROM interpretation_missions m JOIN organisations o ON o.id = m.organisation_id"
        )
    ] == ["caritas"]


async def test_staff_of_several_organisations_choose_the_pool(app, conn, world) -> None:
    person, _ = await create_organiser(conn, {"asti": "organiser", "caritas": "admin"})
    await with_password(conn, person.email)
    async with signed_in(app, person, "fr") as http:
        page = await http.get(NEW)
        assert '<option value="asti" selected>ASTI</option>' in page.text and '<option value="caritas">' in page.text
        unchosen = await http.post(NEW, data=staff_fields(page, pool=""))
        assert unchosen.status_code == 422
        assert "Veuillez choisir l'organisation dont les interprètes assureront la mission." in text_of(unchosen)
        stored = await http.post(NEW, data=staff_fields(page, pool="caritas"))
        assert stored.status_code == 303
        assert "Service demandeur" in text_of(page) and "Pour l'organisation" in text_of(page)
    assert (
        await conn.fetchval(
            "SELECT o.slug FROM interpretation_missions m JOIN organisations o ON o.id = m.organisation_id"
        )
        == "caritas"
    )


async def test_staff_writes_to_missions_and_the_pool_are_audited(app, client, conn, world) -> None:
    token = world["organiser_token"]
    ana = (await client.post("/api/organiser/interpreters", headers=auth(token), json=interpreter_body())).json()
    made = await client.post(MISSIONS, headers=auth(token), json=mission_body(at(monday(), 10)))
    mission_id = made.json()["id"]
    path = f"{MISSIONS}/{mission_id}"
    assert (
        await client.post(f"{path}/offers", headers=auth(token), json={"interpreters": [ana["id"]]})
    ).status_code == 201
    assert (await client.patch(path, headers=auth(token), json={"interpreter": ana["id"]})).status_code == 200
    later = {"starts_at": at(monday(), 14).isoformat(), "ends_at": at(monday(), 15).isoformat()}
    assert (await client.patch(path, headers=auth(token), json=later)).status_code == 200
    assert (await client.patch(path, headers=auth(token), json={"notes": "Bring the letter"})).status_code == 200
    # a refused write leaves no row
    assert (
        await client.patch(path, headers=auth(world["viewer_token"]), json={"status": "cancelled"})
    ).status_code == 404
    assert (await client.patch(path, headers=auth(token), json={"status": "cancelled"})).status_code == 200
    rows = await conn.fetch(
        "SELECT actor_email, action, organisation_id, detail FROM audit_log WHERE action LIKE 'mission%' ORDER BY id"
    )
    assert {r["actor_email"] for r in rows} == {world["organiser"].email}
    assert len({r["organisation_id"] for r in rows}) == 1
    assert [(r["action"], r["detail"]) for r in rows] == [
        ("mission_created", {"mission": mission_id}),
        ("mission_offered", {"mission": mission_id, "to": [ana["id"]]}),
        (
            "mission_assigned",
            {
                "mission": mission_id,
                "fields": ["interpreter"],
                "status": "assigned",
                "interpreter": ana["id"],
                "moved": False,
            },
        ),
        (
            "mission_moved",
            {
                "mission": mission_id,
                "fields": ["starts_at", "ends_at"],
                "status": "assigned",
                "interpreter": ana["id"],
                "moved": True,
            },
        ),
        (
            "mission_changed",
            {
                "mission": mission_id,
                "fields": ["notes"],
                "status": "assigned",
                "interpreter": ana["id"],
                "moved": False,
            },
        ),
        (
            "mission_cancelled",
            {"mission": mission_id, "fields": ["status"], "status": "cancelled", "interpreter": None, "moved": False},
        ),
    ]
    added = await conn.fetchrow("SELECT actor_email, detail FROM audit_log WHERE action = 'interpreter_added'")
    assert (added["actor_email"], added["detail"]) == (world["organiser"].email, {"interpreter": ana["id"]})
    # the audit page names them in the reader's language
    async with signed_in(app, world["admin"], "pt") as http:
        words = text_of(await http.get("/organiser/audit", params={"organisation": "asti"}))
    for action in ("interpreter_added", "mission_created", "mission_offered", "mission_assigned", "mission_moved"):
        assert gettext("pt", ACTIONS[action]) in words
    assert "Registou um pedido de interpretação" in words and "Cancelou uma missão de interpretação" in words


async def test_the_requester_of_a_typed_request_gets_the_confirmation_with_its_link(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
) -> None:
    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    person, _ = await create_organiser(conn, {"asti": "organiser"})
    await with_password(conn, person.email)
    async with signed_in(app_on(notifier_settings, conn), person, "en") as http:
        page = await http.get(NEW)
        stored = await http.post(
            NEW, data={**staff_fields(page), "language": "lb", "email": "accueil@example.lu", "contact": "Josiane Weis"}
        )
        assert stored.status_code == 303, stored.text
        assert await Notifier(notifier_settings).drain(notifier_pool) == 1
        (item,) = await smtp_server.wait_for(1)
        assert item.rcpt_tos == ["accueil@example.lu"] and item.message["Content-Language"] == "lb"
        body = item.message.get_body(("plain",)).get_content()
        assert "Josiane Weis" in body
        link = re.search(r"https://zesummen\.test(/api/interpretation-requests/\S+)", body).group(1)
        followed = await http.get(link, headers={"Accept": "application/json"})
        assert followed.status_code == 200 and followed.json()["status"] == "requested"


async def test_any_bad_field_is_refused_next_to_it_never_a_500(app, conn, world) -> None:
    bad = {
        "date": "2026-13-45",
        "start": "25:00",
        "duration": "abc",
        "mode": "teleport",
        "commune": "Atlantis",
        "from_language": "xx",
        "to_language": "\x00",
        "field": "astrology",
        "initials": "ABCDEFGHIJ",
        "urgency": "yesterday",
        "notes": "n" * 5000,
        "organisation": "\x07",
        "type": "embassy",
        "contact": "c" * 500,
        "email": "nope",
        "phone": "call me",
        "language": "xx",
    }
    async with signed_in(app, world["organiser"], "lb") as http:
        page = await http.get(NEW)
        for name, value in bad.items():
            refused = await http.post(NEW, data=staff_fields(page, **{name: value}))
            assert refused.status_code == 422, (name, refused.status_code)
            assert f'id="f-{"date" if name == "start" else name}-error"' in refused.text, name
    assert await conn.fetchval("SELECT count(*) FROM interpretation_missions") == 0


async def test_a_request_phoned_in_without_an_email_is_stored_and_mails_only_the_interpreter(
    app, client, conn, world
) -> None:
    """Staff may leave the email out; the requester then gets no mail at all, the interpreter still does."""
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(NEW)
        assert 'id="f-email"' in page.text and not re.search(r'id="f-email"[^>]* required', page.text)
        assert "Without one, the service gets no email: tell them yourself." in text_of(page)
        # neither an email nor a phone: the interpreter could not reach the service
        unreachable = await http.post(NEW, data=staff_fields(page, email="", phone=""))
        assert unreachable.status_code == 422
        assert re.search(r'id="f-phone-error">.*or an email address: the interpreter needs a way', unreachable.text)
        assert 'value="Paulo Matos"' in unreachable.text
        stored = await http.post(NEW, data=staff_fields(page, email="", from_language="ti", to_language="fr"))
        assert stored.status_code == 303, stored.text
        mission_id = int(re.search(r"/missions/(\d+)", stored.headers["location"]).group(1))
        shown = text_of(await http.get(f"/organiser/interpretation/missions/{mission_id}"))
        assert "Lycée de Differdange (Paulo Matos, +352 58 77 1)" in shown
    assert await conn.fetchval("SELECT requester_email FROM interpretation_missions WHERE id = $1", mission_id) == ""
    # through the API alike: no email is null
    body = mission_body(at(monday(), 14))
    del body["requester"]["email"]
    token = world["admin_token"]
    made = await client.post(MISSIONS, json=body, headers=auth(token))
    assert made.status_code == 201, made.text
    assert made.json()["requester"]["email"] is None
    body["requester"]["phone"] = ""
    unreachable = await client.post(MISSIONS, json=body, headers=auth(token))
    assert unreachable.status_code == 422
    assert [e["field"] for e in unreachable.json()["errors"]] == ["requester.phone"]
    body["requester"]["phone"] = "+352 4796 1"
    # the public form still needs one, the requester's only way to hear back
    public = await client.post("/api/interpretation-requests", json={**body, "organisation": "asti"})
    assert public.status_code == 422, public.text
    assert [(e["field"], "`email`" in e["message"]) for e in public.json()["errors"]] == [("requester", True)]
    # an interpreter assigned: their invitation is queued, nothing for the requester
    ana = await client.post("/api/organiser/interpreters", json=interpreter_body(), headers=auth(token))
    assigned = await client.patch(
        f"{MISSIONS}/{made.json()['id']}", json={"interpreter": ana.json()["id"]}, headers=auth(token)
    )
    assert assigned.status_code == 200, assigned.text
    sent_to = await conn.fetch(
        "SELECT kind, payload->>'to' AS to FROM outbox WHERE (payload->>'mission')::bigint = ANY($1::bigint[])",
        [mission_id, made.json()["id"]],
    )
    assert {(r["kind"], r["to"]) for r in sent_to} == {
        ("interpretation_assigned", "interpreter"),
        ("interpretation_reminder", "interpreter"),
    }
