"""The rules of communes' requests: asking, answering, scheduling, and the thread between them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

import asyncpg
import msgspec

from server.communes import queries as q
from server.communes.outcomes import outcome_of, record_outcome
from server.communes.schemas import (
    CommuneRequestIn,
    CommuneRequestOut,
    CommuneRequestPatch,
    LinkedEventOut,
    MessageOut,
    NoteOut,
    Period,
    ScheduleIn,
)
from server.convention_domains import tag_commune_request
from server.errors import FieldError, Forbidden, Invalid, NotFound, TooManyRequests
from server.events import hooks
from server.events.schemas import EventIn, I18nLine, I18nLines, OrganiserEventOut
from server.i18n import LANGUAGES, N_, gettext
from server.limits import client_key, count_attempts, digest
from server.organisers.schemas import Organiser
from server.outbox import enqueue
from server.registrations.tokens import hash_token
from server.settings import Settings
from server.validation import LOCAL_ZONE

# where a request may go from each status; `declined` needs a reason
TRANSITIONS = {
    "new": {"in_discussion", "declined"},
    "in_discussion": {"scheduled", "declined"},
    "scheduled": {"done", "declined"},
    "done": set(),
    "declined": set(),
}


class RateLimited(TooManyRequests):
    code = "rate_limited"


# ---------------------------------------------------------------------------- communes and their slugs


def commune_slug(name: str) -> str:
    """A commune's slug: lower-case, accents dropped, every run of other characters a hyphen."""
    bare = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", bare).strip("-")


# Luxembourg's 100 communes by slug; they change only with a migration, so each process reads them once
_COMMUNES: dict[str, str] = {}


async def communes_by_slug(conn: asyncpg.Connection) -> dict[str, str]:
    """{slug: official name} of every commune."""
    if not _COMMUNES:
        _COMMUNES.update({commune_slug(row["name"]): row["name"] for row in await conn.fetch(q.COMMUNE_NAMES)})
    return _COMMUNES


async def commune_name(conn: asyncpg.Connection, key: str) -> str | None:
    """The official name of the commune given by its slug or its name, or None."""
    return (await communes_by_slug(conn)).get(commune_slug(key))


async def coming_events(
    conn: asyncpg.Connection, slug: str, lang: str, settings: Settings, limit: int = 200
) -> tuple[str, list[Any]]:
    """(commune name, its coming public events in `lang`): held there or aimed at it; 404 for an unknown slug."""
    from server.events.views import to_public

    name = (await communes_by_slug(conn)).get(slug)
    if name is None or commune_slug(name) != slug:
        raise NotFound("No commune of Luxembourg has this slug.")
    now = datetime.now(LOCAL_ZONE)
    return name, [to_public(row, lang, settings, now) for row in await conn.fetch(q.COMING_EVENTS, name, limit)]


# ---------------------------------------------------------------------------- status links


def request_token(secret_key: str, nonce: bytes) -> str:
    """The status token of a request, derived from its nonce and the server secret (never stored)."""
    digest_ = hmac.new(secret_key.encode(), b"commune-request:" + nonce, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest_).decode().rstrip("=")


def status_url(settings: Settings, token: str) -> str:
    """The requester's private status page."""
    return f"{settings.base}/requests/{token}"


def staff_url(settings: Settings, request_id: int) -> str:
    """The request in the back-office."""
    return f"{settings.base}/organiser/requests/{request_id}"


# ---------------------------------------------------------------------------- asking


def today() -> date:
    """Today in Luxembourg."""
    return datetime.now(LOCAL_ZONE).date()


async def check_request(conn: asyncpg.Connection, data: CommuneRequestIn, settings: Settings) -> tuple[int, str]:
    """(organisation id, commune name) of a request, or 422 naming every field refused."""
    errors: list[FieldError] = []
    commune = await commune_name(conn, data.commune)
    if commune is None:
        errors.append(FieldError("commune", "No commune of Luxembourg by this name or slug."))
    organisation_id = await conn.fetchval(q.ORGANISATION_ID, data.organisation or settings.agency_organisation)
    if organisation_id is None:
        errors.append(FieldError("organisation", "No organisation by this slug."))
    if not data.consent:
        errors.append(FieldError("consent", "The request is kept only with the requester's consent."))
    earliest = today() + settings.commune_request_lead_time
    for index, period in enumerate(data.preferred):
        if period.from_ < earliest:
            errors.append(
                FieldError(
                    f"preferred[{index}].from",
                    f"Not before {earliest.isoformat()}: the agency needs "
                    f"{settings.commune_request_lead_time.days} days to prepare.",
                )
            )
        elif period.to < period.from_:
            errors.append(FieldError(f"preferred[{index}].to", "The end of a period comes after its start."))
    if errors:
        raise Invalid("Some fields of the request are refused.", errors=errors)
    return organisation_id, commune  # type: ignore[return-value]


async def count_request(conn: asyncpg.Connection, settings: Settings, client_ip: str, email: str) -> None:
    """Count a request per client address and per email; 429 past either limit."""
    keys = [
        f"commune-request-address:{digest(settings, client_key(client_ip))}",
        f"commune-request-email:{digest(settings, email)}",
    ]
    limits = [settings.commune_requests_per_address, settings.commune_requests_per_email]
    if retry_after := await count_attempts(conn, keys, limits, settings.rate_limit_window):
        raise RateLimited(
            f"Too many requests from here; try again in {retry_after} seconds.",
            headers={"Retry-After": str(retry_after)},
        )


