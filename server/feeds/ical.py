"""iCalendar (RFC 5545) feeds and email invitations (RFC 5546) built from plain structs."""

from __future__ import annotations

import functools
import re
from collections import deque
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import msgspec
from dateutil.rrule import rrulestr
from icalendar import Calendar, Event, Timezone, vCalAddress, vDDDTypes, vRecur, vText

from server.feeds.items import CalendarMethod, FeedEvent, InvitationMethod

PRODID = "-//Zesummen//Zesummen events//EN"
# How often subscribed clients should fetch the feed again (RFC 7986 and the older Microsoft name).
FEED_REFRESH = timedelta(hours=1)
DEFAULT_TIMEZONE = "Europe/Luxembourg"
# a line of 75 octets or more is folded (RFC 5545 3.1: at most 75, the continuation's space included)
FOLD_AT = 75


_ICAL_STATUS = {"published": "CONFIRMED", "cancelled": "CANCELLED"}


def build_calendar(
    events: Iterable[FeedEvent],
    *,
    name: str,
    description: str,
    lang: str,
    method: CalendarMethod | None = None,
    timezone: str = DEFAULT_TIMEZONE,
) -> bytes:
    """A VCALENDAR holding the events in the order given; same input, same bytes."""
    events = list(events)
    calendar = _new_calendar(method)
    # icalendar 7.3 types NAME and X- properties as vUnknown, written unescaped (a newline even
    # raises); RFC 5545 makes X- properties TEXT by default, so they are escaped as TEXT.
    name = _clean_text(name).replace("\n", " ")  # a name is one line in every client's list
    calendar.add("name", _Text(name), parameters={"LANGUAGE": lang})
    calendar.add("x-wr-calname", _Text(name))
    if description:
        calendar.add("description", _clean_text(description), parameters={"LANGUAGE": lang})
        calendar.add("x-wr-caldesc", _clean_text(description))
    calendar.add("x-wr-timezone", timezone)
    # RFC 7986 requires the VALUE parameter here; icalendar's refresh_interval setter omits it.
    calendar.add("refresh-interval", FEED_REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", "PT1H")
    for event in events:
        for vevent in _vevents(event, lang=lang):
            calendar.add_component(vevent)
    _add_timezones(calendar, events)
    return _serialise(calendar)


def build_event_invitation(
    event: FeedEvent,
    *,
    method: InvitationMethod,
    lang: str,
    organizer_email: str,
    attendee_email: str,
    attendee_name: str,
    organizer_name: str | None = None,
) -> bytes:
    """An iTIP message for one registrant, to attach as text/calendar; method=REQUEST or CANCEL."""
    if method == "REQUEST" and event.status == "cancelled":
        raise ValueError("a cancelled event is sent with method CANCEL, not REQUEST")
    if method == "CANCEL":
        # Cancelling the UID cancels every occurrence, so the overrides need not be repeated.
        event = msgspec.structs.replace(event, status="cancelled", overrides=[])
    organizer = vCalAddress(f"mailto:{organizer_email}")
    if organizer_name:
        organizer.params["CN"] = clean_param(organizer_name)
    attendee = vCalAddress(f"mailto:{attendee_email}")
    attendee.params["CN"] = clean_param(attendee_name)
    attendee.params["CUTYPE"] = "INDIVIDUAL"
    attendee.params["ROLE"] = "REQ-PARTICIPANT"
    # The registration is the acceptance; RSVP=FALSE keeps clients from mailing replies that
    # nobody reads (registrations are managed through the link in the email).
    attendee.params["PARTSTAT"] = "ACCEPTED"
    attendee.params["RSVP"] = "FALSE"

    calendar = _new_calendar(method)
    for vevent in _vevents(event, lang=lang):
        vevent.add("organizer", organizer)
        vevent.add("attendee", attendee)
        calendar.add_component(vevent)
    _add_timezones(calendar, [event])
    return _serialise(calendar)


def _serialise(calendar: Calendar) -> bytes:
    """calendar.to_ical(), with the same folding done on bytes rather than character by character."""
    # icalendar writes every property (values, escapes, parameters) but folds one character at a
    # time, a large share of building a big feed
    return b"".join(fold_line(line) + b"\r\n" for line in calendar.content_lines() if line)


def fold_line(line: str) -> bytes:
    """A content line folded as icalendar 7.3 folds it: at most 74 octets a piece, whole characters."""
    data = line.encode()
    if len(data) < FOLD_AT:
        return data
    pieces, start = [], 0
    while len(data) - start >= FOLD_AT:
        end = start + FOLD_AT - 1
        while data[end] & 0xC0 == 0x80:  # inside a UTF-8 character: cut before it
            end -= 1
        if data[end - 1] in b"\\^":  # never part an escape from what it escapes (icalendar #1501)
            end -= 1
        pieces.append(data[start:end])
        start = end
    pieces.append(data[start:])
    return b"\r\n ".join(pieces)


def _new_calendar(method: str | None) -> Calendar:
    """An empty VCALENDAR with the properties every output carries."""
    # Calendar.new() would add a random UID; we want byte-identical output for identical input.
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    if method:
        calendar.add("method", method)
    return calendar


def _vevents(event: FeedEvent, *, lang: str) -> Iterator[Event]:
    """The series' VEVENT, then one per override, ordered by the occurrence they replace."""
    zone = ZoneInfo(event.timezone)
    text_lang = event.lang or lang

    master = Event()
    master.add("uid", event.uid)
    # DTSTAMP is derived, never "now": an unchanged event must give an unchanged feed.
    master.add("dtstamp", _utc(event.last_modified))
    master.add("created", _utc(event.created))
    master.add("last-modified", _utc(event.last_modified))
    master.add("sequence", event.sequence)
    master.add("status", _ICAL_STATUS[event.status])
    master.add("dtstart", _wall_time(event.starts_at, zone))
    master.add("dtend", _wall_time(event.ends_at, zone))
    _add_texts(master, event.summary, _with_join_url(event.description, event), event.location, text_lang)
    _add_links(master, event)
    if event.rrule:
        master.add("rrule", _recurrence_rule(event.rrule, zone))
        if event.exdates:
            # EXDATE must match DTSTART's form (TZID and wall time) to remove an occurrence.
            master.add("exdate", [_wall_time(d, zone) for d in sorted(event.exdates)])
    yield master

    for override in sorted(event.overrides, key=lambda o: o.recurrence_id):
        # A moved occurrence of a cancelled series is cancelled too.
        status = "cancelled" if event.status == "cancelled" else override.status
        last_modified = override.last_modified or event.last_modified
        vevent = Event()
        vevent.add("uid", event.uid)
        vevent.add("recurrence-id", _wall_time(override.recurrence_id, zone))
        vevent.add("dtstamp", _utc(last_modified))
        vevent.add("created", _utc(event.created))
        vevent.add("last-modified", _utc(last_modified))
        vevent.add("sequence", override.sequence)
        vevent.add("status", _ICAL_STATUS[status])
        vevent.add("dtstart", _wall_time(override.starts_at, zone))
        vevent.add("dtend", _wall_time(override.ends_at, zone))
        _add_texts(
            vevent,
            event.summary if override.summary is None else override.summary,
            _with_join_url(event.description if override.description is None else override.description, event),
            event.location if override.location is None else override.location,
            text_lang,
        )
        _add_links(vevent, event, url=override.url)
        yield vevent


def _with_join_url(description: str, event: FeedEvent) -> str:
    """The description, followed by the join link when the feed may show it."""
    if not event.join_url:
        return description
    # Few clients show CONFERENCE (RFC 7986), so the link also goes where people look.
    return f"{description}\n\n{event.join_url}" if description else event.join_url


def _add_texts(vevent: Event, summary: str, description: str, location: str, lang: str) -> None:
    """SUMMARY, DESCRIPTION and LOCATION, tagged with the language they are written in."""
    params = {"LANGUAGE": lang} if lang else {}
    vevent.add("summary", _clean_text(summary), parameters=params)
    if description:
        vevent.add("description", _clean_text(description), parameters=params)
    if location:
        vevent.add("location", _clean_text(location), parameters=params)


def _add_links(vevent: Event, event: FeedEvent, *, url: str | None = None) -> None:
    """URL, CATEGORIES and the conference link."""
    if url or event.url:
        vevent.add("url", url or event.url)
    if event.categories:
        vevent.add("categories", [_clean_text(c) for c in event.categories])
    if event.join_url:
        vevent.add("conference", event.join_url, parameters={"VALUE": "URI", "FEATURE": "VIDEO"})


class _Text(vText):
    """A TEXT value escaped as RFC 5545 3.3.11 says, each character on its own."""

    # icalendar 7.3's escaping first turns a backslash followed by a capital N into a line break,
    # so a share such as \\NAS\events or a path such as C:\New reached calendars broken in two.
    def to_ical(self) -> bytes:
        return (self.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\n", "\\n")).encode()


def _clean_text(text: str) -> _Text:
    """Text with the line breaks and control characters iCalendar TEXT cannot carry removed."""
    # RFC 5545 TEXT allows no control character but tab; a bare CR (or \x0b, \x1c...) makes some
    # parsers end the content line early, so line breaks become \n and other controls are dropped.
    # U+2028/U+2029 are line breaks to Python's splitlines() and to vobject's parser alike.
    # A lone surrogate (Cs) cannot be written as UTF-8 at all. U+FEFF (a byte-order mark, once a
    # zero-width no-break space) is invisible and icalendar strips it, so it is dropped here too.
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\u2028", "\n").replace("\u2029", "\n")
    return _Text(_UNWRITABLE.sub("", text))


# Unicode's Cc (C0, DEL, C1) but tab and line feed, Cs, and U+FEFF, as a class: a feed cleans every text
_UNWRITABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff\ufeff]")


def clean_param(text: str) -> str:
    """A parameter value (e.g. a CN): one line, no double quotes, which no escape can carry."""
    # RFC 6868 ^' escapes are not understood by Outlook, so quotes become apostrophes.
    return " ".join(_clean_text(text).replace('"', "'").split())


def _utc(moment: datetime) -> datetime:
    """The instant in UTC, whole seconds (iCalendar has no fractions)."""
    return _aware(moment).astimezone(UTC).replace(microsecond=0)


def _wall_time(moment: datetime, zone: ZoneInfo) -> datetime:
    """The instant as wall time in the event's zone, so it is written with that TZID."""
    return _aware(moment).astimezone(zone).replace(microsecond=0)


def _aware(moment: datetime) -> datetime:
    """The datetime itself, refusing naive ones that would silently become floating time."""
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()} in a feed event")
    return moment


