"""Thin handlers: registering, the manage token, and the organisers' registration endpoints."""

from __future__ import annotations

from typing import Annotated, Literal

import asyncpg
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import State
from litestar.params import Body, Parameter

from server.db import connections
from server.limits import client_address
from server.openapi import problem_response
from server.organisers.schemas import Organiser
from server.registrations import exports, manage, service
from server.registrations import organiser as staff
from server.registrations.schemas import (
    ATTENDANCE_EXAMPLES,
    BY_HAND_EXAMPLES,
    PATCH_EXAMPLES,
    REGISTRATION_IN_EXAMPLES,
    Attendance,
    AttendanceIn,
    AttendanceOut,
    OrganiserRegistrationOut,
    RegistrationAccepted,
    RegistrationByHandIn,
    RegistrationIn,
    RegistrationOut,
    RegistrationPage,
    RegistrationPatch,
    RegistrationStats,
    Status,
)
from server.registrations.stats import event_stats
from server.settings import Settings
from server.validation import ONE_LINE

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SlugPath = Annotated[str, Parameter(max_length=140, pattern=ONE_LINE, description="The event's slug")]
TokenPath = Annotated[
    str, Parameter(max_length=200, pattern=ONE_LINE, description="The manage token from the registration's email")
]
IdPath = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The registration's id")]
Limit = Annotated[int, Parameter(ge=1, le=1000, description="Page size")]
Cursor = Annotated[
    str | None, Parameter(max_length=30, pattern=ONE_LINE, description="`next_cursor` of the previous page")
]


class PublicRegistrationController(Controller):
    """Registering without an account, and managing a registration through its token."""

    path = "/api"
    tags = ["registrations"]

    @post(
        "/events/{slug:str}/registrations",
        status_code=202,
        responses={
            429: problem_response(
                429, "Too many registrations from this address or for this email; retry after `Retry-After` seconds"
            ),
            # (the handler borrows its connection itself, so the `conn` rule of openapi.py misses it)
            503: problem_response(503),
        },
        description="The same answer whether the address is new or already registered; the email tells the truth. "
        "Refusals carry a `code`: `event_not_found`, `event_cancelled`, `registration_not_open`, "
        "`registration_closed`, `consent_required`, `commune_unknown`, `rate_limited` (with Retry-After), `busy`.",
    )
    async def register(
        self,
        slug: SlugPath,
        data: Annotated[RegistrationIn, Body(examples=REGISTRATION_IN_EXAMPLES)],
        request: Request,
        state: State,
    ) -> RegistrationAccepted:
        """Register for an event, or with `whole_series` for every open date of its series."""
        # No dependency at all: the request borrows a connection only while it needs one, not while
        # it waits for the statement that decides it with others (seats.PUBLIC_SEATS); and the
        # settings come from the app's state, as Litestar resolves two or more dependencies in an
        # anyio task group, a cost this endpoint pays in bursts (litestar#4563).
        settings: Settings = state.settings
        return await service.register(
            connections(state), slug, data, settings, client_ip=client_address(request, settings)
        )

    @get("/registrations/{token:str}")
    async def view(
        self, token: TokenPath, conn: asyncpg.Connection, settings: Settings, language: str
    ) -> RegistrationOut:
        """The registration behind a manage token (`token_unknown` once anonymised or erased)."""
        return await manage.view(conn, token, language, settings)

    @post("/registrations/{token:str}/confirm", status_code=200)
    async def confirm(
        self, token: TokenPath, conn: asyncpg.Connection, settings: Settings, language: str
    ) -> RegistrationOut:
        """Confirm the email address (double opt-in); confirms every pending date of a whole-series request.

        A hold that ran out is given back if a seat is still free (else 409 `hold_expired`).
        """
        return await manage.confirm(conn, token, language, settings)

    @delete("/registrations/{token:str}", status_code=200)
    async def cancel(
        self,
        token: TokenPath,
        conn: asyncpg.Connection,
        settings: Settings,
        language: str,
        whole_series: Annotated[bool, Parameter(description="Cancel every date of the whole-series request")] = False,
    ) -> RegistrationOut:
        """Cancel; the seat goes to the oldest person on the waiting list."""
        return await manage.cancel(conn, token, language, settings, whole_series=whole_series)

    @post("/registrations/{token:str}/erase", status_code=204)
    async def erase(self, token: TokenPath, conn: asyncpg.Connection, settings: Settings) -> None:
        """Erase the person's data (GDPR) from this registration and its whole-series request.

        Seats at events still to come are given up (the waiting list moves up); name, address and
        answers are wiped, queued mails dropped, and the token stops working. Past events keep
        their counts, without anything that names the person.
        """
        await manage.erase(conn, token, settings)


