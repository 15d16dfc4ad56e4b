"""The check-in page behind a registration's QR code (issue 22 point 5): a signed-in organiser of the event's
organisation sees who and which event, and marks the person present only by posting the page's form."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from server.registrations.tokens import checkin_url
from tests.apps import app_on
from tests.factories import create_event, insert_registration
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_backoffice_signin import browser, sign_in
from tests.test_pages import csrf_token, text_of


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


@pytest.fixture
async def door(conn, settings, world):
    """A confirmed registration of an ASTI event and the path in its QR code."""
    event = await create_event(
        conn,
        settings,
        kind="info_session",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI",
        commune="Luxembourg",
        organisation="asti",
        title={"en": "Welcome evening", "fr": "Soirée d'accueil"},
    )
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed", name="Ana Silva")
    path = checkin_url(settings.base, settings.secret_key, reg["id"], bytes(reg["token_nonce"])).removeprefix(
        settings.base
    )
    assert path.startswith("/organiser/checkin/")
    return {"event": event, "id": reg["id"], "path": path}


async def state(conn, registration_id: int) -> tuple:
    """The registration's attendance and the number of attendance audit rows."""
    return (
        await conn.fetchval("SELECT attendance FROM registrations WHERE id = $1", registration_id),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'attendance'"),
    )


async def test_an_organiser_sees_who_then_marks_them_present_once(app, conn, world, door) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(door["path"])
        assert page.status_code == 200
        shown = text_of(page)
        assert "Ana Silva" in shown and "Welcome evening" in shown and "Mark present" in shown
        assert f'<form method="post" action="{door["path"]}">' in page.text
        # the GET changed nothing: opening the page is not marking
        assert await state(conn, door["id"]) == (None, 0)
        done = await http.post(door["path"], data={"csrf_token": csrf_token(page)})
        assert done.status_code == 200
        assert "Ana Silva is marked present at Welcome evening." in text_of(done)
        assert await state(conn, door["id"]) == ("present", 1)
        row = await conn.fetchrow(
            "SELECT actor_email, event_id, organisation_id, detail FROM audit_log WHERE action = 'attendance'"
        )
        assert row["actor_email"] == world["organiser"].email
        assert row["event_id"] == await conn.fetchval("SELECT id FROM events WHERE slug = $1", door["event"].slug)
        assert row["detail"]["registration"] == door["id"] and row["detail"]["already_present"] is False
        # a second scan says so and changes nothing but the audit trail
        again = await http.get(door["path"])
        assert "Already marked present." in text_of(again)
        second = await http.post(door["path"], data={"csrf_token": csrf_token(again)})
        assert second.status_code == 200
        assert "Ana Silva was already marked present at Welcome evening." in text_of(second)
        assert await state(conn, door["id"]) == ("present", 2)
    # the organisation's admin reads it in the audit log
    async with signed_in(app, world["admin"], "en") as http:
        audit = await http.get("/organiser/audit", params={"organisation": "asti"})
        assert audit.status_code == 200 and text_of(audit).count("Marked a person present") == 2


async def test_the_page_speaks_the_organisers_language(app, conn, world, door) -> None:
    async with signed_in(app, world["organiser"], "fr") as http:
        page = await http.get(door["path"])
        assert "Enregistrer la présence" in text_of(page) and "Soirée d'accueil" in text_of(page)
        done = await http.post(door["path"], data={"csrf_token": csrf_token(page)})
        assert "La présence de Ana Silva à Soirée d'accueil est enregistrée." in text_of(done)


async def test_without_a_session_the_scan_goes_to_sign_in_and_nothing_changes(app, conn, world, door) -> None:
    async with browser(app) as http:
        for method in ("GET", "POST"):
            data = {"csrf_token": "f" * 64} if method == "POST" else None
            answer = await http.request(method, door["path"], data=data)
            assert answer.status_code == 303
            assert answer.headers["cache-control"] == "no-store"
            assert "Ana" not in answer.text
        assert (await http.get(door["path"])).headers[
            "location"
        ] == f"/organiser/login?next={quote(door['path'], safe='')}"
    assert await state(conn, door["id"]) == (None, 0)


async def test_signing_in_from_the_scan_lands_on_the_check_in_page_not_in_a_loop(app, conn, world, door) -> None:
    async with browser(app) as http:
        login = (await http.get(door["path"])).headers["location"]
        assert login.startswith("/organiser/login?next=")
        signed = await sign_in(http, world["organiser"].email, next_=door["path"])
        assert signed.status_code == 303 and signed.headers["location"] == door["path"]
        page = await http.get(signed.headers["location"])
        assert page.status_code == 200 and "Ana Silva" in text_of(page)
        # the sign-in page, opened again with a live session, goes on to the check-in page too
        back = await http.get(login)
        assert back.status_code == 303 and back.headers["location"] == door["path"]
    assert await state(conn, door["id"]) == (None, 0)


async def test_another_organisations_staff_and_a_made_up_code_get_404(app, conn, world, door) -> None:
    made_up = "/organiser/checkin/" + "A" * 43
    for person in ("caritas_admin", "organiser"):
        async with signed_in(app, world[person], "en") as http:
            token = csrf_token(await http.get("/organiser/"))
            paths = [door["path"], made_up] if person == "caritas_admin" else [made_up]
            for path in paths:
                page = await http.get(path)
                assert page.status_code == 404 and "Ana" not in page.text
                posted = await http.post(path, data={"csrf_token": token})
                assert posted.status_code == 404 and "Ana" not in posted.text
    assert await state(conn, door["id"]) == (None, 0)


async def test_a_viewer_gets_403_and_nothing_changes(app, conn, world, door) -> None:
    async with signed_in(app, world["viewer"], "en") as http:
        page = await http.get(door["path"])
        assert page.status_code == 403
        assert "With read-only access you cannot mark people present." in text_of(page)
        posted = await http.post(door["path"], data={"csrf_token": csrf_token(await http.get("/organiser/"))})
        assert posted.status_code == 403 and "With read-only access" in text_of(posted)
    assert await state(conn, door["id"]) == (None, 0)


async def test_a_post_without_the_forms_csrf_token_is_refused(app, conn, world, door) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        await http.get(door["path"])
        for data in ({}, {"csrf_token": "f" * 64}):
            refused = await http.post(door["path"], data=data)
            assert refused.status_code == 403
    assert await state(conn, door["id"]) == (None, 0)


async def test_a_cancelled_registration_is_a_409_and_stays_as_it_was(app, conn, settings, world, door) -> None:
    reg, _ = await insert_registration(conn, settings, door["event"].slug, status="cancelled", name="Rui Costa")
    path = checkin_url(settings.base, settings.secret_key, reg["id"], bytes(reg["token_nonce"])).removeprefix(
        settings.base
    )
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(path)
        assert page.status_code == 409 and "This person cannot be marked present" in text_of(page)
        posted = await http.post(path, data={"csrf_token": csrf_token(page)})
        assert posted.status_code == 409
    assert await state(conn, reg["id"]) == (None, 0)
