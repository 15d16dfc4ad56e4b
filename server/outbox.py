"""Queue mail in the caller's transaction: sent if it commits, gone if it rolls back."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from email.utils import parseaddr
from typing import Any

import asyncpg

# queues one message; a dedupe_key already queued is silently kept as it was
ENQUEUE = """
INSERT INTO outbox (kind, event_id, registration_id, recipient, language, payload, due_at, dedupe_key)
VALUES ($1, $2, $3, $4, $5, $6, coalesce($7, now()), $8)
ON CONFLICT (dedupe_key) DO NOTHING
RETURNING id
"""

# whether {recipient} already had {cap} mails of the kinds {kinds} queued in the last 24 hours (a NULL
# cap: never); shared by every statement that queues a capped mail
CAP_REACHED = """
SELECT count(*) >= {cap} AS reached FROM outbox
WHERE recipient = {recipient} AND created_at > now() - interval '1 day' AND status <> 'skipped' AND kind = ANY({kinds})
"""
CAP_REASON = "daily mail cap for this address reached"

# ENQUEUE, unless the recipient is over the cap ($9 mails of the kinds $10): then the row is still
# written, as `skipped` with the reason, so that nothing vanishes silently
ENQUEUE_CAPPED = f"""
INSERT INTO outbox (kind, event_id, registration_id, recipient, language, payload, due_at, dedupe_key,
                    status, last_error)
SELECT $1, $2, $3, $4, $5, $6, coalesce($7, now()), $8,
       CASE WHEN cap.reached THEN 'skipped' ELSE 'queued' END,
       CASE WHEN cap.reached THEN '{CAP_REASON}' END
FROM ({CAP_REACHED.format(recipient="$4", cap="$9", kinds="$10::text[]")}) AS cap
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
# the kinds about staff accounts rather than registrations (account_mails.py writes them)
ACCOUNT_KINDS = ("organiser_invitation", "organiser_password_reset")
# mail about interpretation missions (server/interpretation/mails.py): no event, no registration
INTERPRETATION_KINDS = (
    "interpretation_request_received",
    "interpretation_offered",
    "interpretation_offer_taken",
    "interpretation_assigned",
    "interpretation_changed",
    "interpretation_cancelled",
    "interpretation_reminder",
    "interpretation_unanswered",
)
# the kinds about communes' requests to the agency (server/communes/mails.py writes them)
COMMUNE_KINDS = (
    "commune_request_received",
    "commune_request_arrived",
    "commune_request_message",
    "commune_request_answered",
    "commune_request_scheduled",
    "commune_request_reminder",
)
# the kinds about subsidy requests (server/subsidies/mails.py writes them)
SUBSIDY_KINDS = ("subsidy_question", "subsidy_decision", "subsidy_deadline_reminder")


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
    daily_cap: int | None = None,
    capped_kinds: Sequence[str] = (),
) -> int | None:
    """Write an outbox row; returns its id, or None when the dedupe key was already queued.

    With `daily_cap`, the row is written as `skipped` once the recipient had that many mails of
    `capped_kinds` queued in the last 24 hours (the registrations' abuse rule).
    """
    if kind not in KINDS + ACCOUNT_KINDS + INTERPRETATION_KINDS + COMMUNE_KINDS + SUBSIDY_KINDS:
        raise ValueError(f"unknown message kind {kind!r}")
    args = (kind, event_id, registration_id, recipient, language, payload or {}, due_at, dedupe_key)
    if daily_cap is None or recipient is None:
        return await conn.fetchval(ENQUEUE, *args)
    return await conn.fetchval(ENQUEUE_CAPPED, *args, daily_cap, list(capped_kinds))


def message_id(outbox_id: int, mail_from: str) -> str:
    """The Message-ID of an outbox row's mail: the same for every copy, so a duplicate is recognisable."""
    domain = parseaddr(mail_from)[1].rpartition("@")[2] or "zesummen.lu"
    return f"<outbox.{outbox_id}@{domain}>"
