"""An event's registrations in the back-office (issue 22 points 4 and 5): the table with its search, filters
and pages, what staff do on someone's behalf (with the self-service mails), the door page and the sheet."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.apps import app_on
from tests.factories import create_event, create_organisation, create_organiser, insert_registration
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_backoffice_signin import with_password
from tests.test_pages import csrf_token, text_of


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


async def _people(conn, settings, slug: str) -> dict[str, int]:
    """A full event of two places: Ana confirmed, Bruno pending, Carla then Eva waiting, Dora cancelled."""
    ids = {}
    for name, status, email, lang in (
        ("Ana Silva", "confirmed", "ana@example.org", "pt"),
        ("Bruno Weber", "pending", "bruno@example.org", "de"),
        ("Carla Costa", "waitlisted", "carla@example.org", "fr"),
        ("Eva Muller", "waitlisted", "eva@example.org", "lb"),
        ("Dora 100% Reis", "cancelled", "dora@example.org", "en"),
    ):
        row, _ = await insert_registration(conn, settings, slug, status=status, name=name, email=email, language=lang)
        ids[name.split()[0]] = row["id"]
    return ids


@pytest.fixture
async def desk(conn, settings, world):
    """An ASTI information session, full, with the five people of _people."""
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
        capacity=2,
        title={"en": "Welcome evening", "fr": "Soirée d'accueil"},
    )
    return {
        "slug": event.slug,
        "ids": await _people(conn, settings, event.slug),
        "base": f"/organiser/events/{event.slug}",
    }


def names_in_table(page) -> list[str]:
    return re.findall(r'<tr id="r\d+">\s*<td>\s*<strong>([^<]+)</strong>', page.text)


async def status_of(conn, registration_id: int) -> tuple:
    row = await conn.fetchrow("SELECT status, attendance FROM registrations WHERE id = $1", registration_id)
    return row["status"], row["attendance"]


# ---------------------------------------------------------------------------- the table


async def test_the_table_finds_by_name_or_email_and_filters_by_status_and_attendance(app, conn, world, desk) -> None:
    await conn.execute("UPDATE registrations SET attendance = 'present' WHERE id = $1", desk["ids"]["Ana"])
    async with signed_in(app, world["viewer"], "en") as http:
        page = await http.get(desk["base"] + "/registrations")
        assert page.status_code == 200
        assert names_in_table(page) == ["Ana Silva", "Bruno Weber", "Carla Costa", "Eva Muller", "Dora 100% Reis"]
        assert "1 confirmed, 1 awaiting confirmation, 2 on the waiting list, 1 cancelled; 1 marked present." in text_of(
            page
        )
        for query, expected in (
            ({"q": "silva"}, ["Ana Silva"]),
            ({"q": "BRUNO@example"}, ["Bruno Weber"]),
            ({"q": "  carla   costa "}, ["Carla Costa"]),
            ({"q": "100%"}, ["Dora 100% Reis"]),  # a % is a character, not a wildcard
            ({"q": "_"}, []),
            ({"status": "waitlisted"}, ["Carla Costa", "Eva Muller"]),
            ({"attendance": "present"}, ["Ana Silva"]),
            ({"attendance": "unmarked", "status": "pending"}, ["Bruno Weber"]),
            ({"q": "a", "status": "cancelled"}, ["Dora 100% Reis"]),
        ):
            found = await http.get(desk["base"] + "/registrations", params=query)
            assert found.status_code == 200 and names_in_table(found) == expected, query
        # the waiting list's order is shown, and the form keeps the search
        waiting = await http.get(desk["base"] + "/registrations", params={"status": "waitlisted", "q": "eva"})
        assert "waiting list (position 2)" in text_of(waiting)
        assert 'name="q" type="search" value="eva"' in waiting.text
        bad = await http.get(desk["base"] + "/registrations", params={"status": "lost"})
        assert bad.status_code == 400


async def test_a_big_event_is_shown_fifty_at_a_time(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti", capacity=None, title={"en": "Big"})
    await conn.execute(
        "INSERT INTO registrations (event_id, token_nonce, token_hash, name, email, language, status, consent_at, "
        "confirmed_at) SELECT e.id, decode(md5(e.id || '-' || n), 'hex'), sha256((e.id || '-' || n)::bytea), "
        "'Person ' || lpad(n::text, 3, '0'), "
        "'p' || n || '@example.org', 'fr', 'confirmed', now(), now() FROM events e, generate_series(1, 120) n "
        "WHERE e.slug = $1",
        event.slug,
    )
    async with signed_in(app, world["organiser"], "en") as http:
        first = await http.get(f"/organiser/events/{event.slug}/registrations")
        assert len(names_in_table(first)) == 50 and names_in_table(first)[0] == "Person 001"
        assert "120 registrations found; page 1 of 3." in text_of(first)
        last = await http.get(f"/organiser/events/{event.slug}/registrations", params={"page": 3})
        assert names_in_table(last) == [f"Person {n:03}" for n in range(101, 121)]
        beyond = await http.get(f"/organiser/events/{event.slug}/registrations", params={"page": 99})
        assert names_in_table(beyond) == names_in_table(last)
        searched = await http.get(f"/organiser/events/{event.slug}/registrations", params={"q": "Person 1"})
        assert "21 registrations found; page 1 of 1." in text_of(searched)


# ---------------------------------------------------------------------------- on someone's behalf


async def _post(http, path: str, form_page, **fields):
    return await http.post(path, data={"csrf_token": csrf_token(form_page), **fields})


async def test_add_by_hand_shows_each_error_next_to_its_field_in_the_staffs_language(app, conn, world, desk) -> None:
    await conn.execute("UPDATE events SET capacity = 10 WHERE slug = $1", desk["slug"])
    async with signed_in(app, world["organiser"], "fr") as http:
        page = await http.get(desk["base"] + "/registrations")
        empty = await _post(http, desk["base"] + "/registrations", page, name="  ", email="", language="pt")
        assert empty.status_code == 422
        assert re.search(r'id="f-name-error">.*?Veuillez indiquer le nom de la personne', empty.text, re.S)
        bad = await _post(http, desk["base"] + "/registrations", page, name="Rui Santos", email="rui@", language="pt")
        assert bad.status_code == 422 and 'id="f-email-error"' in bad.text
        assert 'value="Rui Santos"' in bad.text  # nothing typed is lost
        taken = await _post(
            http, desk["base"] + "/registrations", page, name="Ana", email="ana@example.org", language="pt"
        )
        assert taken.status_code == 422 and 'id="f-email-error"' in taken.text
        added = await _post(
            http, desk["base"] + "/registrations?q=rui", page, name="Rui Santos", email="rui@example.org", language="pt"
        )
        assert added.status_code == 303 and added.headers["location"].endswith("?q=rui&done=added")
        shown = await http.get(added.headers["location"])
        assert names_in_table(shown) == ["Rui Santos"] and "La personne est inscrite." in text_of(shown)
        phone = await _post(http, desk["base"] + "/registrations", page, name="Maria (phone)", email="", language="pt")
        assert phone.status_code == 303
    rui = await conn.fetchrow("SELECT id, status, source, language FROM registrations WHERE email = 'rui@example.org'")
    assert (rui["status"], rui["source"], rui["language"]) == ("confirmed", "organiser", "pt")
    mails = await conn.fetch("SELECT kind, language FROM outbox WHERE registration_id = $1", rui["id"])
    assert [tuple(m) for m in mails] == [("registration_confirmed", "pt")]
    assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'registration_added'") == 2


async def test_a_full_event_asks_before_putting_a_person_on_the_waiting_list(app, conn, world, desk) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(desk["base"] + "/registrations")
        full = await _post(
            http, desk["base"] + "/registrations", page, name="Rui", email="rui@example.org", language="pt"
        )
        assert full.status_code == 422 and 'id="f-waitlist-error"' in full.text
        waiting = await _post(
            http,
            desk["base"] + "/registrations",
            page,
            name="Rui",
            email="rui@example.org",
            language="pt",
            waitlist="yes",
        )
        assert waiting.status_code == 303
    assert await conn.fetchval("SELECT status FROM registrations WHERE email = 'rui@example.org'") == "waitlisted"


async def test_attendance_is_marked_corrected_and_audited(app, conn, world, desk) -> None:
    ana = desk["ids"]["Ana"]
    # a join through /j/ pre-filled "present": the organiser corrects it
    await conn.execute("UPDATE registrations SET attendance = 'present' WHERE id = $1", ana)
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(desk["base"] + "/registrations", params={"status": "confirmed"})
        done = await _post(
            http, f"{desk['base']}/registrations/{ana}/attendance?status=confirmed&page=1", page, mark="excused"
        )
        assert done.status_code == 303
        assert (
            done.headers["location"] == f"{desk['base']}/registrations?status=confirmed&page=1"
            f"&done=attendance_done#r{ana}"
        )
        assert await status_of(conn, ana) == ("confirmed", "excused")
        refused = await _post(
            http, f"{desk['base']}/registrations/{desk['ids']['Carla']}/attendance", page, mark="present"
        )
        assert "done=attendance_refused" in refused.headers["location"]
        shown = await http.get(refused.headers["location"])
        assert "Only a person with a place has an attendance." in text_of(shown)
        bad = await _post(http, f"{desk['base']}/registrations/{ana}/attendance", page, mark="asleep")
        assert "done=attendance_refused" in bad.headers["location"]
    assert await status_of(conn, desk["ids"]["Carla"]) == ("waitlisted", None)
    row = await conn.fetchrow("SELECT actor_email, detail FROM audit_log WHERE action = 'attendance'")
    assert row["actor_email"] == world["organiser"].email
    assert row["detail"] == {"registration": ana, "attendance": "excused", "previous": "present", "via": "table"}


async def test_the_message_form_checks_placeholders_and_writes_to_the_people_marked_present(
    app,
    conn,
    world,
    desk,
) -> None:
    await conn.execute("UPDATE registrations SET attendance = 'present' WHERE id = $1", desk["ids"]["Ana"])
    async with signed_in(app, world["organiser"], "de") as http:
        page = await http.get(desk["base"] + "/registrations")
        wrong = await _post(
            http,
            desk["base"] + "/registrations/message",
            page,
            audience="attended",
            subject="Danke, {name}",
            body="Hallo {vorname}",
        )
        assert wrong.status_code == 422
        assert re.search(r'id="f-body-error">.*?\{vorname\}', wrong.text, re.S)
        assert 'id="f-subject-error"' not in wrong.text
        assert "Hallo {vorname}" in wrong.text
        empty = await _post(
            http, desk["base"] + "/registrations/message", page, audience="everyone", subject="", body="x"
        )
        assert empty.status_code == 422
        assert 'id="f-subject-error"' in empty.text and 'id="f-audience-error"' in empty.text
        sent = await _post(
            http,
            desk["base"] + "/registrations/message",
            page,
            audience="attended",
            subject="Danke, {name}",
            body="Hallo {name}, danke fürs Kommen.",
        )
        assert sent.status_code == 303 and "done=written" in sent.headers["location"]
        everyone = await _post(
            http,
            desk["base"] + "/registrations/message",
            page,
            audience="all",
            subject="Hinweis",
            body="Bitte pünktlich.",
        )
        assert everyone.status_code == 303
    rows = await conn.fetch(
        "SELECT recipient, language, payload->>'subject' AS subject FROM outbox "
        "WHERE kind = 'organiser_message' ORDER BY id"
    )
    assert [(r["recipient"], r["subject"]) for r in rows] == [
        ("ana@example.org", "Danke, {name}"),
        ("ana@example.org", "Hinweis"),
        ("carla@example.org", "Hinweis"),
        ("eva@example.org", "Hinweis"),
    ]
    audits = await conn.fetch("SELECT detail FROM audit_log WHERE action = 'message_sent' ORDER BY id")
    assert [a["detail"]["to"] for a in audits] == [["attended"], ["confirmed", "waitlisted"]]


async def test_on_behalf_actions_send_the_self_service_mails_through_smtp(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
) -> None:
    from server.notifications.worker import Notifier

    conn, settings = notifier_conn, notifier_settings
    await create_organisation(conn, "asti", "ASTI")
    person, _ = await create_organiser(conn, {"asti": "organiser"})
    await with_password(conn, person.email)
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
        capacity=2,
        languages=["fr", "de", "pt", "en", "lb"],
        title={
            "en": "Welcome evening",
            "fr": "Soirée d'accueil",
            "de": "Willkommensabend",
            "pt": "Serão de boas-vindas",
            "lb": "Wëllkommsowend",
        },
    )
    ids = await _people(conn, settings, event.slug)
    base = f"/organiser/events/{event.slug}/registrations"
    app = app_on(settings, conn)
    async with signed_in(app, person, "en") as http:
        page = await http.get(base)
        # Eva, second on the list, gets a place on the organiser's word: the full event gets one more
        for name, action in (("Eva", "promote"), ("Bruno", "confirm"), ("Ana", "cancel")):
            answer = await _post(http, f"{base}/{ids[name]}/{action}", page)
            assert answer.status_code == 303 and f"done={action}_done" in answer.headers["location"], name
        again = await _post(http, f"{base}/{ids['Eva']}/promote", page)
        assert "done=promote_refused" in again.headers["location"]
    assert await conn.fetchval("SELECT capacity FROM events WHERE slug = $1", event.slug) == 3
    assert await status_of(conn, ids["Eva"]) == ("confirmed", None)
    assert await status_of(conn, ids["Bruno"]) == ("confirmed", None)
    assert await status_of(conn, ids["Ana"]) == ("cancelled", None)
    # Ana's place went to Carla, first on the list, as a cancellation by Ana herself would have done
    assert (await status_of(conn, ids["Carla"]))[0] in ("pending", "confirmed")
    assert await Notifier(settings).drain(notifier_pool) == 4
    received = {item.rcpt_tos[0]: item.message for item in await smtp_server.wait_for(4)}
    assert set(received) == {"eva@example.org", "bruno@example.org", "ana@example.org", "carla@example.org"}
    languages = {address: message["Content-Language"] for address, message in received.items()}
    assert languages == {
        "eva@example.org": "lb",
        "bruno@example.org": "de",
        "ana@example.org": "pt",
        "carla@example.org": "fr",
    }
    kinds = {r["recipient"]: r["kind"] for r in await conn.fetch("SELECT recipient, kind FROM outbox")}
    assert kinds == {
        "eva@example.org": "registration_promoted",
        "bruno@example.org": "registration_confirmed",
        "ana@example.org": "cancellation_acknowledged",
        "carla@example.org": "registration_promoted",
    }
    # resend: a copy of Bruno's confirmation goes out again
    async with signed_in(app, person, "en") as http:
        page = await http.get(base)
        resent = await _post(http, f"{base}/{ids['Bruno']}/resend", page)
        assert "done=resend_done" in resent.headers["location"]
        never = await _post(http, f"{base}/{ids['Dora']}/resend", page)
        assert "done=resend_refused" in never.headers["location"]
    assert await Notifier(settings).drain(notifier_pool) == 1
    copy = (await smtp_server.wait_for(5))[4]
    assert copy.rcpt_tos == ["bruno@example.org"]
    assert copy.message["Subject"] == received["bruno@example.org"]["Subject"]
    audits = await conn.fetch(
        "SELECT action, detail FROM audit_log WHERE action LIKE 'registration_%' OR action = 'mail_resent' ORDER BY id"
    )
    assert [a["action"] for a in audits] == [
        "registration_promoted",
        "registration_confirmed",
        "registration_cancelled",
        "mail_resent",
    ]
    assert audits[0]["detail"] == {"registration": ids["Eva"], "capacity": 3}


async def test_cancelling_asks_first_who_will_be_told(app, conn, world, desk) -> None:
    ana = desk["ids"]["Ana"]
    async with signed_in(app, world["organiser"], "en") as http:
        table = await http.get(desk["base"] + "/registrations", params={"q": "ana"})
        assert f'href="{desk["base"]}/registrations/{ana}/cancel?q=ana&amp;page=1"' in table.text
        question = await http.get(f"{desk['base']}/registrations/{ana}/cancel", params={"q": "ana", "page": "1"})
        assert question.status_code == 200
        assert "Ana Silva will get an email saying that the registration is cancelled." in text_of(question)
        assert await status_of(conn, ana) == ("confirmed", None)  # asking changed nothing
        done = await _post(http, f"{desk['base']}/registrations/{ana}/cancel?q=ana&page=1", question)
        assert done.headers["location"] == f"{desk['base']}/registrations?q=ana&page=1&done=cancel_done#r{ana}"
        assert await status_of(conn, ana) == ("cancelled", None)
        # a cancelled registration is not asked about again
        assert (await http.get(f"{desk['base']}/registrations/{ana}/cancel")).status_code == 404


# ---------------------------------------------------------------------------- who may do what


def _write_paths(desk) -> list[tuple[str, dict]]:
    ana, base = desk["ids"]["Ana"], desk["base"]
    return [
        (f"{base}/registrations", {"name": "X", "email": "", "language": "fr"}),
        (f"{base}/registrations/message", {"audience": "all", "subject": "S", "body": "B"}),
        *(
            (f"{base}/registrations/{ana}/{action}", {"mark": "present"})
            for action in ("cancel", "confirm", "promote", "resend", "attendance")
        ),
        (f"{base}/checkin/{ana}/present", {}),
        (f"{base}/checkin/{ana}/undo", {}),
        (f"{base}/checkin/walk-in", {"name": "Walk In"}),
    ]


async def _unchanged(conn, desk) -> tuple:
    return (
        await conn.fetchval("SELECT count(*) FROM registrations"),
        await status_of(conn, desk["ids"]["Ana"]),
        await conn.fetchval("SELECT count(*) FROM outbox"),
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE action <> 'sign_in'"),
    )


async def test_a_viewer_sees_no_write_control_and_every_write_is_refused(app, conn, world, desk) -> None:
    before = await _unchanged(conn, desk)
    async with signed_in(app, world["viewer"], "en") as http:
        for path in ("/registrations", "/checkin", "/sheet"):
            page = await http.get(desk["base"] + path)
            assert page.status_code == 200 and "Ana Silva" in page.text
            assert 'method="post" action="/organiser/events/' not in page.text and "/cancel" not in page.text
        assert (await http.get(f"{desk['base']}/registrations/{desk['ids']['Ana']}/cancel")).status_code == 403
        token = csrf_token(page)
        for path, fields in _write_paths(desk):
            answer = await http.post(path, data={"csrf_token": token, **fields})
            assert answer.status_code == 403, path
    assert await _unchanged(conn, desk) == before


async def test_another_organisations_staff_get_what_a_missing_event_gets(app, conn, world, desk) -> None:
    before = await _unchanged(conn, desk)
    async with signed_in(app, world["caritas_admin"], "en") as http:
        token = csrf_token(await http.get("/organiser/"))
        for path in (
            "/registrations",
            "/registrations.csv",
            "/registrations.xlsx",
            "/checkin",
            "/sheet",
            f"/registrations/{desk['ids']['Ana']}/cancel",
        ):
            theirs = await http.get(desk["base"] + path)
            missing = await http.get("/organiser/events/no-such-event" + path)
            assert theirs.status_code == missing.status_code == 404, path
            assert "Ana" not in theirs.text and text_of(theirs) == text_of(missing)
        for path, fields in _write_paths(desk):
            answer = await http.post(path, data={"csrf_token": token, **fields})
            assert answer.status_code == 404 and "Ana" not in answer.text, path
    assert await _unchanged(conn, desk) == before


async def test_a_post_without_the_forms_token_changes_nothing(app, conn, world, desk) -> None:
    before = await _unchanged(conn, desk)
    async with signed_in(app, world["organiser"], "en") as http:
        for path, fields in _write_paths(desk):
            for token in ({}, {"csrf_token": "0" * 64}):
                answer = await http.post(path, data={**token, **fields})
                assert answer.status_code == 403, path
    assert await _unchanged(conn, desk) == before


# ---------------------------------------------------------------------------- the door and the sheet


async def test_at_the_door_find_tap_present_undo_and_add_a_walk_in(app, conn, world, desk) -> None:
    ana, bruno = desk["ids"]["Ana"], desk["ids"]["Bruno"]
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(desk["base"] + "/checkin")
        assert "0 present of 2 expected" in text_of(page)
        # only people with a place are listed: not the waiting list, not the cancelled
        assert "Ana Silva" in page.text and "Bruno Weber" in page.text and "Carla" not in page.text
        found = await http.get(desk["base"] + "/checkin", params={"q": "silv"})
        assert "Ana Silva is here" in text_of(found) and "Bruno" not in found.text
        tapped = await http.post(
            f"{desk['base']}/checkin/{ana}/present", data={"csrf_token": csrf_token(found), "q": "silv"}
        )
        assert tapped.status_code == 303
        location = urlsplit(tapped.headers["location"])
        assert parse_qs(location.query) == {"q": ["silv"], "done": ["present_done"]} and location.fragment == f"r{ana}"
        after = await http.get(tapped.headers["location"])
        assert "1 present of 2 expected" in text_of(after) and "Undo: Ana Silva is not here" in text_of(after)
        assert await status_of(conn, ana) == ("confirmed", "present")
        # a second tap (another phone) changes nothing
        await http.post(f"{desk['base']}/checkin/{ana}/present", data={"csrf_token": csrf_token(found)})
        undone = await http.post(f"{desk['base']}/checkin/{ana}/undo", data={"csrf_token": csrf_token(found)})
        assert undone.status_code == 303 and await status_of(conn, ana) == ("confirmed", None)
        # someone of the waiting list or of another event cannot be tapped
        for other in (desk["ids"]["Carla"], 999_999):
            refused = await http.post(f"{desk['base']}/checkin/{other}/present", data={"csrf_token": csrf_token(found)})
            assert refused.status_code == 404
        empty = await http.post(f"{desk['base']}/checkin/walk-in", data={"csrf_token": csrf_token(found), "name": " "})
        assert empty.status_code == 422 and 'id="f-name-error"' in empty.text
        # a walk-in needs a free place, after the waiting list got theirs (Carla and Eva)
        await conn.execute("UPDATE events SET capacity = 5 WHERE slug = $1", desk["slug"])
        walked = await http.post(
            f"{desk['base']}/checkin/walk-in", data={"csrf_token": csrf_token(found), "name": "Zé  Walk-in"}
        )
        assert walked.status_code == 303 and "q=Z%C3%A9+Walk-in" in walked.headers["location"]
        shown = await http.get(walked.headers["location"])
        assert "Undo: Zé Walk-in is not here" in text_of(shown) and "1 present of 5 expected" in text_of(shown)
        full = await http.post(
            f"{desk['base']}/checkin/walk-in", data={"csrf_token": csrf_token(found), "name": "Late"}
        )
        assert full.status_code == 422 and "No place is free" in text_of(full) and 'value="Late"' in full.text
    walk_in = await conn.fetchrow(
        "SELECT email, status, attendance, source FROM registrations WHERE name = 'Zé Walk-in'"
    )
    assert tuple(walk_in) == (None, "confirmed", "present", "organiser")
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE registration_id IN (SELECT id FROM registrations "
            "WHERE name = 'Zé Walk-in')"
        )
        == 0
    )
    details = [
        r["detail"] for r in await conn.fetch("SELECT detail FROM audit_log WHERE action = 'attendance' ORDER BY id")
    ]
    assert [(d["registration"], d["attendance"]) for d in details[:3]] == [
        (ana, "present"),
        (ana, "present"),
        (ana, None),
    ]
    assert details[1]["already_present"] is True and bruno not in [d["registration"] for d in details]


async def test_the_sheet_lists_the_people_with_a_place_and_a_column_to_sign(app, conn, world, desk) -> None:
    async with signed_in(app, world["viewer"], "fr") as http:
        sheet = await http.get(desk["base"] + "/sheet")
    assert sheet.status_code == 200
    names = re.findall(r'<td class="sheet-n">\d+</td><td>([^<]*)</td>', sheet.text)
    assert names[:3] == ["Ana Silva", "Bruno Weber", ""]
    assert "Signature" in text_of(sheet) and "Feuille de présence" in text_of(sheet)
    assert "Carla" not in sheet.text and "Dora" not in sheet.text


async def test_the_exports_download_with_the_session_and_are_audited(app, conn, world, desk) -> None:
    async with signed_in(app, world["viewer"], "fr") as http:
        csv = await http.get(desk["base"] + "/registrations.csv")
        xlsx = await http.get(desk["base"] + "/registrations.xlsx", params={"status": "confirmed"})
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert "Ana Silva" in csv.content.decode("utf-8-sig") and "Nom;" in csv.content.decode("utf-8-sig")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'export'") == 2


async def test_a_door_tap_tells_a_stranger_nothing_whatever_they_send(app, conn, world, desk) -> None:
    """Another organisation's staff get the missing event's answer for any number, action or form token."""
    ana, before = desk["ids"]["Ana"], await _unchanged(conn, desk)
    tails = [f"{ana}/present", f"{ana}/cancel", "abc/present", "0/undo", f"{2**64}/present", "-1/present"]
    async with signed_in(app, world["caritas_admin"], "en") as http:
        token = csrf_token(await http.get("/organiser/"))
        for tail in tails:
            for form in ({"csrf_token": token}, {}, {"csrf_token": "0" * 64}):
                theirs = await http.post(f"{desk['base']}/checkin/{tail}", data=form)
                missing = await http.post(f"/organiser/events/no-such-event/checkin/{tail}", data=form)
                assert theirs.status_code == missing.status_code == 404, (tail, form)
                assert text_of(theirs) == text_of(missing) and "Ana" not in theirs.text
        # a slug longer than any event's is a missing event too, not a refused parameter
        assert (await http.post(f"/organiser/events/{'x' * 300}/checkin/{ana}/present", data={})).status_code == 404
    assert await _unchanged(conn, desk) == before
    # for the event's own staff a wrong number or action is a registration the event does not have
    async with signed_in(app, world["organiser"], "en") as http:
        token = csrf_token(await http.get(desk["base"] + "/checkin"))
        for tail in (f"{ana}/cancel", "abc/present", f"{2**64}/present"):
            assert (await http.post(f"{desk['base']}/checkin/{tail}", data={"csrf_token": token})).status_code == 404
        assert (await http.post(f"{desk['base']}/checkin/{ana}/present", data={})).status_code == 403
    assert await status_of(conn, ana) == ("confirmed", None)


async def test_a_tap_checks_the_session_in_its_statement_as_the_gate_does(app, conn, world, desk) -> None:
    """The common tap keeps a used session alive and does nothing for an ended one."""
    ana = desk["ids"]["Ana"]
    async with signed_in(app, world["organiser"], "en") as http:
        token = csrf_token(await http.get(desk["base"] + "/checkin"))
        await conn.execute("UPDATE sessions SET last_seen_at = now() - interval '2 hours'")
        tapped = await http.post(f"{desk['base']}/checkin/{ana}/present", data={"csrf_token": token})
        assert tapped.status_code == 303 and await status_of(conn, ana) == ("confirmed", "present")
        assert await conn.fetchval("SELECT bool_and(last_seen_at > now() - interval '1 minute') FROM sessions")
        actor = await conn.fetchval("SELECT actor_email FROM audit_log WHERE action = 'attendance'")
        assert actor == world["organiser"].email
        await http.post(f"{desk['base']}/checkin/{ana}/undo", data={"csrf_token": token})
        await conn.execute("UPDATE sessions SET revoked_at = now()")
        ended = await http.post(f"{desk['base']}/checkin/{ana}/present", data={"csrf_token": token})
        assert "/organiser/login" in ended.headers.get("location", "") + ended.text
    assert await status_of(conn, ana) == ("confirmed", None)
