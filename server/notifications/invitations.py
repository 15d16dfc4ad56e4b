"""Invitations (.ics) for registrants: the calendar built once per event version, each person's ATTENDEE swapped in."""

from __future__ import annotations

import re
from collections.abc import Mapping
from email.utils import parseaddr
from typing import Any, NamedTuple

from icalendar import vCalAddress
from icalendar.parser import Contentline, Parameters

from server.feeds.events import occurrence_feed_event

# the builder's own CN cleaning and line folding, so that a swapped ATTENDEE line is its line (see invitation())
from server.feeds.ical import build_event_invitation, clean_param, fold_line
from server.settings import Settings

# ---------------------------------------------------------------------------- invitations, once per event version
# The invitations of one event differ only in their ATTENDEE line, and building one with icalendar
# is dear. So the calendar is built once per version of the event (and language, method, join link,
# organiser) for a stand-in attendee; each person's copy swaps in their own ATTENDEE line, written
# and folded as the builder writes it (tests/test_messages.py compares them byte for byte).
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
    event: Mapping[str, Any],
    method: str,
    lang: str,
    settings: Settings,
    *,
    organisation: str,
    with_join_url: bool,
    attendee_email: str,
    attendee_name: str,
    join_url: str | None = None,
) -> bytes:
    """build_event_invitation for one registrant of the event row `event`, from the calendar built for its version.

    With the person's own join link (`join_url`, a web conference's /j/ link) the calendar is that
    person's alone and is built for them, never cached: no one's link may reach another's mail.
    """
    organiser_name, organiser_email = parseaddr(settings.mail_from)
    if with_join_url and join_url is not None:
        return build_event_invitation(
            occurrence_feed_event(event, lang, settings, with_join_url=True, join_url=join_url),
            method=method,
            lang=lang,  # type: ignore[arg-type]
            organizer_email=organiser_email or "noreply@zesummen.lu",
            organizer_name=organisation or organiser_name or None,
            attendee_email=attendee_email,
            attendee_name=attendee_name,
        )
    # everything the calendar depends on besides the attendee: the row (row_version grows with every
    # update of it; created_at and the database tell apart two rows given the same id, e.g. after a
    # TRUNCATE ... RESTART IDENTITY) and what comes from elsewhere (organisation, settings)
    key = (
        settings.database_url,
        event["id"],
        event["created_at"],
        event["row_version"],
        lang,
        method,
        with_join_url,
        organisation,
        settings.base,
        settings.mail_from,
    )
    cached = _INVITATIONS.get(key)
    if cached is None:
        feed_event = occurrence_feed_event(event, lang, settings, with_join_url=with_join_url)
        built = build_event_invitation(
            feed_event,
            method=method,
            lang=lang,  # type: ignore[arg-type]
            organizer_email=organiser_email or "noreply@zesummen.lu",
            organizer_name=organisation or organiser_name or None,
            attendee_email=_STAND_IN_EMAIL,
            attendee_name=_STAND_IN_NAME,
        )
        cached = _cut_at_attendees(built)
        if len(_INVITATIONS) >= _INVITATIONS_MAX:
            _INVITATIONS.clear()  # old versions are never asked for again; a full cache just starts over
        _INVITATIONS[key] = cached
    params = cached.attendee_params.copy()
    # as build_event_invitation writes its attendee: CN cleaned the same way, the address as vCalAddress
    params["CN"] = clean_param(attendee_name)
    line = fold_line(Contentline.from_parts("ATTENDEE", params, vCalAddress(f"mailto:{attendee_email}"), sorted=True))
    return line.join(cached.pieces)


def _cut_at_attendees(calendar: bytes) -> _Invitation:
    """Split a stand-in's invitation around its ATTENDEE content lines (one per VEVENT)."""
    pieces, params, start = [], None, 0
    for found in re.finditer(rb"(?:^|\r\n)(ATTENDEE[;:])", calendar):
        begin = found.start(1)
        end = _CONTENT_LINE_END.search(calendar, begin)
        assert end is not None
        _, params, value = Contentline.from_ical(calendar[begin : end.start()].decode()).parts()
        assert value == f"mailto:{_STAND_IN_EMAIL}" and params.get("CN") == _STAND_IN_NAME, "unexpected stand-in line"
        pieces.append(calendar[start:begin])
        start = end.start()
    pieces.append(calendar[start:])
    if params is None:
        raise ValueError("the invitation has no ATTENDEE line")
    del params["CN"]
    return _Invitation(pieces, params)
