"""The six weeks: the day a project had to be filed by, counted in Luxembourg's days, and the reminder."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import asyncpg

from server.errors import FieldError
from server.outbox import enqueue
from server.settings import Settings
from server.subsidies import queries as q
from server.validation import local_today

# the seed: "au plus tard 6 semaines avant le début du projet"
LEAD_DAYS = 42
# the reminder goes this many days before the deadline
REMINDER_DAYS = 14


def current_time() -> datetime:
    """Now; the deadline tests set it to the edges of summer time."""
    return datetime.now(UTC)


def today_in_luxembourg(now: datetime | None = None) -> date:
    """The calendar day in Luxembourg: the six weeks are counted in its days, not in hours."""
    return local_today(now or current_time())


def deadline_for(starts_on: date) -> date:
    """The last day to submit a project starting on `starts_on`."""
    return starts_on - timedelta(days=LEAD_DAYS)


def lead_time(starts_on: date, today: date) -> str | None:
    """The rule of the six weeks: `past`, `late` (fewer than 42 days ahead) or None when in time."""
    if starts_on < today:
        return "past"
    return "late" if today > deadline_for(starts_on) else None


def lead_time_error(starts_on: date, today: date) -> FieldError | None:
    """Refuses a start in the past or in fewer than 42 days, naming the day it had to be filed by."""
    problem = lead_time(starts_on, today)
    if problem == "past":
        return FieldError("starts_on", f"The project cannot start in the past ({starts_on.isoformat()}).")
    deadline = deadline_for(starts_on)
    if problem == "late":
        return FieldError(
            "starts_on",
            f"A project starting on {starts_on.isoformat()} had to be submitted by "
            f"{deadline.isoformat()}, {LEAD_DAYS} days before it starts.",
        )
    return None


async def remind_deadlines(conn: asyncpg.Connection, settings: Settings) -> int:
    """A housekeeping job: a draft whose deadline is two weeks away or less reminds the association, once."""
    today = today_in_luxembourg()
    first = today + timedelta(days=LEAD_DAYS)
    last = first + timedelta(days=REMINDER_DAYS)
    queued = 0
    async with conn.transaction():
        for row in await conn.fetch(q.DRAFTS_NEAR_DEADLINE, first, last):
            application = await conn.fetchrow(q.APPLICATION, row["id"])
            # once per start date: a project moved later gets its own reminder
            if await enqueue(
                conn,
                "subsidy_deadline_reminder",
                event_id=None,
                recipient=application["contact_email"],
                language=application["language"],
                payload={"application": row["id"]},
                dedupe_key=f"subsidy-deadline-reminder:{row['id']}:{row['starts_on'].isoformat()}",
            ):
                queued += 1
    return queued
