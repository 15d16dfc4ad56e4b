"""The audit rows of staff's writes to the interpretation service (its missions, an interpreter added to a pool),
written in the transaction of the change."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import asyncpg
from msgspec import UNSET

from server import audit
from server.interpretation.schemas import MissionPatch
from server.organisers.schemas import Organiser


async def record(
    conn: asyncpg.Connection,
    organiser: Organiser,
    action: str,
    mission_id: int,
    organisation_id: int,
    *,
    event_id: int | None = None,
    **detail: Any,
) -> None:
    """One audit row about a mission, under its organisation and event (its id in `detail`, no personal data)."""
    await audit.record(
        conn,
        organiser,
        action,
        organisation_id=organisation_id,
        event_id=event_id,
        detail={"mission": mission_id, **detail},
    )


def change_action(before: Mapping[str, Any], status: str, interpreter_id: int | None, moved: bool) -> str:
    """What a change of a mission amounts to, the weightiest first: cancelled, done, (un)assigned, moved."""
    if status != before["status"] and status in ("cancelled", "done"):
        return f"mission_{status}"
    if interpreter_id != before["interpreter_id"]:
        return "mission_assigned" if interpreter_id is not None else "mission_unassigned"
    return "mission_moved" if moved else "mission_changed"


async def record_change(
    conn: asyncpg.Connection,
    organiser: Organiser,
    before: Mapping[str, Any],
    data: MissionPatch,
    status: str,
    interpreter_id: int | None,
    moved: bool,
) -> None:
    """The audit row of a staff member's change to a mission: what they sent and what it made of the mission."""
    fields = [name for name in data.__struct_fields__ if getattr(data, name) is not UNSET]
    await record(
        conn,
        organiser,
        change_action(before, status, interpreter_id, moved),
        before["id"],
        before["organisation_id"],
        event_id=before["event_id"],
        fields=fields,
        status=status,
        interpreter=interpreter_id,
        moved=moved,
    )


async def record_offers(
    conn: asyncpg.Connection, organiser: Organiser, mission: Mapping[str, Any], offers: list[asyncpg.Record]
) -> None:
    """The audit row of a mission offered to interpreters: to whom (their ids)."""
    await record(
        conn,
        organiser,
        "mission_offered",
        mission["id"],
        mission["organisation_id"],
        event_id=mission["event_id"],
        to=[made["interpreter"] for made in offers],
    )


async def record_added(
    conn: asyncpg.Connection, organiser: Organiser, organisation_id: int, interpreter_id: int
) -> None:
    """The audit row of an interpreter added to an organisation's pool (changes are audited by pool.py)."""
    await audit.record(
        conn, organiser, "interpreter_added", organisation_id=organisation_id, detail={"interpreter": interpreter_id}
    )
