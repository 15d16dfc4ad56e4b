"""Offers' deadlines: refused when impossible, a day by default (never after the start), and the alert
staff get once, in their account's language, through the real SMTP server, when nobody accepted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from server.interpretation.deadlines import alert_unanswered
from server.notifications.worker import Notifier
from tests.apps import app_on
from tests.factories import auth, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday

MISSIONS = "/api/organiser/interpretation-missions"


async def test_an_offer_nobody_accepts_in_time_alerts_staff_once_in_their_language(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
) -> None:
    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    await create_organisation(conn, "other", "Other")
    _, staff = await create_organiser(conn, {"asti": "organiser"})
    german, _ = await create_organiser(conn, {"asti": "admin"})
    await conn.execute("UPDATE organisers SET language = 'de', name = 'Jana Hoffmann' WHERE id = $1", german.id)
    viewer, _ = await create_organiser(conn, {"asti": "viewer"})
    outsider, _ = await create_organiser(conn, {"other": "admin"})
    app = app_on(notifier_settings, conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver") as http:
        people = []
        for _ in range(2):
            made = await http.post("/api/organiser/interpreters", headers=auth(staff), json=interpreter_body())
            assert made.status_code == 201, made.text
            people.append(made.json())
        starts = at(monday(), 10)
        made = await http.post(MISSIONS, headers=auth(staff), json=mission_body(starts))
        mission = made.json()
        offers_url = f"{MISSIONS}/{mission['id']}/offers"
        ids = [p["id"] for p in people]
        impossible = (
            (datetime.now(UTC) - timedelta(minutes=1), "The deadline must be in the future."),
            (starts + timedelta(minutes=1), "The deadline cannot come after the mission starts."),
        )
        for answer_by, message in impossible:
            refused = await http.post(
                offers_url, headers=auth(staff), json={"interpreters": ids, "answer_by": answer_by.isoformat()}
            )
            assert refused.status_code == 422, refused.text
            assert {"field": "answer_by", "message": message} in [
                {k: e[k] for k in ("field", "message")} for e in refused.json()["errors"]
            ]
        # a day by default...
        before = datetime.now(UTC)
        offered = await http.post(offers_url, headers=auth(staff), json={"interpreters": ids})
        assert offered.status_code == 201, offered.text
        deadlines = {datetime.fromisoformat(o["answer_by"]) for o in offered.json()}
        assert len(deadlines) == 1
        assert before + timedelta(hours=24) <= deadlines.pop() <= datetime.now(UTC) + timedelta(hours=24)
        # ...but never after the start
        soon_mission = (
            await http.post(
                MISSIONS,
                headers=auth(staff),
                json=mission_body(
                    datetime.now(UTC).replace(microsecond=0) + timedelta(hours=3), remote="phone", place=None
                ),
            )
        ).json()
        soon_offers = (
            await http.post(
                f"{MISSIONS}/{soon_mission['id']}/offers", headers=auth(staff), json={"interpreters": ids[:1]}
            )
        ).json()
        assert datetime.fromisoformat(soon_offers[0]["answer_by"]) == datetime.fromisoformat(soon_mission["starts_at"])

        tokens = [p["link"].rsplit("/", 1)[1] for p in people]
        # the interpreter's page says until when they may accept
        page = await http.get(f"/i/{tokens[1]}?lang=fr")
        assert page.status_code == 200 and "Répondre avant le " in page.text

        by_interpreter = {o["interpreter"]: o["id"] for o in offered.json()}
        declined = await http.post(f"/api/interpreters/{tokens[0]}/offers/{by_interpreter[ids[0]]}/decline")
        assert declined.status_code == 200
        # nothing to say while an offer is still open
        assert await alert_unanswered(conn, notifier_settings) == 0
        await conn.execute(
            "UPDATE interpretation_offers SET answer_by = now() - interval '1 minute' WHERE mission_id = $1",
            mission["id"],
        )
        # past its deadline, an offer can no longer be accepted, even before the job expires it
        assert "Répondre avant le " not in (await http.get(f"/i/{tokens[1]}?lang=fr")).text
        late = await http.post(f"/api/interpreters/{tokens[1]}/offers/{by_interpreter[ids[1]]}/accept")
        assert late.status_code == 409 and late.json()["code"] == "offer_expired"
        assert (await http.get(f"{MISSIONS}/{mission['id']}", headers=auth(staff))).json()["unanswered"] is False

        # two notifier copies run the job at once: staff are alerted once (the organiser and the
        # admin of the mission's organisation; not its viewer, nor another organisation's staff)
        async with notifier_pool.acquire() as first, notifier_pool.acquire() as second:
            done = await asyncio.gather(
                alert_unanswered(first, notifier_settings), alert_unanswered(second, notifier_settings)
            )
        assert sorted(done) == [0, 2]
        assert await alert_unanswered(conn, notifier_settings) == 0
        shown = (await http.get(f"{MISSIONS}/{mission['id']}", headers=auth(staff))).json()
        assert (shown["status"], shown["unanswered"]) == ("offered", True)
        assert {
            r["status"]
            for r in await conn.fetch("SELECT status FROM interpretation_offers WHERE mission_id = $1", mission["id"])
        } == {"declined", "expired"}

        alerts = await conn.fetch("SELECT id, recipient FROM outbox WHERE kind = 'interpretation_unanswered'")
        assert viewer.email not in [a["recipient"] for a in alerts] and outsider.email not in [
            a["recipient"] for a in alerts
        ]
        total = await conn.fetchval("SELECT count(*) FROM outbox WHERE due_at <= now()")
        assert await Notifier(notifier_settings).drain(notifier_pool) == total
        everything = await smtp_server.wait_for(total)
        received = {item.rcpt_tos[0]: item.message for item in everything if "interpret" not in item.rcpt_tos[0]}
        # each offer's mail says until when it may be accepted
        offered_mails = [
            item.message.get_body(("plain",)).get_content()
            for item in everything
            if item.rcpt_tos[0] == people[0]["email"]
        ]
        assert len(offered_mails) == 2 and all("Répondre avant le " in text for text in offered_mails)
        to_german = received[german.email]
        assert to_german["Content-Language"] == "de"
        assert str(to_german["Subject"]).startswith("Niemand hat den Dolmetscheinsatz angenommen: ")
        text = to_german.get_body(("plain",)).get_content()
        assert "Guten Tag Jana Hoffmann," in text and "Tigrinya – Französisch" in text
        assert "Marie Weber (Office social), +352 4796 1" in text and "https://zesummen.test/organiser/" in text
        to_french = received[[a["recipient"] for a in alerts if a["recipient"] != german.email][0]]
        assert str(to_french["Subject"]).startswith("Personne n'a accepté la mission d'interprétation\u00a0: ")
        assert "Aucun interprète n'a accepté cette mission" in to_french.get_body(("plain",)).get_content()

        # offered again, the mission is no longer shown unanswered
        again = await http.post(offers_url, headers=auth(staff), json={"interpreters": ids[1:]})
        assert again.status_code == 201 and again.json()[0]["status"] == "offered"
        assert (await http.get(f"{MISSIONS}/{mission['id']}", headers=auth(staff))).json()["unanswered"] is False
