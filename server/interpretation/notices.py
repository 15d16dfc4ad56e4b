"""What interpretation queues for mail, in the caller's transaction: a mission's news and its reminders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg

from server.interpretation import queries as q
from server.outbox import enqueue

REMINDER_BEFORE = timedelta(days=1)


async def tell(
    conn: asyncpg.Connection,
    kind: str,
    mission_id: int,
    *,
    interpreter: int | None = None,
    due_at: datetime | None = None,
    dedupe_key: str | None = None,
    answer_by: datetime | None = None,
) -> None:
    """Queue a mission's mail in the caller's transaction, to an interpreter or else to the requester (if any).

    The row keeps the mission as it stands now (time, SEQUENCE, who holds it), so that the mail says
    what was true when it was queued even if the mission moves again before it is sent.
    """
    now = await conn.fetchrow(q.MISSION_FOR_MAIL, mission_id)
    if not interpreter and not now["requester_email"]:
        return  # a request staff took down without an email: they keep the requester informed themselves
    payload: dict[str, Any] = {
        "mission": mission_id,
        "to": "interpreter" if interpreter else "requester",
        "starts_at": now["starts_at"].isoformat(),
        "ends_at": now["ends_at"].isoformat(),
        "sequence": now["sequence"],
        "assigned": now["interpreter_id"],
    }
    if interpreter:
        payload["interpreter"] = interpreter
    if answer_by is not None:  # an offer's deadline
        payload["answer_by"] = answer_by.isoformat()
    await enqueue(conn, kind, event_id=None, payload=payload, due_at=due_at, dedupe_key=dedupe_key)


async def remind(conn: asyncpg.Connection, mission_id: int) -> None:
    """Queue the reminders of the day before for the interpreter and the requester (none if that is past).

    Each is for one version of the mission (its SEQUENCE): one that moved since is skipped when due,
    and the move queues new ones.
    """
    now = await conn.fetchrow(q.MISSION_FOR_MAIL, mission_id)
    due_at = now["starts_at"] - REMINDER_BEFORE
    if now["interpreter_id"] is None or due_at <= datetime.now(UTC):
        return
    key = f"interpretation-reminder:{mission_id}:{now['sequence']}:{now['interpreter_id']}"
    await tell(
        conn,
        "interpretation_reminder",
        mission_id,
        interpreter=now["interpreter_id"],
        due_at=due_at,
        dedupe_key=f"{key}:interpreter",
    )
    await tell(conn, "interpretation_reminder", mission_id, due_at=due_at, dedupe_key=f"{key}:requester")
