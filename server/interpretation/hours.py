"""Staff record the time an interpreter actually spent on a mission (the interpreter's own link does it too:
answers.py), for the summary the agency reports under its convention."""

from __future__ import annotations

import asyncpg

from server.errors import Conflict, NotFound
from server.interpretation import queries as q
from server.interpretation import trail
from server.interpretation.schemas import MissionOut
from server.interpretation.service import mission_out
from server.organisers.schemas import Organiser


async def record_minutes(conn: asyncpg.Connection, organiser: Organiser, mission_id: int, minutes: int) -> MissionOut:
    """Record the minutes spent on a held mission that has begun, marking it done; a correction is recorded alike."""
    async with conn.transaction():
        row = await conn.fetchrow(q.MISSION_FOR_UPDATE, mission_id)
        if row is None or not organiser.can_write(row["organisation_id"]):
            raise NotFound(f"No mission {mission_id}.")
        if row["interpreter_id"] is None or row["status"] not in ("assigned", "done"):
            raise Conflict("Hours are recorded for a mission with its interpreter.", code="mission_not_held")
        if await conn.fetchval(q.RECORD_MINUTES, mission_id, row["interpreter_id"], minutes) is None:
            raise Conflict("Hours are recorded once the mission has begun.", code="mission_not_begun")
        await trail.record(
            conn,
            organiser,
            "mission_done",
            mission_id,
            row["organisation_id"],
            event_id=row["event_id"],
            minutes=minutes,
            corrected=row["status"] == "done",
        )
    return mission_out(await conn.fetchrow(q.MISSION, mission_id))
