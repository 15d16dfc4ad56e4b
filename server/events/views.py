"""An event as the API, pages, feeds and mails show it: place, registration window, links, public/organiser views."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server.events.labels import kind_label, online_place
from server.events.schemas import EventOut, OrganiserEventOut
from server.i18n import format_when, localise
from server.organisers.schemas import OrganisationOut
from server.settings import Settings


def event_location(row: asyncpg.Record | dict[str, Any], lang: str) -> str:
    """Where it happens, as a person reads it: "Web-conférence", or venue and commune."""
    if row["kind"] == "webconference":
        place = kind_label("webconference", lang)
        return f"{place} ({row['platform']})" if row["platform"] else place
    if row["online"]:
        return online_place(lang)
    parts = [p for p in (row["venue"], row["commune"]) if p]
    if row["venue"] and row["commune"] and row["commune"].lower() in row["venue"].lower():
        parts = [row["venue"]]
    return ", ".join(parts)


def registration_closes_at(row: asyncpg.Record | dict[str, Any]) -> datetime:
    """When registering stops: the window's end, by default the event's start."""
    return row["registration_closes_at"] or row["starts_at"]


def registration_open(row: asyncpg.Record | dict[str, Any], now: datetime) -> bool:
    """Whether the event takes registrations now (to a seat or to the waiting list)."""
    if row["status"] != "published":
        return False
    opens = row["registration_opens_at"]
    return (opens is None or opens <= now) and now < registration_closes_at(row)


def event_links(settings: Settings, slug: str) -> tuple[str, str, str]:
    """(page url, ical url, webcal url) built from BASE_URL, never from the request."""
    base = settings.base
    ical = f"{base}/events/{slug}.ics"
    webcal = re.sub(r"^https?://", "webcal://", ical)
    return f"{base}/events/{slug}", ical, webcal


def to_public(row: asyncpg.Record, lang: str, settings: Settings, now: datetime) -> EventOut:
    """A row as the public sees it, in `lang` with fallback."""
    languages = list(row["languages"])
    title, text_lang = localise(row["title"], lang, languages)
    summary, _ = localise(row["summary"], text_lang, languages)
    description, _ = localise(row["description"], text_lang, languages)
    capacity = row["capacity"]
    url, ical_url, webcal_url = event_links(settings, row["slug"])
    # instants in the event's own offset: "18:30+01:00" reads right to a person and a machine
    zone = ZoneInfo(row["timezone"])
    return EventOut(
        slug=row["slug"],
        kind=row["kind"],
        title=title,
        summary=summary,
        description=description,
        lang=text_lang,
        languages=languages,
        starts_at=row["starts_at"].astimezone(zone),
        ends_at=row["ends_at"].astimezone(zone),
        timezone=row["timezone"],
        when=format_when(row["starts_at"], row["ends_at"], row["timezone"], lang),
        location=event_location(row, lang),
        commune=row["commune"],
        organisation=OrganisationOut(row["organisation_slug"], row["organisation_name"]),
        capacity=capacity,
        seats_left=None if capacity is None else max(capacity - row["seats_taken"], 0),
        registration_open=registration_open(row, now),
        registration_opens_at=row["registration_opens_at"],
        registration_closes_at=registration_closes_at(row),
        status=row["status"],
        url=url,
        ical_url=ical_url,
        webcal_url=webcal_url,
        online=row["online"] or row["kind"] == "webconference",
        platform=row["platform"],
        venue=row["venue"],
        practised_language=row["practised_language"],
        level=row["level"],
        topics=list(row["topics"]),
        audience=row["audience"],
        series=row["series_slug"],
        revision=row["revision"],
    )


def to_organiser(
    row: asyncpg.Record,
    settings: Settings,
    occurrences: list[str] | None = None,
    aimed_at: list[str] | None = None,
) -> OrganiserEventOut:
    """A row as its organisers see it."""
    data = dict(row)
    data["aimed_at_communes"] = aimed_at or []
    data["organisation"] = {"slug": row["organisation_slug"], "name": row["organisation_name"]}
    data["series"] = row["series_slug"]
    data["url"] = event_links(settings, row["slug"])[0]
    data["occurrences"] = occurrences
    return msgspec.convert(data, OrganiserEventOut, from_attributes=False, strict=False)
