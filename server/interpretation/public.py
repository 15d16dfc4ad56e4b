"""A partner service's request for an interpreter and what its requester may see of it."""

from __future__ import annotations

import asyncpg

from server.errors import NotFound, ServiceUnavailable, TooManyRequests
from server.interpretation import queries as q
from server.interpretation.links import status_url
from server.interpretation.schemas import AssignedInterpreter, RequestIn, RequestOut, RequestStatus
from server.interpretation.service import AGENCY, HELD, insert_mission
from server.limits import client_key, count_attempts, digest
from server.registrations.tokens import hash_token
from server.settings import Settings


async def request(
    conn: asyncpg.Connection,
    data: RequestIn,
    settings: Settings,
    client_ip: str,
) -> RequestOut:
    """A partner service's request, stored first for the agency's pool; the requester gets a confirmation."""
    keys = [client_key(client_ip), f"interpretation:{digest(settings, data.requester.email)}"]
    limits = [settings.rate_limit_per_address, settings.rate_limit_per_email]
    async with conn.transaction():
        if retry_after := await count_attempts(conn, keys, limits, settings.rate_limit_window):
            raise TooManyRequests("Too many requests; retry later.", headers={"Retry-After": str(retry_after)})
    async with conn.transaction():
        organisation_id = await conn.fetchval(q.ORGANISATION_ID, AGENCY)
        if organisation_id is None:
            raise ServiceUnavailable("The interpretation service is not set up yet.")
        mission_id, token = await insert_mission(conn, organisation_id, data, settings)
    return RequestOut(mission_id, "requested", status_url(settings.base_url, token))


async def request_status(conn: asyncpg.Connection, token: str) -> RequestStatus:
    """What a requester may know of their request: its state, and who comes once someone is assigned."""
    row = await conn.fetchrow(q.MISSION_BY_STATUS, hash_token(token))
    if row is None:
        raise NotFound("No request has this link.")
    interpreter = None
    if row["status"] in HELD:
        person = await conn.fetchrow(q.INTERPRETER_FOR_MAIL, row["interpreter_id"])
        interpreter = AssignedInterpreter(person["name"].split()[0], person["phone"])
    return RequestStatus(
        row["id"],
        row["status"],
        row["starts_at"],
        row["ends_at"],
        row["from_language"],
        row["to_language"],
        interpreter,
    )
