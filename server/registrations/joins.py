"""Personal join links of web conferences: following one records the join and leads to the conference.

The conference's own link is given to no one directly: mails, the manage page, the registration's
API answer and the personal feed carry the person's `/j/{token}` link, which checks at each use that
the registration is still confirmed and the event still on.
"""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg

from server.registrations import queries as q
from server.registrations.tokens import scoped_token_id, scoped_token_matches
from server.settings import Settings

# why a join link does not lead to the conference (the page says it in the person's language)
REFUSALS = ("unknown", "cancelled", "expired", "not_confirmed", "event_cancelled", "no_link")


def may_join(status: str, event_status: str, kind: str) -> bool:
    """The join-link rule, for pages, mails and /j/ alike: a confirmed person of a published web conference."""
    return status == "confirmed" and event_status == "published" and kind == "webconference"


@dataclass(frozen=True)
class JoinOutcome:
    """Where a join link leads: the conference (`url`), or a refusal with the person's language if known."""

    url: str | None = None
    refusal: str | None = None
    language: str | None = None


async def follow(conn: asyncpg.Connection, token: str, settings: Settings) -> JoinOutcome:
    """Record a confirmed person's join and give the conference's link, or say why not."""
    registration_id = scoped_token_id(token)
    row = await conn.fetchrow(q.JOIN_TARGET, registration_id) if registration_id is not None else None
    # an erased registration has no nonce any more: its link is unknown like a made-up one
    if row is None or not scoped_token_matches(settings.secret_key, "join", token, row["id"], row["token_nonce"]):
        return JoinOutcome(refusal="unknown")
    lang = row["language"]
    if row["status"] in ("cancelled", "expired"):
        return JoinOutcome(refusal=row["status"], language=lang)
    if row["status"] != "confirmed":
        return JoinOutcome(refusal="not_confirmed", language=lang)
    if row["event_status"] == "cancelled":
        return JoinOutcome(refusal="event_cancelled", language=lang)
    if not may_join(row["status"], row["event_status"], row["kind"]) or not row["join_url"]:
        return JoinOutcome(refusal="no_link", language=lang)
    recorded = await conn.fetchrow(q.RECORD_JOIN, row["id"])
    if recorded is None:  # cancelled between the two statements
        return JoinOutcome(refusal="cancelled", language=lang)
    return JoinOutcome(url=row["join_url"], language=lang)
