"""What the pages show, built on the events domain's public reading (list_public, get_public)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server.events.labels import KINDS, kind_label
from server.events.listing import list_public
from server.events.schemas import EventFilters, EventOut
from server.i18n import LANGUAGES, collation_key, format_day, format_time_range
from server.pages import queries as q
from server.settings import Settings

PAGE_SIZE = 20
EXCERPT_LENGTH = 220


@dataclass
class ListedEvent:
    """One event of the list as the agency's site shows it."""

    event: EventOut
    time_range: str
    place: str
    excerpt: str


@dataclass
class Day:
    """The events of one day under one date block (day, month, weekday)."""

    iso: str
    day: str
    month: str
    weekday: str
    full: str
    events: list[ListedEvent] = field(default_factory=list)


@dataclass
class Upcoming:
    """The list page: days of events, the next page's cursor, the matching iCal feed."""

    days: list[Day]
    next_cursor: str | None
    feed_url: str
    webcal_url: str


def read_filters(params: dict[str, str]) -> EventFilters:
    """The list's filters from the query string; a value the list does not know filters nothing."""
    kind = params.get("kind") if params.get("kind") in KINDS else None
    spoken = params.get("spoken") if params.get("spoken") in LANGUAGES else None
    commune = (params.get("commune") or "").strip()[:100] or None
    return EventFilters(kind=kind, spoken=spoken, commune=commune)


def place_of(event: EventOut, lang: str) -> str:
    """ "Web-conférence", else the commune, else the localised location (e.g. "En ligne")."""
    if event.kind == "webconference":
        return kind_label("webconference", lang)
    return event.commune or event.location


def excerpt_of(event: EventOut) -> str:
    """The summary, else the start of the description, cut at a word."""
    text = re.sub(r"\s+", " ", event.summary or event.description).strip()
    if len(text) <= EXCERPT_LENGTH:
        return text
    return text[:EXCERPT_LENGTH].rsplit(" ", 1)[0].rstrip(",;:.") + "…"


def feed_links(filters: EventFilters, lang: str, settings: Settings) -> tuple[str, str]:
    """(https, webcal) links of the iCal feed with the same filters, built from BASE_URL."""
    query = {
        key: value
        for key, value in (
            ("kind", filters.kind),
            ("spoken", filters.spoken),
            ("commune", filters.commune),
            ("lang", lang),
        )
        if value
    }
    https = f"{settings.base}/calendar.ics?{urlencode(query)}"
    return https, re.sub(r"^https?://", "webcal://", https)


async def upcoming(
    conn: asyncpg.Connection, filters: EventFilters, lang: str, settings: Settings, cursor: str | None
) -> Upcoming:
    """A page of upcoming events grouped by their day in the event's time zone."""
    page = await list_public(conn, filters, lang, settings, limit=PAGE_SIZE, cursor=cursor)
    days: list[Day] = []
    for event in page.items:
        local: date = event.starts_at.astimezone(ZoneInfo(event.timezone)).date()
        if not days or days[-1].iso != local.isoformat():
            days.append(
                Day(
                    iso=local.isoformat(),
                    day=format_day(event.starts_at, event.timezone, lang, "d"),
                    month=format_day(event.starts_at, event.timezone, lang, "MMM").rstrip("."),
                    weekday=format_day(event.starts_at, event.timezone, lang, "EEE").rstrip("."),
                    full=format_day(event.starts_at, event.timezone, lang),
                )
            )
        days[-1].events.append(
            ListedEvent(
                event=event,
                time_range=format_time_range(event.starts_at, event.ends_at, event.timezone, lang),
                place=place_of(event, lang),
                excerpt=excerpt_of(event),
            )
        )
    https, webcal = feed_links(filters, lang, settings)
    return Upcoming(days=days, next_cursor=page.next_cursor, feed_url=https, webcal_url=webcal)


class Commune(msgspec.Struct, frozen=True):
    """A commune and its canton."""

    name: str
    canton: str


async def communes(conn: asyncpg.Connection) -> list[Commune]:
    """Luxembourg's communes in alphabetical order."""
    rows = await conn.fetch(q.COMMUNES)
    return sorted((Commune(row["name"], row["canton"]) for row in rows), key=lambda c: collation_key(c.name))
