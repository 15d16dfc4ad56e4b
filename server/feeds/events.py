"""Event rows as FeedEvents: the one place that decides UIDs, texts and links of calendar items."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from server.events.service import KIND_LABELS, event_links, event_location
from server.feeds.ical import FeedEvent
from server.i18n import localise
from server.settings import Settings


def uid_domain(settings: Settings) -> str:
    """The right-hand side of every UID: BASE_URL's host, as RFC 5545 suggests (and pretix does)."""
    return urlsplit(settings.base).hostname or "zesummen"


def event_uid(event_id: int, settings: Settings) -> str:
    """The UID of one event or one occurrence: stable for its life, whatever else changes."""
    return f"event-{event_id}@{uid_domain(settings)}"


def series_uid(series_id: int, settings: Settings) -> str:
    """The UID of a series written as one RRULE (public feeds)."""
    return f"series-{series_id}@{uid_domain(settings)}"


def occurrence_feed_event(
    row: Any, lang: str, settings: Settings, *, with_join_url: bool = False
) -> FeedEvent:
    """One event row (a single event or one occurrence of a series) as a calendar item of its own.

    Personal feeds and email invitations use this: a person registered for one date of a series
    gets that date, not the whole rule. `with_join_url` only for people confirmed for it.
    """
    languages = list(row["languages"])
    summary, text_lang = localise(row["title"], lang, languages)
    description, _ = localise(row["description"], text_lang, languages)
    if not description:
        description, _ = localise(row["summary"], text_lang, languages)
    url = event_links(settings, row["slug"])[0]
    # the page link closes the description: few clients show URL, every one shows DESCRIPTION
    description = f"{description}\n\n{url}" if description else url
    return FeedEvent(
        uid=event_uid(row["id"], settings),
        sequence=row["revision"],
        status="cancelled" if row["status"] == "cancelled" else "published",
        summary=summary,
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        timezone=row["timezone"],
        created=row["created_at"],
        last_modified=row["updated_at"],
        description=description,
        location=event_location(row, lang),
        url=url,
        categories=[KIND_LABELS[row["kind"]][lang]],
        lang=text_lang if text_lang != lang else None,
        join_url=row["join_url"] if with_join_url and row["kind"] == "webconference" else None,
    )
