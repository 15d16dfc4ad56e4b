"""Series: the recurrence rules accepted and their expansion into occurrences."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from dateutil.rrule import rrulestr

from server.errors import Invalid

# a typo such as 0202 for 2026 must not become an event; the bounds also keep cursors positive
EARLIEST_START = datetime(2000, 1, 1, tzinfo=UTC)
LATEST_START = datetime(2200, 1, 1, tzinfo=UTC)
MAX_OCCURRENCES = 200


MAX_SERIES_SPAN = timedelta(days=2 * 366)


ALLOWED_FREQUENCIES = {"WEEKLY", "MONTHLY"}


MAX_INTERVAL = 52


_DAY = r"(MO|TU|WE|TH|FR|SA|SU)"


# the RRULE parts taken, each with the form of its value (RFC 5545 3.3.10), before any number is read
RRULE_PARTS = {
    "FREQ": re.compile(r"[A-Z]{1,10}"),
    "INTERVAL": re.compile(r"[0-9]{1,3}"),
    "COUNT": re.compile(r"[0-9]{1,4}"),
    "UNTIL": re.compile(r"[0-9]{8}(T[0-9]{6}Z?)?"),
    "BYDAY": re.compile(rf"([+-]?[1-5]?{_DAY})(,[+-]?[1-5]?{_DAY}){{0,6}}"),
    "BYMONTHDAY": re.compile(r"[+-]?([1-9]|[12][0-9]|3[01])(,[+-]?([1-9]|[12][0-9]|3[01])){0,30}"),
    "BYSETPOS": re.compile(r"[+-]?[1-5]"),
    "WKST": re.compile(_DAY),
}


def _rule_parts(rule: str) -> dict[str, str]:
    """The parts of an RRULE this service takes, each checked, or 422 naming the first bad one."""
    text = rule.strip().upper().removeprefix("RRULE:")
    parts: dict[str, str] = {}
    for part in text.split(";"):
        name, _, value = part.partition("=")
        check = RRULE_PARTS.get(name)
        if check is None or name in parts or not check.fullmatch(value):
            raise Invalid.field(
                "recurrence.rrule",
                f"'{part[:40]}' is not a part of an RRULE this service takes "
                "(FREQ, INTERVAL, COUNT, UNTIL, BYDAY, BYMONTHDAY, BYSETPOS, WKST).",
            )
        parts[name] = value
    if parts.get("FREQ") not in ALLOWED_FREQUENCIES:
        raise Invalid.field("recurrence.rrule", "Use FREQ=WEEKLY (with INTERVAL for every n weeks) or FREQ=MONTHLY.")
    if not 1 <= int(parts.get("INTERVAL", "1")) <= MAX_INTERVAL:
        raise Invalid.field("recurrence.rrule", f"INTERVAL is a whole number from 1 to {MAX_INTERVAL}.")
    if "COUNT" not in parts and "UNTIL" not in parts:
        raise Invalid.field("recurrence.rrule", "Give COUNT or UNTIL so that the series ends.")
    if "COUNT" in parts and "UNTIL" in parts:
        raise Invalid.field("recurrence.rrule", "Give COUNT or UNTIL, not both.")
    if not 1 <= int(parts.get("COUNT", "1")) <= MAX_OCCURRENCES:
        raise Invalid.field("recurrence.rrule", f"COUNT is a whole number from 1 to {MAX_OCCURRENCES}.")
    return parts


def _until(value: str) -> datetime:
    """UNTIL as a naive local time: a UTC "Z" value read in the event's zone, a date alone as that whole day."""
    until = value.rstrip("Z")
    if len(until) == 8:  # "until 2 December" includes it, as calendar apps read it
        until += "T235959"
    try:
        moment = datetime.strptime(until, "%Y%m%dT%H%M%S")
    except ValueError:
        raise Invalid.field("recurrence.rrule", f"UNTIL={value} is not a date that exists.") from None
    if not EARLIEST_START.year <= moment.year < LATEST_START.year:
        raise Invalid.field("recurrence.rrule", "UNTIL lies between the years 2000 and 2199.")
    return moment


def expand_recurrence(
    starts_at: datetime, ends_at: datetime, tz: str, rule: str, exdates: list[datetime]
) -> list[tuple[datetime, datetime]]:
    """The (start, end) of each occurrence, keeping the wall-clock time across DST changes."""
    parts = _rule_parts(rule)
    zone = ZoneInfo(tz)
    local_start = starts_at.astimezone(zone).replace(tzinfo=None)
    local_duration = ends_at.astimezone(zone).replace(tzinfo=None) - local_start
    # the rule is read up to MAX_SERIES_SPAN at most, so that one that matches rarely or never (the 31st
    # of every 24th month) stops there rather than at the year 9999
    horizon = local_start + MAX_SERIES_SPAN
    until = min(_until(parts["UNTIL"]), horizon) if "UNTIL" in parts else horizon
    count = int(parts.get("COUNT", MAX_OCCURRENCES))
    bounded = ";".join(f"{name}={value}" for name, value in parts.items() if name not in ("COUNT", "UNTIL"))
    try:
        rule_set = rrulestr(f"{bounded};UNTIL={until:%Y%m%dT%H%M%S}", dtstart=local_start, forceset=True, ignoretz=True)
        locals_ = list(itertools.islice(rule_set, count))
    except (ValueError, TypeError, OverflowError) as exc:
        raise Invalid.field("recurrence.rrule", f"Not an RRULE this service understands: {exc}") from None
    excluded = {d.astimezone(zone).replace(tzinfo=None) for d in exdates}
    occurrences: list[tuple[datetime, datetime]] = []
    for local in locals_:
        if local in excluded:
            continue
        # fold=0 picks the first of a repeated hour, as calendar apps do
        start = local.replace(tzinfo=zone)
        end = (local + local_duration).replace(tzinfo=zone)
        occurrences.append((start.astimezone(UTC), end.astimezone(UTC)))
    if not occurrences:
        raise Invalid.field("recurrence.rrule", "This rule gives no occurrence.")
    return occurrences
