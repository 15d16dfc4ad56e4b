"""Two app processes and two notifier processes on one database (issue 7, point 5): a registration
burst through both apps, cancellations racing new registrations, and a reminder wave, all at once.
No event is overbooked, waiting lists move up in order, and every message goes out exactly once:
one copy of each sent row's Message-ID at the SMTP server, nothing else.

Everything runs on the notifier tests' database (emptied before the test): the workers claim every
due row of their database, so the rows must all be this test's.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from server.outbox import message_id
from tests.factories import create_event, manage_token, queue_messages, registration_body
from tests.processes import notifier_workers, race, seat_counts, wait_for_rows, web_servers
from tests.smtp_server import SmtpTestServer

DOUBLE_OPT_IN_SEATS = 10
BURST = 200  # registrations for the double opt-in event, at once
OPEN_SEATS = 20  # the confirmation-free event
OPEN_FIRST = 60  # its first registrations (20 seats, 40 waiting) ...
CANCELLED = 15  # ... then cancellations of that many seats raced by
OPEN_LATE = 40  # new registrations
WAVE = 120  # confirmed people of a third event whose reminder falls due at one moment
WAVE_IN = timedelta(seconds=8)


async def _waitlist(conn, event_id: int) -> list[int]:
    return [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM registrations WHERE event_id = $1 AND status = 'waitlisted' ORDER BY waitlisted_at, id",
            event_id,
        )
    ]


async def test_two_apps_and_two_notifiers_never_overbook_promote_in_order_and_send_each_message_once(
    notifier_conn, notifier_settings, smtp_server: SmtpTestServer
) -> None:
    conn, settings = notifier_conn, notifier_settings
    opt_in = await create_event(conn, settings, capacity=DOUBLE_OPT_IN_SEATS)
    walk_in = await create_event(conn, settings, capacity=OPEN_SEATS, confirmation_required=False)
    starts = datetime.now(UTC) + timedelta(hours=1) + WAVE_IN
    wave = await create_event(
        conn,
        settings,
        capacity=None,
        reminders=["PT1H"],
        starts_at=starts.isoformat(),
        ends_at=(starts + timedelta(minutes=90)).isoformat(),
    )
    await queue_messages(conn, settings, WAVE, event_slug=wave.slug)  # confirmed, each with its confirmation
    ids = {
        e.slug: await conn.fetchval("SELECT id FROM events WHERE slug = $1", e.slug) for e in (opt_in, walk_in, wave)
    }

    web_env = {
        "DATABASE_URL": settings.database_url,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "NOTIFIER": "0",
        "RATE_LIMIT_PER_ADDRESS": "1000000",
        "RATE_LIMIT_PER_EMAIL": "1000",
        "MAIL_CAP_PER_DAY": "1000",
    }
    async with (
        notifier_workers(settings, smtp_server, 2, NOTIFIER_CONCURRENCY="4", NOTIFIER_HOUSEKEEPING_EVERY="PT0.5S"),
        web_servers(web_env, count=2) as apps,
    ):
        started = time.monotonic()
        burst = [("POST", f"/api/events/{opt_in.slug}/registrations", registration_body()) for _ in range(BURST)]
        burst += [("POST", f"/api/events/{walk_in.slug}/registrations", registration_body()) for _ in range(OPEN_FIRST)]
        answers = await race(apps, burst)
        burst_seconds = time.monotonic() - started
        assert {a.status_code for a in answers} == {202}, {
            a.status_code: a.text for a in answers if a.status_code != 202
        }

        seated = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM registrations WHERE event_id = $1 AND status = 'confirmed' ORDER BY id",
                ids[walk_in.slug],
            )
        ]
        waiting_before = await _waitlist(conn, ids[walk_in.slug])
        tokens = [await manage_token(conn, settings, registration_id) for registration_id in seated[:CANCELLED]]
        requests = [("DELETE", f"/api/registrations/{token}", None) for token in tokens]
        requests += [
            ("POST", f"/api/events/{walk_in.slug}/registrations", registration_body()) for _ in range(OPEN_LATE)
        ]
        requests = [requests[i] for i in sorted(range(len(requests)), key=lambda i: (i % 4, i))]  # interleaved
        raced = await race(apps, requests)
        assert {a.status_code for a in raced} <= {200, 202}, {
            a.status_code: a.text for a in raced if a.status_code >= 300
        }

        # the reminder wave is planned by the workers' housekeeping and falls due at one moment
        await wait_for_rows(conn, "SELECT count(*) FROM outbox WHERE kind = 'reminder'", WAVE)
        await wait_for_rows(conn, "SELECT count(*) FROM outbox WHERE status IN ('queued', 'retrying')", 0, timeout=120)
        seconds = time.monotonic() - started

    # ------------------------------------------------------------------ seats
    opt_in_counts = await seat_counts(conn, ids[opt_in.slug])
    walk_in_counts = await seat_counts(conn, ids[walk_in.slug])
    assert (opt_in_counts["held"], opt_in_counts["waiting"]) == (DOUBLE_OPT_IN_SEATS, BURST - DOUBLE_OPT_IN_SEATS)
    assert (opt_in_counts["seats_taken"], opt_in_counts["waitlist_length"]) == (
        opt_in_counts["held"],
        opt_in_counts["waiting"],
    )
    told = [
        r["position"]
        for r in await conn.fetch(
            "SELECT (o.payload->>'position')::int AS position "
            "FROM registrations r JOIN outbox o ON o.registration_id = r.id "
            "WHERE r.event_id = $1 AND o.kind = 'registration_waitlisted' ORDER BY r.waitlisted_at, r.id",
            ids[opt_in.slug],
        )
    ]
    assert told == list(range(1, BURST - DOUBLE_OPT_IN_SEATS + 1))
    # the freed seats went to the oldest waiting, in their order; the newcomers queued behind them
    promoted = [
        r["registration_id"]
        for r in await conn.fetch(
            "SELECT registration_id FROM outbox WHERE event_id = $1 AND kind = 'registration_promoted' ORDER BY id",
            ids[walk_in.slug],
        )
    ]
    assert promoted == waiting_before[:CANCELLED]
    waiting_after = await _waitlist(conn, ids[walk_in.slug])
    newcomers = [
        r["id"]
        for r in await conn.fetch(
            "SELECT id FROM registrations WHERE event_id = $1 AND id > $2",
            ids[walk_in.slug],
            max(seated + waiting_before),
        )
    ]
    kept = len(waiting_before) - CANCELLED
    assert waiting_after[:kept] == waiting_before[CANCELLED:]
    assert sorted(waiting_after[kept:]) == sorted(newcomers) and len(newcomers) == OPEN_LATE
    assert (walk_in_counts["confirmed"], walk_in_counts["seats_taken"]) == (OPEN_SEATS, OPEN_SEATS)
    assert (
        walk_in_counts["waiting"]
        == walk_in_counts["waitlist_length"]
        == OPEN_FIRST - OPEN_SEATS - CANCELLED + OPEN_LATE
    )

    # ------------------------------------------------------------------ mail
    rows = await conn.fetch("SELECT id, kind, status, due_at, sent_at FROM outbox")
    statuses = Counter(r["status"] for r in rows)
    skipped = Counter(r["kind"] for r in rows if r["status"] == "skipped")  # no longer true when written
    copies = Counter(m.message_id for m in smtp_server.received)
    sent = {message_id(r["id"], settings.mail_from) for r in rows if r["status"] == "sent"}
    reminders = [r for r in rows if r["kind"] == "reminder"]
    wave_lag = max(r["sent_at"] - r["due_at"] for r in reminders).total_seconds()
    print(
        f"\nscale-out: {BURST + OPEN_FIRST} registrations in {burst_seconds:.1f} s through 2 apps, then "
        f"{CANCELLED} cancellations raced by {OPEN_LATE} registrations; {len(rows)} messages "
        f"({dict(statuses)}; skipped as no longer true: {dict(skipped)}) by 2 notifiers, {len(reminders)} reminders "
        f"due at one moment, the last sent {wave_lag:.1f} s after it; "
        f"{sum(n - 1 for n in copies.values())} duplicates; "
        f"{seconds:.1f} s in all"
    )
    assert set(statuses) <= {"sent", "skipped"}, statuses
    assert set(copies) == sent, "a message went out that no row sent, or a sent row's message never arrived"
    assert set(copies.values()) == {1}, "a message went out twice"
    assert len({r["due_at"] for r in reminders}) == 1 and {r["status"] for r in reminders} == {"sent"}