async def create_request(
    conn: asyncpg.Connection,
    data: CommuneRequestIn,
    settings: Settings,
    client_ip: str,
) -> str:
    """Store a request, then queue the requester's confirmation and the staff's mails; returns the status URL."""
    await count_request(conn, settings, client_ip, data.email)
    organisation_id, commune = await check_request(conn, data, settings)
    nonce = secrets.token_bytes(16)
    token = request_token(settings.secret_key, nonce)
    async with conn.transaction():
        request_id = await conn.fetchval(
            q.INSERT_REQUEST,
            organisation_id,
            commune,
            data.requester_type,
            data.contact_name.strip(),
            data.email,
            data.phone.strip(),
            data.language,
            data.subject,
            msgspec.to_builtins(data.preferred),
            data.audience_size,
            list(dict.fromkeys(data.audience_languages)),
            list(dict.fromkeys(data.interpretation)),
            data.venue.strip(),
            data.step_free,
            data.message.strip(),
            nonce,
            hash_token(token),
        )
        await enqueue(
            conn,
            "commune_request_received",
            event_id=None,
            recipient=data.email,
            language=data.language,
            payload={"request": request_id},
            dedupe_key=f"commune-request-received:{request_id}",
            daily_cap=settings.mail_cap_per_day,
            capped_kinds=("commune_request_received",),
        )
        for staff in await conn.fetch(q.STAFF_OF, organisation_id):
            await enqueue(
                conn,
                "commune_request_arrived",
                event_id=None,
                recipient=staff["email"],
                language=staff["language"],
                payload={"request": request_id, "organiser": staff["id"]},
                dedupe_key=f"commune-request-arrived:{request_id}:{staff['id']}",
            )
    return status_url(settings, token)


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


async def request_for_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record:
    """The request behind a status link; 404 for any other token."""
    row = await conn.fetchrow(q.REQUEST_BY_TOKEN, hash_token(token))
    if row is None:
        raise NotFound("No request behind this link.")
    return row


async def reply(conn: asyncpg.Connection, token: str, body: str) -> None:
    """The requester's answer on the status page: joins the thread and tells the assignee (or the staff)."""
    async with conn.transaction():
        row = await request_for_token(conn, token)
        message_id = await conn.fetchval(q.INSERT_MESSAGE, row["id"], "requester", None, body.strip())
        if row["assignee_id"] is not None:
            staff = [await conn.fetchrow(q.ORGANISER_BY_ID, row["assignee_id"])]
        else:
            staff = await conn.fetch(q.STAFF_OF, row["organisation_id"])
        for person in staff:
            await enqueue(
                conn,
                "commune_request_answered",
                event_id=None,
                recipient=person["email"],
                language=person["language"],
                payload={"request": row["id"], "message": message_id, "organiser": person["id"]},
                dedupe_key=f"commune-request-answered:{message_id}:{person['id']}",
            )


# ---------------------------------------------------------------------------- scheduling

SUBJECT_TOPICS = {
    "statuses_statistics": N_("Statistics and statuses of applicants for international protection and refugees"),
    "testimonies": N_("Testimonies of applicants for international protection and refugees"),
    "volunteering": N_("Volunteering in welcoming and integration"),
    "good_practices": N_("Initiatives and good practices of living together"),
    "other": N_("Information session"),
    "accompaniment_pci": N_("Communal integration plan (PCI)"),
    "accompaniment_project": N_("A local integration project"),
    "accompaniment_welcome": N_("Welcoming applicants for international protection and refugees"),
}


def subject_label(subject: str, lang: str) -> str:
    """What is asked, in `lang`."""
    return gettext(lang, SUBJECT_TOPICS[subject])


async def schedule(
    conn: asyncpg.Connection,
    organiser: Organiser,
    request_id: int,
    data: ScheduleIn,
    settings: Settings,
) -> OrganiserEventOut:
    """Create an `info_session` draft pre-filled from the request, linked to it."""
    from server.communes.texts import interpretation_line
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


# ---------------------------------------------------------------------------- reminders

REMINDER_AFTER_WORKING_DAYS = 5


def working_days_before(moment: datetime, days: int) -> datetime:
    """The same local time `days` working days (Monday to Friday) earlier."""
    local = moment.astimezone(LOCAL_ZONE)
    counted = 0
    while counted < days:
        local -= timedelta(days=1)
        if local.weekday() < 5:
            counted += 1
    return local


async def remind_untouched(conn: asyncpg.Connection, settings: Settings) -> int:
    """A housekeeping job: a request untouched five working days reminds its assignee (or the admins), once."""
    cutoff = working_days_before(datetime.now(LOCAL_ZONE), REMINDER_AFTER_WORKING_DAYS)
    queued = 0
    async with conn.transaction():
        for row in await conn.fetch(q.UNTOUCHED, cutoff):
            if row["assignee_id"] is not None:
                people = [await conn.fetchrow(q.ORGANISER_BY_ID, row["assignee_id"])]
            else:
                people = await conn.fetch(q.ADMINS_OF, row["organisation_id"])
            stamp = int(row["touched"].timestamp())
            for person in people:
                # one reminder per person and untouched stretch: a touch starts a new one
                if await enqueue(
                    conn,
                    "commune_request_reminder",
                    event_id=None,
                    recipient=person["email"],
                    language=person["language"],
                    payload={"request": row["id"], "organiser": person["id"]},
                    dedupe_key=f"commune-request-reminder:{row['id']}:{stamp}:{person['id']}",
                ):
                    queued += 1
    return queued
