"""Organiser rules on registrations: the list, additions, changes and removals by hand, attendance.
Viewers read; organisers and admins write; other organisations' events are 404."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from server.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from server.events.reading import readable_event
from server.organisers.schemas import Organiser
from server.registrations import queries as q
from server.registrations.manage import cancel_registrations
from server.registrations.refusals import EventCancelled, EventFull
from server.registrations.schemas import (
    AttendanceIn,
    AttendanceOut,
    OrganiserRegistrationOut,
    RegistrationByHandIn,
    RegistrationPage,
    RegistrationPatch,
)
from server.registrations.seats import (
    Person,
    lock_events,
    seat_for_newcomer,
    seat_transaction,
    settle,
    take_seat,
    tell_registrant,
)
from server.registrations.service import SLUG_RE, canonical_commune
from server.settings import Settings

STATUSES = ("pending", "confirmed", "waitlisted", "cancelled", "expired")
# attendance belongs to people who had a seat (an excused person may have cancelled)
ATTENDANCE_STATUSES = ("pending", "confirmed", "cancelled")
MAX_ID = 2**63 - 1


class RegistrationNotFound(NotFound):
    code = "registration_not_found"


class AlreadyRegistered(Conflict):
    code = "already_registered"


async def event_for(conn: asyncpg.Connection, organiser: Organiser, slug: str, *, write: bool) -> asyncpg.Record:
    """The event if this organiser may read it (and write, when asked), else 404 or 403."""
    if not SLUG_RE.match(slug):
        raise NotFound(f"No event '{slug[:140]}'.")
    event = await readable_event(conn, organiser, slug)
    if write and not organiser.can_write(event["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow changes.")
    return event


async def _registration_for(
    conn: asyncpg.Connection, organiser: Organiser, registration_id: int, *, write: bool
) -> asyncpg.Record:
    """The registration if this organiser may read it (and write, when asked), else 404 or 403."""
    row = await conn.fetchrow(q.REGISTRATION_FOR_ORGANISER, registration_id)
    if row is None or not organiser.can_read(row["organisation_id"]):
        raise RegistrationNotFound(f"No registration {registration_id}.")
    if write and not organiser.can_write(row["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow changes.")
    return row


def to_organiser_out(row: asyncpg.Record | dict[str, Any], event_slug: str) -> OrganiserRegistrationOut:
    """A registration row as organisers see it."""
    return OrganiserRegistrationOut(
        id=row["id"],
        event=event_slug,
        name=row["name"],
        email=row["email"],
        language=row["language"],
        status=row["status"],
        attendance=row["attendance"],
        waitlist_position=row["waitlist_position"],
        commune=row["commune"],
        interpretation=row["interpretation"],
        accessibility=row["accessibility"],
        whole_series=row["whole_series"],
        source=row["source"],
        email_confirmed=row["email_confirmed_at"] is not None,
        hold_expires_at=row["hold_expires_at"],
        registered_at=row["created_at"],
        confirmed_at=row["confirmed_at"],
        cancelled_at=row["cancelled_at"],
        anonymised=row["anonymised_at"] is not None,
        joined_at=row["joined_at"],
    )


async def with_positions(conn: asyncpg.Connection, event_id: int, rows: list[asyncpg.Record]) -> list[dict[str, Any]]:
    """The rows with each waitlisted one's place on the waiting list (`waitlist_position`)."""
    waiting = [r for r in rows if r["status"] == "waitlisted"]
    positions = (
        dict(
            await conn.fetch(
                q.WAITLIST_POSITIONS, event_id, [r["waitlisted_at"] for r in waiting], [r["id"] for r in waiting]
            )
        )
        if waiting
        else {}
    )
    return [{**dict(r), "waitlist_position": positions.get(r["id"])} for r in rows]


def _decode_cursor(cursor: str | None) -> int | None:
    if not cursor:
        return None
    if not cursor.isascii() or not cursor.isdigit() or int(cursor) > MAX_ID:
        raise Invalid.field("cursor", "This cursor is not one this service gave out.")
    return int(cursor)


async def list_registrations(
    conn: asyncpg.Connection,
    organiser: Organiser,
    slug: str,
    *,
    status: str | None,
    attendance: str | None,
    limit: int,
    cursor: str | None,
) -> RegistrationPage:
    """A page of an event's registrations in registration order."""
    event = await event_for(conn, organiser, slug, write=False)
    rows = await conn.fetch(
        q.ORGANISER_REGISTRATION_PAGE, event["id"], status, attendance, _decode_cursor(cursor), limit + 1
    )
    next_cursor = str(rows[limit - 1]["id"]) if len(rows) > limit else None
    page = await with_positions(conn, event["id"], rows[:limit])
    return RegistrationPage(items=[to_organiser_out(r, event["slug"]) for r in page], next_cursor=next_cursor)


async def get_registration(
    conn: asyncpg.Connection, organiser: Organiser, registration_id: int
) -> OrganiserRegistrationOut:
    """One registration of the organiser's events."""
    row = await _registration_for(conn, organiser, registration_id, write=False)
    return to_organiser_out(row, row["event_slug"])


