"""Organiser login, logout, accounts and organisations."""

from __future__ import annotations

import asyncpg
from litestar import Controller, Request, get, post
from litestar.params import Dependency

from server.db import connections
from server.errors import Unauthorized
from server.openapi import problem_response
from server.organisers import queries as q
from server.organisers import service
from server.organisers.schemas import (
    LoginIn,
    Organiser,
    OrganisationIn,
    OrganisationOut,
    OrganiserIn,
    OrganiserOut,
    TokenOut,
)
from server.settings import Settings


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

    @post("/login", status_code=200, security=[], responses={401: problem_response(401, "Wrong email or password")})
    async def login(self, data: LoginIn, conn: asyncpg.Connection, settings: Settings) -> TokenOut:
        """Exchange email and password for a bearer token."""
        return await service.login(conn, data.email, data.password, settings.token_ttl)

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
    async def create_organisation(self, data: OrganisationIn, conn: asyncpg.Connection, organiser: Organiser) -> OrganisationOut:
        """Create or rename an organisation (administrators only)."""
        row = await service.save_organisation(conn, organiser, data.slug, data.name)
        return OrganisationOut(row["slug"], row["name"])

    @post("/organisers", status_code=201)
    async def save_organiser(self, data: OrganiserIn, conn: asyncpg.Connection, organiser: Organiser) -> OrganiserOut:
        """Create or update a staff account with roles."""
        return await service.save_organiser(conn, organiser, data)
