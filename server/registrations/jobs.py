"""Periodic jobs of registrations: expired holds, anonymising what is past keeping."""

from __future__ import annotations

import asyncpg

from server.registrations import queries as q
from server.registrations import seat_queries as sq
from server.registrations.seats import settle
from server.settings import Settings

ANONYMISE_BATCH = 500


async def expire_holds(conn: asyncpg.Connection, settings: Settings) -> int:
    """End every hold that ran out and refill its seats; idempotent, safe from several processes."""
    ended = 0
    for row in await conn.fetch(sq.EVENTS_WITH_STALE_HOLDS):
        async with conn.transaction():
            locked = await conn.fetchrow(sq.EVENT_BY_ID_FOR_SEATS_SKIP_LOCKED, row["event_id"])
            # a locked event is being changed right now by someone who settles it, or by the next run
            if locked is not None:
                ended += await settle(conn, dict(locked), settings)
    return ended


async def anonymise_due(conn: asyncpg.Connection, settings: Settings) -> int:
    """Wipe personal data `anonymise_after` the event's end (counts and attendance stay); idempotent."""
    done = 0
    while True:
        async with conn.transaction():
            ids = [
                r["id"] for r in await conn.fetch(q.DUE_FOR_ANONYMISATION, settings.anonymise_after, ANONYMISE_BATCH)
            ]
            if ids:
                await conn.execute(q.ANONYMISE, ids, False)
                await conn.execute(q.FORGET_RECIPIENTS, ids, "anonymised after the event")
        done += len(ids)
        if len(ids) < ANONYMISE_BATCH:
            break
    # the events now done are marked, and later runs pass them by (migration 0012)
    async with conn.transaction():
        ended = [r["id"] for r in await conn.fetch(q.EVENTS_TO_MARK_ANONYMISED, settings.anonymise_after)]
        if ended:
            await conn.execute(q.MARK_EVENTS_ANONYMISED, ended)
    await conn.execute(q.PURGE_RATE_LIMITS)
    return done
