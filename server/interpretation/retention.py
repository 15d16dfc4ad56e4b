"""Retention of interpretation: missions' personal data wiped as for registrations."""

from __future__ import annotations

import asyncpg

from server.interpretation import queries as q
from server.settings import Settings

ANONYMISE_BATCH = 500


async def anonymise_missions(conn: asyncpg.Connection, settings: Settings) -> int:
    """Wipe missions' personal data `anonymise_after` their end, as for registrations; idempotent."""
    done = 0
    while True:
        async with conn.transaction():
            ids = [r["id"] for r in await conn.fetch(q.ANONYMISE_MISSIONS, settings.anonymise_after, ANONYMISE_BATCH)]
            if ids:
                await conn.execute(q.FORGET_MISSION_MAIL, ids)
        done += len(ids)
        if len(ids) < ANONYMISE_BATCH:
            return done
