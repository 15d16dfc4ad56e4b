"""What organisers do with mail: see where an event's messages stand, resend one, write to its people."""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec

from server import audit
from server.errors import Conflict, FieldError, Forbidden, Invalid, NotFound
from server.events.reading import readable_event
from server.notifications import queries as q
from server.notifications.placeholders import PLACEHOLDERS, unknown_placeholders
from server.notifications.schemas import (
    EventMessages,
    MessageCounts,
    MessageOut,
    OrganiserMessageIn,
    OrganiserMessageQueued,
)
from server.organisers.schemas import Organiser
from server.outbox import enqueue, message_id
from server.settings import Settings

MESSAGE_LIST_LIMIT = 500


def to_message_out(row: asyncpg.Record, settings: Settings) -> MessageOut:
    """A row as an organiser sees it, with the Message-ID its mail carries."""
    return msgspec.convert({**dict(row), "message_id": message_id(row["id"], settings.mail_from)}, MessageOut)


async def _event_for(conn: asyncpg.Connection, organiser: Organiser, slug: str, *, write: bool) -> asyncpg.Record:
    """The event if the organiser may read it (404 otherwise) and, when asked, change it (403)."""
    event = await readable_event(conn, organiser, slug)
    if write and not organiser.can_write(event["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow sending mail.")
    return event


async def event_messages(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, settings: Settings, *, status: str = "failed"
) -> EventMessages:
    """How many of an event's messages were sent, are queued, retrying, failed or skipped; and those of one status."""
    event = await _event_for(conn, organiser, slug, write=False)
    counts = {row["status"]: row["n"] for row in await conn.fetch(q.EVENT_MESSAGE_COUNTS, event["id"])}
    rows = await conn.fetch(q.EVENT_MESSAGES, event["id"], status, MESSAGE_LIST_LIMIT)
    return EventMessages(
        counts=MessageCounts(**counts),
        status=status,  # type: ignore[arg-type]
        items=[to_message_out(row, settings) for row in rows],
    )


async def resend(conn: asyncpg.Connection, organiser: Organiser, outbox_id: int, settings: Settings) -> MessageOut:
    """Send one message again: a failed, skipped or retrying one is queued now; a sent one gets a new copy."""
    async with conn.transaction():
        row = await conn.fetchrow(q.MESSAGE_FOR_UPDATE, outbox_id)
        if row is None or not organiser.can_read(row["organisation_id"]):
            raise NotFound(f"No message {outbox_id}.")
        if not organiser.can_write(row["organisation_id"]):
            raise Forbidden("Your role in this organisation does not allow sending mail.")
        if row["status"] == "queued":
            raise Conflict("This message is already waiting to be sent.")
        if row["status"] == "sent":
            # a copy under the same Message-ID would be dropped by the mail clients that have the first
            target = await conn.fetchval(q.RESEND_COPY, outbox_id)
        else:
            await conn.execute(q.REQUEUE, outbox_id)
            target = outbox_id
        return to_message_out(await conn.fetchrow(q.MESSAGE_BY_ID, target), settings)


def _check_placeholders(data: OrganiserMessageIn) -> None:
    """422 naming every `{...}` that is not a placeholder, field by field."""
    known = ", ".join("{" + name + "}" for name in PLACEHOLDERS)
    errors = [
        FieldError(field, f"Unknown placeholder {{{name}}}; the placeholders are {known}.")
        for field, text in (("subject", data.subject), ("body", data.body))
        for name in unknown_placeholders(text)
    ]
    if errors:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors)[:1000], errors=errors)


async def write_to_registrants(
    conn: asyncpg.Connection, organiser: Organiser, slug: str, data: OrganiserMessageIn
) -> OrganiserMessageQueued:
    """Queue the organiser's message for every confirmed (or waitlisted) person of the event, each in their language."""
    _check_placeholders(data)
    audience = sorted(set(data.to))
    async with conn.transaction():
        event = await _event_for(conn, organiser, slug, write=True)
        people = await conn.fetch(q.REGISTRANTS_WITH_STATUS, event["id"], audience)
        payload: dict[str, Any] = {"subject": data.subject, "body": data.body}
        for person in people:
            await enqueue(
                conn,
                "organiser_message",
                event_id=event["id"],
                registration_id=person["id"],
                recipient=person["email"],
                language=person["language"],
                payload=payload,
            )
        await audit.record(
            conn,
            organiser,
            "message_sent",
            organisation_id=event["organisation_id"],
            event_id=event["id"],
            detail={"to": audience, "people": len(people)},
        )
    return OrganiserMessageQueued(queued=len(people), to=audience)  # type: ignore[arg-type]
