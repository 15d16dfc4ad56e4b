"""Event changes: creating (a series expanded), editing, publishing, cancelling, telling registrants."""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server import audit
from server.convention_domains import domain_id_for, tag_event
from server.errors import Conflict, FieldError, Forbidden, Invalid
from server.events import hooks
from server.events import queries as q
from server.events.reading import communes_aimed_at, series_occurrences, writable_event_for_update
from server.events.recurrence import expand_recurrence
from server.events.rules import SLUG_MAX, free_slug, slug_taken, slugify, validate_event
from server.events.schemas import EventIn, EventPatch, OrganiserEventOut
from server.events.views import event_location, to_organiser
from server.i18n import localise
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.outbox import enqueue
from server.settings import Settings

# ---------------------------------------------------------------------------- writing


async def _aim_at(conn: asyncpg.Connection, event_id: int, communes: list[str]) -> None:
    """Aim an event at exactly these communes."""
    await conn.execute(q.CLEAR_AIMED_AT, event_id)
    if communes:
        await conn.execute(q.AIM_AT, event_id, list(dict.fromkeys(communes)))


async def create_event(
    conn: asyncpg.Connection, organiser: Organiser, data: EventIn, settings: Settings
) -> OrganiserEventOut:
    """Create a draft event, or a draft series with one event per occurrence."""
    values = msgspec.structs.asdict(data)
    await validate_event(conn, values)
    async with conn.transaction():
        org = await conn.fetchrow(org_q.ORGANISATION_BY_SLUG, data.organisation)
        if org is None or not organiser.can_read(org["id"]):
            raise Invalid.field("organisation", f"No organisation '{data.organisation}' you belong to.")
        if not organiser.can_write(org["id"]):
            raise Forbidden("Your role in this organisation does not allow creating events.")
        domain_id = await domain_id_for(conn, org["id"], data.domain)
        title, _ = localise(msgspec.to_builtins(data.title), "fr", data.languages)
        if data.slug and await slug_taken(conn, data.slug):
            # the same answer whoever holds it, a draft of another organisation included
            free = await free_slug(conn, data.slug[: SLUG_MAX - 4])
            raise Conflict(
                f"This slug is not available; '{free}' is.",
                code="slug_unavailable",
                errors=[FieldError("slug", f"Not available; '{free}' is.")],
            )
        base_slug = data.slug or await free_slug(conn, slugify(title))
        if data.recurrence is None:
            slots = [(data.starts_at, data.ends_at, None)]
            series_id = None
        else:
            expanded = expand_recurrence(
                data.starts_at, data.ends_at, data.timezone, data.recurrence.rrule, data.recurrence.exdates
            )
            series_id = await conn.fetchval(
                q.INSERT_SERIES, base_slug, data.recurrence.rrule.strip(), data.recurrence.exdates
            )
            slots = [(start, end, start) for start, end in expanded]
        first_id = None
        for start, end, recurrence_id in slots:
            if series_id is None:
                slug = base_slug
            else:
                local_day = start.astimezone(ZoneInfo(data.timezone)).date().isoformat()
                slug = await free_slug(conn, f"{base_slug}-{local_day}")
            closes = data.registration_closes_at
            if series_id is not None and closes is not None:
                # a window given for a series is read relative to each occurrence's start
                closes = start - (data.starts_at - closes)
            event_id = await conn.fetchval(
                q.INSERT_EVENT,
                slug,
                org["id"],
                data.kind,
                msgspec.to_builtins(data.title),
                msgspec.to_builtins(data.summary),
                msgspec.to_builtins(data.description),
                list(data.languages),
                start,
                end,
                data.timezone,
                data.capacity,
                data.registration_opens_at,
                closes,
                data.confirmation_required,
                list(data.reminders),
                data.join_url,
                data.platform,
                data.venue,
                data.online,
                data.commune,
                data.practised_language,
                data.level,
                list(data.topics),
                data.audience,
                data.requesting_partner,
                series_id,
                recurrence_id,
            )
            first_id = first_id or event_id
            await _aim_at(conn, event_id, list(data.aimed_at_communes))
            if domain_id is not None:
                await tag_event(conn, org["id"], event_id, data.domain)
        row = await conn.fetchrow(
            q.EVENT_BY_SLUG, base_slug if series_id is None else await _first_slug(conn, first_id)
        )
        await audit.record(
            conn,
            organiser,
            "event_created",
            organisation_id=org["id"],
            event_id=row["id"],
            detail={"slug": row["slug"], "kind": data.kind, "dates": len(slots)},
        )
        aimed = await communes_aimed_at(conn, [row["id"]])
        return to_organiser(row, settings, await series_occurrences(conn, row), aimed.get(row["id"]))