def _recurrence_rule(rrule: str, zone: ZoneInfo) -> vRecur:
    """The RRULE with UNTIL in UTC, as RFC 5545 requires when DTSTART has a TZID."""
    rule = vRecur.from_ical(rrule.removeprefix("RRULE:"))
    if "UNTIL" in rule:
        rule["UNTIL"] = [_until_in_utc(until, zone) for until in rule["UNTIL"]]
    return rule


def _until_in_utc(until: date | datetime, zone: ZoneInfo) -> datetime:
    """An UNTIL given as UTC, as local wall time, or as a date (that whole local day)."""
    if isinstance(until, datetime):
        local = until if until.tzinfo else until.replace(tzinfo=zone)
    else:
        local = datetime.combine(until, time(23, 59, 59), zone)
    return local.astimezone(UTC)


def _add_timezones(calendar: Calendar, events: list[FeedEvent]) -> None:
    """One VTIMEZONE per TZID used, first in the calendar, covering the years its events span."""
    spans = _years_by_timezone(events)
    # Every date-time of an event is written in the event's zone (see _vevents), so the zones used
    # are the events' own: no walk over the whole calendar (icalendar's get_missing_tzids) needed.
    # Sorted: a set's order varies between runs.
    used = sorted(tzid for tzid in spans if _written_with_tzid(tzid))
    for position, tzid in enumerate(used):
        first_year, last_year = spans[tzid]
        calendar.subcomponents.insert(position, _vtimezone(tzid, first_year, last_year))


