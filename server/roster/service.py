"""An event's people for its staff: the table and what they do on someone's behalf, the door, the sheet.

Every change goes through the registrations and messages services the JSON API uses, so a person
cancelled, confirmed or promoted here gets the same mails as when they act themselves; this module
adds the audit row in the same transaction.
"""

from __future__ import annotations

from typing import Any

import asyncpg

from server import audit
from server.backoffice.service import SESSION_TOKEN_LENGTH
from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.events.reading import readable_event
from server.notifications import service as messages
from server.notifications.placeholders import unknown_placeholders
from server.notifications.schemas import OrganiserMessageIn
from server.organisers.schemas import Organiser
from server.organisers.service import hash_token
from server.outbox import enqueue
from server.registrations import organiser as registrations
from server.registrations import queries as registration_queries
from server.registrations.schemas import AttendanceIn, AttendanceMark, RegistrationByHandIn, RegistrationPatch
from server.registrations.seats import free_seats, lock_events, seat_transaction, settle, tell_registrant
from server.roster import queries as q
from server.settings import Settings

PAGE_SIZE = 50
# the door page lists this many matches at most: a name typed narrows it down
DOOR_MOST = 40
STATUSES = registrations.STATUSES
ATTENDANCES = ("present", "absent", "excused")
ATTENDANCE_FILTERS = (*ATTENDANCES, "unmarked")
# who a message goes to, as the messages service names them ("attended" is served here)
AUDIENCES: dict[str, list[str]] = {
    "all": ["confirmed", "waitlisted"],
    "confirmed": ["confirmed"],
    "waitlisted": ["waitlisted"],
    "attended": [],
}


class RegistrationNotHere(NotFound):
    """A registration that is not one of this event's (or does not exist)."""

    code = "registration_not_found"


class NoMailYet(Conflict):
    """Resend asked for a person who was never written to."""

    code = "no_mail"


