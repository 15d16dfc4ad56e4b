"""Each outbox row as an email in its person's language: text and HTML, and a calendar invitation where due.

Mail is written at send time from the CURRENT registration and event rows plus the row's payload,
so a message that no longer applies (the person cancelled, was promoted, the event moved again...)
raises `Skip` instead of telling something stale. The worker sets Message-ID, sends and records.
"""

from __future__ import annotations

import email.policy
import re
import secrets
import sys
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import lru_cache
from pathlib import Path
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import asyncpg
import jinja2
import msgspec
from icalendar import vCalAddress
from icalendar.parser import Contentline, Parameters
from markupsafe import Markup

from server.events.queries import EVENT_BY_ID
from server.events.schemas import EventOut
from server.events.labels import kind_label
from server.events.service import event_location, registration_open, to_public
from server.feeds.events import occurrence_feed_event
# the builder's own CN cleaning and line folding, so that a swapped ATTENDEE line is its line (see invitation())
from server.feeds.ical import _clean_param, _fold, build_event_invitation
from server.i18n import (
    DEFAULT_LANGUAGE, LANGUAGES, apply_n_rule, format_day, format_time, format_when, translations,
)
from server.notifications import message_queries as q
from server.notifications.outbox import ACCOUNT_KINDS, COMMUNE_KINDS, INTERPRETATION_KINDS, SUBSIDY_KINDS
from server.registrations import qr
from server.registrations.tokens import checkin_url, join_url as personal_join_url, manage_url, token_from_nonce
from server.settings import Settings

TEMPLATES = Path(__file__).parent / "templates"
# the Content-ID of the check-in QR image inside a mail (unique within the mail is enough)
CHECKIN_QR_CID = "checkin-qr@zesummen"

# What an organiser may write in a message's subject and body; anything else in braces stays as typed.
PLACEHOLDERS: dict[str, str] = {
    "name": "the person's name",
    "event": "the event's title in the person's language",
    "when": "date and time in the person's language and the event's time zone",
    "location": "where it takes place",
    "event_url": "the event's public page",
    "manage_url": "the person's own link to view or cancel the registration",
}
_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")
_BRACED = re.compile(r"\{([^{}]*)\}")

# Our own templates write bare tags; these inline styles are put in afterwards so that every client
# (Outlook's Word engine ignores most <style>) shows the same. Escaped user text never holds a raw tag.
_INLINE_STYLES = {
    "<p>": '<p style="margin:0 0 16px 0;">',
    "<ul>": '<ul style="margin:0 0 16px 0; padding:0 0 0 20px;">',
    "<li>": '<li style="margin:0 0 8px 0;">',
    "<a href=": '<a style="color:#1a5c8a; text-decoration:underline;" href=',
}


class _HeaderClasses(HeaderRegistry):
    """email's header registry, keeping the class it makes for each header name.

    The stock one makes a new class whenever a header is set or its count checked, several dozen
    times per message: about a third of composing a mail. The class depends on the name alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


# email.policy.default (what EmailMessage() uses) with that registry: the same headers, the same bytes
MAIL_POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


class Skip(Exception):
    """The message no longer applies; the worker records the row as skipped with this reason."""


@lru_cache(maxsize=None)
def environment(lang: str, *, autoescape: bool) -> jinja2.Environment:
    """The templates with `lang`'s translations installed: one environment per language and format."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    catalog = translations(lang)

    # Jinja's new-style gettext, with the n-rule put in before the values in Luxembourgish
    @jinja2.pass_context
    def gettext(context: Any, message: str, **values: Any) -> str:
        return _fill(context, catalog.gettext(message), values)

    @jinja2.pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **values: Any) -> str:
        values.setdefault("num", num)
        return _fill(context, catalog.ngettext(singular, plural, num), values)

    def _fill(context: Any, translated: str, values: dict[str, Any]) -> str:
        if lang == "lb":
            translated = apply_n_rule(translated, values)
        if context.eval_ctx.autoescape:
            return Markup(translated) % values  # the values are escaped, the message is ours
        return translated % values

    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(gettext=gettext, _=gettext, ngettext=ngettext)
    return env


# ---------------------------------------------------------------------------- organiser text

