"""Staff keeping their pool: an interpreter added, their details, languages, places and time changed, or taken out."""

from __future__ import annotations

import asyncpg
import msgspec
from msgspec import UNSET

from server import audit
from server.errors import Conflict, FieldError, Invalid, NotFound
from server.interpretation import queries as q
from server.interpretation import trail
from server.interpretation.links import interpreter_url, new_link
from server.interpretation.schemas import InterpreterCreated, InterpreterIn, InterpreterOut, InterpreterPatch
from server.organisers.schemas import Organiser
from server.settings import Settings

# what an audit row lists of a change (never the values: they are personal data)
FIELDS = (
    "name",
    "email",
    "phone",
    "languages",
    "communes",
    "cantons",
    "availability",
    "absences",
    "monthly_cap",
    "language",
    "active",
)


async def check_pool_fields(conn: asyncpg.Connection, data: msgspec.Struct) -> list[FieldError]:
    """What is wrong with an interpreter's places, languages and time (fields left unset are not checked)."""
    errors: list[FieldError] = []
    communes = getattr(data, "communes", UNSET)
    if communes is not UNSET:
        known = {r["name"] for r in await conn.fetch(q.KNOWN_COMMUNES, communes)}
        errors += [
            FieldError(f"communes[{n}]", "Not a commune of Luxembourg.")
            for n, name in enumerate(communes)
            if name not in known
        ]
    cantons_asked = getattr(data, "cantons", UNSET)
    if cantons_asked is not UNSET:
        cantons = {r["canton"] for r in await conn.fetch(q.KNOWN_CANTONS, cantons_asked)}
        errors += [
            FieldError(f"cantons[{n}]", "Not a canton of Luxembourg.")
            for n, name in enumerate(cantons_asked)
            if name not in cantons
        ]
    if (languages := getattr(data, "languages", UNSET)) is not UNSET:
        codes = [spoken.code for spoken in languages]
        errors += [
            FieldError(f"languages[{n}].code", "Named twice.") for n, code in enumerate(codes) if code in codes[:n]
        ]
    if (availability := getattr(data, "availability", UNSET)) is not UNSET:
        errors += [
            FieldError(f"availability[{n}].ends", "The end must come after the start.")
            for n, slot in enumerate(availability)
            if slot.ends <= slot.starts
        ]
    if (absences := getattr(data, "absences", UNSET)) is not UNSET:
        errors += [
            FieldError(f"absences[{n}].last_day", "The last day comes on or after the first.")
            for n, absence in enumerate(absences)
            if absence.last_day < absence.first_day
        ]
    return errors


async def update_interpreter(
    conn: asyncpg.Connection,
    organiser: Organiser,
    interpreter_id: int,
    data: InterpreterPatch,
) -> InterpreterOut:
    """Change what staff sent of an interpreter of their pool; 404 if not theirs, 409 for an address taken."""
    errors = await check_pool_fields(conn, data)
    if errors:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    changed = [name for name in FIELDS if getattr(data, name) is not UNSET]
    async with conn.transaction():
        row = await conn.fetchrow(q.INTERPRETER_FOR_UPDATE, interpreter_id)
        if row is None or not organiser.can_write(row["organisation_id"]):
            raise NotFound(f"No interpreter {interpreter_id} in a pool of yours.")
        merged = {
            name: row[name] if getattr(data, name) is UNSET else getattr(data, name)
            for name in ("name", "email", "phone", "communes", "cantons", "monthly_cap", "language", "active")
        }
        try:
            await conn.execute(
                q.UPDATE_INTERPRETER,
                interpreter_id,
                merged["name"],
                merged["email"],
                merged["phone"],
                merged["language"],
                merged["communes"],
                merged["cantons"],
                merged["monthly_cap"],
                merged["active"],
            )
        except asyncpg.UniqueViolationError:
            raise Conflict(
                f"{merged['email']} is in this pool already.", errors=[FieldError("email", "In this pool already.")]
            ) from None
        if data.languages is not UNSET:
            await conn.execute(q.DELETE_LANGUAGES, interpreter_id)
            await conn.execute(
                q.INSERT_LANGUAGES, interpreter_id, [s.code for s in data.languages], [s.level for s in data.languages]
            )
        if data.availability is not UNSET:
            await conn.execute(q.DELETE_AVAILABILITY, interpreter_id)
            await conn.execute(
                q.INSERT_AVAILABILITY,
                interpreter_id,
                [s.weekday for s in data.availability],
                [s.starts for s in data.availability],
                [s.ends for s in data.availability],
            )
        if data.absences is not UNSET:
            await conn.execute(q.DELETE_ABSENCES, interpreter_id)
            await conn.execute(
                q.INSERT_ABSENCES,
                interpreter_id,
                [a.first_day for a in data.absences],
                [a.last_day for a in data.absences],
            )
        if changed:
            await audit.record(
                conn,
                organiser,
                "interpreter_changed",
                organisation_id=row["organisation_id"],
                detail={"interpreter": interpreter_id, "fields": changed},
            )
        out = await conn.fetchrow(q.INTERPRETERS, True, [], interpreter_id)
    return msgspec.convert(dict(out), InterpreterOut)


