"""Event rules: validation, series expansion, publishing, changes that registrants must hear of."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server import audit
from server.convention_domains import domain_id_for, tag_event
from server.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from server.events import hooks
from server.events import queries as q
from server.events.listing import decode_cursor, encode_cursor
from server.events.recurrence import EARLIEST_START, LATEST_START, expand_recurrence
from server.events.schemas import EventIn, EventPatch, OrganiserEventOut, OrganiserEventPage
from server.events.views import event_location, to_organiser
from server.i18n import LANGUAGES, localise
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.outbox import enqueue
from server.settings import Settings
from server.validation import IANA_TIMEZONES

TITLE_MAX, SUMMARY_MAX, DESCRIPTION_MAX = 300, 2000, 20_000
SLUG_MAX = 63
# words of the back-office's addresses beside an event's slug (/organiser/events/new): an event of that
# slug could not be opened, so no event gets one, made up from its title or asked for
RESERVED_SLUGS = frozenset({"new", "edit", "preview", "copy", "import", "export", "search"})

# ---------------------------------------------------------------------------- reading


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
    aimed = await _aimed_at(conn, [row["id"] for row in rows[:limit]])
    items = [to_organiser(row, settings, aimed_at=aimed.get(row["id"])) for row in rows[:limit]]
    next_cursor = encode_cursor(rows[limit - 1]["starts_at"], rows[limit - 1]["id"]) if len(rows) > limit else None
    return OrganiserEventPage(items=items, next_cursor=next_cursor)


async def get_for_organiser(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, settings: Settings
) -> OrganiserEventOut:
    """One event this organiser can read; 404 otherwise (no hint that it exists)."""
    row = await readable_event(conn, organiser, slug)
    occurrences = await _occurrences(conn, row)
    return to_organiser(row, settings, occurrences, (await _aimed_at(conn, [row["id"]])).get(row["id"]))


async def _aimed_at(conn: asyncpg.Connection, event_ids: list[int]) -> dict[int, list[str]]:
    """{event id: the communes it is aimed at} of these events."""
    if not event_ids:
        return {}
    return {row["event_id"]: list(row["communes"]) for row in await conn.fetch(q.AIMED_AT, event_ids)}


async def _aim_at(conn: asyncpg.Connection, event_id: int, communes: list[str]) -> None:
    """Aim an event at exactly these communes."""
    await conn.execute(q.CLEAR_AIMED_AT, event_id)
    if communes:
        await conn.execute(q.AIM_AT, event_id, list(dict.fromkeys(communes)))


async def readable_event(conn: asyncpg.Connection, organiser: Organiser, slug: str) -> asyncpg.Record:
    """The event row if the organiser may read it, else 404."""
    row = await conn.fetchrow(q.EVENT_BY_SLUG, slug)
    if row is None or not organiser.can_read(row["organisation_id"]):
        raise NotFound(f"No event '{slug}'.")
    return row


async def _writable_event_for_update(conn: asyncpg.Connection, organiser: Organiser, slug: str) -> asyncpg.Record:
    row = await conn.fetchrow(q.EVENT_BY_SLUG_FOR_UPDATE, slug)
    if row is None or not organiser.can_read(row["organisation_id"]):
        raise NotFound(f"No event '{slug}'.")
    if not organiser.can_write(row["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow changes.")
    return row


async def _occurrences(conn: asyncpg.Connection, row: asyncpg.Record) -> list[str] | None:
    if row["series_id"] is None:
        return None
    return [r["slug"] for r in await conn.fetch(q.SERIES_OCCURRENCES, row["series_id"])]


# ---------------------------------------------------------------------------- validation


def _check_texts(field: str, text: Any, limit: int, errors: list[FieldError], *, required: bool = False) -> None:
    plain = msgspec.to_builtins(text) if isinstance(text, msgspec.Struct) else (text or {})
    values = {lang: plain[lang] for lang in LANGUAGES if plain.get(lang)}
    if required and not any(v.strip() for v in values.values()):
        errors.append(FieldError(field, "Give the text in at least one of fr, de, lb, en, pt."))
    for lang, value in values.items():
        if len(value) > limit:
            errors.append(FieldError(f"{field}.{lang}", f"At most {limit} characters."))


async def _validate(conn: asyncpg.Connection, values: dict[str, Any], *, partial: set[str] | None = None) -> None:
    """Field rules msgspec cannot express; raises one 422 naming every bad field."""
    errors: list[FieldError] = []

    def touched(name: str) -> bool:
        return partial is None or name in partial

    if touched("title"):
        _check_texts("title", values["title"], TITLE_MAX, errors, required=True)
    if touched("summary"):
        _check_texts("summary", values["summary"], SUMMARY_MAX, errors)
    if touched("description"):
        _check_texts("description", values["description"], DESCRIPTION_MAX, errors)
    if touched("timezone") and values["timezone"] not in IANA_TIMEZONES:
        errors.append(FieldError("timezone", "Use an IANA time zone such as Europe/Luxembourg."))
    if values["ends_at"] <= values["starts_at"]:
        errors.append(FieldError("ends_at", "The end must come after the start."))
    elif values["ends_at"] - values["starts_at"] > timedelta(days=31):  # a rule of the table too (0009)
        errors.append(FieldError("ends_at", "An event lasts at most 31 days."))
    if not EARLIEST_START <= values["starts_at"] < LATEST_START:
        errors.append(FieldError("starts_at", "An event starts between the years 2000 and 2199."))
    opens, closes = values.get("registration_opens_at"), values.get("registration_closes_at")
    if opens and closes and closes <= opens:
        errors.append(FieldError("registration_closes_at", "Registration must close after it opens."))
    if closes and closes > values["ends_at"]:
        errors.append(FieldError("registration_closes_at", "Registration cannot close after the event ends."))
    for index, offset in enumerate(values.get("reminders") or []):
        if offset <= timedelta(0) or offset > timedelta(days=60):
            errors.append(
                FieldError(f"reminders[{index}]", "A reminder comes between 1 second and 60 days before the start.")
            )
    if touched("topics") and len(set(values.get("topics") or [])) != len(values.get("topics") or []):
        errors.append(FieldError("topics", "Each topic once."))
    if touched("languages") and len(set(values["languages"])) != len(values["languages"]):
        errors.append(FieldError("languages", "Each language once."))
    commune = values.get("commune")
    if touched("commune") and commune is not None and not await conn.fetchval(q.COMMUNE_EXISTS, commune):
        errors.append(FieldError("commune", f"'{commune[:100]}' is not a commune of Luxembourg."))
    aimed = values.get("aimed_at_communes") or []
    if touched("aimed_at_communes") and aimed and (unknown := await conn.fetch(q.UNKNOWN_COMMUNES, list(aimed))):
        errors.append(FieldError("aimed_at_communes", f"'{unknown[0]['name'][:100]}' is not a commune of Luxembourg."))
    kind = values["kind"]
    if kind == "webconference" and values.get("commune") is None and values.get("venue"):
        pass  # a web conference may name a room for a hybrid session
    if kind != "webconference" and values.get("join_url") and not values.get("online"):
        errors.append(FieldError("join_url", "Only online events have a join link."))
    if kind == "conversation_table" and touched("practised_language") and values.get("practised_language") is None:
        errors.append(FieldError("practised_language", "Say which language the table practises."))
    if kind == "info_session" and touched("commune") and values.get("commune") is None:
        errors.append(FieldError("commune", "An information session takes place in a commune."))
    if kind != "conversation_table" and values.get("level") is not None and touched("level"):
        errors.append(FieldError("level", "Only conversation tables have a level."))
    if errors:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors)[:1000], errors=errors)


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens, at most 80 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "event"


async def _slug_taken(conn: asyncpg.Connection, slug: str) -> bool:
    return slug in RESERVED_SLUGS or await conn.fetchval(q.SLUG_TAKEN, slug)


async def _free_slug(conn: asyncpg.Connection, base: str) -> str:
    candidate, n = base, 1
    while await _slug_taken(conn, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate


# ---------------------------------------------------------------------------- writing


async def create_event(
    conn: asyncpg.Connection, organiser: Organiser, data: EventIn, settings: Settings
) -> OrganiserEventOut:
    """Create a draft event, or a draft series with one event per occurrence."""
    values = msgspec.structs.asdict(data)
    await _validate(conn, values)
    async with conn.transaction():
        org = await conn.fetchrow(org_q.ORGANISATION_BY_SLUG, data.organisation)
        if org is None or not organiser.can_read(org["id"]):
            raise Invalid.field("organisation", f"No organisation '{data.organisation}' you belong to.")
        if not organiser.can_write(org["id"]):
            raise Forbidden("Your role in this organisation does not allow creating events.")
        domain_id = await domain_id_for(conn, org["id"], data.domain)
        title, _ = localise(msgspec.to_builtins(data.title), "fr", data.languages)
        if data.slug and await _slug_taken(conn, data.slug):
            # the same answer whoever holds it, a draft of another organisation included
            free = await _free_slug(conn, data.slug[: SLUG_MAX - 4])
            raise Conflict(
                f"This slug is not available; '{free}' is.",
                code="slug_unavailable",
                errors=[FieldError("slug", f"Not available; '{free}' is.")],
            )
        base_slug = data.slug or await _free_slug(conn, slugify(title))
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
                slug = await _free_slug(conn, f"{base_slug}-{local_day}")
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
        aimed = await _aimed_at(conn, [row["id"]])
        return to_organiser(row, settings, await _occurrences(conn, row), aimed.get(row["id"]))


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
        row = await _writable_event_for_update(conn, organiser, slug)
        if row["status"] == "cancelled":
            raise Conflict("A cancelled event cannot be changed.")
        aimed = {} if patch.aimed_at_communes is msgspec.UNSET else {"aimed_at_communes": patch.aimed_at_communes}
        await _validate(conn, {**dict(row), **changes, **aimed}, partial=set(changes) | set(aimed))
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
            await _occurrences(conn, updated),
            (await _aimed_at(conn, [updated["id"]])).get(updated["id"]),
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
        row = await _writable_event_for_update(conn, organiser, slug)
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
            await _occurrences(conn, updated),
            (await _aimed_at(conn, [updated["id"]])).get(updated["id"]),
        )


async def cancel_event(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, settings: Settings, *, whole_series: bool = False
) -> OrganiserEventOut:
    """Cancel one event (or every upcoming occurrence of its series) and tell registrants."""
    async with conn.transaction():
        row = await _writable_event_for_update(conn, organiser, slug)
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
            await _occurrences(conn, updated),
            (await _aimed_at(conn, [updated["id"]])).get(updated["id"]),
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
