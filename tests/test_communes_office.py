"""The back-office pages of communes' requests (issue 23, behaviour 2): the list and the request's page
through HTTP in two languages, each form's action and refusals next to the field, viewers and other
organisations kept out; and the staff's mails in each account's language, read from the SMTP catcher."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager
from datetime import timedelta

import httpx
import pytest

from server.communes import asking, reminders
from server.validation import LOCAL_ZONE, local_today
from tests.apps import app_on
from tests.factories import create_organisation, create_organiser
from tests.test_backoffice_signin import browser, sign_in, with_password
from tests.test_communes import make_request, request_body
from tests.test_pages import csrf_token, text_of


@pytest.fixture
async def people(conn):
    """ASTI with an admin (German account), an organiser and a viewer; CLAE with its admin; all with passwords."""
    await create_organisation(conn, "asti", "ASTI")
    await create_organisation(conn, "clae", "CLAE")
    found = {}
    for key, roles, name in (
        ("admin", {"asti": "admin"}, "Maria Schmit"),
        ("staff", {"asti": "organiser"}, "Paulo Costa"),
        ("viewer", {"asti": "viewer"}, "Vera Weis"),
        ("other", {"clae": "admin"}, "Olga Meyer"),
    ):
        person, _ = await create_organiser(conn, roles)
        await with_password(conn, person.email)
        await conn.execute("UPDATE organisers SET name = $2 WHERE id = $1", person.id, name)
        found[key] = person
    await conn.execute("UPDATE organisers SET language = 'de' WHERE id = $1", found["admin"].id)
    return found


@pytest.fixture
async def api(conn, settings):
    """A client of the public API, to file requests as a commune does."""
    app = app_on(settings, conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        yield http


@asynccontextmanager
async def signed_in(conn, settings, person, lang: str = "en"):
    async with browser(app_on(settings, conn)) as http:
        assert (await sign_in(http, person.email, lang=lang)).status_code == 303
        yield http


async def post_form(http: httpx.AsyncClient, path: str, page_path: str, **fields: str) -> httpx.Response:
    """GET the page for its token, then POST the form."""
    page = await http.get(page_path)
    return await http.post(path, data={"csrf_token": csrf_token(page), **fields})


# ---------------------------------------------------------------------------- the list


async def test_the_list_shows_the_organisations_requests_newest_first_in_each_language(
    conn, settings, people, api
) -> None:
    older, _ = await make_request(api, conn, subject="volunteering")
    newer, _ = await make_request(api, conn, email="b@example.lu", commune="groussbus-wal", requester_type="ccci")
    theirs, _ = await make_request(api, conn, email="c@example.lu", organisation="clae", commune="beaufort")
    await conn.execute("UPDATE commune_requests SET created_at = now() - interval '3 days' WHERE id = $1", older)
    async with signed_in(conn, settings, people["staff"]) as http:
        page = await http.get("/organiser/requests")
        assert page.status_code == 200 and 'lang="en"' in page.text
        text = text_of(page)
        assert "Groussbus-Wal" in text and "Esch-sur-Alzette" in text and "Beaufort" not in text
        assert text.index("Groussbus-Wal") < text.index("Esch-sur-Alzette")  # newest first
        assert "Volunteering in welcoming and integration" in text and "Testimonies of applicants" in text
        assert "Communal consultative commission on integration (CCCI)" in text and "3 days ago" in text
        assert f'href="/organiser/requests/{newer}"' in page.text and f"/organiser/requests/{theirs}" not in page.text
        assert 'aria-current="page">Commune requests</a>' in page.text  # the nav entry
        # the status filter, and "mine" once the request is assigned
        await post_form(
            http,
            f"/organiser/requests/{older}/status",
            f"/organiser/requests/{older}",
            status="in_discussion",
        )
        filtered = text_of(await http.get("/organiser/requests", params={"status": "in_discussion"}))
        assert "Esch-sur-Alzette" in filtered and "Groussbus-Wal" not in filtered
        assert "Under discussion" in filtered
        assert "No request here." in text_of(await http.get("/organiser/requests", params={"assignee": "mine"}))
        await post_form(
            http,
            f"/organiser/requests/{newer}/assignee",
            f"/organiser/requests/{newer}",
            assignee=str(people["staff"].id),
        )
        mine = text_of(await http.get("/organiser/requests", params={"assignee": "mine"}))
        assert "Groussbus-Wal" in mine and "Esch-sur-Alzette" not in mine and "Paulo Costa" in mine
        assert (await http.get("/organiser/requests", params={"status": "lost"})).status_code == 400
    # the admin's account is in German: the same list in German
    async with signed_in(conn, settings, people["admin"]) as http:
        page = await http.get("/organiser/requests")
        text = text_of(page)
        assert 'lang="de"' in page.text and "Anfragen von Gemeinden" in text and "Anliegen" in text
        assert "Ehrenamt in Aufnahme und Integration" in text
        assert "vor 3 Tagen" in text and "In Besprechung" in text


# ---------------------------------------------------------------------------- one request


async def test_the_request_page_shows_every_field_and_the_thread_told_apart(conn, settings, people, api) -> None:
    request_id, token = await make_request(api, conn)
    async with signed_in(conn, settings, people["staff"]) as http:
        path = f"/organiser/requests/{request_id}"
        sent = await post_form(http, f"{path}/messages", path, body="Which room?\r\nThanks")
        assert sent.status_code == 303 and sent.headers["location"] == f"{path}?done=message#message"
        await asking.reply(conn, token, "The big hall.")
        noted = await post_form(http, f"{path}/notes", path, note="Call the mayor's office first.")
        assert noted.status_code == 303
        page = await http.get(sent.headers["location"])
        text = text_of(page)
        assert "The message is sent to the requester and kept in the thread." in text
        for shown in (
            "Esch-sur-Alzette",
            "Communal consultative commission on integration (CCCI)",
            "Ana Ferreira",
            "ana.ferreira@example.lu",
            "+352 27 54 00 00",
            "Português",
            "Testimonies of applicants for international protection and refugees",
            "Salle des fêtes, 1 rue X",
            "Step-free access Yes",
            "Une soirée pour les habitants.",
        ):
            assert shown in text, shown
        assert "Expected audience (number of people) 40" in text
        assert re.search(r"Languages of the audience [^ ]+, Portugu", text)
        assert re.search(r"Interpretation needed into Portugu[^ ]+, Ara", text)
        assert re.search(r"Preferred dates or periods \d+ \w+ 20\d\d – \d+ \w+ 20\d\d", text)
        # the thread in order, each item saying what it is
        thread = text[text.index("Thread") :]
        assert (
            thread.index("Message to the requester")
            < thread.index("Which room?")
            < thread.index("Answer from the requester")
            < thread.index("The big hall.")
            < thread.index("Internal note by Paulo Costa")
            < thread.index("Call the mayor's office first.")
        )
        assert page.text.count('class="bo-thread-item note"') == 1
        assert "Under discussion" in text  # a first message opens the discussion
    # the note never reaches the requester's page
    status_page = text_of(await api.get(f"/requests/{token}"))
    assert "The big hall." in status_page and "Call the mayor" not in status_page
    outbox = await conn.fetch("SELECT kind, recipient FROM outbox WHERE kind = 'commune_request_message'")
    assert [tuple(r) for r in outbox] == [("commune_request_message", "ana.ferreira@example.lu")]


async def test_the_status_form_offers_the_allowed_moves_and_declining_needs_a_reason(
    conn, settings, people, api
) -> None:
    request_id, _ = await make_request(api, conn)
    path = f"/organiser/requests/{request_id}"
    async with signed_in(conn, settings, people["admin"]) as http:
        page = await http.get(path)
        form = page.text[page.text.index('action="' + path + '/status"') :]
        form = form[: form.index("</form>")]
        assert re.findall(r'<option value="(\w+)"', form) == ["in_discussion", "declined"]
        assert "/outcome" not in page.text
        # declined without a reason: in German, the error next to the field, the choice kept
        refused = await post_form(http, f"{path}/status", path, status="declined", reason="  ")
        assert refused.status_code == 422
        error = re.search(r'<p class="field-error" id="f-reason-error">(.*?)</p>', refused.text, re.S).group(1)
        assert "warum die Anfrage abgelehnt wird" in error
        assert '<option value="declined" selected>' in refused.text
        assert 'aria-invalid="true"' in refused.text
        # a move the request cannot make, and one the form never offers
        for status in ("scheduled", "done", "new", ""):
            wrong = await post_form(http, f"{path}/status", path, status=status)
            assert wrong.status_code == 422 and 'id="f-status-error"' in wrong.text
        assert await conn.fetchval("SELECT status FROM commune_requests WHERE id = $1", request_id) == "new"
        moved = await post_form(http, f"{path}/status", path, status="in_discussion")
        assert moved.status_code == 303
        moved = await post_form(http, f"{path}/status", path, status="scheduled")
        page = await http.get(moved.headers["location"])
        assert "Der Status wurde geändert." in text_of(page)
        # scheduled: done only through the outcome form, which the page links to
        assert f'href="{path}/outcome"' in page.text and "Ergebnis erfassen und abschließen" in text_of(page)
        form = page.text[page.text.index('action="' + path + '/status"') :]
        assert re.findall(r'<option value="(\w+)"', form[: form.index("</form>")]) == ["declined"]
        declined = await post_form(http, f"{path}/status", path, status="declined", reason="Keine Kapazität.")
        assert declined.status_code == 303
    row = await conn.fetchrow("SELECT status, reason FROM commune_requests WHERE id = $1", request_id)
    assert tuple(row) == ("declined", "Keine Kapazität.")


async def test_assignee_note_and_message_keep_what_was_typed_when_refused(conn, settings, people, api) -> None:
    request_id, _ = await make_request(api, conn)
    path = f"/organiser/requests/{request_id}"
    async with signed_in(conn, settings, people["staff"]) as http:
        page = await http.get(path)
        options = page.text[page.text.index('id="f-assignee"') :]
        options = options[: options.index("</select>")]
        assert "Maria Schmit" in options and "Paulo Costa" in options
        assert "Vera Weis" not in options and "Olga Meyer" not in options  # a viewer, another organisation
        for value in (str(people["other"].id), str(people["viewer"].id), "someone"):
            refused = await post_form(http, f"{path}/assignee", path, assignee=value)
            assert refused.status_code == 422
            assert "Please choose someone who handles this organisation&#39;s requests." in refused.text
        assigned = await post_form(http, f"{path}/assignee", path, assignee=str(people["admin"].id))
        assert assigned.status_code == 303
        assert "Handled by: Maria Schmit." in text_of(await http.get(path))
        long_note = "Too long. " * 600
        refused = await post_form(http, f"{path}/notes", path, note=long_note)
        assert refused.status_code == 422 and 'id="f-note-error"' in refused.text
        assert long_note.strip() in refused.text  # nothing typed is lost
        refused = await post_form(http, f"{path}/messages", path, body="   ")
        assert refused.status_code == 422
        assert "Please write the message (at most 5000 characters)." in text_of(refused)
        unassigned = await post_form(http, f"{path}/assignee", path, assignee="")
        assert unassigned.status_code == 303
    assert await conn.fetchval("SELECT assignee_id FROM commune_requests WHERE id = $1", request_id) is None
    assert await conn.fetchval("SELECT count(*) FROM commune_request_notes") == 0
    assert await conn.fetchval("SELECT count(*) FROM commune_request_messages") == 0


async def test_scheduling_creates_a_linked_draft_and_opens_the_editor(conn, settings, people, api) -> None:
    request_id, _ = await make_request(api, conn)
    path = f"/organiser/requests/{request_id}"
    day = (local_today() + timedelta(days=40)).isoformat()
    async with signed_in(conn, settings, people["staff"]) as http:
        refused = await post_form(http, f"{path}/schedule", path, day=day, start="19:00", end="18:00")
        assert refused.status_code == 422 and 'id="f-end-error"' in refused.text
        assert f'value="{day}"' in refused.text and 'value="19:00"' in refused.text
        refused = await post_form(http, f"{path}/schedule", path, day="31/12", start="19:00", end="21:00")
        assert refused.status_code == 422 and 'id="f-day-error"' in refused.text
        made = await post_form(http, f"{path}/schedule", path, day=day, start="19:00", end="21:00")
        assert made.status_code == 303
        slug = re.fullmatch(r"/organiser/events/([^/]+)/edit", made.headers["location"]).group(1)
        assert (await http.get(made.headers["location"])).status_code == 200
        event = await conn.fetchrow("SELECT kind, status, commune, starts_at FROM events WHERE slug = $1", slug)
        assert (event["kind"], event["status"], event["commune"]) == ("info_session", "draft", "Esch-sur-Alzette")
        assert event["starts_at"].astimezone(LOCAL_ZONE).strftime("%Y-%m-%d %H:%M") == f"{day} 19:00"
        page = await http.get(path)
        assert f'href="/organiser/events/{slug}/edit"' in page.text and "Draft" in text_of(page)
        assert f'href="/events/{slug}"' not in page.text  # a draft has no public page yet


# ---------------------------------------------------------------------------- who may do what


async def test_a_viewer_sees_everything_but_no_form_and_is_refused_writes(conn, settings, people, api) -> None:
    request_id, _ = await make_request(api, conn)
    path = f"/organiser/requests/{request_id}"
    async with signed_in(conn, settings, people["viewer"]) as http:
        page = await http.get(path)
        assert page.status_code == 200 and "Ana Ferreira" in text_of(page)
        assert f'action="{path}/' not in page.text and "/outcome" not in page.text
        assert f"/organiser/requests/{request_id}" in (await http.get("/organiser/requests")).text
        for action, fields in (
            ("status", {"status": "in_discussion"}),
            ("assignee", {"assignee": ""}),
            ("notes", {"note": "x"}),
            ("messages", {"body": "x"}),
            ("schedule", {"day": "2030-01-01", "start": "10:00", "end": "11:00"}),
            ("notes", {"note": ""}),  # refused for the role, not for the empty note
        ):
            refused = await post_form(http, f"{path}/{action}", path, **fields)
            assert refused.status_code == 403, action
    row = await conn.fetchrow("SELECT status, assignee_id FROM commune_requests WHERE id = $1", request_id)
    assert tuple(row) == ("new", None)
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE kind = 'commune_request_message'") == 0


async def test_another_organisation_gets_the_answer_of_a_missing_request(conn, settings, people, api) -> None:
    request_id, _ = await make_request(api, conn)
    async with signed_in(conn, settings, people["other"]) as http:
        theirs = await http.get(f"/organiser/requests/{request_id}")
        missing = await http.get("/organiser/requests/999999999")
        assert theirs.status_code == missing.status_code == 404
        assert text_of(theirs) == text_of(missing)
        assert "Esch-sur-Alzette" not in text_of(await http.get("/organiser/requests"))
        page = await http.get("/organiser/requests")
        for action in ("status", "assignee", "notes", "messages", "schedule"):
            answer = await http.post(
                f"/organiser/requests/{request_id}/{action}",
                data={"csrf_token": csrf_token(page), "status": "declined", "reason": "x", "note": "x", "body": "x"},
            )
            assert answer.status_code == 404, action
    assert await conn.fetchval("SELECT status FROM commune_requests WHERE id = $1", request_id) == "new"


async def test_forms_need_their_csrf_token_and_pages_a_session(conn, settings, people, api) -> None:
    request_id, _ = await make_request(api, conn)
    path = f"/organiser/requests/{request_id}"
    async with signed_in(conn, settings, people["admin"]) as http:
        answer = await http.post(f"{path}/notes", data={"note": "no token"})
        assert answer.status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM commune_request_notes") == 0
    async with browser(app_on(settings, conn)) as http:
        answer = await http.get(path)
        assert answer.status_code == 303 and answer.headers["location"].startswith("/organiser/login?next=")


# ---------------------------------------------------------------------------- staff mails in their language


async def test_staff_mails_about_requests_go_in_each_accounts_language(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
) -> None:
    from server.notifications.worker import Notifier
    from server.outbox import message_id

    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    german, _ = await create_organiser(conn, {"asti": "admin"})
    portuguese, _ = await create_organiser(conn, {"asti": "organiser"})
    await conn.execute("UPDATE organisers SET language = 'de', name = 'Jos Weber' WHERE id = $1", german.id)
    await conn.execute("UPDATE organisers SET language = 'pt', name = 'Rita Sousa' WHERE id = $1", portuguese.id)
    app = app_on(notifier_settings, conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        answer = await http.post("/api/commune-requests", json=request_body(commune="groussbus-wal", language="fr"))
        assert answer.status_code == 201
    request_id = await conn.fetchval("SELECT id FROM commune_requests")
    await asking.reply(conn, answer.json()["status_url"].rsplit("/", 1)[1], "Merci, à bientôt.")
    # untouched for more than five working days: the admin (no assignee) is reminded
    await conn.execute("UPDATE commune_requests SET updated_at = now() - interval '10 days'")
    assert await reminders.remind_untouched(conn, notifier_settings) == 1
    rows = await conn.fetch(
        "SELECT id, kind, recipient, language FROM outbox WHERE kind <> 'commune_request_received' ORDER BY id"
    )
    assert [(r["kind"], r["recipient"], r["language"]) for r in rows] == [
        ("commune_request_arrived", german.email, "de"),
        ("commune_request_arrived", portuguese.email, "pt"),
        ("commune_request_answered", german.email, "de"),
        ("commune_request_answered", portuguese.email, "pt"),
        ("commune_request_reminder", german.email, "de"),
    ]
    assert await Notifier(notifier_settings).drain(notifier_pool) == 6
    received = {item.message_id: item for item in await smtp_server.wait_for(6)}
    mails = []
    for row in rows:
        item = received[message_id(row["id"], notifier_settings.mail_from)]
        assert item.rcpt_tos == [row["recipient"]]
        subject = " ".join(str(item.message["Subject"]).split())
        mails.append((item.message["Content-Language"], subject, item.message.get_body(("plain",)).get_content()))
    arrived_de, arrived_pt, answered_de, answered_pt, reminder_de = mails
    assert arrived_de[0] == "de" and arrived_de[1].startswith("Neue Anfrage aus Groussbus-Wal: Erfahrungsberichte")
    assert f"https://zesummen.test/organiser/requests/{request_id}" in arrived_de[2]
    assert arrived_pt[0] == "pt" and arrived_pt[1].startswith("Novo pedido de Groussbus-Wal: ")
    assert answered_de[0] == "de" and answered_de[1].startswith("Antwort aus Groussbus-Wal: ")
    assert "Merci, à bientôt." in answered_de[2]
    assert answered_pt[0] == "pt" and answered_pt[1].startswith("Resposta de Groussbus-Wal: ")
    assert reminder_de[:2] == ("de", "Wartet auf Antwort: Anfrage aus Groussbus-Wal")
