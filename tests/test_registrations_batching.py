"""Registrations decided together: the group commit that batches them, the statement that decides a
batch as if one person came after the other, and the per-statement seat counters behind it.

The database tests commit (the batch runs in autocommit statements on pool connections, as in
production) and delete what they made afterwards.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Hashable
from contextlib import asynccontextmanager

import asyncpg
import msgspec
import pytest

from server.registrations import seats, service
from server.registrations.group_commit import GroupCommit
from server.registrations.schemas import RegistrationIn
from server.settings import Settings
from tests.factories import committed_events as make_committed_events

# ---------------------------------------------------------------------------- the group commit itself


class Lender:
    """A Connect that lends no real connection and counts how often it was asked for one."""

    def __init__(self) -> None:
        self.lent = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[None]:
        self.lent += 1
        yield None


class Recorder:
    """A `run` for GroupCommit that records its batches and answers each item with (batch number, item)."""

    def __init__(self, pause: float = 0.01, fail_on: object = None) -> None:
        self.batches: list[list[object]] = []
        self.pause = pause
        self.fail_on = fail_on

    async def __call__(self, conn: object, key: Hashable, items: list[object]) -> list[tuple[int, object]]:
        self.batches.append(list(items))
        number = len(self.batches)
        await asyncio.sleep(self.pause)
        if self.fail_on in items:
            raise LookupError(f"batch {number} failed")
        return [(number, item) for item in items]


async def test_requests_that_come_while_a_batch_runs_share_the_next_one_in_order() -> None:
    run, lender = Recorder(), Lender()
    group = GroupCommit(run)
    first = asyncio.create_task(group.submit(lender, "event", 0))
    await asyncio.sleep(0)  # the first runs at once, alone
    rest = [asyncio.create_task(group.submit(lender, "event", n)) for n in range(1, 6)]
    outcomes = await asyncio.gather(first, *rest)
    assert run.batches == [[0], [1, 2, 3, 4, 5]]
    assert outcomes == [(1, 0), *((2, n) for n in range(1, 6))]
    assert lender.lent == 2  # one connection per batch: the ones who wait hold none


async def test_each_key_has_its_own_line_and_a_batch_has_a_most() -> None:
    run = Recorder()
    group = GroupCommit(run, most=2)
    outcomes = await asyncio.gather(*(group.submit(Lender(), key, (key, n)) for n in range(3) for key in ("a", "b")))
    assert sorted(map(len, run.batches)) == [1, 1, 2, 2]  # per key: the first alone, then two
    assert all(len({key for key, _ in batch}) == 1 for batch in run.batches)
    assert [item for _, item in outcomes] == [(key, n) for n in range(3) for key in ("a", "b")]


async def test_a_failed_batch_fails_everyone_in_it_and_the_line_goes_on() -> None:
    run = Recorder(fail_on="bad")
    group = GroupCommit(run)
    first = asyncio.create_task(group.submit(Lender(), "event", "first"))
    await asyncio.sleep(0)
    doomed = [asyncio.create_task(group.submit(Lender(), "event", item)) for item in ("bad", "unlucky")]
    results = await asyncio.gather(first, *doomed, return_exceptions=True)
    assert results[0] == (1, "first")
    assert all(isinstance(r, LookupError) for r in results[1:])
    assert await group.submit(Lender(), "event", "later") == (3, "later")


async def test_a_request_cancelled_in_line_or_at_its_turn_does_not_stall_the_others() -> None:
    run = Recorder(pause=0.02)
    group = GroupCommit(run)
    first = asyncio.create_task(group.submit(Lender(), "event", "first"))
    await asyncio.sleep(0)
    gone = asyncio.create_task(group.submit(Lender(), "event", "gone"))  # would run the next batch
    stays = asyncio.create_task(group.submit(Lender(), "event", "stays"))
    await asyncio.sleep(0)
    gone.cancel()
    assert await first == (1, "first")
    assert (await asyncio.wait_for(stays, 1))[1] == "stays"
    assert ["gone"] not in run.batches and all("gone" not in batch for batch in run.batches)
    assert await asyncio.wait_for(group.submit(Lender(), "event", "next"), 1) == (len(run.batches), "next")


# ---------------------------------------------------------------------------- batches against the database


@pytest.fixture
async def committed_events(pool: asyncpg.Pool, settings: Settings):
    """Make committed events; every row hanging off them, and the rate-limit counters, deleted afterwards."""
    async with make_committed_events(pool, settings, "batch") as make:
        yield make
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM rate_limits")


def _lenient(settings: Settings, **changes) -> Settings:
    values = {"rate_limit_per_address": 10_000, "rate_limit_per_email": 100, "mail_cap_per_day": 100, **changes}
    return msgspec.structs.replace(settings, **values)


class PoolLender:
    """A Connect on the test pool (autocommit, as the web process lends them), counting what it lent."""

    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.lent = 0

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[asyncpg.Connection]:
        self.lent += 1
        async with self.pool.acquire() as conn:
            yield conn


async def _register_together(
    connect: PoolLender, slug: str, emails: list[str], settings: Settings, *, client_ip: str = "192.0.2.7"
) -> list[object]:
    """Everyone at once, as the web process runs them."""

    async def one(email: str):
        data = RegistrationIn(name=f"Name of {email}", email=email, language="lb", consent=True)
        return await service.register(connect, slug, data, settings, client_ip=client_ip)

    return await asyncio.gather(*(one(email) for email in emails), return_exceptions=True)


async def _rows(pool: asyncpg.Pool, event_id: int) -> list[asyncpg.Record]:
    return await pool.fetch(
        "SELECT r.email, r.status, o.kind, o.payload FROM registrations r "
        "LEFT JOIN outbox o ON o.registration_id = r.id WHERE r.event_id = $1 "
        "ORDER BY r.waitlisted_at NULLS FIRST, r.id",
        event_id,
    )


async def test_a_burst_in_one_process_is_seated_in_order_and_never_overbooked(pool, settings, committed_events) -> None:
    slug, event_id = await committed_events(capacity=3, confirmation_required=False)
    batches_before = seats.PUBLIC_SEATS.batches
    emails = [f"burst{n}-{secrets.token_hex(2)}@example.org" for n in range(12)]
    connect = PoolLender(pool)
    answers = await _register_together(connect, slug, emails, _lenient(settings))
    assert all(not isinstance(a, BaseException) for a in answers), answers
    rows = await _rows(pool, event_id)
    held = [r for r in rows if r["status"] == "confirmed"]
    waiting = [r for r in rows if r["status"] == "waitlisted"]
    assert len(held) == 3 and len(waiting) == 9 and len(rows) == 12
    # each waiting person's mail gives their place, 1 to 9, in the order of the waiting list
    assert [r["kind"] for r in waiting] == ["registration_waitlisted"] * 9
    assert [r["payload"]["position"] for r in waiting] == list(range(1, 10))
    assert {r["kind"] for r in held} == {"registration_confirmed"}
    # the answers agree with the rows
    by_email = {r["email"]: r["status"] for r in rows}
    assert [a.dates[0].status for a in answers] == [by_email[e] for e in emails]
    counts = await pool.fetchrow("SELECT seats_taken, waitlist_length FROM event_seats WHERE event_id = $1", event_id)
    assert (counts["seats_taken"], counts["waitlist_length"]) == (3, 9)
    # fewer statements than people, and fewer connections: they were decided together
    assert seats.PUBLIC_SEATS.batches - batches_before < 12 and connect.lent < 12


async def test_one_statement_decides_several_people_as_one_after_the_other(pool, settings, committed_events) -> None:
    # the same address twice, an address already registered, and a person over the address limit
    slug, event_id = await committed_events(capacity=2, confirmation_required=True)
    strict = _lenient(settings, rate_limit_per_address=4)
    known = f"known-{secrets.token_hex(2)}@example.org"
    async with pool.acquire() as conn:
        await service.register(
            conn,
            slug,
            RegistrationIn(name="Known", email=known, language="fr", consent=True),
            strict,
            client_ip="198.51.100.1",
        )
        twice = f"twice-{secrets.token_hex(2)}@example.org"
        others = [f"other{n}-{secrets.token_hex(2)}@example.org" for n in range(3)]
        people = [twice, twice, known, others[0], others[1], others[2]]
        decided = await seats.take_seats(
            conn,
            slug,
            [
                (
                    seats.Person(name=email, email=email, language="pt"),
                    service.attempt_keys(strict, "198.51.100.1", email),
                )
                for email in people
            ],
            strict,
        )
    # address 198.51.100.1 had one try before: these are its tries 2 to 7, and the limit is 4
    assert [s["retry_after"] > 0 for s in decided] == [False, False, False, True, True, True]
    assert [s["registration_id"] is not None for s in decided] == [True, False, False, False, False, False]
    # what each would get, a newcomer at that point: the known one saw two seats taken
    assert [s["seat"] for s in decided][:3] == ["pending", "waitlisted", "waitlisted"]
    rows = await _rows(pool, event_id)
    assert sorted((r["email"], r["status"]) for r in rows) == sorted([(known, "pending"), (twice, "pending")])


async def test_database_refuses_one_statement_that_would_overbook(pool, settings, committed_events) -> None:
    slug, event_id = await committed_events(capacity=2)
    insert = (
        "INSERT INTO registrations (event_id, email, language, status, confirmed_at) "
        "SELECT $1, 'p' || n || $2, 'fr', 'confirmed', now() FROM generate_series(1, $3) AS n"
    )
    async with pool.acquire() as conn:
        with pytest.raises(asyncpg.CheckViolationError, match="overbooked"):
            await conn.execute(insert, event_id, "@example.org", 3)
        await conn.execute(insert, event_id, "@example.org", 2)  # exactly full is fine
        assert await conn.fetchval("SELECT seats_taken FROM event_seats WHERE event_id = $1", event_id) == 2


async def test_counters_follow_statements_that_touch_several_events_at_once(pool, settings, committed_events) -> None:
    (_, first), (_, second) = await committed_events(capacity=10), await committed_events(capacity=10)
    async with pool.acquire() as conn:
        await conn.execute(
            "INSERT INTO registrations (event_id, email, language, status, confirmed_at, waitlisted_at) "
            "SELECT e, 'c' || e || '-' || n || '@example.org', 'fr', "
            "       CASE WHEN n <= 3 THEN 'confirmed' ELSE 'waitlisted' END, now(), now() "
            "FROM unnest($1::bigint[]) AS e CROSS JOIN generate_series(1, 5) AS n",
            [first, second],
        )
        await conn.execute(
            "UPDATE registrations SET status = 'cancelled' WHERE event_id = ANY($1) AND email LIKE '%-1@%'",
            [first, second],
        )
        await conn.execute(
            "UPDATE registrations SET status = 'confirmed' WHERE event_id = $1 AND email LIKE '%-5@%'", first
        )
        await conn.execute("DELETE FROM registrations WHERE event_id = $1 AND email LIKE '%-4@%'", second)
        counts = await conn.fetch(
            "SELECT e.id, s.seats_taken, s.waitlist_length, "
            "(SELECT count(*) FROM registrations r "
            "WHERE r.event_id = e.id AND r.status IN ('pending', 'confirmed')) AS held, "
            "(SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 'waitlisted') AS waiting "
            "FROM events e JOIN event_seats s ON s.event_id = e.id WHERE e.id = ANY($1) ORDER BY e.id",
            [first, second],
        )
    assert [(c["seats_taken"], c["waitlist_length"]) for c in counts] == [(c["held"], c["waiting"]) for c in counts]
    assert [(c["held"], c["waiting"]) for c in counts] == [(3, 1), (2, 1)]
