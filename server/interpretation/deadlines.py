"""Offers' deadlines: until when interpreters may accept, and the alert to staff when nobody did."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

import asyncpg

from server.errors import FieldError, Invalid
from server.interpretation import queries as q
from server.outbox import enqueue
from server.settings import Settings

log = logging.getLogger(__name__)

# how long interpreters have to answer when staff do not say
DEFAULT_ANSWER_WINDOW = timedelta(hours=24)
# offers expired per round: a backlog drains over a few rounds rather than in one long transaction
BATCH = 500


def answer_by(asked: datetime | None, starts_at: datetime, now: datetime) -> datetime:
    """The deadline of an offer: the one asked (in the future, not after the start) or a day, capped at the start."""
    if asked is None:
        return min(now + DEFAULT_ANSWER_WINDOW, starts_at)
    if asked <= now:
        raise Invalid(
            "answer_by: The deadline must be in the future.",
            errors=[FieldError("answer_by", "The deadline must be in the future.")],
        )
    if asked > starts_at:
        raise Invalid(
            "answer_by: The deadline cannot come after the mission starts.",
            errors=[FieldError("answer_by", "The deadline cannot come after the mission starts.")],
        )
    return asked


async def alert_unanswered(conn: asyncpg.Connection, settings: Settings) -> int:
    """A housekeeping job: expire offers past their deadline, then alert staff of missions nobody took, once.

    Flagging the mission (`unanswered_at`) and queuing the mails happen in one transaction, and the
    flag is only set where it is unset, so a second notifier copy running the job finds nothing to do;
    the dedupe key keeps it so even if a flag were cleared and set again within one offer round.
    """
    queued = 0
    async with conn.transaction():
        await conn.execute(q.EXPIRE_OFFERS, BATCH)
        for mission in await conn.fetch(q.FLAG_UNANSWERED):
            stamp = int(mission["unanswered_at"].timestamp())
            # the mission as it stands, like every mission mail's payload (server/interpretation/notices.py)
            payload = {
                "mission": mission["id"],
                "to": "staff",
                "starts_at": mission["starts_at"].isoformat(),
                "ends_at": mission["ends_at"].isoformat(),
                "sequence": mission["sequence"],
                "assigned": None,
            }
            for person in await conn.fetch(q.STAFF_OF, mission["organisation_id"]):
                if await enqueue(
                    conn,
                    "interpretation_unanswered",
                    event_id=None,
                    recipient=person["email"],
                    language=person["language"],
                    payload={**payload, "organiser": person["id"]},
                    dedupe_key=f"interpretation-unanswered:{mission['id']}:{stamp}:{person['id']}",
                ):
                    queued += 1
    if queued:
        log.info("interpretation: %d alerts about missions nobody accepted", queued)
    return queued
