"""The rules of the interpretation service; owns the transactions."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import msgspec
from msgspec import UNSET

from server.convention_domains import tag_mission
from server.errors import Conflict, FieldError, Invalid, NotFound
from server.interpretation import queries as q
from server.interpretation import trail
from server.interpretation.deadlines import answer_by
from server.interpretation.links import new_link
from server.interpretation.notices import remind, tell
from server.interpretation.pool import organisation_for
from server.interpretation.schemas import (
    Candidate,
    CandidatePage,
    MissionIn,
    MissionOut,
    MissionPatch,
    OfferOut,
    OffersIn,
    Place,
    RequestIn,
    StaffRequester,
)
from server.organisers.schemas import Organiser
from server.settings import Settings

# the agency runs the service: missions go to its pool unless staff name another organisation
AGENCY = "asti"
HELD = ("assigned", "done")
FITTING = {"health": ("C1", "C2", "native"), "legal": ("C1", "C2", "native")}
DEFAULT_FITTING = ("B2", "C1", "C2", "native")
LONGEST = timedelta(hours=12)
# staff offer a mission to a few interpreters at a time, and on a phone twenty rows are a long list already;
# the ones after come page by page
CANDIDATES_PAGE = 20
# a page's last rank, `<missions>.<score>.<id>`: the digits' counts keep each within its column's type
CANDIDATES_CURSOR = r"\A[0-9]{1,9}\.[0-9]{1,9}\.[0-9]{1,18}\Z"


class Taken(Conflict):
    """Someone else holds the mission, or the interpreter holds another one then."""


# ---------------------------------------------------------------------------- missions


def _where(place: Place | None, remote: str | None, errors: list[FieldError]) -> tuple[str, str | None, str]:
    """(mode, commune, address) of a mission: a place or remote, not both, not neither."""
    if (place is None) == (remote is None):
        errors.append(FieldError("place", "Give either a place (commune and address) or `remote` (phone or video)."))
        return "phone", None, ""
    if place is not None:
        return "on_site", place.commune, place.address
    return remote, None, ""


def _check_times(starts_at: datetime, ends_at: datetime, errors: list[FieldError], *, now: datetime) -> None:
    if starts_at <= now:
        errors.append(FieldError("starts_at", "The mission must start in the future."))
    if ends_at <= starts_at:
        errors.append(FieldError("ends_at", "The end must come after the start."))
    elif ends_at - starts_at > LONGEST:
        errors.append(FieldError("ends_at", "A mission lasts at most 12 hours."))


def _refuse(errors: list[FieldError]) -> None:
    if errors:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)


async def _check_commune(conn: asyncpg.Connection, commune: str | None, errors: list[FieldError]) -> None:
    if commune is not None and not await conn.fetch(q.KNOWN_COMMUNES, [commune]):
        errors.append(FieldError("place.commune", "Not a commune of Luxembourg."))


def mission_out(row: asyncpg.Record) -> MissionOut:
    """A mission row as staff see it."""
    return MissionOut(
        id=row["id"],
        organisation=row["organisation"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        mode=row["mode"],
        place=Place(row["commune"], row["address"]) if row["mode"] == "on_site" else None,
        from_language=row["from_language"],
        to_language=row["to_language"],
        field=row["field"],
        requester=StaffRequester(
            row["requester_organisation"],
            row["requester_contact"],
            row["requester_type"],
            row["requester_email"] or None,
            row["requester_phone"],
            row["requester_language"],
        ),
        beneficiary_initials=row["beneficiary_initials"],
        urgency=row["urgency"],
        notes=row["notes"],
        status=row["status"],
        interpreter=row["interpreter_id"],
        sequence=row["sequence"],
        minutes_spent=row["minutes_spent"],
        domain=row.get("domain"),
        unanswered=row["unanswered_at"] is not None,
    )


async def insert_mission(
    conn: asyncpg.Connection,
    organisation_id: int,
    data: RequestIn,
    settings: Settings,
    *,
    event_id: int | None = None,
) -> tuple[int, str]:
    """Store a checked mission (in the caller's transaction); returns (id, status token)."""
    errors: list[FieldError] = []
    _check_times(data.starts_at, data.ends_at, errors, now=datetime.now(UTC))
    if data.from_language == data.to_language:
        errors.append(FieldError("to_language", "Interpreting goes between two different languages."))
    mode, commune, address = _where(data.place, data.remote, errors)
    if not data.requester.email and not data.requester.phone:
        # a request staff took down without an email: the interpreter must still be able to call the service
        errors.append(FieldError("requester.phone", "A phone number or an email address of the requester is needed."))
    await _check_commune(conn, commune, errors)
    _refuse(errors)
    nonce, token, token_hash = new_link(settings.secret_key, b"interpretation-status")
    r = data.requester
    mission_id = await conn.fetchval(
        q.INSERT_MISSION,
        organisation_id,
        data.starts_at,
        data.ends_at,
        mode,
        commune,
        address,
        data.from_language,
        data.to_language,
        data.field,
        r.organisation,
        r.contact,
        r.email or "",  # none: the requester gets no mail (notices.tell)
        r.phone,
        r.type,
        r.language,
        data.beneficiary_initials,
        data.urgency,
        data.notes,
        nonce,
        token_hash,
        event_id,
    )
    await tell(conn, "interpretation_request_received", mission_id)
    return mission_id, token


async def create_mission(
    conn: asyncpg.Connection,
    organiser: Organiser,
    data: MissionIn,
    settings: Settings,
) -> MissionOut:
    """A mission entered by staff, for their organisation (the agency by default)."""
    async with conn.transaction():
        organisation_id = await organisation_for(conn, organiser, data.organisation or AGENCY, write=True)
        mission_id, _ = await insert_mission(conn, organisation_id, data, settings)
        await trail.record(conn, organiser, "mission_created", mission_id, organisation_id)
        if data.domain is not None:
            await tag_mission(conn, organisation_id, mission_id, data.domain)
        return mission_out(await conn.fetchrow(q.MISSION, mission_id))


async def _mission_row(
    conn: asyncpg.Connection,
    organiser: Organiser,
    mission_id: int,
    *,
    write: bool,
) -> asyncpg.Record:
    row = await conn.fetchrow(q.MISSION, mission_id)
    if row is None or not (organiser.can_write if write else organiser.can_read)(row["organisation_id"]):
        raise NotFound(f"No mission {mission_id}.")
    return row


async def get_mission(conn: asyncpg.Connection, organiser: Organiser, mission_id: int) -> MissionOut:
    """A mission of the staff member's organisations, or 404."""
    return mission_out(await _mission_row(conn, organiser, mission_id, write=False))


async def _check_speaks(
    conn: asyncpg.Connection,
    interpreter_id: int,
    mission: asyncpg.Record | dict[str, Any],
    field: str,
) -> None:
    """422 unless the interpreter is of the mission's pool and speaks both its languages at a fitting level."""
    row = await conn.fetchrow(
        q.INTERPRETER_LEVELS,
        interpreter_id,
        mission["organisation_id"],
        mission["from_language"],
        mission["to_language"],
    )
    if row is None:
        raise Invalid.field(field, "No interpreter of this organisation's pool has this id.")
    fitting = FITTING.get(mission["field"], DEFAULT_FITTING)
    for code, level in ((mission["from_language"], row["from_level"]), (mission["to_language"], row["to_level"])):
        if level not in fitting:
            raise Invalid.field(
                field, f"This interpreter does not speak '{code}' at a level this mission needs ({', '.join(fitting)})."
            )


def collision(exc: asyncpg.ExclusionViolationError) -> Taken:
    """The 409 of a mission refused by the exclusion constraints: busy then, or no time to travel."""
    travel = exc.constraint_name == "missions_leave_travel_time"
    why = (
        "leaves no time to travel between this mission and another of theirs in another commune"
        if travel
        else "holds another mission at that time"
    )
    return Taken(
        f"The interpreter {why}.",
        code="interpreter_busy",
        errors=[FieldError("interpreter", f"The interpreter {why}.")],
    )


async def update_mission(
    conn: asyncpg.Connection,
    organiser: Organiser,
    mission_id: int,
    data: MissionPatch,
    settings: Settings,
) -> MissionOut:
    """Move, re-place, cancel, close or assign a mission; 409 when the interpreter is busy then."""
    async with conn.transaction():
        await _mission_row(conn, organiser, mission_id, write=True)
        row = dict(await conn.fetchrow(q.MISSION_FOR_UPDATE, mission_id))
        errors: list[FieldError] = []
        starts_at = row["starts_at"] if data.starts_at is UNSET else data.starts_at
        ends_at = row["ends_at"] if data.ends_at is UNSET else data.ends_at
        moved = starts_at != row["starts_at"] or ends_at != row["ends_at"]
        if moved:
            _check_times(starts_at, ends_at, errors, now=datetime.now(UTC))
        mode, commune, address = row["mode"], row["commune"], row["address"]
        if data.place is not UNSET or data.remote is not UNSET:
            place = None if data.place is UNSET else data.place
            remote = None if data.remote is UNSET else data.remote
            mode, commune, address = _where(place, remote, errors)
            await _check_commune(conn, commune, errors)
            moved = moved or (mode, commune, address) != (row["mode"], row["commune"], row["address"])
        _refuse(errors)
        status, interpreter_id = row["status"], row["interpreter_id"]
        if data.interpreter is not UNSET:
            if row["status"] in ("done", "cancelled"):
                raise Conflict(f"The mission is {row['status']}.", code=f"mission_{row['status']}")
            interpreter_id = data.interpreter
            status = "assigned" if interpreter_id is not None else "requested"
            if interpreter_id is not None:
                await _check_speaks(conn, interpreter_id, row, "interpreter")
        if data.status is not UNSET:
            if data.status == "done" and interpreter_id is None:
                raise Invalid.field("status", "Only a mission with an interpreter can be done.")
            status = data.status
            if status == "cancelled":
                interpreter_id = None
        changed = moved or (status == "cancelled" and row["status"] != "cancelled")
        try:
            await conn.execute(
                q.UPDATE_MISSION,
                mission_id,
                starts_at,
                ends_at,
                mode,
                commune,
                address,
                row["notes"] if data.notes is UNSET else data.notes,
                row["urgency"] if data.urgency is UNSET else data.urgency,
                status,
                interpreter_id,
                int(changed),
            )
        except asyncpg.ExclusionViolationError as exc:
            raise collision(exc) from None
        if data.domain is not UNSET:
            await tag_mission(conn, row["organisation_id"], mission_id, data.domain)
        await _tell_changes(conn, row, status, interpreter_id, moved)
        await trail.record_change(conn, organiser, row, data, status, interpreter_id, moved)
        return mission_out(await conn.fetchrow(q.MISSION, mission_id))


async def _tell_changes(
    conn: asyncpg.Connection,
    before: Mapping[str, Any],
    status: str,
    interpreter_id: int | None,
    moved: bool,
) -> None:
    """Queue what a change means for the people concerned: an invitation, its update, or its cancellation."""
    mission_id, was = before["id"], before["interpreter_id"] if before["status"] in HELD else None
    if status == "cancelled" and before["status"] != "cancelled":
        if was is not None:
            await tell(conn, "interpretation_cancelled", mission_id, interpreter=was)
        await tell(conn, "interpretation_cancelled", mission_id)
        return
    if interpreter_id is not None and interpreter_id != was:
        if was is not None:
            await tell(conn, "interpretation_cancelled", mission_id, interpreter=was)
        await tell(conn, "interpretation_assigned", mission_id, interpreter=interpreter_id)
        await tell(conn, "interpretation_assigned", mission_id)
        await remind(conn, mission_id)
    elif moved and interpreter_id is not None:
        await tell(conn, "interpretation_changed", mission_id, interpreter=interpreter_id)
        await tell(conn, "interpretation_changed", mission_id)
        await remind(conn, mission_id)


def candidates_after(cursor: str | None) -> tuple[int, int, int] | tuple[None, None, None]:
    """The rank a page of candidates starts after, from `<missions>.<score>.<id>`; 422 naming `cursor` otherwise."""
    if not cursor:
        return None, None, None
    if not re.fullmatch(CANDIDATES_CURSOR, cursor):
        raise Invalid.field("cursor", "This cursor is not one this service gave out.")
    missions, score, ident = (int(part) for part in cursor.split("."))
    return missions, score, ident


def ranked_for(mission: asyncpg.Record) -> tuple[Any, ...]:
    """The mission's values the candidates query ranks by (its parameters $1 to $9)."""
    fitting = FITTING.get(mission["field"], DEFAULT_FITTING)
    return (
        mission["organisation_id"],
        mission["id"],
        mission["starts_at"],
        mission["ends_at"],
        mission["mode"],
        mission["commune"],
        mission["from_language"],
        mission["to_language"],
        list(fitting),
    )


async def candidates(
    conn: asyncpg.Connection,
    organiser: Organiser,
    mission_id: int,
    cursor: str | None = None,
    limit: int = CANDIDATES_PAGE,
) -> CandidatePage:
    """A page of the interpreters who could take a mission of the staff member's organisations, best first."""
    return await rank(conn, await _mission_row(conn, organiser, mission_id, write=False), cursor, limit)


async def read_mission(conn: asyncpg.Connection, organiser: Organiser, mission_id: int) -> asyncpg.Record:
    """The row of a mission of the staff member's organisations (what `rank` takes), or 404."""
    return await _mission_row(conn, organiser, mission_id, write=False)


async def rank(
    conn: asyncpg.Connection, mission: asyncpg.Record, cursor: str | None = None, limit: int = CANDIDATES_PAGE
) -> CandidatePage:
    """A page of the interpreters who could take this mission, best first; `mission` is a row the caller read
    through read_mission (or _mission_row), which checked the staff member's right to it."""
    after = candidates_after(cursor)
    rows = await conn.fetch(q.CANDIDATES, *ranked_for(mission), *after, limit + 1)
    # positionally: the query names its columns in the order of the struct, and this is 8 times quicker
    items = [Candidate(*row[:6]) for row in rows[:limit]]
    last = rows[limit - 1] if len(rows) > limit else None
    return CandidatePage(items, f"{last['missions_this_month']}.{last['score']}.{last['id']}" if last else None)


async def offer(
    conn: asyncpg.Connection,
    organiser: Organiser,
    mission_id: int,
    data: OffersIn,
) -> list[OfferOut]:
    """Offer an open mission to interpreters of its pool; each one may accept it, the first gets it."""
    async with conn.transaction():
        await _mission_row(conn, organiser, mission_id, write=True)
        row = await conn.fetchrow(q.MISSION_FOR_UPDATE, mission_id)
        if row["status"] not in ("requested", "offered"):
            raise Conflict(f"The mission is {row['status']}.", code=f"mission_{row['status']}")
        deadline = answer_by(data.answer_by, row["starts_at"], datetime.now(UTC))
        for n, interpreter_id in enumerate(data.interpreters):
            await _check_speaks(conn, interpreter_id, row, f"interpreters[{n}]")
        offers = await conn.fetch(q.INSERT_OFFERS, mission_id, data.interpreters, row["organisation_id"], deadline)
        await conn.execute(q.MARK_OFFERED, mission_id)
        await trail.record_offers(conn, organiser, row, offers)
        for made in offers:
            await tell(
                conn, "interpretation_offered", mission_id, interpreter=made["interpreter"], answer_by=made["answer_by"]
            )
    return [msgspec.convert(dict(o), OfferOut) for o in offers]


# ---------------------------------------------------------------------------- the public request


# ---------------------------------------------------------------------------- retention
