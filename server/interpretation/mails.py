"""Mail about interpretation missions, in the recipient's language, with an .ics invitation where it has one.

One template per kind and format (`templates/<kind>.{subject.txt,txt,html}.j2`) rendered by
`mails.render`, like every mail. The outbox row names the mission, the audience (`interpreter`
or `requester`) and the invitation's SEQUENCE when it was queued; the rest is read at send time.
The requester learns the interpreter's first name and phone only in the mail that assigns them.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec
from icalendar import Calendar, Event, vCalAddress

from server import mails
from server.feeds.ical import PRODID
from server.i18n import DEFAULT_LANGUAGE, LANGUAGES, format_day, format_time, format_when
from server.interpretation import queries as q
from server.interpretation.links import interpreter_url, link_token, status_url
from server.interpretation.schemas import language_name
from server.settings import Settings

ZONE = "Europe/Luxembourg"
# the kinds that carry an invitation, and its method
METHODS = {
    "interpretation_assigned": "REQUEST",
    "interpretation_changed": "REQUEST",
    "interpretation_cancelled": "CANCEL",
}


async def build_delivery(
    conn: asyncpg.Connection,
    row: Mapping[str, Any],
    settings: Settings,
) -> tuple[EmailMessage, str]:
    """The mail of an interpretation outbox row and the stored address it goes to; Skip when nobody is left."""
    payload = row["payload"]
    if isinstance(payload, (str, bytes)):  # a connection without the jsonb codec
        payload = msgspec.json.decode(payload)
    mission = await conn.fetchrow(q.MISSION, int(payload["mission"]))
    if mission is None:
        raise mails.Skip("the mission no longer exists")
    if mission["anonymised_at"] is not None:
        raise mails.Skip("the mission was anonymised")
    audience = payload["to"]
    if row["kind"] == "interpretation_unanswered" and (
        mission["status"] != "offered" or mission["unanswered_at"] is None
    ):
        raise mails.Skip("the mission was taken, offered again or cancelled since")
    if row["kind"] == "interpretation_reminder" and (
        mission["sequence"] != int(payload["sequence"])
        or mission["status"] not in ("assigned", "done")
        or mission["interpreter_id"] != payload.get("assigned")
    ):
        raise mails.Skip("the mission moved, was cancelled or went to someone else since")
    # the mission as it stood when the mail was queued
    mission = {
        **dict(mission),
        "starts_at": datetime.fromisoformat(payload["starts_at"]),
        "ends_at": datetime.fromisoformat(payload["ends_at"]),
        "sequence": int(payload["sequence"]),
    }
    assigned = (
        await conn.fetchrow(q.INTERPRETER_FOR_MAIL, int(payload["assigned"]))
        if payload.get("assigned") is not None
        else None
    )
    if audience == "interpreter":
        person = await conn.fetchrow(q.INTERPRETER_FOR_MAIL, int(payload["interpreter"]))
        if person is None:
            raise mails.Skip("the interpreter is no longer in the pool")
        lang, name, email = person["language"], person["name"], person["email"]
        link = interpreter_url(
            settings.base_url, link_token(settings.secret_key, b"interpreter-link", bytes(person["token_nonce"]))
        )
    elif audience == "staff":
        person = await conn.fetchrow(q.ORGANISER_FOR_MAIL, int(payload["organiser"]))
        if person is None:
            raise mails.Skip("the staff account no longer exists")
        lang, name, email = person["language"], person["name"] or person["email"], person["email"]
        link = f"{settings.base_url}/organiser/"
    else:
        lang, name, email = mission["requester_language"], mission["requester_contact"], mission["requester_email"]
        link = status_url(
            settings.base_url, link_token(settings.secret_key, b"interpretation-status", bytes(mission["status_nonce"]))
        )
    lang = lang if lang in LANGUAGES else DEFAULT_LANGUAGE
    when = format_when(mission["starts_at"], mission["ends_at"], ZONE, lang)
    context = {
        "lang": lang,
        "name": " ".join(name.split()),
        "audience": audience,
        "link": link,
        "when": when,
        "pair": f"{language_name(mission['from_language'], lang)} – {language_name(mission['to_language'], lang)}",
        "mode": mission["mode"],
        "place": ", ".join(p for p in (mission["address"], mission["commune"]) if p),
        "contact": mission["requester_contact"],
        "requester": mission["requester_organisation"],
        "requester_phone": mission["requester_phone"] or mission["requester_email"],
        # only the mail that assigns them tells the requester who comes, and only their first name
        "interpreter_name": assigned["name"].split()[0] if assigned else "",
        "interpreter_phone": assigned["phone"] if assigned else "",
        "answer_by": "",
    }
    if payload.get("answer_by"):
        moment = datetime.fromisoformat(payload["answer_by"])
        context["answer_by"] = f"{format_day(moment, ZONE, lang, 'medium')}, {format_time(moment, ZONE, lang)}"
    subject, text, html = mails.render(row["kind"], lang, context)
    calendar = None
    if method := METHODS.get(row["kind"]):
        calendar = (
            invitation(mission, method, mission["sequence"], subject, context, settings, attendee_email=email),
            method,
        )
    message = mails.standalone_mail(settings, lang, subject, text, html, context["name"], email, calendar)
    return message, email


def invitation(
    mission: Mapping[str, Any],
    method: str,
    sequence: int,
    summary: str,
    context: Mapping[str, Any],
    settings: Settings,
    *,
    attendee_email: str,
) -> bytes:
    """An iTIP message for one mission: REQUEST (a higher SEQUENCE each time it moves) or CANCEL."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", method)
    event = Event()
    event.add("uid", f"interpretation-{mission['id']}@{urlsplit(settings.base_url).hostname or 'zesummen'}")
    event.add("sequence", sequence)
    event.add("dtstamp", datetime.now(UTC).replace(microsecond=0))
    event.add("dtstart", mission["starts_at"].astimezone(UTC))
    event.add("dtend", mission["ends_at"].astimezone(UTC))
    event.add("summary", summary.split(": ", 1)[0] + ": " + context["pair"])
    if mission["mode"] == "on_site":
        event.add("location", context["place"])
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    organizer = vCalAddress(f"mailto:{parseaddr(settings.mail_from)[1]}")
    organizer.params["CN"] = "Zesummen"
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["CN"] = context["name"].replace('"', "'")
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"
    event.add("organizer", organizer)
    event.add("attendee", attendee)
    calendar.add_component(event)
    return calendar.to_ical()
