"""Thin handlers of the interpretation API: staff's pool and missions, the interpreter's link."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import asyncpg
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import Parameter, QueryParameter

from server.interpretation import answers, hours, pool, public, service, summary
from server.interpretation.schemas import (
    CandidatePage,
    HoursIn,
    InterpreterCreated,
    InterpreterIn,
    InterpreterOut,
    InterpreterPatch,
    MissionIn,
    MissionOut,
    MissionPatch,
    OfferOut,
    OffersIn,
    RequestIn,
    RequestOut,
    RequestStatus,
    Summary,
)
from server.limits import client_address
from server.openapi import problem_response
from server.organisers.schemas import Organiser
from server.settings import Settings
from server.validation import ONE_LINE, SLUG

MissionId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The mission's id")]
InterpreterId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The interpreter's id")]
OfferId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The offer's id")]
Token = Annotated[str, Parameter(max_length=100, pattern=ONE_LINE, description="The interpreter's private token")]
BUSY = problem_response(
    409, "The interpreter holds another mission then (or too close to travel), or the mission is cancelled or done"
)
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
First = Annotated[
    date | None, QueryParameter(name="from", description="The first day (default: 1 January of this year)")
]
Last = Annotated[date | None, QueryParameter(name="to", description="The last day, included (default: 31 December)")]
OrganisationSlug = Annotated[str, Parameter(max_length=63, pattern=SLUG, description="The pool's organisation")]
NO_ORGANISATION = problem_response(404, "No organisation of yours has this slug")
NOT_YOURS = problem_response(404, "No such mission in the organisations you belong to")
CandidatesLimit = Annotated[int, Parameter(ge=1, le=100, description="Page size")]
CandidatesCursor = Annotated[
    str | None,
    Parameter(max_length=40, pattern=service.CANDIDATES_CURSOR, description="`next_cursor` of the previous page"),
]


class OrganiserInterpretationController(Controller):
    """Staff's interpreters, missions, candidates and offers."""

    path = "/api/organiser"
    tags = ["interpretation"]
    security = [{"bearer": []}]

    @post(
        "/interpreters",
        responses={
            409: problem_response(409, "The address is in this pool already"),
            404: problem_response(404, "No organisation of yours has this slug"),
        },
    )
    async def create_interpreter(
        self,
        data: InterpreterIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> InterpreterCreated:
        """Add an interpreter to an organisation's pool; the answer holds their private link."""
        return await pool.create_interpreter(conn, organiser, data, settings)

    @get("/interpreters")
    async def list_interpreters(self, conn: asyncpg.Connection, organiser: Organiser) -> list[InterpreterOut]:
        """The pools of the organisations you belong to."""
        return await pool.list_interpreters(conn, organiser)

    @patch(
        "/interpreters/{interpreter_id:int}",
        responses={
            404: problem_response(404, "No such interpreter in a pool of yours"),
            409: problem_response(409, "The address is in this pool already"),
        },
    )
    async def update_interpreter(
        self,
        interpreter_id: InterpreterId,
        data: InterpreterPatch,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> InterpreterOut:
        """Change an interpreter of your pool (lists are replaced whole); `active: false` takes them out of it."""
        return await pool.update_interpreter(conn, organiser, interpreter_id, data)

    @post("/interpretation-missions", responses={404: problem_response(404, "No organisation of yours has this slug")})
    async def create_mission(
        self,
        data: MissionIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> MissionOut:
        """Enter a mission (for the agency unless `organisation` says otherwise)."""
        return await service.create_mission(conn, organiser, data, settings)

    @get("/interpretation-missions/{mission_id:int}", responses={404: NOT_YOURS})
    async def get_mission(self, mission_id: MissionId, conn: asyncpg.Connection, organiser: Organiser) -> MissionOut:
        """A mission."""
        return await service.get_mission(conn, organiser, mission_id)

    @patch("/interpretation-missions/{mission_id:int}", responses={404: NOT_YOURS, 409: BUSY})
    async def update_mission(
        self,
        mission_id: MissionId,
        data: MissionPatch,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> MissionOut:
        """Move, re-place, assign (`interpreter`), cancel or close a mission; 409 if the interpreter is busy then."""
        return await service.update_mission(conn, organiser, mission_id, data, settings)

    @post(
        "/interpretation-missions/{mission_id:int}/hours",
        status_code=200,
        responses={404: NOT_YOURS, 409: problem_response(409, "The mission has no interpreter or has not begun")},
    )
    async def record_hours(
        self, mission_id: MissionId, data: HoursIn, conn: asyncpg.Connection, organiser: Organiser
    ) -> MissionOut:
        """Record the time the interpreter actually spent (a correction alike); the mission is then done."""
        return await hours.record_minutes(conn, organiser, mission_id, data.minutes)

    @get("/interpretation-missions/{mission_id:int}/candidates", responses={404: NOT_YOURS})
    async def candidates(
        self,
        mission_id: MissionId,
        conn: asyncpg.Connection,
        organiser: Organiser,
        limit: CandidatesLimit = service.CANDIDATES_PAGE,
        cursor: CandidatesCursor = None,
    ) -> CandidatePage:
        """A page of the interpreters who could take the mission, fewest missions this month first."""
        return await service.candidates(conn, organiser, mission_id, cursor, limit)

    @post("/interpretation-missions/{mission_id:int}/offers", responses={404: NOT_YOURS, 409: BUSY})
    async def offer(
        self,
        mission_id: MissionId,
        data: OffersIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> list[OfferOut]:
        """Offer the mission to interpreters of its pool: the first to accept gets it."""
        return await service.offer(conn, organiser, mission_id, data)

    @get("/interpretation-summary", responses={404: NO_ORGANISATION})
    async def get_summary(
        self,
        conn: asyncpg.Connection,
        organiser: Organiser,
        first: First = None,
        last: Last = None,
        organisation: OrganisationSlug = service.AGENCY,
    ) -> Summary:
        """Held missions and hours by month and year, by language pair, field and requester type."""
        return await summary.summarise(conn, organiser, organisation, first, last)

    @get(
        "/interpretation-summary.xlsx",
        media_type=XLSX,
        responses={404: NO_ORGANISATION},
        response_description="An Excel workbook in the language asked for: totals, then one sheet per dimension",
    )
    async def get_summary_xlsx(
        self,
        conn: asyncpg.Connection,
        organiser: Organiser,
        language: str,
        first: First = None,
        last: Last = None,
        organisation: OrganisationSlug = service.AGENCY,
    ) -> Response[bytes]:
        """The summary as an Excel workbook, what the agency reports under its convention."""
        name, body = summary.workbook(await summary.summarise(conn, organiser, organisation, first, last), language)
        return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})


class PublicInterpretationController(Controller):
    """Partner services asking for an interpreter, and following their request."""

    path = "/api/interpretation-requests"
    tags = ["interpretation"]

    @post(
        "/",
        responses={
            429: problem_response(
                429, "Too many requests from this address or for this email; retry after `Retry-After` seconds"
            )
        },
    )
    async def request(
        self,
        data: RequestIn,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
    ) -> RequestOut:
        """Ask the agency for an interpreter; 201 with the link where the request can be followed."""
        return await public.request(conn, data, settings, client_address(request, settings))

    @get("/{token:str}", responses={404: problem_response(404, "No request has this link")})
    async def status(self, token: Token, conn: asyncpg.Connection) -> RequestStatus:
        """A request's state; the interpreter's first name and phone once one is assigned."""
        return await public.request_status(conn, token)


class InterpreterController(Controller):
    """What an interpreter does through their private link."""

    path = "/api/interpreters/{token:str}"
    tags = ["interpretation"]

    @post(
        "/offers/{offer_id:int}/accept",
        status_code=200,
        responses={
            404: problem_response(404, "No such link, or no such offer of yours"),
            409: problem_response(409, "Someone else took the mission, or you hold another one then"),
        },
    )
    async def accept(self, token: Token, offer_id: OfferId, conn: asyncpg.Connection) -> OfferOut:
        """Accept an offer: the first to accept gets the mission."""
        return await answers.answer_offer(conn, token, offer_id, accept=True)

    @post(
        "/offers/{offer_id:int}/decline",
        status_code=200,
        responses={
            404: problem_response(404, "No such link, or no such offer of yours"),
            409: problem_response(409, "The offer was answered already or the mission taken"),
        },
    )
    async def decline(self, token: Token, offer_id: OfferId, conn: asyncpg.Connection) -> OfferOut:
        """Decline an offer."""
        return await answers.answer_offer(conn, token, offer_id, accept=False)

    @post(
        "/missions/{mission_id:int}/hours",
        status_code=200,
        responses={
            404: problem_response(404, "No such link, or no such mission of yours"),
            409: problem_response(409, "The mission has not begun yet"),
        },
    )
    async def hours(self, token: Token, mission_id: MissionId, data: HoursIn, conn: asyncpg.Connection) -> MissionOut:
        """Record the time actually spent on a mission."""
        return await answers.record_minutes(conn, token, mission_id, data.minutes)