async def _first_slug(conn: asyncpg.Connection, event_id: int) -> str:
    return await conn.fetchval("SELECT slug FROM events WHERE id = $1", event_id)


async def update_event(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, patch: EventPatch, settings: Settings
) -> OrganiserEventOut:
    """Change an event; a new time or place of a published event bumps its revision and tells registrants."""
    changes = {
        name: value
        for name, value in msgspec.structs.asdict(patch).items()
        if value is not msgspec.UNSET and name in q.PATCHABLE_COLUMNS
    }
    async with conn.transaction():
        row = await writable_event_for_update(conn, organiser, slug)
        if row["status"] == "cancelled":
            raise Conflict("A cancelled event cannot be changed.")
        aimed = {} if patch.aimed_at_communes is msgspec.UNSET else {"aimed_at_communes": patch.aimed_at_communes}
        await validate_event(conn, {**dict(row), **changes, **aimed}, partial=set(changes) | set(aimed))
        if "capacity" in changes and changes["capacity"] is not None and changes["capacity"] != row["capacity"]:
            confirmed = await conn.fetchval(q.CONFIRMED_COUNT, row["id"])
            if changes["capacity"] < confirmed and not patch.force:
                raise Conflict(
                    f"{confirmed} people are confirmed; a capacity of {changes['capacity']} would overbook. "
                    'Send "force": true to lower it anyway (no one is removed).'
                )
        moved = row["status"] == "published" and any(
            name in changes and changes[name] != row[name] for name in q.TIME_OR_PLACE_COLUMNS
        )
        if changes:
            columns = list(changes)
            assignments = ", ".join(f"{name} = ${i + 2}" for i, name in enumerate(columns))
            bump = ", revision = revision + 1" if moved else ""
            await conn.execute(
                f"UPDATE events SET {assignments}, updated_at = now(){bump} WHERE id = $1",
                row["id"],
                *(_db_value(changes[name]) for name in columns),
            )
        if moved:
            await _tell_registrants(conn, row["id"], "event_changed", {"revision": row["revision"] + 1}, previous=row)
        if patch.aimed_at_communes is not msgspec.UNSET:
            await _aim_at(conn, row["id"], list(patch.aimed_at_communes))
            # a commune's feed tells a change by its rows' updated_at
            await conn.execute("UPDATE events SET updated_at = now() WHERE id = $1", row["id"])
        if patch.domain is not msgspec.UNSET:
            await tag_event(conn, row["organisation_id"], row["id"], patch.domain)
        await _after_capacity_change(conn, row, changes, settings)
        touched = sorted([*changes, *(["domain"] if patch.domain is not msgspec.UNSET else [])])
        await audit.record(
            conn,
            organiser,
            "event_changed",
            organisation_id=row["organisation_id"],
            event_id=row["id"],
            detail={"fields": touched, "registrants_told": moved},
        )
        updated = await conn.fetchrow(q.EVENT_BY_SLUG, slug)
        return to_organiser(
            updated,
            settings,
            await series_occurrences(conn, updated),
            (await communes_aimed_at(conn, [updated["id"]])).get(updated["id"]),
        )


