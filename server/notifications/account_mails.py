"""Mail about staff accounts (the invitation to choose a password, a reset link), in the recipient's language.

One template per format (`templates/<kind>_to_invitee.{subject.txt,txt,html}.j2`), rendered like
every other mail by `mails.render`. The link is derived again at
send time from the invitation's nonce; an invitation spent or expired since is not sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import asyncpg
import msgspec

from server import mails
from server.backoffice import queries as bo_q
from server.backoffice.service import reset_token, reset_url
from server.i18n import DEFAULT_LANGUAGE, LANGUAGES, format_day, format_time
from server.organisers import queries as org_q
from server.organisers.service import invitation_token, invitation_url
from server.settings import Settings

# invitation deadlines are written in the agency's time zone
ZONE = "Europe/Luxembourg"


async def build_delivery(
    conn: asyncpg.Connection, row: Mapping[str, Any], settings: Settings
) -> tuple[EmailMessage, str]:
    """The mail of an `organiser_invitation` outbox row and the account's stored address; Skip when its link is dead."""
    payload = row["payload"]
    if isinstance(payload, (str, bytes)):  # a connection without the jsonb codec
        payload = msgspec.json.decode(payload)
    if row["kind"] == "organiser_password_reset":
        return await _reset_delivery(conn, row, payload, settings)
    invitation = await conn.fetchrow(org_q.INVITATION_BY_ID, int(payload["invitation"]))
    if invitation is None:
        raise mails.Skip("the invitation no longer exists")
    if not invitation["usable"]:
        raise mails.Skip("the invitation was used, replaced or has expired")
    lang = row["language"] if row["language"] in LANGUAGES else DEFAULT_LANGUAGE
    token = invitation_token(settings.secret_key, bytes(invitation["token_nonce"]))
    name = " ".join((invitation["name"] or "").split())
    context = {
        "lang": lang,
        "name": name,
        "inviter": str(payload.get("inviter") or ""),
        "memberships": [(str(m["organisation"]), str(m["role"])) for m in payload.get("memberships") or []],
        "link": invitation_url(settings, token, lang),
        "hours": round(settings.invitation_ttl.total_seconds() / 3600),
        "expiry_day": format_day(invitation["expires_at"], ZONE, lang),
        "expiry_time": format_time(invitation["expires_at"], ZONE, lang),
    }
    subject, text, html = mails.render(f"{row['kind']}_to_invitee", lang, context)
    return mails.standalone_mail(settings, lang, subject, text, html, name, invitation["email"]), invitation["email"]


async def _reset_delivery(
    conn: asyncpg.Connection,
    row: Mapping[str, Any],
    payload: dict[str, Any],
    settings: Settings,
) -> tuple[EmailMessage, str]:
    """The mail of an `organiser_password_reset` row; Skip when its link was used, replaced or expired."""
    reset = await conn.fetchrow(bo_q.RESET_BY_ID, int(payload["reset"]))
    if reset is None or not reset["usable"]:
        raise mails.Skip("the reset link was used, replaced or has expired")
    lang = row["language"] if row["language"] in LANGUAGES else DEFAULT_LANGUAGE
    name = " ".join((reset["name"] or "").split())
    context = {
        "lang": lang,
        "name": name,
        "email": reset["email"],
        "link": reset_url(settings, reset_token(settings.secret_key, bytes(reset["token_nonce"])), lang),
        "minutes": round(settings.password_reset_ttl.total_seconds() / 60),
        "expiry_day": format_day(reset["expires_at"], ZONE, lang),
        "expiry_time": format_time(reset["expires_at"], ZONE, lang),
    }
    subject, text, html = mails.render("organiser_password_reset_to_account_owner", lang, context)
    return mails.standalone_mail(settings, lang, subject, text, html, name, reset["email"]), reset["email"]
