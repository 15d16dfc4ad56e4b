"""Tagging events, commune requests and missions with one of their organisation's convention domains."""

from __future__ import annotations

import asyncpg

from server.errors import Invalid

# here, below the domains, so that events, communes and interpretation tag their rows without
# importing server.reports, which reads them (the domains themselves are edited in server/reports)

# the id of the domain with slug $2 of organisation $1
DOMAIN_ID = "SELECT id FROM organisation_domains WHERE organisation_id = $1 AND slug = $2"

# tags an event, a commune request or a mission of organisation $1 with domain $3 (null: none)
TAG_EVENT = "UPDATE events SET domain_id = $3 WHERE organisation_id = $1 AND id = $2"
TAG_COMMUNE_REQUEST = "UPDATE commune_requests SET domain_id = $3 WHERE organisation_id = $1 AND id = $2"
TAG_MISSION = "UPDATE interpretation_missions SET domain_id = $3 WHERE organisation_id = $1 AND id = $2"


async def domain_id_for(conn: asyncpg.Connection, organisation_id: int, slug: str | None) -> int | None:
    """The id of the organisation's domain `slug` (None for None); 422 on the field `domain` otherwise."""
    if slug is None:
        return None
    found = await conn.fetchval(DOMAIN_ID, organisation_id, slug)
    if found is None:
        raise Invalid.field("domain", f"'{slug[:63]}' is not one of this organisation's convention domains.")
    return found


async def tag_event(conn: asyncpg.Connection, organisation_id: int, event_id: int, slug: str | None) -> None:
    """Tag an event of the organisation with one of its domains (None: none)."""
    await conn.execute(TAG_EVENT, organisation_id, event_id, await domain_id_for(conn, organisation_id, slug))


async def tag_commune_request(
    conn: asyncpg.Connection,
    organisation_id: int,
    request_id: int,
    slug: str | None,
) -> None:
    """Tag a commune request of the organisation with one of its domains (None: none)."""
    await conn.execute(
        TAG_COMMUNE_REQUEST, organisation_id, request_id, await domain_id_for(conn, organisation_id, slug)
    )


async def tag_mission(conn: asyncpg.Connection, organisation_id: int, mission_id: int, slug: str | None) -> None:
    """Tag an interpretation mission of the organisation with one of its domains (None: none)."""
    await conn.execute(TAG_MISSION, organisation_id, mission_id, await domain_id_for(conn, organisation_id, slug))
