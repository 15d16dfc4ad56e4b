"""A commune asks: the request checked and stored, its private status link, the requester's answers."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

import asyncpg
import msgspec

from server.communes import queries as q
from server.communes.directory import commune_name
from server.communes.schemas import CommuneRequestIn
from server.errors import FieldError, Invalid, NotFound, TooManyRequests
from server.limits import client_key, count_attempts, digest
from server.outbox import enqueue
from server.registrations.tokens import hash_token
from server.settings import Settings
from server.validation import local_today


class RateLimited(TooManyRequests):
    code = "rate_limited"


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
    earliest = local_today() + settings.commune_request_lead_time
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