def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Organiser text with each known `{placeholder}` replaced by plain text, in one pass; nothing is evaluated."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown_placeholders(text: str) -> list[str]:
    """The `{...}` in an organiser's text that are not placeholders (for the endpoint's 422)."""
    return sorted({m.group(1) for m in _BRACED.finditer(text)} - set(PLACEHOLDERS))


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


async def build_delivery(conn: asyncpg.Connection, row: Mapping[str, Any], settings: Settings) -> tuple[EmailMessage, str]:
    """The email for one outbox row and its envelope recipient: the registration's stored address, never a header's."""
    kind = row["kind"]
    if kind in ACCOUNT_KINDS:  # a staff account's mail: no registration behind it
        from server.notifications import account_mails
        return await account_mails.build_delivery(conn, row, settings)
    if kind in INTERPRETATION_KINDS:  # a mission's mail: no registration behind it either
        from server.interpretation import mails as interpretation_mails
        return await interpretation_mails.build_delivery(conn, row, settings)
    if kind in COMMUNE_KINDS:  # a commune's request to the agency: no registration behind it either
        from server.communes import mails
        return await mails.build_delivery(conn, row, settings)
    if kind in SUBSIDY_KINDS:  # an association's subsidy request: no registration behind it either
        from server.subsidies import mails as subsidy_mails
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
        conn=conn, settings=settings, row=row, payload=_payload(row), registration=registration, event=event,
        lang=lang, now=now, public=to_public(event, lang, settings, now),
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


def _join_url(settings: Settings, event: Mapping[str, Any], status: str, registration_id: int, nonce: bytes) -> str | None:
    """The person's own join link of a web conference, for confirmed people while it is on.

    Never the conference's link itself: /j/ checks at each use that the person may still join
    (registrations/joins.py). The same rule as the manage page (registrations.view).
    """
    if status == "confirmed" and event["status"] == "published" and event["kind"] == "webconference":
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
    if reg["status"] != "waitlisted":
        return None
    if reg["waitlisted_at"] is None:
        return d.payload.get("position")
    return await d.conn.fetchval(q.WAITLIST_POSITION, reg["event_id"], reg["waitlisted_at"], reg["id"])


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
        items.append({
            "when": format_when(reg["starts_at"], reg["ends_at"], reg["timezone"], d.lang),
            "status": reg["status"] if reg["event_status"] != "cancelled" else "cancelled",
            "position": reg["position"],
            "manage_url": _token_url(d.settings, reg["token_nonce"]),
            "join_url": _join_url(d.settings, {"status": reg["event_status"], "kind": reg["kind"]}, reg["status"],
                                  reg["id"], reg["token_nonce"]),
            "hold_expires_at": reg["hold_expires_at"],
        })
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
        time_changed=time_changed, place_changed=place_changed,
        previous_when=previous_when, previous_location=previous_location,
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
    subject = _one_line(fill_placeholders(str(d.payload.get("subject") or ""), values))
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


# ---------------------------------------------------------------------------- rendering

def render(name: str, lang: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) from `name`.subject.txt.j2, .txt.j2 and .html.j2, in the recipient's `lang`."""
    text_env, html_env = environment(lang, autoescape=False), environment(lang, autoescape=True)
    subject = _one_line(text_env.get_template(f"{name}.subject.txt.j2").render(context))
    text = text_env.get_template(f"{name}.txt.j2").render(context, subject=subject)
    html = html_env.get_template(f"{name}.html.j2").render(context, subject=subject)
    return subject, _tidy_text(text), _inline_styles(html)