class OrganiserRegistrationController(Controller):
    """The registrations of one's organisations' events."""

    path = "/api/organiser"
    tags = ["organiser"]

    @get("/events/{slug:str}/registrations")
    async def list_registrations(
        self,
        slug: SlugPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        status: Status | None = None,
        attendance: Attendance | None = None,
        limit: Limit = 200,
        cursor: Cursor = None,
    ) -> RegistrationPage:
        """An event's registrations in registration order, a page at a time.

        `joined_at` is the first time the person followed their own join link of a web conference
        (`/j/…`), null if never. The first join also marks the person `present`, unless an organiser
        had set an attendance already; organisers correct it as any attendance (PATCH or `attendance`),
        and later joins never change it again.
        """
        return await staff.list_registrations(
            conn, organiser, slug, status=status, attendance=attendance, limit=limit, cursor=cursor
        )

    @post("/events/{slug:str}/registrations", status_code=201)
    async def add_registration(
        self,
        slug: SlugPath,
        data: Annotated[RegistrationByHandIn, Body(examples=BY_HAND_EXAMPLES)],
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> OrganiserRegistrationOut:
        """Add a person by hand: confirmed if a seat is free, else 409 `event_full` (`waitlist_if_full`: waitlisted)."""
        return await staff.add_registration(conn, organiser, slug, data, settings)

    @get(
        "/events/{slug:str}/registrations.csv",
        media_type="text/csv; charset=utf-8",
        response_description="UTF-8 with BOM; headers and values in the language asked for",
    )
    async def export_csv(
        self,
        slug: SlugPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        language: str,
        delimiter: Annotated[
            Literal["semicolon", "comma"],
            Parameter(description="`semicolon` (default) for Excel with French or German settings; `comma` otherwise"),
        ] = "semicolon",
        status: Status | None = None,
    ) -> Response[bytes]:
        """The registrations as a spreadsheet; no cell can run as a formula."""
        name, body = await exports.export_csv(
            conn, organiser, slug, language, delimiter=";" if delimiter == "semicolon" else ",", status=status
        )
        return Response(
            body,
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get(
        "/events/{slug:str}/registrations.xlsx",
        media_type=XLSX,
        response_description="An Excel workbook; headers and values in the language asked for",
    )
    async def export_xlsx(
        self,
        slug: SlugPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        language: str,
        status: Status | None = None,
    ) -> Response[bytes]:
        """The registrations as an Excel workbook: the CSV's columns, dates as Excel dates in the event's time zone.

        Every text is a string cell, so a name that begins like a formula (`=`, `+`, `-`, `@`) stays text.
        """
        name, body = await exports.export_xlsx(conn, organiser, slug, language, status=status)
        return Response(body, media_type=XLSX, headers={"Content-Disposition": f'attachment; filename="{name}"'})

    @get("/events/{slug:str}/stats")
    async def stats(self, slug: SlugPath, conn: asyncpg.Connection, organiser: Organiser) -> RegistrationStats:
        """Counts by status, attendance, language, commune and interpretation."""
        return await event_stats(conn, organiser, slug)

    @post("/events/{slug:str}/attendance", status_code=200)
    async def mark_attendance(
        self,
        slug: SlugPath,
        data: Annotated[AttendanceIn, Body(examples=ATTENDANCE_EXAMPLES)],
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> AttendanceOut:
        """Mark attendance (`present`, `absent`, `excused`, or null) for many registrations at once; all or nothing."""
        return await staff.mark_attendance(conn, organiser, slug, data)

    @get("/registrations/{registration_id:int}")
    async def get_registration(
        self, registration_id: IdPath, conn: asyncpg.Connection, organiser: Organiser
    ) -> OrganiserRegistrationOut:
        """One registration."""
        return await staff.get_registration(conn, organiser, registration_id)

    @patch("/registrations/{registration_id:int}")
    async def update_registration(
        self,
        registration_id: IdPath,
        data: Annotated[RegistrationPatch, Body(examples=PATCH_EXAMPLES)],
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> OrganiserRegistrationOut:
        """Mark attendance, confirm a pending seat, or correct a person's details."""
        return await staff.update_registration(conn, organiser, registration_id, data, settings)

    @delete("/registrations/{registration_id:int}", status_code=200)
    async def remove_registration(
        self,
        registration_id: IdPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
        notify: Annotated[bool, Parameter(description="Tell the person by email")] = True,
    ) -> OrganiserRegistrationOut:
        """Remove a person (their registration is cancelled); the seat goes to the waiting list."""
        return await staff.remove_registration(conn, organiser, registration_id, settings, notify=notify)