async def add_registration(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, data: RegistrationByHandIn, settings: Settings
) -> OrganiserRegistrationOut:
    """Add a person by hand: confirmed when a seat is free (the organiser vouches), else refused or waitlisted."""
    event_row = await event_for(conn, organiser, slug, write=True)
    person = Person(
        name=data.name.strip(),
        email=data.email,
        language=data.language,
        commune=await canonical_commune(conn, data.commune),
        interpretation=data.interpretation,
        accessibility=data.accessibility,
        attendance=data.attendance,
    )
    async with seat_transaction(conn):
        [event] = await lock_events(conn, [event_row["id"]], settings)
        if event["status"] == "cancelled":
            raise EventCancelled("This event is cancelled.")
        await settle(conn, event, settings)
        if data.attendance is not None and seat_for_newcomer(event) == "waitlisted":
            raise Invalid.field("attendance", "Only a person with a seat has an attendance; the event is full.")
        seat = await take_seat(
            conn, event["slug"], person, settings, source="organiser", mail=data.notify, may_wait=data.waitlist_if_full
        )
        if seat["registration_id"] is None and seat["seat"] == "waitlisted" and not data.waitlist_if_full:
            raise EventFull('No place is free: raise the capacity first, or send "waitlist_if_full": true.')
        if seat["registration_id"] is None:
            raise AlreadyRegistered(f"{person.email} is already registered for this event.")
    return await get_registration(conn, organiser, seat["registration_id"])


async def remove_registration(
    conn: asyncpg.Connection, organiser: Organiser, registration_id: int, settings: Settings, *, notify: bool = True
) -> OrganiserRegistrationOut:
    """Cancel a registration by hand; its seat goes to the waiting list. Removing twice changes nothing."""
    row = await _registration_for(conn, organiser, registration_id, write=True)
    async with seat_transaction(conn):
        await cancel_registrations(conn, [row["id"]], [row["event_id"]], settings, by="organiser" if notify else None)
    return await get_registration(conn, organiser, registration_id)


async def update_registration(
    conn: asyncpg.Connection, organiser: Organiser, registration_id: int, patch: RegistrationPatch, settings: Settings
) -> OrganiserRegistrationOut:
    """Mark attendance, confirm a pending seat, or correct a person's details."""
    row = await _registration_for(conn, organiser, registration_id, write=True)
    changes: dict[str, Any] = {
        name: value
        for name, value in msgspec.structs.asdict(patch).items()
        if value is not msgspec.UNSET and name in q.PATCHABLE_COLUMNS
    }
    if set(changes) - {"attendance"} and row["anonymised_at"] is not None:
        raise Conflict(
            "This registration is anonymised; only its attendance can change.", code="registration_anonymised"
        )
    if changes.get("attendance") is not None and row["status"] not in ATTENDANCE_STATUSES:
        raise Conflict(f"A {row['status']} registration has no attendance.", code="attendance_not_applicable")
    if "commune" in changes:
        changes["commune"] = await canonical_commune(conn, changes["commune"])
    if isinstance(changes.get("name"), str):
        changes["name"] = changes["name"].strip()
    async with seat_transaction(conn):
        if patch.status == "confirmed":
            await _confirm_by_organiser(conn, row, settings)
        if changes:
            columns = list(changes)
            assignments = ", ".join(
                f"{name} = lower(${i + 2})" if name == "email" else f"{name} = ${i + 2}"
                for i, name in enumerate(columns)
            )
            try:
                async with conn.transaction():
                    await conn.execute(
                        f"UPDATE registrations SET {assignments}, updated_at = now() WHERE id = $1",
                        row["id"],
                        *(changes[name] for name in columns),
                    )
            except asyncpg.UniqueViolationError:
                raise AlreadyRegistered(f"{changes.get('email')} is already registered for this event.") from None
    return await get_registration(conn, organiser, registration_id)


async def _confirm_by_organiser(conn: asyncpg.Connection, row: asyncpg.Record, settings: Settings) -> None:
    [event] = await lock_events(conn, [row["event_id"]], settings)
    await settle(conn, event, settings)
    confirmed = await conn.fetch(q.CONFIRM_PENDING, [row["id"]], True)
    if confirmed:
        await tell_registrant(
            conn,
            "registration_confirmed",
            row["event_id"],
            row["id"],
            confirmed[0]["email"],
            confirmed[0]["language"],
            settings,
        )
        return
    current = await conn.fetchval(q.REGISTRATION_STATUS, row["id"])
    if current != "confirmed":
        raise Conflict(f"Only a pending registration can be confirmed; this one is {current}.", code="not_pending")


async def mark_attendance(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, data: AttendanceIn
) -> AttendanceOut:
    """Set attendance for many registrations of one event at once; all or nothing."""
    event = await event_for(conn, organiser, slug, write=True)
    ids = [mark.id for mark in data.marks]
    if len(set(ids)) != len(ids):
        raise Invalid.field("marks", "Name each registration once.")
    async with conn.transaction():
        found = {r["id"]: r["status"] for r in await conn.fetch(q.REGISTRATION_STATUSES, event["id"], ids)}
        errors: list[FieldError] = []
        for index, mark in enumerate(data.marks):
            if mark.id not in found:
                errors.append(FieldError(f"marks[{index}].id", f"No registration {mark.id} at this event."))
            elif mark.attendance is not None and found[mark.id] not in ATTENDANCE_STATUSES:
                errors.append(
                    FieldError(f"marks[{index}].attendance", f"A {found[mark.id]} registration has no attendance.")
                )
        if errors:
            raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors)[:1000], errors=errors[:100])
        await conn.execute(q.SET_ATTENDANCE, event["id"], ids, [mark.attendance for mark in data.marks])
    return AttendanceOut(updated=len(ids))