def standalone_mail(
    settings: Settings, lang: str, subject: str, text: str, html: str, name: str, address: str,
    calendar: tuple[str, str] | None = None,
) -> EmailMessage:
    """A mail that is about no registration (accounts, communes, interpretation) to one stored address.

    `calendar` is (the .ics text, its METHOD): sent as an inline invitation and as an attachment.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = _recipient(name, address)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if calendar is not None:
        ics, method = calendar
        message.add_alternative(ics, maintype="text", subtype="calendar",
                                params={"method": method, "charset": "utf-8"})
        message.add_attachment(ics, maintype="application", subtype="ics", filename="invite.ics",
                               params={"name": "invite.ics"})
    message["Content-Language"] = lang
    _set_boundaries(message)
    return message


def _one_line(text: str) -> str:
    """A header value: line breaks and runs of spaces become one space (no-break spaces stay)."""
    return re.sub(r"[ \t\r\n\f\v\u2028\u2029]+", " ", text).strip()


def _tidy_text(text: str) -> str:
    """No trailing spaces (the "-- " signature line excepted), at most one blank line in a row."""
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def _inline_styles(html: str) -> str:
    for bare, styled in _INLINE_STYLES.items():
        html = html.replace(bare, styled)
    return re.sub(r"\n\s*\n", "\n", html).strip() + "\n"


def _compose(d: _Draft, kind: str) -> EmailMessage:
    d.context["invitation"] = d.invitation
    subject, text, html = render(f"{kind}_to_registrant", d.lang, d.context)
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = d.settings.mail_from
    message["To"] = _recipient(d.context["name"], d.registration["email"])
    message["Date"] = format_datetime(d.now)
    # RFC 3834: keeps out-of-office replies from answering a no-reply sender
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    # quoted-printable: 7-bit safe whatever the relay, and long links stay unbroken when decoded
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if d.context["checkin_qr"]:
        # an inline image part next to the HTML (multipart/related), shown without loading anything
        url = checkin_url(d.settings.base, d.settings.secret_key, d.registration["id"], bytes(d.registration["token_nonce"]))
        message.get_payload()[-1].add_related(
            qr.png(url), maintype="image", subtype="png", cid=f"<{CHECKIN_QR_CID}>", disposition="inline",
            filename="checkin.png")
    if d.invitation:
        _attach_invitation(message, d)
    # after the parts: set_content() and add_attachment() move or drop Content-* headers
    message["Content-Language"] = d.lang
    _set_boundaries(message)
    return message


def _set_boundaries(message: EmailMessage) -> None:
    """A random boundary for each multipart, in the form email's generator writes, checked against the parts.

    Left to the generator, each one costs a regular expression compiled for it and a search of the
    whole flattened text, a tenth of writing a mail. A boundary it does not choose itself must not
    occur in the content: the leaves hold all of it (the multiparts' own headers are ours), and
    `in` looks for it there.
    """
    leaves = [part.get_payload() for part in message.walk() if not part.is_multipart()]
    for part in message.walk():
        if part.is_multipart():
            while True:
                boundary = "=" * 15 + f"{secrets.randbelow(sys.maxsize):019d}" + "=="
                if not any(boundary in leaf for leaf in leaves if isinstance(leaf, str)):
                    break
            part.set_boundary(boundary)


def _recipient(name: str, email: str) -> Address | str:
    display = re.sub(r"[\x00-\x1f\x7f\"<>@,;:\\]", " ", name)
    try:
        return Address(display_name=" ".join(display.split())[:80], addr_spec=email)
    except (ValueError, IndexError):
        return email


def _attach_invitation(message: EmailMessage, d: _Draft) -> None:
    """The .ics the way Gmail itself sends invitations, which Outlook and Apple Mail show as one too.

    A text/calendar alternative carrying `method` (what makes clients offer "add to calendar" and
    treat a CANCEL as such; RFC 6047), plus the same bytes as an invite.ics attachment for the
    clients that only look at attachments.
    """
    method = d.invitation
    assert method in ("REQUEST", "CANCEL")
    join = d.context["join_url"] if method == "REQUEST" else None
    ics = invitation(d.event, method, d.lang, d.settings, organisation=d.public.organisation.name,
                     with_join_url=join is not None, join_url=join,
                     attendee_email=d.registration["email"], attendee_name=d.context["name"] or d.registration["email"])
    message.add_alternative(ics, maintype="text", subtype="calendar", params={"method": method, "charset": "utf-8"})
    message.add_attachment(
        ics, maintype="application", subtype="ics", filename="invite.ics", params={"name": "invite.ics"}
    )


# ---------------------------------------------------------------------------- invitations, once per event version
# The invitations of one event differ from person to person only in their ATTENDEE line, and
# building one with icalendar cost more than the rest of a confirmation. So the calendar is built
# once per version of the event (and language, method, join link, organiser) for a stand-in
# attendee, and each person's copy swaps in their own ATTENDEE line, written by icalendar's own
# content-line code with the parameters the builder gave the stand-in, folded by the builder's
# fold. tests/test_messages.py
# compares the result byte for byte with build_event_invitation for all sorts of names.
_STAND_IN_EMAIL, _STAND_IN_NAME = "attendee@stand-in.invalid", "Stand-in"
# a content line ends at a CRLF that no space or tab follows (RFC 5545 folding)
_CONTENT_LINE_END = re.compile(rb"\r\n(?![ \t])")


class _Invitation(NamedTuple):
    """A built invitation cut around its ATTENDEE lines: pieces[0] + line + pieces[1] + line + ..."""

    pieces: list[bytes]
    attendee_params: Parameters  # the stand-in's, CN aside


_INVITATIONS: dict[tuple[Any, ...], _Invitation] = {}
_INVITATIONS_MAX = 2_000


def invitation(
    event: Mapping[str, Any], method: str, lang: str, settings: Settings, *, organisation: str, with_join_url: bool,
    attendee_email: str, attendee_name: str, join_url: str | None = None,
) -> bytes:
    """build_event_invitation for one registrant of the event row `event`, from the calendar built for its version.

    With the person's own join link (`join_url`, a web conference's /j/ link) the calendar is that
    person's alone and is built for them, never cached: no one's link may reach another's mail.
    """
    organiser_name, organiser_email = parseaddr(settings.mail_from)
    if with_join_url and join_url is not None:
        return build_event_invitation(
            occurrence_feed_event(event, lang, settings, with_join_url=True, join_url=join_url),
            method=method, lang=lang,  # type: ignore[arg-type]
            organizer_email=organiser_email or "noreply@zesummen.lu", organizer_name=organisation or organiser_name or None,
            attendee_email=attendee_email, attendee_name=attendee_name,
        )
    # everything the calendar depends on besides the attendee: the row (row_version grows with every
    # update of it; created_at and the database tell apart two rows given the same id, e.g. after a
    # TRUNCATE ... RESTART IDENTITY) and what comes from elsewhere (organisation, settings)
    key = (settings.database_url, event["id"], event["created_at"], event["row_version"], lang, method, with_join_url,
           organisation, settings.base, settings.mail_from)
    cached = _INVITATIONS.get(key)
    if cached is None:
        feed_event = occurrence_feed_event(event, lang, settings, with_join_url=with_join_url)
        built = build_event_invitation(
            feed_event, method=method, lang=lang,  # type: ignore[arg-type]
            organizer_email=organiser_email or "noreply@zesummen.lu", organizer_name=organisation or organiser_name or None,
            attendee_email=_STAND_IN_EMAIL, attendee_name=_STAND_IN_NAME,
        )
        cached = _cut_at_attendees(built)
        if len(_INVITATIONS) >= _INVITATIONS_MAX:
            _INVITATIONS.clear()  # old versions are never asked for again; a full cache just starts over
        _INVITATIONS[key] = cached
    params = cached.attendee_params.copy()
    # as build_event_invitation writes its attendee: CN cleaned the same way, the address as vCalAddress
    params["CN"] = _clean_param(attendee_name)
    line = _fold(Contentline.from_parts("ATTENDEE", params, vCalAddress(f"mailto:{attendee_email}"), sorted=True))
    return line.join(cached.pieces)


def _cut_at_attendees(calendar: bytes) -> _Invitation:
    """Split a stand-in's invitation around its ATTENDEE content lines (one per VEVENT)."""
    pieces, params, start = [], None, 0
    for found in re.finditer(rb"(?:^|\r\n)(ATTENDEE[;:])", calendar):
        begin = found.start(1)
        end = _CONTENT_LINE_END.search(calendar, begin)
        assert end is not None
        _, params, value = Contentline.from_ical(calendar[begin:end.start()].decode()).parts()
        assert value == f"mailto:{_STAND_IN_EMAIL}" and params.get("CN") == _STAND_IN_NAME, "unexpected stand-in line"
        pieces.append(calendar[start:begin])
        start = end.start()
    pieces.append(calendar[start:])
    if params is None:
        raise ValueError("the invitation has no ATTENDEE line")
    del params["CN"]
    return _Invitation(pieces, params)
