"""A request's whole path through HTTP and the real SMTP server, in the requester's and the interpreters'
languages: the confirmation with its status link, the offers, the taken notice, and the calendar
invitations (REQUEST, its update with a higher SEQUENCE, CANCEL) read by icalendar and ical.js."""

from __future__ import annotations

from datetime import timedelta

import httpx
from icalendar import Calendar

from server.notifications.worker import Notifier
from server.outbox import message_id
from tests.apps import app_on
from tests.factories import auth, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday

MISSIONS = "/api/organiser/interpretation-missions"


def invitation_of(message) -> bytes | None:
    for part in message.walk():
        if part.get_content_type() == "text/calendar":
            return part.get_payload(decode=True)
    return None


async def test_a_request_from_confirmation_to_cancellation_in_two_languages(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
    icaljs,
) -> None:
    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    _, staff = await create_organiser(conn, {"asti": "organiser"})
    app = app_on(notifier_settings, conn)
    day = monday()
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        body = mission_body(
            at(day, 10),
            requester={
                "organisation": "Sozialamt Esch",
                "contact": "Jonas Weber",
                "email": "jonas@example.org",
                "type": "social_office",
                "phone": "+352 2754 1",
                "language": "de",
            },
        )
        asked = await http.post("/api/interpretation-requests", json=body)
        assert asked.status_code == 201, asked.text
        status_url = asked.json()["status_url"]
        assert status_url.startswith("https://zesummen.test/api/interpretation-requests/")
        status_path = status_url.removeprefix("https://zesummen.test")
        assert (await http.get(status_path)).json()["interpreter"] is None
        mission_id = asked.json()["id"]

        people = []
        for name, email, lang in (("Ana Tesfay", "ana@example.org", "pt"), ("Luc Kidane", "luc@example.org", "fr")):
            made = await http.post(
                "/api/organiser/interpreters",
                headers=auth(staff),
                json=interpreter_body(name=name, email=email, language=lang, phone="+352 691 222 333"),
            )
            assert made.status_code == 201, made.text
            people.append(made.json())
        ana, luc = people
        offers = (
            await http.post(
                f"{MISSIONS}/{mission_id}/offers", headers=auth(staff), json={"interpreters": [ana["id"], luc["id"]]}
            )
        ).json()
        ana_token = ana["link"].rsplit("/", 1)[1]
        accepted = await http.post(f"/api/interpreters/{ana_token}/offers/{offers[0]['id']}/accept")
        assert accepted.status_code == 200
        # the requester learns who comes: the first name and phone, nothing more
        assert (await http.get(status_path)).json()["interpreter"] == {"first_name": "Ana", "phone": "+352 691 222 333"}
        moved = await http.patch(
            f"{MISSIONS}/{mission_id}",
            headers=auth(staff),
            json={"starts_at": at(day, 14).isoformat(), "ends_at": (at(day, 14) + timedelta(hours=1)).isoformat()},
        )
        assert moved.status_code == 200 and moved.json()["sequence"] == 1
        cancelled = await http.patch(f"{MISSIONS}/{mission_id}", headers=auth(staff), json={"status": "cancelled"})
        assert cancelled.json()["sequence"] == 2

    rows = await conn.fetch("SELECT id, kind, payload FROM outbox WHERE due_at <= now() ORDER BY id")
    # the day-before reminders: queued for each version of the appointment, to both people
    reminders = await conn.fetch(
        "SELECT due_at, payload FROM outbox WHERE kind = 'interpretation_reminder' ORDER BY id"
    )
    assert [(r["due_at"], r["payload"]["to"], r["payload"]["sequence"]) for r in reminders] == [
        (at(day, 10) - timedelta(days=1), "interpreter", 0),
        (at(day, 10) - timedelta(days=1), "requester", 0),
        (at(day, 14) - timedelta(days=1), "interpreter", 1),
        (at(day, 14) - timedelta(days=1), "requester", 1),
    ]
    sent = await Notifier(notifier_settings).drain(notifier_pool)
    assert sent == len(rows) == 10
    received = {item.message_id: item for item in await smtp_server.wait_for(len(rows))}
    mails: dict[tuple[str, str], object] = {}
    for row in rows:
        item = received[message_id(row["id"], notifier_settings.mail_from)]
        mails[(row["kind"].removeprefix("interpretation_"), item.rcpt_tos[0])] = item.message
    assert sorted(mails) == sorted(
        [
            ("request_received", "jonas@example.org"),
            ("offered", "ana@example.org"),
            ("offered", "luc@example.org"),
            ("offer_taken", "luc@example.org"),
            ("assigned", "ana@example.org"),
            ("assigned", "jonas@example.org"),
            ("changed", "ana@example.org"),
            ("changed", "jonas@example.org"),
            ("cancelled", "ana@example.org"),
            ("cancelled", "jonas@example.org"),
        ]
    )

    def text(kind: str, to: str) -> str:
        return mails[(kind, to)].get_body(("plain",)).get_content()

    confirmation = mails[("request_received", "jonas@example.org")]
    assert confirmation["Subject"] == "Ihre Anfrage für Dolmetschen ist eingegangen"
    assert confirmation["Content-Language"] == "de" and status_url in text("request_received", "jonas@example.org")
    assert "Guten Tag Jonas Weber," in text("request_received", "jonas@example.org")
    assert "Tigrinya – Französisch" in text("request_received", "jonas@example.org")
    assert ana["link"] in text("offered", "ana@example.org"), text("offered", "ana@example.org")
    assert "Olá, Ana Tesfay," in text("offered", "ana@example.org")
    assert "Un autre interprète a accepté cette mission avant vous" in text("offer_taken", "luc@example.org")
    told = text("assigned", "jonas@example.org")
    assert "Ana, Telefon +352 691 222 333" in told and "Tesfay" not in told
    assert "Jonas Weber, Sozialamt Esch, +352 2754 1" in text("assigned", "ana@example.org")
    # no mail before the assignment names the interpreter
    assert "Ana" not in text("request_received", "jonas@example.org")

    for to in ("ana@example.org", "jonas@example.org"):
        readings = []
        for kind, method, sequence, starts in (
            ("assigned", "REQUEST", 0, at(day, 10)),
            ("changed", "REQUEST", 1, at(day, 14)),
            ("cancelled", "CANCEL", 2, at(day, 14)),
        ):
            ics = invitation_of(mails[(kind, to)])
            calendar = Calendar.from_ical(ics)
            (event,) = calendar.walk("VEVENT")
            assert str(calendar["METHOD"]) == method and int(event["SEQUENCE"]) == sequence
            assert event.decoded("DTSTART") == starts and event["UID"] == f"interpretation-{mission_id}@zesummen.test"
            assert str(event["STATUS"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
            js = icaljs(ics)
            (js_event,) = js["events"]
            assert (js["calendar"]["method"], js_event["sequence"], js_event["start"]) == (
                method,
                sequence,
                int(starts.timestamp()),
            )
            readings.append(js_event["uid"])
        assert len(set(readings)) == 1  # one appointment, updated then cancelled
    assert "Interpretação cancelada" in mails[("cancelled", "ana@example.org")]["Subject"]

    # due now, the reminders of a mission since moved or cancelled are skipped, never sent
    await conn.execute("UPDATE outbox SET due_at = now() WHERE kind = 'interpretation_reminder'")
    await Notifier(notifier_settings).drain(notifier_pool)
    assert {
        r["status"] for r in await conn.fetch("SELECT status FROM outbox WHERE kind = 'interpretation_reminder'")
    } == {"skipped"}


async def test_the_reminder_of_the_day_before_names_the_interpreter(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
) -> None:
    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    _, staff = await create_organiser(conn, {"asti": "organiser"})
    app = app_on(notifier_settings, conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        ana = (
            await http.post(
                "/api/organiser/interpreters",
                headers=auth(staff),
                json=interpreter_body(
                    name="Ana Tesfay", email="ana@example.org", language="lb", phone="+352 691 222 333"
                ),
            )
        ).json()
        mission = (await http.post(MISSIONS, headers=auth(staff), json=mission_body(at(monday(), 10)))).json()
        assigned = await http.patch(f"{MISSIONS}/{mission['id']}", headers=auth(staff), json={"interpreter": ana["id"]})
        assert assigned.status_code == 200
    await conn.execute("UPDATE outbox SET due_at = now() - interval '1 minute'")
    assert await Notifier(notifier_settings).drain(notifier_pool) == 5  # confirmation, 2 assigned, 2 reminders
    reminders = {
        item.rcpt_tos[0]: item.message
        for item in await smtp_server.wait_for(5)
        if "Erënnerung" in item.message["Subject"] or "Rappel" in item.message["Subject"]
    }
    assert sorted(reminders) == ["ana@example.org", "office@example.lu"]
    assert (
        "Mir erënneren Iech un Ären Dolmetschasaz muer."
        in reminders["ana@example.org"].get_body(("plain",)).get_content()
    )
    assert (
        "avec l'interprète Ana, téléphone +352 691 222 333"
        in reminders["office@example.lu"].get_body(("plain",)).get_content()
    )
