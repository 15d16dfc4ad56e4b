"""Reminders: planned from the event's current time for confirmed people, once per (registration,
offset, revision); a moved event re-plans, a cancelled one drops them."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import msgspec

from server.events.schemas import EventPatch
from server.events.service import cancel_event, update_event
from server.i18n import format_time
from server.notifications.housekeeping import run_housekeeping
from server.notifications.reminders import PLANNING_HORIZON, plan_reminders
from server.notifications.worker import Notifier
from server.outbox import message_id
from tests.factories import ADMIN, create_event, insert_registration
from tests.test_notifier import running

LONG_AGO = datetime.now(UTC) - timedelta(days=30)


def times(start: datetime, minutes: int = 90) -> dict[str, str]:
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(minutes=minutes)).isoformat()}


async def reminders_of(conn, registration_id: int):
    return await conn.fetch(
        "SELECT * FROM outbox WHERE kind = 'reminder' AND registration_id = $1 ORDER BY due_at", registration_id
    )


async def test_reminders_go_to_confirmed_people_only_each_once(notifier_conn, notifier_settings):
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=20)
    event = await create_event(notifier_conn, notifier_settings, **times(start))  # default reminders: P1D, PT1H
    confirmed, _ = await insert_registration(
        notifier_conn, notifier_settings, event.slug, status="confirmed", confirmed_at=start - timedelta(days=3)
    )
    for status in ("pending", "waitlisted", "cancelled"):
        await insert_registration(notifier_conn, notifier_settings, event.slug, status=status)
    assert await plan_reminders(notifier_conn, notifier_settings) == 2
    assert await plan_reminders(notifier_conn, notifier_settings) == 0  # a second round adds nothing
    rows = await notifier_conn.fetch("SELECT * FROM outbox WHERE kind = 'reminder' ORDER BY due_at")
    assert [r["registration_id"] for r in rows] == [confirmed["id"]] * 2
    assert [r["dedupe_key"] for r in rows] == [
        f"reminder:{confirmed['id']}:P1D:0",
        f"reminder:{confirmed['id']}:PT1H:0",
    ]
    assert [r["payload"] for r in rows] == [{"offset": "P1D", "revision": 0}, {"offset": "PT1H", "revision": 0}]
    assert [r["due_at"] for r in rows] == [start - timedelta(days=1), start - timedelta(hours=1)]
    assert [r["expires_at"] - r["due_at"] for r in rows] == [notifier_settings.reminder_grace] * 2
    assert {(r["recipient"], r["language"]) for r in rows} == {(confirmed["email"], confirmed["language"])}


async def test_a_person_confirmed_after_a_reminders_moment_does_not_get_it(notifier_conn, notifier_settings):
    start = datetime.now(UTC) + timedelta(minutes=30)
    event = await create_event(notifier_conn, notifier_settings, **times(start))
    await insert_registration(notifier_conn, notifier_settings, event.slug, status="confirmed")
    # both moments (a day and an hour before) were over when they confirmed
    assert await plan_reminders(notifier_conn, notifier_settings) == 0


async def test_reminders_are_queued_only_within_the_planning_horizon(notifier_conn, notifier_settings):
    start = datetime.now(UTC) + PLANNING_HORIZON + timedelta(hours=3)
    event = await create_event(notifier_conn, notifier_settings, **times(start))
    registration, _ = await insert_registration(notifier_conn, notifier_settings, event.slug, confirmed_at=LONG_AGO)
    await plan_reminders(notifier_conn, notifier_settings)
    # the day-before one is within the horizon, the hour-before one not yet
    assert [r["payload"]["offset"] for r in await reminders_of(notifier_conn, registration["id"])] == ["P1D"]


async def test_a_cancelled_event_drops_its_reminders(notifier_conn, notifier_settings):
    event = await create_event(notifier_conn, notifier_settings, **times(datetime.now(UTC) + timedelta(hours=20)))
    registration, _ = await insert_registration(notifier_conn, notifier_settings, event.slug, confirmed_at=LONG_AGO)
    await plan_reminders(notifier_conn, notifier_settings)
    await cancel_event(notifier_conn, ADMIN, event.slug, notifier_settings)
    await plan_reminders(notifier_conn, notifier_settings)
    rows = await reminders_of(notifier_conn, registration["id"])
    assert len(rows) == 2
    assert {(r["status"], r["last_error"]) for r in rows} == {("skipped", "the event was cancelled")}


async def test_a_person_who_cancels_loses_their_reminders(notifier_conn, notifier_settings):
    event = await create_event(notifier_conn, notifier_settings, **times(datetime.now(UTC) + timedelta(hours=20)))
    registration, _ = await insert_registration(notifier_conn, notifier_settings, event.slug, confirmed_at=LONG_AGO)
    await plan_reminders(notifier_conn, notifier_settings)
    await notifier_conn.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = $1", registration["id"]
    )
    await plan_reminders(notifier_conn, notifier_settings)
    rows = await reminders_of(notifier_conn, registration["id"])
    assert {(r["status"], r["last_error"]) for r in rows} == {("skipped", "the registration is cancelled now")}


async def test_a_reminder_taken_off_the_event_is_dropped(notifier_conn, notifier_settings):
    event = await create_event(notifier_conn, notifier_settings, **times(datetime.now(UTC) + timedelta(hours=20)))
    registration, _ = await insert_registration(notifier_conn, notifier_settings, event.slug, confirmed_at=LONG_AGO)
    await plan_reminders(notifier_conn, notifier_settings)
    await update_event(
        notifier_conn, ADMIN, event.slug, msgspec.convert({"reminders": ["PT1H"]}, EventPatch), notifier_settings
    )
    await plan_reminders(notifier_conn, notifier_settings)
    rows = {r["payload"]["offset"]: r for r in await reminders_of(notifier_conn, registration["id"])}
    assert rows["PT1H"]["status"] == "queued"
    assert (rows["P1D"]["status"], rows["P1D"]["last_error"]) == ("skipped", "this reminder was removed from the event")


async def test_a_moved_event_is_reminded_at_its_new_time_and_never_at_the_old(
    notifier_conn, notifier_settings, smtp_server
):
    now = datetime.now(UTC)
    old_start = now + timedelta(hours=1, seconds=2)
    event = await create_event(notifier_conn, notifier_settings, reminders=["PT1H", "PT3H"], **times(old_start))
    people = [
        (await insert_registration(notifier_conn, notifier_settings, event.slug, confirmed_at=now, language=lang))[0]
        for lang in ("fr", "en")
    ]
    await plan_reminders(notifier_conn, notifier_settings)
    old = [r for p in people for r in await reminders_of(notifier_conn, p["id"])]
    # the hour-before reminder, due in two seconds (the three-hours one was over before they confirmed)
    assert [r["payload"] for r in old] == [{"offset": "PT1H", "revision": 0}] * 2

    new_start = now + timedelta(hours=3, seconds=3)
    await update_event(
        notifier_conn, ADMIN, event.slug, msgspec.convert(times(new_start), EventPatch), notifier_settings
    )
    async with running(Notifier(notifier_settings)):
        await asyncio.sleep(max(0.0, (old_start - timedelta(hours=1) - datetime.now(UTC)).total_seconds()) + 0.5)
        # the old moment has passed: nothing went out for it
        reminder_ids = {message_id(r["id"], notifier_settings.mail_from) for r in old}
        assert not reminder_ids & set(smtp_server.by_message_id())

        # the new moment: three hours before the new start
        async def new_reminders():
            return await notifier_conn.fetch(
                "SELECT * FROM outbox WHERE kind = 'reminder' AND payload->>'revision' = '1' AND status = 'sent'"
            )

        async with asyncio.timeout(15):
            while len(await new_reminders()) < 2:
                await asyncio.sleep(0.1)
    sent = await new_reminders()
    assert {(r["payload"]["offset"], r["due_at"]) for r in sent} == {("PT3H", new_start - timedelta(hours=3))}
    received = smtp_server.by_message_id()
    for row in sent:
        [copy] = received[message_id(row["id"], notifier_settings.mail_from)]
        assert copy.received_at >= row["due_at"].timestamp()
        text = copy.message.get_body(("plain",)).get_content()
        assert format_time(new_start, event.timezone, row["language"]) in text
        assert format_time(old_start, event.timezone, row["language"]) not in text
    stale = await notifier_conn.fetch(
        "SELECT status, last_error FROM outbox WHERE id = ANY($1::bigint[])", [r["id"] for r in old]
    )
    assert {(r["status"], r["last_error"]) for r in stale} == {
        ("skipped", "the event moved (now revision 1): its reminders were planned again")
    }
    assert not {message_id(r["id"], notifier_settings.mail_from) for r in old} & set(received)
    # and the hour-before one of the new time waits for its moment
    later = await notifier_conn.fetch("SELECT due_at FROM outbox WHERE kind = 'reminder' AND status = 'queued'")
    assert {r["due_at"] for r in later} == {new_start - timedelta(hours=1)}


async def test_housekeeping_runs_each_job_in_one_copy_at_a_time(notifier_conn, notifier_pool, notifier_settings):
    from server.notifications.housekeeping import JOB_LOCK_SPACE

    event = await create_event(notifier_conn, notifier_settings, **times(datetime.now(UTC) + timedelta(hours=20)))
    await insert_registration(notifier_conn, notifier_settings, event.slug, confirmed_at=LONG_AGO)
    async with notifier_pool.acquire() as other_copy:
        # another copy is planning reminders right now
        await other_copy.execute("SELECT pg_advisory_lock($1::int, hashtext('plan_reminders'))", JOB_LOCK_SPACE)
        try:
            done = await run_housekeeping(notifier_pool, notifier_settings)
        finally:
            await other_copy.execute("SELECT pg_advisory_unlock($1::int, hashtext('plan_reminders'))", JOB_LOCK_SPACE)
    assert done == {
        "expire_holds": 0,
        "plan_reminders": None,
        "anonymise_due": 0,
        "anonymise_missions": 0,
        "alert_unanswered_interpretation": 0,
        "remind_untouched_commune_requests": 0,
        "remind_subsidy_deadlines": 0,
    }
    assert await run_housekeeping(notifier_pool, notifier_settings) == {
        "expire_holds": 0,
        "plan_reminders": 2,
        "anonymise_due": 0,
        "anonymise_missions": 0,
        "alert_unanswered_interpretation": 0,
        "remind_untouched_commune_requests": 0,
        "remind_subsidy_deadlines": 0,
    }


async def test_housekeeping_expires_holds_and_anonymises(notifier_conn, notifier_pool, notifier_settings):
    event = await create_event(notifier_conn, notifier_settings, **times(datetime.now(UTC) + timedelta(hours=20)))
    held, _ = await insert_registration(
        notifier_conn,
        notifier_settings,
        event.slug,
        status="pending",
        hold_expires_at=datetime.now(UTC) - timedelta(minutes=1),
    )
    past = await create_event(
        notifier_conn,
        notifier_settings,
        publish=False,
        **times(datetime.now(UTC) - notifier_settings.anonymise_after - timedelta(days=2)),
    )
    old, _ = await insert_registration(notifier_conn, notifier_settings, past.slug, status="confirmed")
    done = await run_housekeeping(notifier_pool, notifier_settings)
    assert done["expire_holds"] == 1 and done["anonymise_due"] == 1
    assert await notifier_conn.fetchval("SELECT status FROM registrations WHERE id = $1", held["id"]) == "expired"
    assert await notifier_conn.fetchval("SELECT email FROM registrations WHERE id = $1", old["id"]) is None
