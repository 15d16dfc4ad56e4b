"""What an interpreter does through their private link: answer an offer (the first to accept gets the
mission), record the time a mission took."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg

from server.errors import Conflict, NotFound
from server.interpretation import queries as q
from server.interpretation.notices import remind, tell
from server.interpretation.schemas import MissionOut, OfferOut
from server.interpretation.service import Taken, collision, mission_out
from server.registrations.tokens import hash_token


async def interpreter_for_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record:
    """The interpreter of a private link, or 404."""
    row = await conn.fetchrow(q.INTERPRETER_BY_TOKEN, hash_token(token))
    if row is None:
        raise NotFound("No interpreter has this link.")
    return row


async def answer_offer(conn: asyncpg.Connection, token: str, offer_id: int, accept: bool) -> OfferOut:
    """Accept (the first to accept gets the mission; 409 when taken or busy then) or decline an offer."""
    async with conn.transaction():
        interpreter = await interpreter_for_token(conn, token)
        mission_id = await conn.fetchval(q.OFFER_MISSION, offer_id, interpreter["id"])
        if mission_id is None:
            raise NotFound(f"No offer {offer_id} of yours.")
        # the mission's lock, taken before any offer's, orders the answers to one mission: the first
        # to accept gets it (the winner then updates the others' offers, which nobody holds)
        mission = await conn.fetchrow(q.MISSION_FOR_UPDATE, mission_id)
        offer_row = await conn.fetchrow(q.OFFER_FOR_UPDATE, offer_id, interpreter["id"])
        if offer_row["status"] != "offered":
            raise Taken(f"This offer is {offer_row['status']}.", code=f"offer_{offer_row['status']}")
        if accept and offer_row["answer_by"] <= datetime.now(UTC):
            # past its deadline even if the housekeeping job has not expired it yet
            raise Taken("This offer is expired.", code="offer_expired")
        if not accept:
            await conn.execute(q.ANSWER_OFFER, offer_id, "declined")
            return OfferOut(offer_id, mission["id"], interpreter["id"], "declined")
        if mission["status"] not in ("requested", "offered"):
            raise Taken("Someone else took this mission.", code="offer_taken")
        try:
            async with conn.transaction():
                await conn.execute(
                    q.UPDATE_MISSION,
                    mission["id"],
                    mission["starts_at"],
                    mission["ends_at"],
                    mission["mode"],
                    mission["commune"],
                    mission["address"],
                    mission["notes"],
                    mission["urgency"],
                    "assigned",
                    interpreter["id"],
                    0,
                )
        except asyncpg.ExclusionViolationError as exc:
            raise collision(exc) from None
        await conn.execute(q.ANSWER_OFFER, offer_id, "accepted")
        for other in await conn.fetch(q.TAKE_OTHER_OFFERS, mission["id"], offer_id):
            await tell(conn, "interpretation_offer_taken", mission["id"], interpreter=other["interpreter_id"])
        await tell(conn, "interpretation_assigned", mission["id"], interpreter=interpreter["id"])
        await tell(conn, "interpretation_assigned", mission["id"])
        await remind(conn, mission["id"])
    return OfferOut(offer_id, mission["id"], interpreter["id"], "accepted")


async def record_minutes(conn: asyncpg.Connection, token: str, mission_id: int, minutes: int) -> MissionOut:
    """An interpreter records the time spent on one of their missions, once it has begun."""
    async with conn.transaction():
        interpreter = await interpreter_for_token(conn, token)
        mission = await conn.fetchrow(q.INTERPRETER_MISSION, mission_id, interpreter["id"])
        if mission is None:
            raise NotFound(f"No mission {mission_id} of yours.")
        if await conn.fetchval(q.RECORD_MINUTES, mission_id, interpreter["id"], minutes) is None:
            raise Conflict("Hours are recorded once the mission has begun.", code="mission_not_begun")
        return mission_out(await conn.fetchrow(q.MISSION, mission_id))
