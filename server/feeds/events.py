"""Event rows as FeedEvents: the one place that decides UIDs, texts and links of calendar items."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr
from icalendar import vRecur

from server.events.labels import kind_label
from server.events.views import event_links, event_location
from server.feeds.items import FeedEvent, FeedOverride
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


def _texts(row: Any, lang: str) -> tuple[str, str, str, str]:
    """(summary, description, location, language of the texts) of a row, in `lang` with fallback."""
    languages = list(row["languages"])
    summary, text_lang = localise(row["title"], lang, languages)
    description, _ = localise(row["description"], text_lang, languages)
    if not description:
        description, _ = localise(row["summary"], text_lang, languages)
    return summary, description, event_location(row, lang), text_lang


def _with_page_link(description: str, url: str) -> str:
    # the page link closes the description: few clients show URL, every one shows DESCRIPTION
    return f"{description}\n\n{url}" if description else url


def occurrence_feed_event(
    row: Any, lang: str, settings: Settings, *, with_join_url: bool = False, join_url: str | None = None
) -> FeedEvent:
    """One event row (a single event or one occurrence of a series) as a calendar item of its own.

    Personal feeds, one event's feed and email invitations use this: a person registered for one
    date of a series gets that date, not the whole rule. `with_join_url` only for people confirmed
    for it; `join_url` (a person's own /j/ link) takes the conference's link's place.
    """
    summary, description, location, text_lang = _texts(row, lang)
    url = event_links(settings, row["slug"])[0]
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
        description=_with_page_link(description, url),
        location=location,
        url=url,
        categories=[kind_label(row["kind"], lang)],
        lang=text_lang if text_lang != lang else None,
        join_url=(join_url or row["join_url"]) if with_join_url and row["kind"] == "webconference" else None,
    )


def series_feed_events(
    rrule: str, series_id: int, rows: Sequence[Any], lang: str, settings: Settings
) -> list[FeedEvent]:
    """A series as one item with RRULE and EXDATE, and an override per occurrence that differs.

    Derived from the occurrence rows (the series' public ones), not from the rule alone: the rule
    written is bounded by the last row (so a client never expands more dates than exist), every
    date of the rule without a public row (left out, or a draft) is an EXDATE, and an occurrence moved,
    retitled, placed elsewhere or cancelled on its own is an override with its RECURRENCE-ID.
    A row the rule cannot produce (none in practice) becomes an item of its own.
    """
    public = sorted((r for r in rows if r["status"] != "draft"), key=lambda r: r["recurrence_id"])
    if not public:
        return []
    # the zone the series was expanded in: its rows' (an occurrence may have been given another)
    timezone = Counter(r["timezone"] for r in public).most_common(1)[0][0]
    zone = ZoneInfo(timezone)
    first, last = public[0], public[-1]
    rule = _bounded_rule(rrule, last["recurrence_id"])
    instances = _instances(rule, first["recurrence_id"], zone, limit=2 * len(rows) + 10)
    if instances is None:  # a rule with far more dates than rows: each row stands alone
        return [occurrence_feed_event(r, lang, settings) for r in public]
    in_rule = [r for r in public if r["recurrence_id"] in instances]
    alone = [occurrence_feed_event(r, lang, settings) for r in public if r["recurrence_id"] not in instances]
    if not in_rule:
        return alone

    def look(row: Any) -> tuple[Any, ...]:
        """What the series item says of an occurrence, apart from its date."""
        return (*_texts(row, lang), row["ends_at"] - row["starts_at"])

    # the series item carries what most occurrences share; the others are overrides
    published = [r for r in in_rule if r["status"] == "published"] or in_rule
    template = Counter(look(r) for r in published).most_common(1)[0][0]
    summary, description, location, text_lang = template[:4]
    length: timedelta = template[4]
    all_cancelled = all(r["status"] == "cancelled" for r in in_rule)
    page = event_links(settings, first["slug"])[0]

    overrides = []
    for row in in_rule:
        if (
            row["starts_at"] == row["recurrence_id"]
            and look(row) == template
            and (row["status"] == "published" or all_cancelled)
        ):
            continue
        own_summary, own_description, own_location, _ = _texts(row, lang)
        own_page = event_links(settings, row["slug"])[0]
        overrides.append(
            FeedOverride(
                recurrence_id=row["recurrence_id"],
                starts_at=row["starts_at"],
                ends_at=row["ends_at"],
                sequence=row["revision"],
                status="cancelled" if row["status"] == "cancelled" else "published",
                summary=own_summary,
                description=_with_page_link(own_description, own_page),
                location=own_location,
                url=own_page,
                last_modified=row["updated_at"],
            )
        )
    taken = {r["recurrence_id"] for r in in_rule}
    series = FeedEvent(
        uid=series_uid(series_id, settings),
        # the highest revision of any date: it never decreases, whichever date changes
        sequence=max(r["revision"] for r in public),
        status="cancelled" if all_cancelled else "published",
        summary=summary,
        starts_at=first["recurrence_id"],
        ends_at=first["recurrence_id"] + length,
        timezone=timezone,
        created=min(r["created_at"] for r in public),
        last_modified=max(r["updated_at"] for r in public),
        description=_with_page_link(description, page),
        location=location,
        url=page,
        categories=[kind_label(first["kind"], lang)],
        lang=text_lang if text_lang != lang else None,
        rrule=rule,
        exdates=sorted(instances - taken),
        overrides=overrides,
    )
    return [series, *alone]


def _bounded_rule(rrule: str, last: datetime) -> str:
    """The series' rule without COUNT, ending (UNTIL, in UTC) at the original start of its last row."""
    rule = vRecur.from_ical(rrule.strip().upper().removeprefix("RRULE:"))
    rule.pop("COUNT", None)
    rule["UNTIL"] = [last.astimezone(UTC)]
    return rule.to_ical().decode()


def _instances(rule: str, dtstart: datetime, zone: ZoneInfo, *, limit: int) -> set[datetime] | None:
    """The instants the rule gives from dtstart, as a client computes them (wall time in the zone)."""
    found: set[datetime] = set()
    for local in rrulestr(rule, dtstart=dtstart.astimezone(zone)):
        if len(found) >= limit:
            return None
        found.add(local.astimezone(UTC))
    return found
