"""Queue mail in the caller's transaction: sent if it commits, gone if it rolls back."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import asyncpg

# queues one message; a dedupe_key already queued is silently kept as it was
ENQUEUE = """
INSERT INTO outbox (kind, event_id, registration_id, recipient, language, payload, due_at, dedupe_key)
VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()), $8)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""

# the kinds of message the notifier knows how to write
KINDS = (
    "registration_received",
    "registration_confirmed",
    "registration_waitlisted",
    "registration_promoted",
    "hold_expired",
    "reminder",
    "event_changed",
    "event_cancelled",
    "cancellation_acknowledged",
    "organiser_message",
    "registration_exists",
    "series_registration_received",
)


async def enqueue(
    conn: asyncpg.Connection,
    kind: str,
    *,
    event_id: int | None,
    registration_id: int | None = None,
    recipient: str | None = None,
    language: str = "fr",
    payload: dict[str, Any] | None = None,
    due_at: datetime | None = None,
    dedupe_key: str | None = None,
) -> int | None:
    """Write an outbox row; returns its id, or None when the dedupe key was already queued."""
    if kind not in KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    return await conn.fetchval(
        ENQUEUE, kind, event_id, registration_id, recipient, language, payload or {}, due_at, dedupe_key
    )
