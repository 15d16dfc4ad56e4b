"""An organisation's convention domains, and the tag that events, commune requests and missions carry."""

from __future__ import annotations

import asyncpg
import msgspec

from server.errors import Conflict, Forbidden, Invalid, NotFound
from server.organisers.schemas import Organiser
from server.reports import queries as q
from server.reports.schemas import DomainIn, DomainOut, DomainPatch


async def domain_id_for(conn: asyncpg.Connection, organisation_id: int, slug: str | None) -> int | None:
    """The id of the organisation's domain `slug` (None for None); 422 on the field `domain` otherwise."""
    if slug is None:
        return None
    found = await conn.fetchval(q.DOMAIN_ID, organisation_id, slug)
    if found is None:
        raise Invalid.field("domain", f"'{slug[:63]}' is not one of this organisation's convention domains.")
    return found


async def tag_event(conn: asyncpg.Connection, organisation_id: int, event_id: int, slug: str | None) -> None:
    """Tag an event of the organisation with one of its domains (None: none)."""
    await conn.execute(q.TAG_EVENT, organisation_id, event_id, await domain_id_for(conn, organisation_id, slug))


async def tag_commune_request(
    conn: asyncpg.Connection, organisation_id: int, request_id: int, slug: str | None,
) -> None:
    """Tag a commune request of the organisation with one of its domains (None: none)."""
    await conn.execute(q.TAG_COMMUNE_REQUEST, organisation_id, request_id,
                       await domain_id_for(conn, organisation_id, slug))


async def tag_mission(conn: asyncpg.Connection, organisation_id: int, mission_id: int, slug: str | None) -> None:
    """Tag an interpretation mission of the organisation with one of its domains (None: none)."""
    await conn.execute(q.TAG_MISSION, organisation_id, mission_id, await domain_id_for(conn, organisation_id, slug))


async def event_domain(conn: asyncpg.Connection, event_id: int) -> str | None:
    """The slug of the event's domain, if it has one."""
    return await conn.fetchval(q.EVENT_DOMAIN, event_id)


async def commune_request_domain(conn: asyncpg.Connection, request_id: int) -> str | None:
    """The slug of the commune request's domain, if it has one."""
    return await conn.fetchval(q.COMMUNE_REQUEST_DOMAIN, request_id)


async def mission_domain(conn: asyncpg.Connection, mission_id: int) -> str | None:
    """The slug of the mission's domain, if it has one."""
    return await conn.fetchval(q.MISSION_DOMAIN, mission_id)


async def organisation(conn: asyncpg.Connection, who: Organiser, slug: str, *, manage: bool = False) -> asyncpg.Record:
    """The organisation if the person belongs to it (administers it, for `manage`); 404 otherwise, as if missing."""
    row = await conn.fetchrow(q.ORGANISATION, slug)
    if row is None or not who.can_read(row["id"]):
        raise NotFound(f"No organisation '{slug[:63]}' you belong to.")
    if manage and not who.can_manage(row["id"]):
        raise Forbidden("Only the organisation's admins edit its convention domains.")
    return row


async def list_domains(conn: asyncpg.Connection, who: Organiser, slug: str) -> list[DomainOut]:
    """The convention domains of an organisation the person belongs to."""
    org = await organisation(conn, who, slug)
    return [DomainOut(r["slug"], r["name"], r["position"]) for r in await conn.fetch(q.DOMAINS, org["id"])]


async def add_domain(conn: asyncpg.Connection, who: Organiser, slug: str, data: DomainIn) -> DomainOut:
    """A new domain of an organisation the person administers; 409 when the slug is taken."""
    async with conn.transaction():
        org = await organisation(conn, who, slug, manage=True)
        row = await conn.fetchrow(q.INSERT_DOMAIN, org["id"], data.slug, " ".join(data.name.split()), data.position)
        if row is None:
            raise Conflict(f"The organisation has a domain '{data.slug}' already.", code="domain_taken")
        return DomainOut(row["slug"], row["name"], row["position"])


async def change_domain(
    conn: asyncpg.Connection, who: Organiser, slug: str, domain: str, data: DomainPatch,
) -> DomainOut:
    """Rename or move a domain of an organisation the person administers."""
    async with conn.transaction():
        org = await organisation(conn, who, slug, manage=True)
        name = None if data.name is msgspec.UNSET else " ".join(data.name.split())
        position = None if data.position is msgspec.UNSET else data.position
        row = await conn.fetchrow(q.UPDATE_DOMAIN, org["id"], domain, name, position)
        if row is None:
            raise NotFound(f"No domain '{domain[:63]}'.")
        return DomainOut(row["slug"], row["name"], row["position"])


async def remove_domain(conn: asyncpg.Connection, who: Organiser, slug: str, domain: str) -> None:
    """Remove a domain nothing is tagged with; 409 when something is, 404 when there is no such domain."""
    async with conn.transaction():
        org = await organisation(conn, who, slug, manage=True)
        if await conn.fetchval(q.DELETE_DOMAIN, org["id"], domain) is None:
            if await conn.fetchval(q.DOMAIN_ID, org["id"], domain) is None:
                raise NotFound(f"No domain '{domain[:63]}'.")
            raise Conflict("Events, commune requests or missions are tagged with this domain; retag them first.",
                           code="domain_in_use")
