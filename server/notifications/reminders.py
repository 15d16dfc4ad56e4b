"""Reminder planning: each confirmed person gets each of the event's reminders once per event revision.

Reminders are planned a little ahead (PLANNING_HORIZON) from the event's current time, so that a
moved event simply gets new rows for its new revision (the unique dedupe_key
`reminder:{registration}:{offset}:{revision}` makes planning idempotent), while the rows of the old
revision, of a cancelled event, of a person no longer confirmed or of an offset taken off the event
are skipped with the reason. The messages double-check the revision when they are written, for a
reminder already claimed when its event moved.
"""

from __future__ import annotations

import logging
from datetime import timedelta

import asyncpg

from server.notifications import queries as q
from server.settings import Settings

log = logging.getLogger(__name__)

# how far ahead of its moment a reminder is queued; far above the housekeeping interval, so that
# every reminder is in the queue well before it is due
PLANNING_HORIZON = timedelta(days=2)


async def plan_reminders(conn: asyncpg.Connection, settings: Settings) -> int:
    """Skip the reminders that no longer apply and queue the ones now due for planning; returns how many it queued."""
    async with conn.transaction():
        await conn.execute(q.ISO_INTERVALS)
        dropped = await conn.fetchval(q.DROP_STALE_REMINDERS)
        planned = await conn.fetchval(q.PLAN_REMINDERS, PLANNING_HORIZON, settings.reminder_grace)
    if dropped or planned:
        log.info("reminders: %d planned, %d no longer applying skipped", planned, dropped)
    return planned
