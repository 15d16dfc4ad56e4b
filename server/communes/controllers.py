"""Thin handlers of the commune requests' API: asking, and the staff's answers."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, get, patch, post
from litestar.params import Parameter

from server.communes import service
from server.communes.schemas import (
    CommuneRequestAccepted,
    CommuneRequestIn,
    CommuneRequestOut,
    CommuneRequestPage,
    CommuneRequestPatch,
    MessageIn,
    ScheduleIn,
    Status,
)
from server.events.schemas import OrganiserEventOut
from server.limits import client_address
from server.openapi import problem_response
from server.organisers.schemas import Organiser
from server.settings import Settings

RequestId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The request's id")]
NOT_YOURS = problem_response(404, "No request with this id is addressed to an organisation of yours")


class PublicCommuneRequestController(Controller):
    """A commune asks the agency, without an account."""

    path = "/api/commune-requests"
    tags = ["communes"]

    @post(
        "",
        status_code=201,
        responses={
            422: problem_response(
                422,
                "A field is refused, named in `errors`: an unknown `commune` or "
                "`organisation`, a `preferred[n].from` sooner than the agency's lead time, "
                "a missing contact, no consent",
            ),
            429: problem_response(
                429, "Too many requests from this address or for this email; retry after `Retry-After` seconds"
            ),
        },
    )
    async def create(
        self,
        data: CommuneRequestIn,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
    ) -> CommuneRequestAccepted:
        """Ask for an information session or accompaniment; the requester's mail carries the status link too."""
        url = await service.create_request(conn, data, settings, client_address(request, settings))
        return CommuneRequestAccepted(status_url=url)


class OrganiserCommuneRequestController(Controller):
    """The agency's staff answer the requests addressed to their organisations."""

    path = "/api/organiser/commune-requests"
    tags = ["organiser"]
    security = [{"bearer": []}]

    @get("")
    async def list_requests(
        self,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
        status: Annotated[Status | None, Parameter(description="Only requests in this status")] = None,
    ) -> CommuneRequestPage:
        """The requests addressed to your organisations, newest first, with their threads and events."""
        return CommuneRequestPage(items=await service.list_requests(conn, organiser, status, settings))

    @get("/{request_id:int}", responses={404: NOT_YOURS})
    async def get_request(
        self,
        request_id: RequestId,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> CommuneRequestOut:
        """One request with its thread and events."""
        return await service.get_request(conn, organiser, request_id, settings)

    @patch(
        "/{request_id:int}",
        responses={
            404: NOT_YOURS,
            422: problem_response(
                422,
                "A `status` the request cannot move to from its own, `declined` without a `reason`, "
                "`done` without an `outcome` (or an `outcome` on a request not done), an `outcome.attendance` "
                "missing while no held session is linked, or an `assignee` who does not handle this "
                "organisation's requests",
            ),
        },
    )
    async def update_request(
        self,
        request_id: RequestId,
        data: CommuneRequestPatch,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> CommuneRequestOut:
        """Move along `new → in_discussion → scheduled → done` (with an `outcome`), or `declined`; assign; note."""
        return await service.update_request(conn, organiser, request_id, data, settings)

    @post("/{request_id:int}/messages", status_code=201, responses={404: NOT_YOURS})
    async def write(
        self,
        request_id: RequestId,
        data: MessageIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> CommuneRequestOut:
        """Write to the requester: sent by mail, kept in the request's thread."""
        return await service.write_to_requester(conn, organiser, request_id, data.body, settings)

    @post("/{request_id:int}/schedule", status_code=201, responses={404: NOT_YOURS})
    async def schedule(
        self,
        request_id: RequestId,
        data: ScheduleIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> OrganiserEventOut:
        """Create an `info_session` draft pre-filled from the request, linked to it; publishing tells the requester."""
        return await service.schedule(conn, organiser, request_id, data, settings)