@functools.lru_cache(maxsize=64)
def _written_with_tzid(tzid: str) -> bool:
    """Whether icalendar writes wall times of this zone with a TZID (UTC's it writes with Z)."""
    return "TZID" in vDDDTypes(datetime(2000, 1, 1, tzinfo=ZoneInfo(tzid))).params


def _years_by_timezone(events: list[FeedEvent]) -> dict[str, tuple[int, int]]:
    """For each time zone, the first and last year (local) that its events touch."""
    moments: dict[str, list[datetime]] = {}
    for event in events:
        zone = ZoneInfo(event.timezone)
        seen = moments.setdefault(event.timezone, [])
        seen += [event.starts_at, event.ends_at, *event.exdates]
        for override in event.overrides:
            seen += [override.recurrence_id, override.starts_at, override.ends_at]
        if event.rrule:
            seen.append(_series_end(event, zone))
    return {
        tzid: (
            min(m.astimezone(ZoneInfo(tzid)).year for m in found),
            max(m.astimezone(ZoneInfo(tzid)).year for m in found),
        )
        for tzid, found in moments.items()
    }


def _series_end(event: FeedEvent, zone: ZoneInfo) -> datetime:
    """When the last occurrence of a series ends; far in the future for an open-ended rule."""
    rule = _recurrence_rule(event.rrule or "", zone)
    if "COUNT" not in rule and "UNTIL" not in rule:
        # The time zone must be described for as long as the series runs.
        return datetime.combine(Timezone.DEFAULT_LAST_DATE, time(), zone) - timedelta(days=1)
    start = _wall_time(event.starts_at, zone)
    occurrences = deque(rrulestr(rule.to_ical().decode(), dtstart=start), maxlen=1)  # only the last one is kept
    last = occurrences[0] if occurrences else start
    return last + (event.ends_at - event.starts_at)


