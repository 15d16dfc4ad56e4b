"""Each outbox row as an email in its person's language: text and HTML, and a calendar invitation where due.

Mail is written at send time from the CURRENT registration and event rows plus the row's payload,
so a message that no longer applies (the person cancelled, was promoted, the event moved again...)
raises `Skip` instead of telling something stale. The worker sets Message-ID, sends and records.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server.communes import mails as commune_mails
from server.events.labels import kind_label
from server.events.queries import EVENT_BY_ID
from server.events.schemas import EventOut
from server.events.views import event_location, registration_open, to_public
from server.i18n import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    format_day,
    format_time,
    format_when,
)
from server.interpretation import mails as interpretation_mails
from server.mails import MAIL_POLICY, Skip, one_line, recipient, render, set_boundaries
from server.notifications import account_mails
from server.notifications import message_queries as q
from server.notifications.invitations import invitation
from server.notifications.placeholders import fill_placeholders
from server.outbox import ACCOUNT_KINDS, COMMUNE_KINDS, INTERPRETATION_KINDS, SUBSIDY_KINDS
from server.registrations import qr
from server.registrations.joins import may_join
from server.registrations.seats import waiting_position
from server.registrations.tokens import checkin_url, manage_url, token_from_nonce
from server.registrations.tokens import join_url as personal_join_url
from server.settings import Settings
from server.subsidies import mails as subsidy_mails

# the Content-ID of the check-in QR image inside a mail (unique within the mail is enough)
CHECKIN_QR_CID = "checkin-qr@zesummen"


# ---------------------------------------------------------------------------- building


@dataclass
class _Draft:
    """Everything one message is written from."""

    conn: asyncpg.Connection
    settings: Settings
    row: Mapping[str, Any]
    payload: dict[str, Any]
    registration: asyncpg.Record
    event: asyncpg.Record
    lang: str
    now: datetime
    public: EventOut
    context: dict[str, Any] = field(default_factory=dict)
    invitation: str | None = None  # iTIP method of the attached .ics: REQUEST or CANCEL

    @property
    def status(self) -> str:
        return self.registration["status"]

    @property
    def zone(self) -> str:
        return self.event["timezone"]


async def build_message(conn: asyncpg.Connection, row: Mapping[str, Any], settings: Settings) -> EmailMessage:
    """The email for one outbox row, or `Skip` when it no longer applies; no Message-ID (the worker's)."""
    return (await build_delivery(conn, row, settings))[0]


async def build_delivery(
    conn: asyncpg.Connection, row: Mapping[str, Any], settings: Settings
) -> tuple[EmailMessage, str]:
    """The email for one outbox row and its envelope recipient: the registration's stored address, never a header's."""
    kind = row["kind"]
    if kind in ACCOUNT_KINDS:  # a staff account's mail: no registration behind it
        return await account_mails.build_delivery(conn, row, settings)
    if kind in INTERPRETATION_KINDS:  # a mission's mail: no registration behind it either
        return await interpretation_mails.build_delivery(conn, row, settings)
    if kind in COMMUNE_KINDS:  # a commune's request to the agency: no registration behind it either
        return await commune_mails.build_delivery(conn, row, settings)
    if kind in SUBSIDY_KINDS:  # an association's subsidy request: no registration behind it either
        return await subsidy_mails.build_delivery(conn, row, settings)
    builder = _BUILDERS.get(kind)
    if builder is None:
        raise ValueError(f"no message is written for the kind {kind!r}")
    if row["registration_id"] is None:
        raise Skip("the row names no registration")
    registration = await conn.fetchrow(q.REGISTRATION, row["registration_id"])
    if registration is None:
        raise Skip("the registration no longer exists")
    if registration["anonymised_at"] is not None or not registration["email"] or registration["token_nonce"] is None:
        raise Skip("the registration was anonymised")
    event = await conn.fetchrow(EVENT_BY_ID, registration["event_id"])
    if event is None:
        raise Skip("the event no longer exists")
    lang = registration["language"] if registration["language"] in LANGUAGES else DEFAULT_LANGUAGE
    now = datetime.now(UTC)
    draft = _Draft(
        conn=conn,
        settings=settings,
        row=row,
        payload=_payload(row),
        registration=registration,
        event=event,
        lang=lang,
        now=now,
        public=to_public(event, lang, settings, now),
    )
    draft.context = _common_context(draft)
    await builder(draft)
    return _compose(draft, kind), registration["email"]


def _payload(row: Mapping[str, Any]) -> dict[str, Any]:
    payload = row["payload"]
    if isinstance(payload, (str, bytes)):  # a connection without the jsonb codec
        payload = msgspec.json.decode(payload)
    return dict(payload or {})


def _token_url(settings: Settings, nonce: bytes) -> str:
    return manage_url(settings.base, token_from_nonce(settings.secret_key, bytes(nonce)))


def _join_url(
    settings: Settings, event: Mapping[str, Any], status: str, registration_id: int, nonce: bytes
) -> str | None:
    """The person's own join link of a web conference, for confirmed people while it is on.

    Never the conference's link itself: /j/ checks at each use that the person may still join
    (registrations/joins.py). The same rule as the manage page (registrations.view).
    """
    if may_join(status, event["status"], event["kind"]):
        return personal_join_url(settings.base, settings.secret_key, registration_id, bytes(nonce))
    return None


def _common_context(d: _Draft) -> dict[str, Any]:
    event = d.event
    return {
        "lang": d.lang,
        "name": " ".join((d.registration["name"] or "").split()),
        "event": d.public,
        "kind_label": kind_label(event["kind"], d.lang),
        "webconference": event["kind"] == "webconference",
        "organisation": d.public.organisation.name,
        "manage_url": _token_url(d.settings, d.registration["token_nonce"]),
        "events_url": f"{d.settings.base}/",
        "status": d.status,
        "join_url": _join_url(d.settings, event, d.status, d.registration["id"], d.registration["token_nonce"]),
        "invitation": None,
        "position": None,
        "checkin_qr": None,  # the cid of the check-in QR image, in the mails that confirm a place
    }


async def _waitlist_position(d: _Draft) -> int | None:
    reg = d.registration
    if reg["status"] == "waitlisted" and reg["waitlisted_at"] is None:
        return d.payload.get("position")
    return await waiting_position(d.conn, reg)


def _deadline(d: _Draft, moment: datetime | None) -> dict[str, Any]:
    """The day and time a held seat must be confirmed by, as the person reads them."""
    if moment is None:
        return {"deadline_day": None, "deadline_time": None}
    return {"deadline_day": format_day(moment, d.zone, d.lang), "deadline_time": format_time(moment, d.zone, d.lang)}


def _require(d: _Draft, *statuses: str) -> None:
    if d.status not in statuses:
        raise Skip(f"the registration is {d.status} now")


def _require_event_on(d: _Draft) -> None:
    if d.event["status"] == "cancelled":
        raise Skip("the event was cancelled since")


# ---------------------------------------------------------------------------- one function per kind


async def _registration_received(d: _Draft) -> None:
    _require(d, "pending")
    _require_event_on(d)
    hold = d.registration["hold_expires_at"]
    if hold is not None and hold <= d.now:
        raise Skip("the hold expired before the mail went out")
    d.context.update(_deadline(d, hold))


async def _registration_confirmed(d: _Draft) -> None:
    _require(d, "confirmed")
    _require_event_on(d)
    d.invitation = "REQUEST"
    _with_checkin_qr(d)


def _with_checkin_qr(d: _Draft) -> None:
    """The check-in QR code for the door, in a mail that confirms a place; a web conference marks its own (/j/)."""
    if d.status == "confirmed" and d.event["kind"] != "webconference":
        d.context["checkin_qr"] = CHECKIN_QR_CID


async def _registration_waitlisted(d: _Draft) -> None:
    _require(d, "waitlisted")
    _require_event_on(d)
    d.context["position"] = await _waitlist_position(d)


async def _registration_promoted(d: _Draft) -> None:
    _require(d, "pending", "confirmed")
    _require_event_on(d)
    if d.payload.get("status") == "pending" and d.status == "confirmed":
        raise Skip("confirmed since; the confirmation mail says it all")
    d.context.update(_deadline(d, d.registration["hold_expires_at"] if d.status == "pending" else None))
    if d.status == "confirmed":
        d.invitation = "REQUEST"
        _with_checkin_qr(d)


async def _hold_expired(d: _Draft) -> None:
    _require(d, "expired")
    d.context["registration_open"] = registration_open(d.event, d.now)


async def _registration_exists(d: _Draft) -> None:
    d.context["position"] = await _waitlist_position(d)
    d.context.update(_deadline(d, d.registration["hold_expires_at"] if d.status == "pending" else None))


async def _series_registration_received(d: _Draft) -> None:
    ids = [int(i) for i in d.payload.get("registrations") or [d.registration["id"]]]
    items = []
    for reg in await d.conn.fetch(q.SERIES_REGISTRATIONS, ids):
        if reg["anonymised_at"] is not None or reg["token_nonce"] is None:
            continue
        items.append(
            {
                "when": format_when(reg["starts_at"], reg["ends_at"], reg["timezone"], d.lang),
                "status": reg["status"] if reg["event_status"] != "cancelled" else "cancelled",
                "position": reg["position"],
                "manage_url": _token_url(d.settings, reg["token_nonce"]),
                "join_url": _join_url(
                    d.settings,
                    {"status": reg["event_status"], "kind": reg["kind"]},
                    reg["status"],
                    reg["id"],
                    reg["token_nonce"],
                ),
                "hold_expires_at": reg["hold_expires_at"],
            }
        )
    if not items:
        raise Skip("no registration of the request is left")
    pending = [item for item in items if item["status"] == "pending"]
    d.context.update(
        items=items,
        any_pending=bool(pending),
        any_waitlisted=any(item["status"] == "waitlisted" for item in items),
        confirm_url=pending[0]["manage_url"] if pending else None,
        **_deadline(d, min((i["hold_expires_at"] for i in pending if i["hold_expires_at"]), default=None)),
    )


async def _cancellation_acknowledged(d: _Draft) -> None:
    _require(d, "cancelled")
    d.context["by_organiser"] = d.payload.get("by") == "organiser"
    # whoever had the invitation in their calendar gets it taken out again
    if d.registration["confirmed_at"] is not None:
        d.invitation = "CANCEL"


async def _event_changed(d: _Draft) -> None:
    _require(d, "pending", "confirmed", "waitlisted")
    _require_event_on(d)
    revision = d.payload.get("revision")
    if revision is not None and revision < d.event["revision"]:
        raise Skip("the event changed again since; the newer mail tells the latest")
    previous = d.payload.get("previous")
    time_changed = place_changed = False
    previous_when = previous_location = None
    if previous:
        before_start = datetime.fromisoformat(previous["starts_at"])
        before_end = datetime.fromisoformat(previous["ends_at"])
        before_zone = previous.get("timezone") or d.zone
        previous_when = format_when(before_start, before_end, before_zone, d.lang)
        time_changed = previous_when != d.public.when
        previous_location = previous.get("location") or ""
        place_changed = previous_location != event_location(d.event, d.lang)
        if not (time_changed or place_changed) and d.status != "confirmed":
            raise Skip("only the join link changed, and only confirmed people have it")
    d.context.update(
        time_changed=time_changed,
        place_changed=place_changed,
        previous_when=previous_when,
        previous_location=previous_location,
        position=await _waitlist_position(d),
    )
    if d.status == "confirmed":
        d.invitation = "REQUEST"


async def _event_cancelled(d: _Draft) -> None:
    if d.event["status"] != "cancelled":
        raise Skip("the event is not cancelled")
    if d.payload.get("status", d.status) == "confirmed" or d.registration["confirmed_at"] is not None:
        d.invitation = "CANCEL"


async def _reminder(d: _Draft) -> None:
    _require(d, "confirmed")
    _require_event_on(d)
    revision = d.payload.get("revision")
    if revision is not None and revision != d.event["revision"]:
        raise Skip(f"a reminder for revision {revision}; the event is at {d.event['revision']}")
    start = d.event["starts_at"]
    if start <= d.now:
        raise Skip("the event has already started")
    zone = ZoneInfo(d.zone)
    days = (start.astimezone(zone).date() - d.now.astimezone(zone).date()).days
    d.context.update(
        relative_day={0: "today", 1: "tomorrow"}.get(days),
        start_day=format_day(start, d.zone, d.lang),
        start_time=format_time(start, d.zone, d.lang),
    )


async def _organiser_message(d: _Draft) -> None:
    _require(d, "pending", "confirmed", "waitlisted")
    values = {
        "name": d.context["name"],
        "event": d.public.title,
        "when": d.public.when,
        "location": d.public.location,
        "event_url": d.public.url,
        "manage_url": d.context["manage_url"],
    }
    subject = one_line(fill_placeholders(str(d.payload.get("subject") or ""), values))
    body = fill_placeholders(str(d.payload.get("body") or ""), values).replace("\r\n", "\n").replace("\r", "\n")
    if not subject or not body.strip():
        raise Skip("the organiser's message is empty")
    paragraphs = [block.strip("\n").split("\n") for block in re.split(r"\n\s*\n", body.strip()) if block.strip()]
    d.context.update(organiser_subject=subject, organiser_body=body.strip(), organiser_paragraphs=paragraphs)


_BUILDERS: dict[str, Callable[[_Draft], Awaitable[None]]] = {
    "registration_received": _registration_received,
    "registration_confirmed": _registration_confirmed,
    "registration_waitlisted": _registration_waitlisted,
    "registration_promoted": _registration_promoted,
    "hold_expired": _hold_expired,
    "registration_exists": _registration_exists,
    "series_registration_received": _series_registration_received,
    "cancellation_acknowledged": _cancellation_acknowledged,
    "event_changed": _event_changed,
    "event_cancelled": _event_cancelled,
    "reminder": _reminder,
    "organiser_message": _organiser_message,
}
KINDS_WRITTEN = tuple(_BUILDERS)


def _compose(d: _Draft, kind: str) -> EmailMessage:
    d.context["invitation"] = d.invitation
    subject, text, html = render(f"{kind}_to_registrant", d.lang, d.context)
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = d.settings.mail_from
    message["To"] = recipient(d.context["name"], d.registration["email"])
    message["Date"] = format_datetime(d.now)
    # RFC 3834: keeps out-of-office replies from answering a no-reply sender
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    # quoted-printable: 7-bit safe whatever the relay, and long links stay unbroken when decoded
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if d.context["checkin_qr"]:
        # an inline image part next to the HTML (multipart/related), shown without loading anything
        url = checkin_url(
            d.settings.base, d.settings.secret_key, d.registration["id"], bytes(d.registration["token_nonce"])
        )
        message.get_payload()[-1].add_related(
            qr.png(url),
            maintype="image",
            subtype="png",
            cid=f"<{CHECKIN_QR_CID}>",
            disposition="inline",
            filename="checkin.png",
        )
    if d.invitation:
        _attach_invitation(message, d)
    # after the parts: set_content() and add_attachment() move or drop Content-* headers
    message["Content-Language"] = d.lang
    set_boundaries(message)
    return message


def _attach_invitation(message: EmailMessage, d: _Draft) -> None:
    """The .ics the way Gmail itself sends invitations, which Outlook and Apple Mail show as one too.

    A text/calendar alternative carrying `method` (what makes clients offer "add to calendar" and
    treat a CANCEL as such; RFC 6047), plus the same bytes as an invite.ics attachment for the
    clients that only look at attachments.
    """
    method = d.invitation
    assert method in ("REQUEST", "CANCEL")
    join = d.context["join_url"] if method == "REQUEST" else None
    ics = invitation(
        d.event,
        method,
        d.lang,
        d.settings,
        organisation=d.public.organisation.name,
        with_join_url=join is not None,
        join_url=join,
        attendee_email=d.registration["email"],
        attendee_name=d.context["name"] or d.registration["email"],
    )
    message.add_alternative(ics, maintype="text", subtype="calendar", params={"method": method, "charset": "utf-8"})
    message.add_attachment(
        ics, maintype="application", subtype="ics", filename="invite.ics", params={"name": "invite.ics"}
    )
