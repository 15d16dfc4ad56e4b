"""An organisation's convention domains (tagging rows with them: server/convention_domains.py)."""

from __future__ import annotations

import asyncpg
import msgspec

from server.convention_domains import DOMAIN_ID
from server.errors import Conflict, Forbidden, NotFound
from server.organisers.schemas import Organiser
from server.reports import queries as q
from server.reports.schemas import DomainIn, DomainOut, DomainPatch


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
    conn: asyncpg.Connection,
    who: Organiser,
    slug: str,
    domain: str,
    data: DomainPatch,
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
            if await conn.fetchval(DOMAIN_ID, org["id"], domain) is None:
                raise NotFound(f"No domain '{domain[:63]}'.")
            raise Conflict(
                "Events, commune requests or missions are tagged with this domain; retag them first.",
                code="domain_in_use",
            )
