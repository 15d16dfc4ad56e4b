"""What came of a commune's request: its outcome, recorded when it is marked done, and its good practices."""

from __future__ import annotations

from datetime import datetime

import asyncpg
import msgspec

from server import audit
from server.communes import queries as q
from server.communes.schemas import OutcomeIn, OutcomeOut, PracticeOut
from server.errors import FieldError, Invalid
from server.organisers.schemas import Organiser
from server.validation import LOCAL_ZONE


def clean_tags(tags: list[str]) -> list[str]:
    """Tags lower-cased, spaces folded, each once, in the order given."""
    return list(dict.fromkeys(" ".join(tag.split()).lower() for tag in tags if tag.strip()))


async def held(conn: asyncpg.Connection, request_id: int) -> asyncpg.Record:
    """(events, present, last_start) of the published events the request led to."""
    return await conn.fetchrow(q.HELD_ATTENDANCE, request_id)


def check_outcome(data: OutcomeIn, counted: asyncpg.Record) -> int:
    """The attendance to keep; 422 naming `outcome.…` for what the types cannot say."""
    errors: list[FieldError] = []
    if data.follow_up and not data.follow_up_text.strip():
        errors.append(FieldError("outcome.follow_up_text", "Say what follow-up the commune wants."))
    attendance = data.attendance
    if attendance is None:
        if counted["events"]:
            attendance = counted["present"]
        else:
            errors.append(
                FieldError("outcome.attendance", "No session held is linked to this request: say how many came.")
            )
    if errors:
        raise Invalid("The outcome is incomplete.", errors=errors)
    return attendance  # type: ignore[return-value]


async def record_outcome(
    conn: asyncpg.Connection, organiser: Organiser, row: asyncpg.Record, data: OutcomeIn, *, closing: bool
) -> None:
    """Write (or replace) the outcome and practices of a locked request being (or already) done; audited."""
    counted = await held(conn, row["id"])
    attendance = check_outcome(data, counted)
    last_start: datetime | None = counted["last_start"]
    held_on = (last_start or datetime.now(LOCAL_ZONE)).astimezone(LOCAL_ZONE).date()
    replaced = await conn.fetchval(
        q.UPSERT_OUTCOME,
        row["id"],
        attendance,
        data.attendance is None,
        data.discussed.strip(),
        data.follow_up,
        data.follow_up_text.strip() if data.follow_up else "",
        held_on,
        organiser.id,
    )
    await conn.execute(q.DELETE_PRACTICES, row["id"])
    await conn.executemany(
        q.INSERT_PRACTICE,
        [
            (
                row["id"],
                row["organisation_id"],
                row["commune"],
                held_on,
                position,
                practice.title.strip(),
                practice.description.strip(),
                clean_tags(practice.tags),
            )
            for position, practice in enumerate(data.practices)
        ],
    )
    await audit.record(
        conn,
        organiser,
        "commune_request_outcome",
        organisation_id=row["organisation_id"],
        detail={
            "request": row["id"],
            "closed": closing,
            "replaced": bool(replaced),
            "attendance": attendance,
            "practices": len(data.practices),
        },
    )


async def outcome_of(conn: asyncpg.Connection, request_id: int) -> OutcomeOut | None:
    """A request's outcome with its practices, or None before it is done."""
    row = await conn.fetchrow(q.OUTCOME, request_id)
    if row is None:
        return None
    practices = [
        msgspec.convert({**dict(p), "tags": list(p["tags"])}, PracticeOut)
        for p in await conn.fetch(q.PRACTICES_OF_REQUEST, request_id)
    ]
    return OutcomeOut(
        attendance=row["attendance"],
        attendance_counted=row["attendance_counted"],
        discussed=row["discussed"],
        follow_up=row["follow_up"],
        follow_up_text=row["follow_up_text"],
        held_on=row["held_on"],
        practices=practices,
        updated_at=row["updated_at"],
    )
