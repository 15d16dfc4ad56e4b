"""The event editor's rules: a thin layer over the events service (its validation, its audit rows)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server.backoffice import queries as bo_q
from server.backoffice import series
from server.backoffice.editor import form
from server.backoffice.editor import queries as q
from server.backoffice.service import visible_organisations
from server.errors import Conflict, DomainError, Forbidden, Invalid, NotFound
from server.events import queries as event_q
from server.events import service as events
from server.events.reading import readable_event
from server.events.recurrence import expand_recurrence
from server.events.schemas import EventOut, EventPatch
from server.events.views import to_public
from server.i18n import LANGUAGES, N_, gettext
from server.organisers.schemas import Organiser
from server.settings import Settings

# the events service's refusals (English, for scripts) as the form says them, by their beginning
SERVICE_PROBLEMS = (
    ("The end must come after the start", N_("The end must come after the start.")),
    ("An event lasts at most 31 days", N_("An event lasts at most 31 days.")),
    ("An event starts between", N_("An event starts between the years 2000 and 2199.")),
    ("Registration must close after it opens", N_("Registration must close after it opens.")),
    ("Registration cannot close after", N_("Registration cannot close after the event ends.")),
    (
        "Only online events have a join link",
        N_("Only an online event has a join link: tick “Takes place online” or leave the link empty."),
    ),
    ("Say which language the table practises", N_("Please say which language the table practises.")),
    (
        "An information session takes place in a commune",
        N_("Please choose the commune where the information session takes place."),
    ),
    ("Only conversation tables have a level", N_("Only a conversation table has a level.")),
    ("is not a commune of Luxembourg", N_("Please choose a commune of Luxembourg from the list.")),
    ("Each language once", N_("Please tick each language once.")),
    ("Each topic once", N_("Please name each topic once.")),
    ("A reminder comes between", N_("A reminder comes between one second and 60 days before the start.")),
    ("No organisation", N_("Please choose one of your organisations.")),
)
# where a refusal of the service is shown: the form's field for the service's field
FIELD_OF = {"recurrence.rrule": "until", "recurrence": "until"}
SERIES_PROBLEM = N_("This series gives no date, or too many: at most 200 dates within two years.")
OVERBOOK = N_(
    "%(confirmed)s people are confirmed: fewer places would overbook the event. Tick the box below to "
    "lower it anyway; nobody loses their place."
)
SLUG_TAKEN = N_("This address is taken; “%(free)s” is free.")


class NothingToEdit(NotFound):
    """A cancelled event: nothing can change any more."""


def refusal_errors(exc: DomainError, lang: str) -> dict[str, str]:
    """The events service's refusal as sentences next to the form's fields, in `lang`."""
    if isinstance(exc, Conflict) and exc.code == "slug_unavailable":
        free = re.search(r"'([a-z0-9-]+)' is", exc.detail)
        return {"slug": gettext(lang, SLUG_TAKEN) % {"free": free.group(1) if free else ""}}
    if isinstance(exc, Conflict) and (confirmed := re.match(r"(\d+) people are confirmed", exc.detail)):
        return {"capacity": gettext(lang, OVERBOOK) % {"confirmed": confirmed.group(1)}}
    errors: dict[str, str] = {}
    for error in exc.errors or []:
        name = FIELD_OF.get(error.field, re.split(r"[.\[]", error.field)[0])
        if error.field.startswith("recurrence"):
            message = SERIES_PROBLEM
        else:
            message = next((said for start, said in SERVICE_PROBLEMS if start in error.message), form.PROBLEMS["check"])
        errors.setdefault(name if name in form.LABELS else "form", gettext(lang, message))
    return errors or {"form": gettext(lang, form.PROBLEMS["check"])}


async def writable_organisations(conn: asyncpg.Connection, who: Organiser) -> list[asyncpg.Record]:
    """The organisations the person may create events in, by name."""
    return [org for org in await visible_organisations(conn, who) if who.can_write(org["id"])]


async def aimed_at(conn: asyncpg.Connection, event_id: int) -> list[str]:
    """The communes an event is aimed at."""
    return [r["commune"] for r in await conn.fetch(q.AIMED_AT, event_id)]


def typed_series_words(values: dict[str, Any], lang: str) -> str:
    """The series a new event's form describes, in words; "" while it describes none or a wrong one."""
    data, _ = form.read_new(values, lang)
    if data is None or data.recurrence is None:
        return ""
    try:
        dates = expand_recurrence(
            data.starts_at, data.ends_at, data.timezone, data.recurrence.rrule, data.recurrence.exdates
        )
    except Invalid:
        return ""
    return series.in_words(
        data.recurrence.rrule, data.recurrence.exdates, [start for start, _ in dates], data.timezone, lang
    )


