"""Organiser login, logout, accounts and organisations."""

from __future__ import annotations

from typing import Annotated

import asyncpg
from litestar import Controller, Request, delete, get, post
from litestar.params import Parameter

from server.db import connections
from server.errors import Unauthorized
from server.limits import client_address
from server.openapi import problem_response
from server.organisers import queries as q
from server.organisers import service
from server.organisers.schemas import (
    InvitationIn,
    InvitationOut,
    LoginIn,
    OrganisationIn,
    OrganisationOut,
    Organiser,
    OrganiserIn,
    OrganiserOut,
    PasswordIn,
    TokenOut,
)
from server.settings import Settings

SIGN_IN_LIMITED = problem_response(
    429,
    "Too many failed attempts from this address or for this account; retry after "
    "`Retry-After` seconds (the same answer whether or not the account exists)",
)
OUT_OF_REACH = problem_response(
    403,
    "The organisation is not one you administer, or the account is an administrator's "
    "or has roles in organisations you do not administer (only an administrator may "
    "change it)",
)
UNKNOWN_ORGANISATION = problem_response(404, "A membership names an organisation that does not exist")
OrganisationSlug = Annotated[str, Parameter(max_length=63, description="The organisation's slug")]
OrganiserId = Annotated[int, Parameter(ge=1, le=2**63 - 1, description="The person's account id")]


def bearer_token(request: Request) -> str:
    """The token of an `Authorization: Bearer` header, or 401."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send `Authorization: Bearer <token>`.", headers={"WWW-Authenticate": "Bearer"})
    return token.strip()


# where authenticate() leaves the staff member it found, for the dependency of the same request
_ORGANISER_KEY = "zesummen.organiser"


async def authenticate(request: Request) -> Organiser:
    """The staff member behind the bearer token, or 401; the gate (server/transport.py) asks before the body."""
    organiser = request.scope.get(_ORGANISER_KEY)
    if organiser is None:
        token = bearer_token(request)
        async with connections(request.app.state)() as conn:
            organiser = await service.organiser_for_token(conn, token)
        request.scope[_ORGANISER_KEY] = organiser  # type: ignore[typeddict-unknown-key]
    return organiser


async def provide_organiser(request: Request, conn: asyncpg.Connection) -> Organiser:
    """The `organiser` dependency: the staff member the gate authenticated (or looks up now)."""
    organiser = request.scope.get(_ORGANISER_KEY)
    return organiser if organiser is not None else await service.organiser_for_token(conn, bearer_token(request))


class OrganiserAccountController(Controller):
    """Sessions, accounts and organisations."""

    path = "/api/organiser"
    tags = ["organiser"]
    security = [{"bearer": []}]

    @post(
        "/login",
        status_code=200,
        security=[],
        responses={401: problem_response(401, "Wrong email or password"), 429: SIGN_IN_LIMITED},
    )
    async def login(self, data: LoginIn, request: Request, conn: asyncpg.Connection, settings: Settings) -> TokenOut:
        """Exchange email and password for a bearer token; failures are limited per account and per address."""
        return await service.login(conn, data.email, data.password, settings, client_address(request, settings))

    @post("/logout", status_code=204)
    async def logout(self, request: Request, conn: asyncpg.Connection, organiser: Organiser) -> None:
        """Revoke the token of this request."""
        await service.logout(conn, bearer_token(request))

    @get("/me")
    async def me(self, organiser: Organiser) -> Organiser:
        """Who the token belongs to and their roles by organisation id."""
        return organiser

    @get("/organisations")
    async def organisations(self, conn: asyncpg.Connection, organiser: Organiser) -> list[OrganisationOut]:
        """The organisations this organiser can read."""
        rows = await conn.fetch(q.ALL_ORGANISATIONS)
        return [OrganisationOut(r["slug"], r["name"]) for r in rows if organiser.can_read(r["id"])]

    @post("/organisations", status_code=201)
    async def create_organisation(
        self, data: OrganisationIn, conn: asyncpg.Connection, organiser: Organiser
    ) -> OrganisationOut:
        """Create or rename an organisation (administrators only)."""
        row = await service.save_organisation(conn, organiser, data.slug, data.name)
        return OrganisationOut(row["slug"], row["name"])

    @post("/organisers", status_code=201, responses={403: OUT_OF_REACH, 404: UNKNOWN_ORGANISATION})
    async def save_organiser(
        self,
        data: OrganiserIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> OrganiserOut:
        """Invite a person with roles (as `/invitations`, mail in French); a `password` is refused with 422."""
        return await service.save_organiser(conn, organiser, data, settings)

    @post("/invitations", status_code=201, responses={403: OUT_OF_REACH, 404: UNKNOWN_ORGANISATION})
    async def invite(
        self,
        data: InvitationIn,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> InvitationOut:
        """Give a person roles in organisations you administer; a new account's owner gets a mail with a
        single-use link (48 hours) to choose a password. An existing account only gains the roles."""
        return await service.invite(conn, organiser, data, settings)

    @delete("/organisations/{slug:str}/members/{organiser_id:int}", status_code=204, responses={403: OUT_OF_REACH})
    async def remove_member(
        self,
        slug: OrganisationSlug,
        organiser_id: OrganiserId,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> None:
        """Take a person's role in an organisation you administer away."""
        await service.remove_member(conn, organiser, slug, organiser_id)

    @post(
        "/password",
        status_code=204,
        responses={
            422: problem_response(422, "A field is wrong, or `current_password` is not the current password"),
            429: SIGN_IN_LIMITED,
        },
    )
    async def change_password(
        self,
        data: PasswordIn,
        request: Request,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> None:
        """Set your own password (at least 12 characters); every other token of your account is revoked."""
        await service.change_password(
            conn,
            organiser,
            bearer_token(request),
            data.current_password,
            data.new_password,
            settings,
            client_address(request, settings),
        )