def _db_value(value: Any) -> Any:
    """Structs become plain dicts for jsonb; everything else goes as it is."""
    if isinstance(value, msgspec.Struct):
        return msgspec.to_builtins(value)
    return value


async def _after_capacity_change(
    conn: asyncpg.Connection, row: asyncpg.Record, changes: dict[str, Any], settings: Settings
) -> None:
    """A raised capacity seats the oldest waitlisted people, in the same transaction (registrations do it)."""
    if "capacity" not in changes:
        return
    for hook in hooks.AFTER_CAPACITY_CHANGE:
        await hook(conn, row["id"], settings)


async def publish_event(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, settings: Settings
) -> OrganiserEventOut:
    """Publish a draft; for a series, every draft occurrence with it."""
    async with conn.transaction():
        row = await writable_event_for_update(conn, organiser, slug)
        if row["status"] == "cancelled":
            raise Conflict("A cancelled event cannot be published again; create a new one.")
        await conn.execute(q.PUBLISH_EVENT, row["id"], row["series_id"])
        await audit.record(
            conn,
            organiser,
            "event_published",
            organisation_id=row["organisation_id"],
            event_id=row["id"],
            detail={"whole_series": row["series_id"] is not None},
        )
        if row["status"] == "draft":
            for hook in hooks.AFTER_PUBLISH:
                await hook(conn, row["id"], row["series_id"])
        updated = await conn.fetchrow(q.EVENT_BY_SLUG, slug)
        return to_organiser(
            updated,
            settings,
            await series_occurrences(conn, updated),
            (await communes_aimed_at(conn, [updated["id"]])).get(updated["id"]),
        )


async def cancel_event(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, settings: Settings, *, whole_series: bool = False
) -> OrganiserEventOut:
    """Cancel one event (or every upcoming occurrence of its series) and tell registrants."""
    async with conn.transaction():
        row = await writable_event_for_update(conn, organiser, slug)
        if whole_series and row["series_id"] is not None:
            ids = [r["id"] for r in await conn.fetch(q.CANCEL_SERIES_UPCOMING, row["series_id"])]
        else:
            ids = [r["id"] for r in await conn.fetch(q.CANCEL_EVENT, row["id"])]
        for event_id in ids:
            await _tell_registrants(conn, event_id, "event_cancelled", {})
        await audit.record(
            conn,
            organiser,
            "event_cancelled",
            organisation_id=row["organisation_id"],
            event_id=row["id"],
            detail={"events": len(ids)},
        )
        updated = await conn.fetchrow(q.EVENT_BY_SLUG, slug)
        return to_organiser(
            updated,
            settings,
            await series_occurrences(conn, updated),
            (await communes_aimed_at(conn, [updated["id"]])).get(updated["id"]),
        )


async def _tell_registrants(
    conn: asyncpg.Connection,
    event_id: int,
    kind: str,
    payload: dict[str, Any],
    *,
    previous: asyncpg.Record | None = None,
) -> None:
    """Queue `kind` for every live registration; `previous` is the event row before a change of time or place."""
    for reg in await conn.fetch(q.LIVE_REGISTRATIONS, event_id):
        extra: dict[str, Any] = {"status": reg["status"]}
        if previous is not None:
            extra["previous"] = _time_and_place(previous, reg["language"])
        await enqueue(
            conn,
            kind,
            event_id=event_id,
            registration_id=reg["id"],
            recipient=reg["email"],
            language=reg["language"],
            payload={**payload, **extra},
        )


def _time_and_place(row: asyncpg.Record, lang: str) -> dict[str, str]:
    """When and where an event was, for the mail that shows what changed; the place in the person's language."""
    return {
        "starts_at": row["starts_at"].isoformat(),
        "ends_at": row["ends_at"].isoformat(),
        "timezone": row["timezone"],
        "location": event_location(row, lang),
    }
