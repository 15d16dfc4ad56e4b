"""The organiser's counts of one event's registrations."""

from __future__ import annotations

from collections import Counter

import asyncpg

from server.organisers.schemas import Organiser
from server.registrations import queries as q
from server.registrations.organiser import STATUSES, event_for
from server.registrations.schemas import RegistrationStats
from server.registrations.seats import LIVE


async def event_stats(conn: asyncpg.Connection, organiser: Organiser, slug: str) -> RegistrationStats:
    """Counts of one event's registrations by status, attendance, language, commune and interpretation."""
    event = await event_for(conn, organiser, slug, write=False)
    by_status = dict.fromkeys(STATUSES, 0)
    by_attendance = dict.fromkeys(("present", "absent", "excused", "unmarked"), 0)
    languages: Counter[str] = Counter()
    communes: Counter[str] = Counter()
    interpretation: Counter[str] = Counter()
    accessibility = 0
    for r in await conn.fetch(q.STATS_ROWS, event["id"]):
        n = r["n"]
        by_status[r["status"]] += n
        if r["attendance"]:
            by_attendance[r["attendance"]] += n
        elif r["status"] == "confirmed":
            by_attendance["unmarked"] += n
        if r["status"] in LIVE:
            languages[r["language"]] += n
            if r["commune"]:
                communes[r["commune"]] += n
            if r["interpretation"]:
                interpretation[r["interpretation"]] += n
            accessibility += n if r["needs_access"] else 0
    capacity = event["capacity"]
    return RegistrationStats(
        event=event["slug"],
        capacity=capacity,
        seats_taken=event["seats_taken"],
        seats_left=None if capacity is None else max(capacity - event["seats_taken"], 0),
        waitlist_length=event["waitlist_length"],
        total=sum(by_status.values()),
        by_status=by_status,
        by_attendance=by_attendance,
        by_language=dict(languages.most_common()),
        by_commune=dict(communes.most_common()),
        by_interpretation=dict(interpretation.most_common()),
        accessibility_requests=accessibility,
    )