@functools.lru_cache(maxsize=64)
def _vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    """A VTIMEZONE generated from zoneinfo for whole years; shared, so never modify it."""
    vtimezone = Timezone.from_tzid(tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1))
    _one_onset_per_observance(vtimezone, ZoneInfo(tzid))
    return vtimezone


def _one_onset_per_observance(vtimezone: Timezone, zone: ZoneInfo) -> None:
    """Rewrites the observances as one STANDARD/DAYLIGHT per change, each onset checked."""
    # icalendar 7.3 lists a zone's later changes as RDATEs of one observance. ical.js 2.2 (behind
    # Thunderbird and many web calendars) ignores DTSTART when RDATE is present, which drops the
    # first year's changes, and Outlook is reported to misread RDATE too: one change per
    # observance, with DTSTART only, is read the same by every parser we test.
    # icalendar also writes the start of summer time as the wall time after the jump (03:00, not
    # 02:00, in Luxembourg); RFC 5545 reads an onset in TZOFFSETFROM, so that is an hour late.
    # _true_onset checks each onset against zoneinfo, so a fixed icalendar passes untouched.
    changes = []
    for observance in vtimezone.subcomponents:
        before, after = observance.TZOFFSETFROM, observance.TZOFFSETTO
        rdate_props = observance.get("RDATE", [])
        if not isinstance(rdate_props, list):
            rdate_props = [rdate_props]
        for written in [observance.DTSTART, *(period.dt for prop in rdate_props for period in prop.dts)]:
            onset = written if before == after else _true_onset(written, before, after, zone)
            change = type(observance)()
            change.add("dtstart", onset)
            if "TZNAME" in observance:
                change.add("tzname", str(observance["TZNAME"]))
            change.add("tzoffsetfrom", before)
            change.add("tzoffsetto", after)
            changes.append((onset - before, change))
    vtimezone.subcomponents = [change for _, change in sorted(changes, key=lambda c: c[0])]


def _true_onset(written: datetime, before: timedelta, after: timedelta, zone: ZoneInfo) -> datetime:
    """The onset as wall time in the old offset, at the instant zoneinfo changes the offset."""
    for candidate in (written, written - (after - before)):
        instant = candidate.replace(tzinfo=UTC) - before
        if (
            instant.astimezone(zone).utcoffset() == after
            and (instant - timedelta(seconds=1)).astimezone(zone).utcoffset() == before
        ):
            return candidate
    raise ValueError(f"{zone.key}: no change from {before} to {after} at {written}")
