"""Luxembourg's 100 communes: their slugs, their names, and the coming events of each."""

from __future__ import annotations

import re
import unicodedata
from datetime import datetime
from typing import Any

import asyncpg

from server.communes import queries as q
from server.errors import NotFound
from server.settings import Settings
from server.validation import LOCAL_ZONE

# ---------------------------------------------------------------------------- communes and their slugs


def commune_slug(name: str) -> str:
    """A commune's slug: lower-case, accents dropped, every run of other characters a hyphen."""
    bare = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z0-9]+", "-", bare).strip("-")


# Luxembourg's 100 communes by slug; they change only with a migration, so each process reads them once
_COMMUNES: dict[str, str] = {}


async def communes_by_slug(conn: asyncpg.Connection) -> dict[str, str]:
    """{slug: official name} of every commune."""
    if not _COMMUNES:
        _COMMUNES.update({commune_slug(row["name"]): row["name"] for row in await conn.fetch(q.COMMUNE_NAMES)})
    return _COMMUNES


async def commune_name(conn: asyncpg.Connection, key: str) -> str | None:
    """The official name of the commune given by its slug or its name, or None."""
    return (await communes_by_slug(conn)).get(commune_slug(key))


async def coming_events(
    conn: asyncpg.Connection, slug: str, lang: str, settings: Settings, limit: int = 200
) -> tuple[str, list[Any]]:
    """(commune name, its coming public events in `lang`): held there or aimed at it; 404 for an unknown slug."""
    from server.events.views import to_public

    name = (await communes_by_slug(conn)).get(slug)
    if name is None or commune_slug(name) != slug:
        raise NotFound("No commune of Luxembourg has this slug.")
    now = datetime.now(LOCAL_ZONE)
    return name, [to_public(row, lang, settings, now) for row in await conn.fetch(q.COMING_EVENTS, name, limit)]
