"""What a feed or an invitation is built from: one event or series, with its moved or cancelled occurrences."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec

FeedStatus = Literal["published", "cancelled"]


CalendarMethod = Literal["PUBLISH", "REQUEST", "CANCEL"]


InvitationMethod = Literal["REQUEST", "CANCEL"]


AwareDatetime = Annotated[datetime, msgspec.Meta(tz=True)]


class FeedOverride(msgspec.Struct, kw_only=True):
    """One occurrence of a series that was moved, retitled or cancelled."""

    recurrence_id: AwareDatetime  # the start the RRULE gives this occurrence, before any move
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    sequence: int
    status: FeedStatus = "published"
    # None keeps the series' value. An override VEVENT replaces its occurrence whole, so the
    # builder writes the series' texts into it rather than leave them out.
    summary: str | None = None
    description: str | None = None
    location: str | None = None
    url: str | None = None  # the occurrence's own page; None keeps the series'
    last_modified: AwareDatetime | None = None


class FeedEvent(msgspec.Struct, kw_only=True):
    """One event or series as it appears in a feed or an invitation; texts already localised."""

    uid: str
    sequence: int  # the event's revision: clients keep the copy with the highest
    status: FeedStatus
    summary: str
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    timezone: str  # IANA name; DTSTART/DTEND are written as wall time in it
    created: AwareDatetime
    last_modified: AwareDatetime
    description: str = ""
    location: str = ""
    url: str | None = None
    categories: list[str] = []
    lang: str | None = None  # language of the texts when a fallback differs from the calendar's
    join_url: str | None = None  # personal feed and invitations only, never the public feed
    rrule: str | None = None  # e.g. "FREQ=WEEKLY;INTERVAL=2;COUNT=10", without "RRULE:"
    exdates: list[AwareDatetime] = []
    overrides: list[FeedOverride] = []
