"""Thin handlers for the organisers' view of mail: where an event's messages stand, resend, write to people."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, get, post
from litestar.params import Body, Parameter

from server.notifications import service
from server.notifications.schemas import (
    ORGANISER_MESSAGE_EXAMPLES,
    EventMessages,
    MessageOut,
    MessageStatus,
    OrganiserMessageIn,
    OrganiserMessageQueued,
)
from server.organisers.schemas import Organiser
from server.settings import Settings
from server.validation import ONE_LINE

SlugPath = Annotated[str, Parameter(max_length=140, pattern=ONE_LINE, description="The event's slug")]
MessageIdPath = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The message's id")]


class OrganiserMessageController(Controller):
    """Mail of one's organisations' events."""

    path = "/api/organiser"
    tags = ["organiser"]

    @get("/events/{slug:str}/messages")
    async def event_messages(
        self,
        slug: SlugPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
        status: Annotated[
            MessageStatus, Parameter(description="Which messages to list (with their errors)")
        ] = "failed",
    ) -> EventMessages:
        """The event's message counts by status (sent, queued, retrying, failed, skipped) and the list of one status."""
        return await service.event_messages(conn, organiser, slug, settings, status=status)

    @post("/events/{slug:str}/messages", status_code=202)
    async def write_to_registrants(
        self,
        slug: SlugPath,
        data: Annotated[OrganiserMessageIn, Body(examples=ORGANISER_MESSAGE_EXAMPLES)],
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> OrganiserMessageQueued:
        """Write to every confirmed (or waitlisted) person; `{name}`-style placeholders are filled in as plain text."""
        return await service.write_to_registrants(conn, organiser, slug, data)

    @post("/messages/{message_id:int}/resend", status_code=202)
    async def resend(
        self,
        message_id: MessageIdPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> MessageOut:
        """Send a message again: a failed or skipped one is queued now; a sent one gets a copy with a new Message-ID."""
        return await service.resend(conn, organiser, message_id, settings)
