"""Structs in and out of the organisers' message endpoints."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.openapi.spec import Example
from msgspec import Meta

from server.validation import line, lines

MessageStatus = Literal["queued", "retrying", "sent", "failed", "skipped"]
Audience = Literal["confirmed", "waitlisted"]

# a subject is one header line; a body may hold newlines and tabs but no other control character
Subject = line(200, min_length=1, blank=False)
Body = lines(10_000, min_length=1, blank=False)


class MessageCounts(msgspec.Struct, kw_only=True):
    """An event's messages by status."""

    sent: int = 0
    queued: int = 0
    retrying: int = 0
    failed: int = 0
    skipped: int = 0


class MessageOut(msgspec.Struct, kw_only=True):
    """One message as an organiser sees it: what, to whom, where it stands and why."""

    id: int
    kind: str
    registration_id: int | None
    recipient: str | None
    language: str
    status: MessageStatus
    attempts: int
    due_at: datetime
    last_attempt_at: datetime | None
    sent_at: datetime | None
    last_error: str | None
    created_at: datetime
    resent_from: int | None
    message_id: str


class EventMessages(msgspec.Struct, kw_only=True):
    """The counts of an event's messages, and those of one status (by default the failed) with their errors."""

    counts: MessageCounts
    status: MessageStatus
    items: list[MessageOut]


class OrganiserMessageIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A message to the confirmed (or waitlisted) people of an event.

    `{name}`, `{event}`, `{when}`, `{location}`, `{event_url}` and `{manage_url}` are filled in for
    each person, as plain text; any other `{...}` is refused.
    """

    subject: Subject
    body: Body
    to: Annotated[list[Audience], Meta(min_length=1, max_length=2)] = msgspec.field(
        default_factory=lambda: ["confirmed"]
    )


class OrganiserMessageQueued(msgspec.Struct, kw_only=True):
    """How many people the message was queued for."""

    queued: int
    to: list[Audience]


ORGANISER_MESSAGE_EXAMPLES = [
    Example(
        id="room_change",
        summary="A practical note to everyone with a seat",
        value={
            "subject": "{event}: bring your residence permit",
            "body": "Hello {name},\n\nFor {event} ({when}) please bring your residence permit.\n\n"
            "If you cannot come: {manage_url}",
            "to": ["confirmed"],
        },
    ),
    Example(
        id="waiting_list",
        summary="A word to the waiting list",
        value={
            "subject": "About the waiting list for {event}",
            "body": "Hello {name},\n\nWe are adding a second date; you will hear from us soon.",
            "to": ["waitlisted"],
        },
    ),
]
