"""Never overbook, proved against two real server processes on one database (pretix's pair of tests):
a control through a deliberately unlocked path shows that this harness does see oversells; the real
path, raced the same way, never oversells and keeps the waiting list in order.

These tests commit their data (other processes must see it) and delete it again afterwards.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta

import asyncpg
import httpx
import msgspec
import pytest

from server.registrations import refusals, service
from server.registrations.schemas import RegistrationIn
from server.settings import Settings
from tests.factories import committed_events, manage_token, registration_body
from tests.processes import race, seat_counts, web_servers

CAPACITY = 10
RACERS = 200


@pytest.fixture(scope="module")
async def servers(database_url: str, settings: Settings, pool: asyncpg.Pool) -> AsyncIterator[list[httpx.AsyncClient]]:
    """Two granian processes serving the app on the test database, and a client for each."""
    env = {
        "DATABASE_URL": database_url,
        "SECRET_KEY": settings.secret_key,
        "BASE_URL": settings.base_url,
        "NOTIFIER": "0",
        "RATE_LIMIT_PER_ADDRESS": "1000000",
        "RATE_LIMIT_PER_EMAIL": "1000",
        "MAIL_CAP_PER_DAY": "1000",
    }
    try:
        async with web_servers(env, count=2, app="tests.race_app:app_from_env") as clients:
            yield clients
    finally:
        async with pool.acquire() as conn:
            await conn.execute("DELETE FROM rate_limits")  # the servers' counters, committed


@pytest.fixture
async def committed_event(pool: asyncpg.Pool, settings: Settings):
    """Make committed events (visible to the servers); every row hanging off them is deleted afterwards."""
    async with committed_events(pool, settings, "race") as make:
        yield make


async def test_control_an_unlocked_count_then_insert_does_oversell(servers, committed_event, pool) -> None:
    slug, event_id = await committed_event(capacity=CAPACITY)
    answers = await race(
        servers, [("POST", f"/test/events/{slug}/unlocked-registrations", registration_body()) for _ in range(RACERS)]
    )
    assert {a.status_code for a in answers} == {202}
    counts = await seat_counts(pool, event_id)
    # the harness sees the race: without the lock (and the backstop) seats are promised twice
    assert counts["held"] > CAPACITY
    assert counts["seats_taken"] == counts["held"]  # the counter still tells the truth


async def test_two_processes_never_oversell_and_waitlist_everyone_else_in_order(servers, committed_event, pool) -> None:
    slug, event_id = await committed_event(capacity=CAPACITY)
    answers = await race(
        servers, [("POST", f"/api/events/{slug}/registrations", registration_body()) for _ in range(RACERS)]
    )
    assert {a.status_code for a in answers} == {202}, {a.status_code: a.text for a in answers if a.status_code != 202}
    assert sum(a.json()["dates"][0]["status"] == "pending" for a in answers) == CAPACITY
    counts = await seat_counts(pool, event_id)
    assert (counts["held"], counts["waiting"]) == (CAPACITY, RACERS - CAPACITY)
    assert (counts["seats_taken"], counts["waitlist_length"]) == (CAPACITY, RACERS - CAPACITY)
    async with pool.acquire() as conn:
        told = await conn.fetch(
            "SELECT o.payload FROM registrations r JOIN outbox o ON o.registration_id = r.id "
            "WHERE r.event_id = $1 AND r.status = 'waitlisted' AND o.kind = 'registration_waitlisted' "
            "ORDER BY r.waitlisted_at, r.id",
            event_id,
        )
    # each person was told the place they really have: the waiting list is in the order of the lock
    assert [t["payload"]["position"] for t in told] == list(range(1, RACERS - CAPACITY + 1))


async def test_cancellations_racing_registrations_promote_in_waiting_list_order(
    servers, committed_event, pool, settings
) -> None:
    slug, event_id = await committed_event(capacity=CAPACITY, confirmation_required=False)
    seeded = await race(
        servers, [("POST", f"/api/events/{slug}/registrations", registration_body()) for _ in range(40)]
    )
    assert {a.status_code for a in seeded} == {202}
    async with pool.acquire() as conn:
        confirmed = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM registrations WHERE event_id = $1 AND status = 'confirmed' ORDER BY id", event_id
            )
        ]
        waitlist = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM registrations WHERE event_id = $1 AND status = 'waitlisted' ORDER BY waitlisted_at, id",
                event_id,
            )
        ]
        tokens = [await manage_token(conn, settings, registration_id) for registration_id in confirmed]
    assert (len(confirmed), len(waitlist)) == (CAPACITY, 30)

    most_confirmed = 0
    racing = True

    async def watch() -> None:
        nonlocal most_confirmed
        async with pool.acquire() as conn:
            while racing:
                seen = await conn.fetchval(
                    "SELECT count(*) FROM registrations WHERE event_id = $1 AND status = 'confirmed'", event_id
                )
                most_confirmed = max(most_confirmed, seen)
                await asyncio.sleep(0.002)

    watcher = asyncio.create_task(watch())
    requests = [("DELETE", f"/api/registrations/{token}", None) for token in tokens]
    requests += [("POST", f"/api/events/{slug}/registrations", registration_body()) for _ in range(40)]
    requests = [requests[i] for i in sorted(range(len(requests)), key=lambda i: (i % 5, i))]  # interleave them
    answers = await race(servers, requests)
    racing = False
    await watcher
    assert {a.status_code for a in answers} <= {200, 202}, {a.status_code for a in answers}
    assert most_confirmed <= CAPACITY
    async with pool.acquire() as conn:
        now_confirmed = [
            r["id"]
            for r in await conn.fetch(
                "SELECT id FROM registrations WHERE event_id = $1 AND status = 'confirmed' ORDER BY id", event_id
            )
        ]
        promoted = [
            r["registration_id"]
            for r in await conn.fetch(
                "SELECT registration_id FROM outbox WHERE event_id = $1 AND kind = 'registration_promoted' ORDER BY id",
                event_id,
            )
        ]
        newcomers = await conn.fetch(
            "SELECT status, waitlisted_at FROM registrations WHERE event_id = $1 AND id > $2", event_id, max(waitlist)
        )
        last_original = await conn.fetchval("SELECT max(waitlisted_at) FROM registrations WHERE id = ANY($1)", waitlist)
    # the ten freed seats went to the ten oldest waiting, one after the other in their order
    assert promoted == waitlist[:CAPACITY]
    assert sorted(now_confirmed) == sorted(waitlist[:CAPACITY])
    # newcomers never jumped the queue: all behind everyone who was waiting before them
    assert len(newcomers) == 40 and all(
        n["status"] == "waitlisted" and n["waitlisted_at"] > last_original for n in newcomers
    )
    counts = await seat_counts(pool, event_id)
    assert (counts["seats_taken"], counts["waitlist_length"]) == (counts["held"], counts["waiting"]) == (CAPACITY, 60)


async def test_a_stuck_lock_gives_a_clean_503_instead_of_a_hang(committed_event, pool, settings) -> None:
    slug, event_id = await committed_event(capacity=CAPACITY)
    impatient = msgspec.structs.replace(settings, lock_timeout=timedelta(milliseconds=200), rate_limit_per_address=1000)
    data = msgspec.convert(registration_body(), RegistrationIn)
    async with pool.acquire() as holder, pool.acquire() as conn:
        async with holder.transaction():
            await holder.execute("SELECT 1 FROM events WHERE id = $1 FOR UPDATE", event_id)
            with pytest.raises(refusals.EventBusy) as refused:
                await service.register(conn, slug, data, impatient, client_ip="192.0.2.77")
        assert refused.value.status == 503 and refused.value.headers["Retry-After"]
        assert await conn.fetchval("SELECT count(*) FROM registrations WHERE event_id = $1", event_id) == 0
        await conn.execute("DELETE FROM rate_limits")  # the attempt counted above, committed
