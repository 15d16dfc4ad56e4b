"""Mail about communes' requests, to the requester and to the agency's staff, in the recipient's language.

Written at send time from the current request row (its address, its thread, its events) and the
row's payload; one template per kind and format (`templates/<kind>_to_<audience>.*.j2`).
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import asyncpg
import msgspec

from server import mails
from server.communes import queries as q
from server.communes.asking import request_token, staff_url, status_url
from server.communes.reminders import REMINDER_AFTER_WORKING_DAYS
from server.communes.texts import REQUESTER_TYPES, subject_label
from server.events.queries import EVENT_BY_ID
from server.i18n import DEFAULT_LANGUAGE, LANGUAGES, format_when, gettext, localise
from server.settings import Settings

# who reads each kind
AUDIENCES = {
    "commune_request_received": "requester",
    "commune_request_arrived": "staff",
    "commune_request_message": "requester",
    "commune_request_answered": "staff",
    "commune_request_scheduled": "requester",
    "commune_request_reminder": "staff",
}


async def build_delivery(
    conn: asyncpg.Connection, row: Mapping[str, Any], settings: Settings
) -> tuple[EmailMessage, str]:
    """The mail of a commune request's outbox row and its stored recipient; Skip when it no longer applies."""
    payload = row["payload"]
    if isinstance(payload, (str, bytes)):  # a connection without the jsonb codec
        payload = msgspec.json.decode(payload)
    request = await conn.fetchrow(q.REQUEST_BY_ID, int(payload["request"]))
    if request is None:
        raise mails.Skip("the request no longer exists")
    kind = row["kind"]
    audience = AUDIENCES[kind]
    if kind == "commune_request_reminder" and request["status"] not in ("new", "in_discussion"):
        raise mails.Skip("the request was handled meanwhile")
    if audience == "requester":
        lang, name, address = request["language"], request["contact_name"], request["email"]
    else:
        staff = await conn.fetchrow(q.ORGANISER_BY_ID, int(payload["organiser"]))
        if staff is None:
            raise mails.Skip("the staff account no longer exists")
        # the account's language when the mail is sent: a choice made meanwhile applies at once
        lang, name, address = staff["language"], staff["name"], staff["email"]
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    context: dict[str, Any] = {
        "lang": lang,
        "name": " ".join((name or "").split()),
        "commune": request["commune"],
        "contact_name": request["contact_name"],
        "requester": gettext(lang, REQUESTER_TYPES[request["requester_type"]]),
        "subject_label": subject_label(request["subject"], lang),
        "status_link": status_url(settings, request_token(settings.secret_key, bytes(request["token_nonce"]))),
        "staff_link": staff_url(settings, request["id"]),
        "body": "",
        "event": None,
        "days": REMINDER_AFTER_WORKING_DAYS,
    }
    if "message" in payload:
        body = await conn.fetchval("SELECT body FROM commune_request_messages WHERE id = $1", int(payload["message"]))
        if body is None:
            raise mails.Skip("the message no longer exists")
        context["body"] = body
    if kind == "commune_request_scheduled":
        event = await conn.fetchrow(EVENT_BY_ID, int(payload["event"]))
        if event is None or event["status"] != "published":
            raise mails.Skip("the event is no longer published")
        title, _ = localise(event["title"], lang, event["languages"])
        context["event"] = {
            "title": title,
            "when": format_when(event["starts_at"], event["ends_at"], event["timezone"], lang),
            "url": f"{settings.base}/events/{event['slug']}?lang={lang}",
        }
    subject, text, html = mails.render(f"{kind}_to_{audience}", lang, context)
    message = mails.standalone_mail(settings, lang, subject, text, html, context["name"], address)
    return message, address
