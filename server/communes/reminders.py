"""Requests left untouched: five working days later their assignee (or the admins) are reminded."""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from server.communes import queries as q
from server.outbox import enqueue
from server.settings import Settings
from server.validation import LOCAL_ZONE

# ---------------------------------------------------------------------------- reminders

REMINDER_AFTER_WORKING_DAYS = 5


def working_days_before(moment: datetime, days: int) -> datetime:
    """The same local time `days` working days (Monday to Friday) earlier."""
    local = moment.astimezone(LOCAL_ZONE)
    counted = 0
    while counted < days:
        local -= timedelta(days=1)
        if local.weekday() < 5:
            counted += 1
    return local


async def remind_untouched(conn: asyncpg.Connection, settings: Settings) -> int:
    """A housekeeping job: a request untouched five working days reminds its assignee (or the admins), once."""
    cutoff = working_days_before(datetime.now(LOCAL_ZONE), REMINDER_AFTER_WORKING_DAYS)
    queued = 0
    async with conn.transaction():
        for row in await conn.fetch(q.UNTOUCHED, cutoff):
            if row["assignee_id"] is not None:
                people = [await conn.fetchrow(q.ORGANISER_BY_ID, row["assignee_id"])]
            else:
                people = await conn.fetch(q.ADMINS_OF, row["organisation_id"])
            stamp = int(row["touched"].timestamp())
            for person in people:
                # one reminder per person and untouched stretch: a touch starts a new one
                if await enqueue(
                    conn,
                    "commune_request_reminder",
                    event_id=None,
                    recipient=person["email"],
                    language=person["language"],
                    payload={"request": row["id"], "organiser": person["id"]},
                    dedupe_key=f"commune-request-reminder:{row['id']}:{stamp}:{person['id']}",
                ):
                    queued += 1
    return queued