async def suggest_slug(conn: asyncpg.Connection, base: str) -> str:
    """A free address like `base-2` for a copy."""
    base = re.sub(r"-\d{4}-\d{2}-\d{2}$", "", base)[:55].rstrip("-") or "event"
    number = 2
    while await conn.fetchval(event_q.SLUG_TAKEN, f"{base}-{number}"):
        number += 1
    return f"{base}-{number}"


async def copy_values(conn: asyncpg.Connection, who: Organiser, slug: str, whole_series: bool) -> dict[str, Any]:
    """The form of a new draft that starts as a copy of an event, or of its whole series (404 if unseen)."""
    row = await readable_event(conn, who, slug)
    if whole_series and row["series_id"] is not None:
        row = await readable_event(conn, who, await conn.fetchval(q.FIRST_OF_SERIES, row["series_id"]))
    values = form.values_of(row, await aimed_at(conn, row["id"]))
    values["slug"] = await suggest_slug(conn, row["series_slug"] if whole_series and row["series_id"] else row["slug"])
    if whole_series and row["series_id"] is not None:
        found = await conn.fetchrow(bo_q.SERIES_OF_EVENT, row["series_id"])
        values.update(series.controls(found["rrule"]))
        zone = ZoneInfo(row["timezone"])
        values["exceptions"] = "\n".join(d.astimezone(zone).date().isoformat() for d in found["exdates"])
    return values


async def create(
    conn: asyncpg.Connection, who: Organiser, values: dict[str, Any], lang: str, settings: Settings
) -> tuple[str | None, dict[str, str]]:
    """Create the draft the form describes through the events service (which audits it): its slug, or errors."""
    data, errors = form.read_new(values, lang)
    if data is None:
        return None, errors
    try:
        created = await events.create_event(conn, who, data, settings)
    except (Invalid, Conflict) as exc:
        return None, refusal_errors(exc, lang)
    return created.slug, {}


async def editable(conn: asyncpg.Connection, who: Organiser, slug: str) -> asyncpg.Record:
    """An event the person may change: 404 unseen or cancelled, Forbidden for a viewer."""
    row = await readable_event(conn, who, slug)
    if not who.can_write(row["organisation_id"]):
        raise Forbidden("Your role does not allow changes.")
    if row["status"] == "cancelled":
        raise NothingToEdit("A cancelled event cannot be changed.")
    return row


async def change(
    conn: asyncpg.Connection, who: Organiser, row: asyncpg.Record, values: dict[str, Any], lang: str, settings: Settings
) -> dict[str, str]:
    """Apply the form's changes to an editable event through the events service (which audits them, tells
    registrants of a new time or place, and checks again under its lock)."""
    patch, errors = form.read_change(values, lang, row, await aimed_at(conn, row["id"]))
    if patch is None:
        return errors
    try:
        if values.get("scope") == "following" and row["series_id"] is not None:
            await _change_following(conn, who, row, patch, settings)
        else:
            await events.update_event(conn, who, row["slug"], patch, settings)
    except (Invalid, Conflict) as exc:
        return refusal_errors(exc, lang)
    return {}


async def _change_following(
    conn: asyncpg.Connection, who: Organiser, row: asyncpg.Record, patch: EventPatch, settings: Settings
) -> None:
    """The same changes to this date and every later date of its series, all or none, each through the service.

    A new time moves every date by the same shift on the clock of the place (19:00 instead of 18:30 is 19:00
    on every date, summer time or not); the service audits each date and tells its registered people.
    """
    before = ZoneInfo(row["timezone"])
    after = ZoneInfo(patch.timezone) if isinstance(patch.timezone, str) else before

    def shifted(moment: datetime, old: datetime, new: datetime) -> datetime:
        wall = moment.astimezone(before).replace(tzinfo=None)
        shift = new.astimezone(after).replace(tzinfo=None) - old.astimezone(before).replace(tzinfo=None)
        return (wall + shift).replace(tzinfo=after)

    async with conn.transaction():
        for other in await conn.fetch(q.FOLLOWING_OF_SERIES, row["series_id"], row["starts_at"]):
            times: dict[str, datetime] = {}
            if isinstance(patch.starts_at, datetime):
                times["starts_at"] = shifted(other["starts_at"], row["starts_at"], patch.starts_at)
            if isinstance(patch.ends_at, datetime):
                times["ends_at"] = shifted(other["ends_at"], row["ends_at"], patch.ends_at)
            await events.update_event(conn, who, other["slug"], msgspec.structs.replace(patch, **times), settings)


async def preview(conn: asyncpg.Connection, who: Organiser, slug: str, lang: str, settings: Settings) -> EventOut:
    """The event as the public will read it in `lang`: a draft as it will be once published."""
    row = await readable_event(conn, who, slug)
    shown = {**dict(row), "status": "published" if row["status"] == "draft" else row["status"]}
    return to_public(shown, lang if lang in LANGUAGES else "fr", settings, datetime.now(UTC))
