"""The organisers' read side of events: their pages, one event, and the lookups that guard reads and writes."""

from __future__ import annotations

import asyncpg

from server.errors import Forbidden, NotFound
from server.events import queries as q
from server.events.listing import decode_cursor, encode_cursor
from server.events.schemas import OrganiserEventOut, OrganiserEventPage
from server.events.views import to_organiser
from server.organisers.schemas import Organiser
from server.settings import Settings


async def list_for_organiser(
    conn: asyncpg.Connection,
    organiser: Organiser,
    settings: Settings,
    *,
    status: str | None,
    organisation: str | None,
    limit: int,
    cursor: str | None,
) -> OrganiserEventPage:
    """A page of the events this organiser can read, drafts included."""
    after, after_id = decode_cursor(cursor)
    rows = await conn.fetch(
        q.ORGANISER_EVENT_PAGE,
        organiser.is_admin,
        list(organiser.roles),
        status,
        organisation,
        after,
        after_id,
        limit + 1,
    )
    aimed = await communes_aimed_at(conn, [row["id"] for row in rows[:limit]])
    items = [to_organiser(row, settings, aimed_at=aimed.get(row["id"])) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1]["starts_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return OrganiserEventPage(items=items, next_cursor=next_cursor)


async def get_for_organiser(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, settings: Settings
) -> OrganiserEventOut:
    """One event this organiser can read; 404 otherwise (no hint that it exists)."""
    row = await readable_event(conn, organiser, slug)
    occurrences = await series_occurrences(conn, row)
    return to_organiser(row, settings, occurrences, (await communes_aimed_at(conn, [row["id"]])).get(row["id"]))


async def communes_aimed_at(conn: asyncpg.Connection, event_ids: list[int]) -> dict[int, list[str]]:
    """{event id: the communes it is aimed at} of these events."""
    if not event_ids:
        return {}
    return {row["event_id"]: list(row["communes"]) for row in await conn.fetch(q.AIMED_AT, event_ids)}


async def readable_event(conn: asyncpg.Connection, organiser: Organiser, slug: str) -> asyncpg.Record:
    """The event row if the organiser may read it, else 404."""
    row = await conn.fetchrow(q.EVENT_BY_SLUG, slug)
    if row is None or not organiser.can_read(row["organisation_id"]):
        raise NotFound(f"No event '{slug}'.")
    return row


async def writable_event_for_update(conn: asyncpg.Connection, organiser: Organiser, slug: str) -> asyncpg.Record:
    """The event row, locked for the change, if the organiser may write it; else 404 or 403."""
    row = await conn.fetchrow(q.EVENT_BY_SLUG_FOR_UPDATE, slug)
    if row is None or not organiser.can_read(row["organisation_id"]):
        raise NotFound(f"No event '{slug}'.")
    if not organiser.can_write(row["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow changes.")
    return row


async def series_occurrences(conn: asyncpg.Connection, row: asyncpg.Record) -> list[str] | None:
    """The slugs of the series an event belongs to, or None for a single event."""
    if row["series_id"] is None:
        return None
    return [r["slug"] for r in await conn.fetch(q.SERIES_OCCURRENCES, row["series_id"])]
