"""Issue 3: a burst of registrations to one event (64 connections) against a bare `INSERT ... RETURNING`
endpoint, measured in the same run; then a check that nothing was overbooked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import asyncpg
import msgspec

from bench.harness import Context, Result, paired_load
from server.db import init_connection
from server.events.schemas import EventIn
from server.events.service import create_event, publish_event
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser

CAPACITY = 500
SYSTEM = Organiser(id=0, email="bench@localhost", name="bench", is_admin=True, roles={})
# the limits protect the public from abuse; the burst comes from one address on purpose
SERVER_ENV = {"RATE_LIMIT_PER_ADDRESS": "100000000", "RATE_LIMIT_PER_EMAIL": "1000", "MAIL_CAP_PER_DAY": "1000"}


async def seed(context: Context) -> tuple[str, int]:
    """One web conference with CAPACITY seats, and the ceiling endpoint's table."""
    conn = await asyncpg.connect(context.database_url)
    await init_connection(conn)
    try:
        await conn.execute(
            "CREATE TABLE bench_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body jsonb NOT NULL)"
        )
        await conn.execute(org_q.UPSERT_ORGANISATION, "cefis", "CEFIS")
        start = datetime.now(UTC).replace(minute=15, second=0, microsecond=0) + timedelta(days=3)
        body = {
            "kind": "webconference",
            "organisation": "cefis",
            "languages": ["fr"],
            "title": {"fr": "Les Portugais de « seconde génération » au Luxembourg"},
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(minutes=90)).isoformat(),
            "capacity": CAPACITY,
            "join_url": "https://meet.example.org/cefis",
            "platform": "Webex",
        }
        event = await create_event(conn, SYSTEM, msgspec.convert(body, EventIn), context.settings)
        await publish_event(conn, SYSTEM, event.slug, context.settings)
        return event.slug, await conn.fetchval("SELECT id FROM events WHERE slug = $1", event.slug)
    finally:
        await conn.close()


async def overbooking_check(context: Context, event_id: int) -> dict[str, int]:
    """Seats held against the capacity, and the trigger's counters against the rows."""
    conn = await asyncpg.connect(context.database_url)
    try:
        row = await conn.fetchrow(
            "SELECT e.capacity, s.seats_taken, s.waitlist_length, "
            "count(*) FILTER (WHERE r.status IN ('pending', 'confirmed')) AS held, "
            "count(*) FILTER (WHERE r.status = 'waitlisted') AS waiting, count(r.id) AS registrations "
            "FROM events e JOIN event_seats s ON s.event_id = e.id LEFT JOIN registrations r ON r.event_id = e.id "
            "WHERE e.id = $1 GROUP BY e.id, s.event_id",
            event_id,
        )
    finally:
        await conn.close()
    if row["held"] > row["capacity"] or (row["seats_taken"], row["waitlist_length"]) != (row["held"], row["waiting"]):
        raise RuntimeError(f"overbooked or miscounted: {dict(row)}")
    if row["held"] != row["capacity"]:
        raise RuntimeError(f"the burst did not fill the event: {dict(row)}")
    return {key: row[key] for key in ("registrations", "held", "waiting")}


async def run(context: Context) -> list[Result]:
    slug, event_id = await seed(context)
    people = count()

    def registration(_: int) -> bytes:
        n = next(people)  # unique across rounds: every request is a new person
        return msgspec.json.encode(
            {
                "name": f"Person {n}",
                "email": f"person{n}@bench.example",
                "language": "pt",
                "consent": True,
                "commune": "Esch-sur-Alzette",
            }
        )

    async with context.server(env=SERVER_ENV) as base:
        registering, inserting = await paired_load(
            base,
            {"path": f"/api/events/{slug}/registrations", "method": "POST", "body": registration},
            {"path": "/bench/insert-returning", "method": "POST", "body": registration},
        )
    for stats in (registering, inserting):
        if set(stats.statuses) != {202}:
            raise RuntimeError(f"unexpected answers: {stats.statuses}")
    seats = await overbooking_check(context, event_id)
    return [
        Result(
            name=f"POST registrations (one event, {CAPACITY} seats, 64 connections)",
            figure=registering.throughput,
            unit="req/s",
            ceiling=inserting.throughput,
            ceiling_name="bare INSERT ... RETURNING endpoint",
            target=0.6,
            notes={
                "p99_ms": round(registering.p99_ms, 1),
                "ceiling_p99_ms": round(inserting.p99_ms, 1),
                "overbooked": False,
                **seats,
            },
        )
    ]
