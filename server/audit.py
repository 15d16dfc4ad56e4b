"""The audit log: one row per thing a staff member did, written in the transaction of the change."""

from __future__ import annotations

from typing import Any, Protocol

import asyncpg


class Actor(Protocol):
    """Who did it: an organiser or a staff member (server/organisers/schemas.py)."""

    id: int | None
    email: str


INSERT_AUDIT = """
INSERT INTO audit_log (actor_id, actor_email, action, organisation_id, event_id, detail)
VALUES ($1, $2, $3, $4, $5, $6)
"""

# the actions written, as the audit page names them (server/backoffice/labels.py)
ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_out_everywhere",
    "password_reset_asked",
    "password_set",
    "person_invited",
    "role_changed",
    "person_removed",
    "event_created",
    "event_changed",
    "event_published",
    "event_cancelled",
    "export",
    "message_sent",
    "attendance",
    "interpreter_changed",
    "registration_added",
    "registration_cancelled",
    "registration_confirmed",
    "registration_promoted",
    "mail_resent",
    # subsidy requests (server/subsidies)
    "subsidy_created",
    "subsidy_saved",
    "subsidy_submitted",
    "subsidy_document_added",
    "subsidy_document_removed",
    "subsidy_question",
    "subsidy_answer",
    "subsidy_decided",
    "subsidy_report",
    "subsidy_closed",
    "subsidy_themes_changed",
    "subsidy_export",
    "organisation_kind_set",
    "reviewer_set",
    # communes' requests (server/communes)
    "commune_request_outcome",
    "practices_export",
    # interpretation: the pool, the missions (server/interpretation/trail.py)
    "interpreter_added",
    "mission_created",
    "mission_offered",
    "mission_assigned",
    "mission_unassigned",
    "mission_moved",
    "mission_changed",
    "mission_cancelled",
    "mission_done",
)


async def record(
    conn: asyncpg.Connection,
    actor: Actor | None,
    action: str,
    *,
    organisation_id: int | None = None,
    event_id: int | None = None,
    detail: dict[str, Any] | None = None,
    actor_id: int | None = None,
    actor_email: str = "",
) -> None:
    """Write one audit row (never a password or a token in `detail`)."""
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    await conn.execute(
        INSERT_AUDIT,
        actor.id if actor and actor.id else actor_id,
        actor.email if actor else actor_email,
        action,
        organisation_id,
        event_id,
        detail or {},
    )
