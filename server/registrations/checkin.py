"""Check-in at the door from a registration's QR code: for the back-office's signed-in organisers.

The QR on every confirmation mail and manage page holds `/organiser/checkin/{token}`
(tokens.checkin_url). The back-office's page at that URL (server/backoffice/) signs the person in
first (a stranger is sent to the sign-in page and nothing is read), shows who and which event
(`preview`), and marks the person present (`check_in`) only on the POST of its form: a GET or a
cross-site link changes nothing.
"""

from __future__ import annotations

import asyncpg
import msgspec

from server.errors import Conflict, Forbidden, NotFound
from server.i18n import localise
from server.organisers.schemas import Organiser
from server.registrations import queries as q
from server.registrations.tokens import scoped_token_id, scoped_token_matches
from server.settings import Settings


class CheckedIn(msgspec.Struct, kw_only=True):
    """Who was marked present at which event, for the page the organiser's phone shows."""

    registration_id: int
    name: str | None
    event: str
    event_title: str
    already_present: bool


class CheckinUnknown(NotFound):
    code = "checkin_unknown"


class NotCheckable(Conflict):
    code = "registration_not_checkable"


async def _target(conn: asyncpg.Connection, organiser: Organiser, token: str, settings: Settings) -> asyncpg.Record:
    """The registration behind a check-in token if the organiser may mark it present; else the refusals below."""
    registration_id = scoped_token_id(token)
    row = await conn.fetchrow(q.CHECKIN_TARGET, registration_id) if registration_id is not None else None
    if (
        row is None
        or not scoped_token_matches(settings.secret_key, "checkin", token, row["id"], row["token_nonce"])
        or not organiser.can_read(row["organisation_id"])
    ):
        raise CheckinUnknown("This check-in code is not valid (any more).")
    if not organiser.can_write(row["organisation_id"]):
        raise Forbidden("Your role in this organisation does not allow changes.")
    if row["status"] not in ("pending", "confirmed"):
        raise NotCheckable(f"This registration is {row['status']}; it cannot be marked present.")
    return row


def _checked_in(row: asyncpg.Record, lang: str, already_present: bool) -> CheckedIn:
    title, _ = localise(row["event_title"], lang, list(row["event_languages"]))
    return CheckedIn(
        registration_id=row["id"],
        name=row["name"],
        event=row["event_slug"],
        event_title=title,
        already_present=already_present,
    )


async def preview(
    conn: asyncpg.Connection,
    organiser: Organiser,
    token: str,
    lang: str,
    settings: Settings,
) -> CheckedIn:
    """Who a check-in token would mark present, with the same refusals as `check_in`, changing nothing."""
    row = await _target(conn, organiser, token, settings)
    return _checked_in(row, lang, row["attendance"] == "present")


async def check_in(
    conn: asyncpg.Connection,
    organiser: Organiser,
    token: str,
    lang: str,
    settings: Settings,
) -> CheckedIn:
    """Mark the person behind a check-in token present.

    Only an organiser who may write to the event's organisation: anyone else learns nothing (a
    made-up token, an erased registration and another organisation's registration are the same 404),
    a viewer of the organisation gets 403. A cancelled, expired or waitlisted registration is a 409
    and changes nothing; a second scan changes nothing and says so.
    """
    row = await _target(conn, organiser, token, settings)
    marked = await conn.fetchval(q.MARK_PRESENT, row["id"])
    return _checked_in(row, lang, marked is None)