def like_pattern(search: str | None) -> str | None:
    """An ILIKE pattern finding `search` anywhere (its wildcards taken literally), or None for no search."""
    words = " ".join((search or "").split())
    if not words:
        return None
    return "%" + words.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def event_for(conn: asyncpg.Connection, who: Organiser, slug: str, *, write: bool = False) -> asyncpg.Record:
    """The event if the person may read it (404 otherwise, also for another organisation's) and write it (403)."""
    event = await readable_event(conn, who, slug)
    if write and not who.can_write(event["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow changes.")
    return event


async def _registration(conn: asyncpg.Connection, event: asyncpg.Record, registration_id: int) -> asyncpg.Record:
    row = await conn.fetchrow(q.REGISTRATION_AT_EVENT, registration_id, event["id"])
    if row is None:
        raise RegistrationNotHere(f"No registration {registration_id} at this event.")
    return row


async def _audit(conn: asyncpg.Connection, who: Organiser, event: asyncpg.Record, action: str, **detail: Any) -> None:
    await audit.record(conn, who, action, organisation_id=event["organisation_id"], event_id=event["id"], detail=detail)


# ---------------------------------------------------------------------------- the table


async def table(
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    *,
    search: str | None,
    status: str | None,
    attendance: str | None,
    page: int,
) -> dict[str, Any]:
    """One page of the event's registrations under the filters, the event's counts, and whether the person may write."""
    event = await event_for(conn, who, slug)
    pattern = like_pattern(search)
    total = await conn.fetchval(q.TABLE_COUNT, event["id"], pattern, status, attendance)
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    rows = await conn.fetch(q.TABLE_PAGE, event["id"], pattern, status, attendance, PAGE_SIZE, (page - 1) * PAGE_SIZE)
    return {
        "event": event,
        "counts": await conn.fetchrow(q.EVENT_COUNTS, event["id"]),
        "rows": await registrations.with_positions(conn, event["id"], rows),
        "total": total,
        "page": page,
        "pages": pages,
        "may_write": who.can_write(event["organisation_id"]),
    }


async def add_by_hand(
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    person: RegistrationByHandIn,
    settings: Settings,
    *,
    via: str = "desk",
) -> int:
    """Register a person on their behalf (phone, walk-in); the same mails as a public registration. Returns its id."""
    event = await event_for(conn, who, slug, write=True)
    async with conn.transaction():
        added = await registrations.add_registration(conn, who, slug, person, settings)
        await _audit(conn, who, event, "registration_added", registration=added.id, status=added.status, via=via)
        if person.attendance is not None:
            await _audit(conn, who, event, "attendance", registration=added.id, attendance=person.attendance, via=via)
    return added.id


async def cancellable(conn: asyncpg.Connection, who: Organiser, slug: str, registration_id: int) -> dict[str, Any]:
    """The event and a live registration of it, for the question before cancelling; 404 if it is not live."""
    event = await event_for(conn, who, slug, write=True)
    row = await _registration(conn, event, registration_id)
    if row["status"] not in ("pending", "confirmed", "waitlisted"):
        raise RegistrationNotHere(f"Registration {registration_id} is {row['status']}.")
    return {"event": event, "registration": row}


async def cancel(conn: asyncpg.Connection, who: Organiser, slug: str, registration_id: int, settings: Settings) -> None:
    """Cancel on the person's behalf: they get the cancellation mail, the seat goes to the waiting list."""
    event = await event_for(conn, who, slug, write=True)
    row = await _registration(conn, event, registration_id)
    async with conn.transaction():
        await registrations.remove_registration(conn, who, row["id"], settings, notify=True)
        await _audit(conn, who, event, "registration_cancelled", registration=row["id"], previous=row["status"])


async def confirm(
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    registration_id: int,
    settings: Settings,
) -> None:
    """Confirm a pending place on the person's behalf: they get the confirmation mail."""
    event = await event_for(conn, who, slug, write=True)
    row = await _registration(conn, event, registration_id)
    async with conn.transaction():
        await registrations.update_registration(conn, who, row["id"], RegistrationPatch(status="confirmed"), settings)
        await _audit(conn, who, event, "registration_confirmed", registration=row["id"])


async def promote(
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    registration_id: int,
    settings: Settings,
) -> None:
    """Give a waitlisted person a place now, on the organiser's word, with the mail of a promotion by the list.

    Free places go to the oldest waiting first (settle), so a person still waiting after it finds the event
    full: the organiser's word adds the one place they take, so that the event is never overbooked.
    """
    event = await event_for(conn, who, slug, write=True)
    row = await _registration(conn, event, registration_id)
    async with seat_transaction(conn):
        [locked] = await lock_events(conn, [event["id"]], settings)
        if locked["status"] == "cancelled":
            raise Conflict("This event is cancelled.", code="event_cancelled")
        await settle(conn, locked, settings)
        if await conn.fetchval(registration_queries.REGISTRATION_STATUS, row["id"]) != "waitlisted":
            raise Conflict("Only a person on the waiting list can be given a place.", code="not_waitlisted")
        raised = None
        free = free_seats(locked)
        if free is not None and free <= 0:
            raised = await conn.fetchval(q.RAISE_CAPACITY, event["id"], locked["seats_taken"] + 1)
        promoted = await conn.fetchrow(q.PROMOTE_ONE, row["id"], event["id"])
        await tell_registrant(
            conn,
            "registration_promoted",
            event["id"],
            promoted["id"],
            promoted["email"],
            promoted["language"],
            settings,
            {"status": promoted["status"]},
        )
        await _audit(
            conn,
            who,
            event,
            "registration_promoted",
            registration=row["id"],
            **({"capacity": raised} if raised else {}),
        )


async def resend_last_mail(
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    registration_id: int,
    settings: Settings,
) -> None:
    """Send the latest mail written to the person again (the messages service's resend)."""
    event = await event_for(conn, who, slug, write=True)
    row = await _registration(conn, event, registration_id)
    mail_id = await conn.fetchval(q.LAST_MAIL, row["id"])
    if mail_id is None:
        raise NoMailYet("Nobody wrote to this person yet.")
    async with conn.transaction():
        await messages.resend(conn, who, mail_id, settings)
        await _audit(conn, who, event, "mail_resent", registration=row["id"], message=mail_id)


async def set_attendance(
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    registration_id: int,
    attendance: str | None,
) -> None:
    """Mark a person present, absent or excused (None: not marked); corrects a join's pre-filled "present"."""
    event = await event_for(conn, who, slug, write=True)
    row = await _registration(conn, event, registration_id)
    async with conn.transaction():
        marks = AttendanceIn(marks=[AttendanceMark(row["id"], attendance)])
        await registrations.mark_attendance(conn, who, slug, marks)
        await _audit(
            conn,
            who,
            event,
            "attendance",
            registration=row["id"],
            attendance=attendance,
            previous=row["attendance"],
            via="table",
        )


async def write_to(
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    audience: str,
    subject: str,
    body: str,
) -> int:
    """Queue the organiser's message for an audience of AUDIENCES, each person in their language; how many."""
    if audience != "attended":
        data = OrganiserMessageIn(subject=subject, body=body, to=AUDIENCES[audience])  # type: ignore[arg-type]
        return (await messages.write_to_registrants(conn, who, slug, data)).queued
    if unknown := sorted(set(unknown_placeholders(subject)) | set(unknown_placeholders(body))):
        raise Invalid(f"Unknown placeholders: {', '.join('{' + name + '}' for name in unknown)}.")
    async with conn.transaction():
        event = await event_for(conn, who, slug, write=True)
        people = await conn.fetch(q.ATTENDED_WITH_EMAIL, event["id"])
        for person in people:
            await enqueue(
                conn,
                "organiser_message",
                event_id=event["id"],
                registration_id=person["id"],
                recipient=person["email"],
                language=person["language"],
                payload={"subject": subject, "body": body},
            )
        await _audit(conn, who, event, "message_sent", to=["attended"], people=len(people))
    return len(people)


# ---------------------------------------------------------------------------- the door


async def door(conn: asyncpg.Connection, who: Organiser, slug: str, search: str | None) -> dict[str, Any]:
    """The door page's data: the people with a seat matching `search`, by name, and the running counts."""
    event = await event_for(conn, who, slug)
    people = await conn.fetch(q.DOOR_PEOPLE, event["id"], like_pattern(search), DOOR_MOST + 1)
    return {
        "event": event,
        "counts": await conn.fetchrow(q.EVENT_COUNTS, event["id"]),
        "people": people[:DOOR_MOST],
        "more": len(people) > DOOR_MOST,
        "may_write": who.can_write(event["organisation_id"]),
    }


async def mark_present(conn: asyncpg.Connection, who: Organiser, slug: str, registration_id: int) -> bool:
    """One tap at the door: the person is present, with its audit row, in one statement; False if they were already.

    The same refusals as event_for: 404 for an event the person may not see, 403 for one they may only read.
    """
    writable = None if who.is_admin else [org for org in who.roles if who.can_write(org)]
    row = await conn.fetchrow(q.MARK_PRESENT_AT_DOOR, slug, registration_id, writable, who.id or None, who.email)
    if row is None or not who.can_read(row["organisation_id"]):
        raise NotFound(f"No event '{slug[:140]}'.")
    if not who.can_write(row["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow changes.")
    if row["registration_id"] is None:
        raise RegistrationNotHere(f"No registration {registration_id} with a place at this event.")
    return row["changed"]


async def mark_present_by_session(
    conn: asyncpg.Connection, session_token: str, slug: str, registration_id: int, settings: Settings
) -> bool | None:
    """The common tap in one statement with the session's check: whether it changed; None if anything is amiss.

    None says nothing to the person (no live session, no right to write, no such registration): the caller
    takes the long way, the session's gate and mark_present, whose refusals say why.
    """
    if len(session_token) != SESSION_TOKEN_LENGTH:
        return None
    return await conn.fetchval(
        q.MARK_PRESENT_BY_SESSION, hash_token(session_token), slug, registration_id, settings.session_ttl
    )


async def undo_present(conn: asyncpg.Connection, who: Organiser, slug: str, registration_id: int) -> None:
    """Take back a tap at the door: the person is no longer marked present."""
    event = await event_for(conn, who, slug, write=True)
    row = await _registration(conn, event, registration_id)
    async with conn.transaction():
        if await conn.fetchval(q.UNMARK_PRESENT, row["id"], event["id"]) is not None:
            await _audit(
                conn, who, event, "attendance", registration=row["id"], attendance=None, previous="present", via="door"
            )


async def walk_in(conn: asyncpg.Connection, who: Organiser, slug: str, name: str, lang: str, settings: Settings) -> int:
    """Someone who comes without registering: a name only, a seat, marked present at once."""
    person = RegistrationByHandIn(
        name=name,
        language=lang,
        attendance="present",  # type: ignore[arg-type]
        notify=False,
    )
    return await add_by_hand(conn, who, slug, person, settings, via="door")


# ---------------------------------------------------------------------------- the attendance sheet


async def sheet(conn: asyncpg.Connection, who: Organiser, slug: str) -> dict[str, Any]:
    """The people expected at the event, by name, for a printed sheet they sign."""
    event = await event_for(conn, who, slug)
    return {"event": event, "people": await conn.fetch(q.SHEET_PEOPLE, event["id"])}
