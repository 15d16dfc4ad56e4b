"""The agency's side of communes' requests: reading, answering, scheduling, and the thread with the requester."""

from __future__ import annotations

from typing import NoReturn

import asyncpg
import msgspec

from server.communes import queries as q
from server.communes.directory import commune_slug
from server.communes.outcomes import outcome_of, record_outcome
from server.communes.schemas import (
    CommuneRequestOut,
    CommuneRequestPatch,
    LinkedEventOut,
    MessageOut,
    NoteOut,
    Period,
    ScheduleIn,
)
from server.convention_domains import tag_commune_request
from server.errors import Forbidden, Invalid, NotFound
from server.events import hooks
from server.events.schemas import EventIn, I18nLine, I18nLines, OrganiserEventOut
from server.i18n import LANGUAGES
from server.organisers.schemas import Organiser
from server.outbox import enqueue
from server.settings import Settings

# where a request may go from each status; `declined` needs a reason
TRANSITIONS = {
    "new": {"in_discussion", "declined"},
    "in_discussion": {"scheduled", "declined"},
    "scheduled": {"done", "declined"},
    "done": set(),
    "declined": set(),
}


# ---------------------------------------------------------------------------- reading


async def to_out(conn: asyncpg.Connection, row: asyncpg.Record, settings: Settings) -> CommuneRequestOut:
    """A request row with its thread and events, as staff see it."""
    messages = [msgspec.convert(dict(m), MessageOut) for m in await conn.fetch(q.MESSAGES, row["id"])]
    events = [
        LinkedEventOut(
            slug=e["slug"], status=e["status"], starts_at=e["starts_at"], url=f"{settings.base}/events/{e['slug']}"
        )
        for e in await conn.fetch(q.LINKED_EVENTS, row["id"])
    ]
    return CommuneRequestOut(
        id=row["id"],
        organisation=row["organisation"],
        commune=row["commune"],
        commune_slug=commune_slug(row["commune"]),
        requester_type=row["requester_type"],
        contact_name=row["contact_name"],
        email=row["email"],
        phone=row["phone"],
        language=row["language"],
        subject=row["subject"],
        preferred=msgspec.convert(row["preferred"], list[Period]),
        audience_size=row["audience_size"],
        audience_languages=list(row["audience_languages"]),
        interpretation=list(row["interpretation"]),
        venue=row["venue"],
        step_free=row["step_free"],
        message=row["message"],
        status=row["status"],
        reason=row["reason"],
        assignee=row["assignee_id"],
        note=row["note"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        messages=messages,
        events=events,
        domain=row.get("domain"),
        notes=[msgspec.convert(dict(n), NoteOut) for n in await conn.fetch(q.NOTES, row["id"])],
        outcome=await outcome_of(conn, row["id"]) if row["status"] == "done" else None,
    )


async def list_requests(
    conn: asyncpg.Connection,
    organiser: Organiser,
    status: str | None,
    settings: Settings,
) -> list[CommuneRequestOut]:
    """The requests addressed to the staff member's organisations, newest first."""
    rows = await conn.fetch(q.REQUESTS_FOR_STAFF, list(organiser.roles), organiser.is_admin, status)
    return [await to_out(conn, row, settings) for row in rows]


def _not_found() -> NoReturn:
    raise NotFound("No request with this id among those addressed to your organisations.")


async def readable(
    conn: asyncpg.Connection,
    organiser: Organiser,
    request_id: int,
    *,
    lock: bool = False,
) -> asyncpg.Record:
    """The request if it is addressed to one of the staff member's organisations; 404 otherwise."""
    row = await conn.fetchrow(q.REQUEST_FOR_UPDATE if lock else q.REQUEST_BY_ID, request_id)
    if row is None or not organiser.can_read(row["organisation_id"]):
        _not_found()
    return row


async def writable(conn: asyncpg.Connection, organiser: Organiser, request_id: int) -> asyncpg.Record:
    """The request, locked, if the staff member may handle it (admin or organiser role); 404 or 403."""
    row = await readable(conn, organiser, request_id, lock=True)
    if not organiser.can_write(row["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow handling its requests.")
    return row


async def get_request(
    conn: asyncpg.Connection,
    organiser: Organiser,
    request_id: int,
    settings: Settings,
) -> CommuneRequestOut:
    """One request addressed to the staff member's organisations."""
    return await to_out(conn, await readable(conn, organiser, request_id), settings)


# ---------------------------------------------------------------------------- answering


async def update_request(
    conn: asyncpg.Connection,
    organiser: Organiser,
    request_id: int,
    patch: CommuneRequestPatch,
    settings: Settings,
) -> CommuneRequestOut:
    """Change the status (along the allowed transitions), the reason, the assignee or the internal note."""
    async with conn.transaction():
        row = await writable(conn, organiser, request_id)
        status, reason, assignee, note = row["status"], row["reason"], row["assignee_id"], row["note"]
        if patch.status is not msgspec.UNSET and patch.status != status:
            if patch.status not in TRANSITIONS[status]:
                allowed = ", ".join(sorted(TRANSITIONS[status])) or "none"
                raise Invalid.field("status", f"A request {status} cannot become {patch.status} (allowed: {allowed}).")
            status = patch.status
        if patch.reason is not msgspec.UNSET:
            reason = patch.reason
        if status == "declined" and not reason:
            raise Invalid.field("reason", "Say why the request is declined.")
        closing = status == "done" and row["status"] != "done"
        if patch.outcome is msgspec.UNSET and closing:
            raise Invalid.field("outcome", "A request is marked done with its outcome: attendance, what was discussed.")
        if patch.outcome is not msgspec.UNSET and status != "done":
            raise Invalid.field("outcome", "An outcome is recorded when the request is marked done.")
        if patch.assignee is not msgspec.UNSET:
            handles = patch.assignee is None or await conn.fetchval(
                q.MAY_HANDLE, patch.assignee, row["organisation_id"]
            )
            if not handles:
                raise Invalid.field("assignee", "No admin or organiser of this request's organisation has this id.")
            assignee = patch.assignee
        if patch.note is not msgspec.UNSET:
            note = patch.note.strip()
        await conn.execute(q.UPDATE_REQUEST, request_id, status, reason, assignee, note)
        if patch.outcome is not msgspec.UNSET:
            await record_outcome(conn, organiser, row, patch.outcome, closing=closing)
        if patch.domain is not msgspec.UNSET:
            await tag_commune_request(conn, row["organisation_id"], request_id, patch.domain)
        return await to_out(conn, await conn.fetchrow(q.REQUEST_BY_ID, request_id), settings)


async def write_to_requester(
    conn: asyncpg.Connection,
    organiser: Organiser,
    request_id: int,
    body: str,
    settings: Settings,
) -> CommuneRequestOut:
    """A message to the requester: kept in the thread and sent by mail."""
    async with conn.transaction():
        row = await writable(conn, organiser, request_id)
        message_id = await conn.fetchval(q.INSERT_MESSAGE, request_id, "staff", organiser.id, body.strip())
        await enqueue(
            conn,
            "commune_request_message",
            event_id=None,
            recipient=row["email"],
            language=row["language"],
            payload={"request": request_id, "message": message_id},
            dedupe_key=f"commune-request-message:{message_id}",
        )
        if row["status"] == "new":  # a first answer opens the discussion
            await conn.execute(
                q.UPDATE_REQUEST, request_id, "in_discussion", row["reason"], row["assignee_id"], row["note"]
            )
        return await to_out(conn, await conn.fetchrow(q.REQUEST_BY_ID, request_id), settings)


async def add_note(
    conn: asyncpg.Connection,
    organiser: Organiser,
    request_id: int,
    body: str,
    settings: Settings,
) -> CommuneRequestOut:
    """An internal note in the request's thread, never shown to the requester; it touches the request."""
    async with conn.transaction():
        await writable(conn, organiser, request_id)
        await conn.execute(q.INSERT_NOTE, request_id, organiser.id, body.strip())
        await conn.execute(q.TOUCH_REQUEST, request_id)
        return await to_out(conn, await conn.fetchrow(q.REQUEST_BY_ID, request_id), settings)


async def assignable_staff(conn: asyncpg.Connection, organisation: str) -> list[asyncpg.Record]:
    """(id, name, email) of the people who may handle the requests of the organisation `organisation` (slug)."""
    return await conn.fetch(q.ASSIGNABLE, organisation)


async def may_handle(conn: asyncpg.Connection, organiser: Organiser, organisation: str) -> bool:
    """Whether the staff member may handle the requests of the organisation `organisation` (slug)."""
    organisation_id = await conn.fetchval(q.ORGANISATION_ID, organisation)
    return organisation_id is not None and organiser.can_write(organisation_id)


async def staff_names(conn: asyncpg.Connection, ids: list[int]) -> dict[int, str]:
    """{id: name, or email when unnamed} of staff members."""
    return {row["id"]: row["name"] or row["email"] for row in await conn.fetch(q.STAFF_NAMES, ids)}


# ---------------------------------------------------------------------------- scheduling


async def schedule(
    conn: asyncpg.Connection,
    organiser: Organiser,
    request_id: int,
    data: ScheduleIn,
    settings: Settings,
) -> OrganiserEventOut:
    """Create an `info_session` draft pre-filled from the request, linked to it."""
    from server.communes.texts import interpretation_line, subject_label
    from server.events.service import create_event

    async with conn.transaction():
        row = await writable(conn, organiser, request_id)
        spoken = [code for code in row["audience_languages"] if code in LANGUAGES][:5] or [row["language"]]
        title = {lang: f"{subject_label(row['subject'], lang)} – {row['commune']}" for lang in LANGUAGES}
        summary = (
            {lang: interpretation_line(list(row["interpretation"]), lang) for lang in LANGUAGES}
            if row["interpretation"]
            else {}
        )
        event = EventIn(
            kind="info_session",
            organisation=row["organisation"],
            title=msgspec.convert(title, I18nLine),
            summary=msgspec.convert(summary, I18nLines),
            languages=spoken,  # type: ignore[arg-type]
            starts_at=data.starts_at,
            ends_at=data.ends_at,
            venue=row["venue"] or None,
            commune=row["commune"],
            topics=[row["subject"]],
            audience=None,
            requesting_partner=row["commune"],
        )
        created = await create_event(conn, organiser, event, settings)
        event_id = await conn.fetchval("SELECT id FROM events WHERE slug = $1", created.slug)
        await conn.execute(q.LINK_EVENT, request_id, event_id)
        return created


@hooks.after_publish
async def after_publish(conn: asyncpg.Connection, event_id: int, series_id: int | None) -> None:
    """Called in the publish transaction: linked requests move to `scheduled` and their requesters are told."""
    for link in await conn.fetch(q.REQUESTS_OF_EVENTS, event_id, series_id):
        await conn.execute(q.MARK_SCHEDULED, link["id"])
        await enqueue(
            conn,
            "commune_request_scheduled",
            event_id=link["event_id"],
            recipient=link["email"],
            language=link["language"],
            payload={"request": link["id"], "event": link["event_id"]},
            dedupe_key=f"commune-request-scheduled:{link['id']}:{link['event_id']}",
        )