# ---------------------------------------------------------------------------- joining a pool, reading it


async def organisation_for(conn: asyncpg.Connection, organiser: Organiser, slug: str, *, write: bool) -> int:
    """The organisation's id if the staff member may act for it; 404 otherwise (its pool is none of theirs)."""
    organisation_id = await conn.fetchval(q.ORGANISATION_ID, slug)
    allowed = organisation_id is not None and (
        organiser.can_write(organisation_id) if write else organiser.can_read(organisation_id)
    )
    if not allowed:
        raise NotFound(f"No organisation '{slug}' of yours.", errors=[FieldError("organisation", "Not one of yours.")])
    return organisation_id


async def create_interpreter(
    conn: asyncpg.Connection,
    organiser: Organiser,
    data: InterpreterIn,
    settings: Settings,
) -> InterpreterCreated:
    """Add an interpreter to an organisation's pool; 409 when the address is in it already."""
    errors = await check_pool_fields(conn, data)
    if errors:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors), errors=errors)
    codes = [spoken.code for spoken in data.languages]
    days = [(absence.first_day, absence.last_day) for absence in data.absences]
    async with conn.transaction():
        organisation_id = await organisation_for(conn, organiser, data.organisation, write=True)
        nonce, token, token_hash = new_link(settings.secret_key, b"interpreter-link")
        interpreter_id = await conn.fetchval(
            q.INSERT_INTERPRETER,
            organisation_id,
            data.name,
            data.email,
            data.phone,
            data.language,
            data.communes,
            data.cantons,
            data.monthly_cap,
            nonce,
            token_hash,
        )
        if interpreter_id is None:
            raise Conflict(
                f"{data.email} is in this pool already.", errors=[FieldError("email", "In this pool already.")]
            )
        await conn.execute(q.INSERT_LANGUAGES, interpreter_id, codes, [s.level for s in data.languages])
        await conn.execute(
            q.INSERT_AVAILABILITY,
            interpreter_id,
            [s.weekday for s in data.availability],
            [s.starts for s in data.availability],
            [s.ends for s in data.availability],
        )
        await conn.execute(q.INSERT_ABSENCES, interpreter_id, [d[0] for d in days], [d[1] for d in days])
        await trail.record_added(conn, organiser, organisation_id, interpreter_id)
        row = await conn.fetchrow(q.INTERPRETERS, True, [], interpreter_id)
    return msgspec.convert({**dict(row), "link": interpreter_url(settings.base_url, token)}, InterpreterCreated)


async def list_interpreters(conn: asyncpg.Connection, organiser: Organiser) -> list[InterpreterOut]:
    """The pools of the organisations the staff member belongs to (every pool for an administrator)."""
    rows = await conn.fetch(q.INTERPRETERS, organiser.is_admin, list(organiser.roles), None)
    return [msgspec.convert(dict(row), InterpreterOut) for row in rows]
