"""What the back-office reads of the interpretation service: missions by status and date, a mission's offers."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

from server.interpretation import queries as q
from server.interpretation.schemas import CandidatePage
from server.interpretation.service import mission_out, rank, read_mission
from server.organisers.schemas import Organiser

LIST_SIZE = 200


async def list_missions(
    conn: asyncpg.Connection, organiser: Organiser, status: str | None, since: datetime
) -> list[asyncpg.Record]:
    """The missions of the staff member's organisations ending from `since` on, in one status or any, soonest first."""
    return await conn.fetch(
        q.MISSIONS_LIST, organiser.is_admin, list(organiser.roles), status or None, since, LIST_SIZE
    )


async def mission_page(
    conn: asyncpg.Connection, organiser: Organiser, mission_id: int, candidates_after: str | None = None
) -> dict[str, Any]:
    """A mission, a page of its candidates while open, its offers, whether one may offer it; 404 if not theirs."""
    row = await read_mission(conn, organiser, mission_id)
    # the row read once serves the page, the right to change it and the ranking
    ranked = (
        await rank(conn, row, candidates_after)
        if row["status"] in ("requested", "offered")
        else CandidatePage([], None)
    )
    return {
        "mission": mission_out(row),
        "candidates": ranked.items,
        "candidates_after": candidates_after,
        "more_candidates": ranked.next_cursor,
        "offers": await conn.fetch(q.MISSION_OFFERS, mission_id),
        "may_write": organiser.can_write(row["organisation_id"]),
        "event": await conn.fetchrow(q.MISSION_EVENT, mission_id),
    }
