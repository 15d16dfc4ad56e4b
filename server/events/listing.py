"""The public read side of events: pages by cursor, one event, with each row's rendering cached per version."""

from __future__ import annotations

import re
from collections import OrderedDict
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec

from server.errors import Invalid, NotFound
from server.events import queries as q
from server.events.schemas import EventFilters, EventOut, EventPage
from server.events.views import registration_open, to_public
from server.settings import Settings

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# "<microseconds since 1970>.<id>": every string of this form is a position in the list, so the
# OpenAPI pattern says exactly which cursors are valid (events start after 2000, see rules.validate_event)
CURSOR_PATTERN = r"\A[0-9]{1,17}\.[0-9]{1,18}\Z"


def encode_cursor(starts_at: datetime, event_id: int) -> str:
    """A keyset cursor: the last item's (starts_at, id)."""
    return f"{(starts_at - _EPOCH) // timedelta(microseconds=1)}.{event_id}"


def decode_cursor(cursor: str | None) -> tuple[datetime | None, int | None]:
    """The (starts_at, id) behind a cursor, or 422."""
    if not cursor:
        return None, None
    if not re.fullmatch(CURSOR_PATTERN, cursor):
        raise Invalid.field("cursor", "This cursor is not one this service gave out.")
    micros, _, event_id = cursor.partition(".")
    return _EPOCH + timedelta(microseconds=int(micros)), int(event_id)


async def _page_rows(
    conn: asyncpg.Connection, filters: EventFilters, cursor: str | None, limit: int
) -> list[asyncpg.Record]:
    """The page's rows, and one more when there is a next page."""
    after, after_id = decode_cursor(cursor)
    values = msgspec.structs.asdict(filters)
    given = tuple(name for name in q.PUBLIC_FILTERS if values.get(name) is not None)
    args = (filters.from_, after, after_id, limit + 1, *(values[name] for name in given))
    if filters.q is None:
        return await conn.fetch(q.public_event_page(given), *args)
    # A search is planned for the words typed: their query is then computed once, not for every
    # event read, and the list read in order is planned knowing how common they are.
    async with conn.transaction():
        await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
        return await conn.fetch(q.public_event_page(given), *args)


def _next_cursor(rows: list[asyncpg.Record], limit: int) -> str | None:
    return encode_cursor(rows[limit - 1]["starts_at"], rows[limit - 1]["id"]) if len(rows) > limit else None


async def list_public(
    conn: asyncpg.Connection, filters: EventFilters, lang: str, settings: Settings, *, limit: int, cursor: str | None
) -> EventPage:
    """A page of upcoming published events."""
    rows = await _page_rows(conn, filters, cursor, limit)
    now = datetime.now(UTC)
    renderings = await _renderings(conn, rows[:limit], lang, settings, now)
    items = [_with_live_fields(rendered, row, now) for rendered, row in zip(renderings, rows, strict=False)]
    return EventPage(items=items, next_cursor=_next_cursor(rows, limit))


class _EncodedEventPage(msgspec.Struct):
    """An EventPage whose items are already JSON (msgspec writes Raw bytes as they are)."""

    items: list[msgspec.Raw]
    next_cursor: str | None


async def list_public_json(
    conn: asyncpg.Connection, filters: EventFilters, lang: str, settings: Settings, *, limit: int, cursor: str | None
) -> bytes:
    """list_public as the API sends it, JSON-encoded, from items encoded once per version and live state."""
    rows = await _page_rows(conn, filters, cursor, limit)
    now = datetime.now(UTC)
    base = settings.base
    listed = rows[:limit]
    # (id, row version, organisation name, language, base URL, seats left, open): everything an
    # item's JSON depends on, the live fields included, so that an entry is never stale
    keys = [
        (
            row["id"],
            row["row_version"],
            row["organisation_name"],
            lang,
            base,
            _seats_left(row),
            registration_open(row, now),
        )
        for row in listed
    ]
    encoded = [_ENCODED.get(key) for key in keys]
    missing = [row for row, item in zip(listed, encoded, strict=False) if item is None]
    if missing:
        renderings = await _renderings(conn, missing, lang, settings, now)
        fresh = {
            row["id"]: msgspec.Raw(msgspec.json.encode(_with_live_fields(rendered, row, now)))
            for rendered, row in zip(renderings, missing, strict=False)
        }
        for index, (key, row) in enumerate(zip(keys, listed, strict=False)):
            if encoded[index] is None:
                encoded[index] = _ENCODED[key] = fresh[row["id"]]
        # first in, first out: an entry of an old version is never asked for again
        while len(_ENCODED) > _ENCODED_MAX:
            del _ENCODED[next(iter(_ENCODED))]
    return msgspec.json.encode(_EncodedEventPage(items=encoded, next_cursor=_next_cursor(rows, limit)))


# Localised public events by (id, row version, organisation name, language, base URL). Reading and
# localising whole rows was most of the cost of the public list, the busiest endpoint; a row version
# grows on any update of the event, so an entry is never stale. Seats and whether registration is
# open change without an update (registrations, the clock) and are filled in per request.
_RENDERED: OrderedDict[tuple[Any, ...], EventOut] = OrderedDict()


_RENDERED_MAX = 20_000


# The API's JSON of each item, by the same key plus the live fields (list_public_json).
_ENCODED: dict[tuple[Any, ...], msgspec.Raw] = {}


_ENCODED_MAX = 20_000


def _seats_left(row: asyncpg.Record) -> int | None:
    capacity = row["capacity"]
    return None if capacity is None else max(capacity - row["seats_taken"], 0)


def _with_live_fields(rendered: EventOut, row: asyncpg.Record, now: datetime) -> EventOut:
    """A cached rendering with the fields that change without an update of its row: seats and the window."""
    return msgspec.structs.replace(rendered, seats_left=_seats_left(row), registration_open=registration_open(row, now))


async def _renderings(
    conn: asyncpg.Connection, rows: list[asyncpg.Record], lang: str, settings: Settings, now: datetime
) -> list[EventOut]:
    """The public form of each listed event without its live fields, from the cache or rendered from its full row."""
    base = settings.base
    keys = [(row["id"], row["row_version"], row["organisation_name"], lang, base) for row in rows]
    # taken before any await, so another request's eviction cannot pull an entry from under us
    cached = [_RENDERED.get(key) for key in keys]
    fresh: dict[int, EventOut] = {}
    missing = [key[0] for key, hit in zip(keys, cached, strict=False) if hit is None]
    if missing:
        for full in await conn.fetch(q.PUBLIC_EVENTS_BY_ID, missing):
            # keyed by the full row's own version: it may be newer than the page's if the event
            # changed between the two reads, and then this request shows the newer one
            fresh[full["id"]] = _RENDERED[(full["id"], full["row_version"], full["organisation_name"], lang, base)] = (
                to_public(full, lang, settings, now)
            )
    for key, hit in zip(keys, cached, strict=False):
        if hit is not None and key in _RENDERED:
            _RENDERED.move_to_end(key)
    while len(_RENDERED) > _RENDERED_MAX:
        _RENDERED.popitem(last=False)
    return [hit or fresh[row["id"]] for row, hit in zip(rows, cached, strict=False)]


async def get_public(conn: asyncpg.Connection, slug: str, lang: str, settings: Settings) -> EventOut:
    """One published (or cancelled) event, or 404."""
    row = await conn.fetchrow(q.PUBLIC_EVENT_BY_SLUG, slug)
    if row is None:
        raise NotFound(f"No published event '{slug}'.")
    return to_public(row, lang, settings, datetime.now(UTC))
