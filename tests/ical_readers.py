"""Reading an .ics as calendar clients do: icalendar, vobject and ical.js (node), reduced to instants.

Shared by the format tests (tests/test_ical_format.py) and the feed tests (tests/test_feeds.py);
the `icaljs` fixture in tests/conftest.py runs `make_icaljs()`.
"""

from __future__ import annotations

import itertools
import json
import re
import shutil
import subprocess
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import NamedTuple

import icalendar
import pytest
import vobject
from dateutil.rrule import rrulestr

from tests.installs import one_installer

ROOT = Path(__file__).resolve().parents[1]
JS_DIR = ROOT / "tests" / "js"
# wide enough for any test's events; a narrower one can be given where it matters
ALL_TIME = (datetime(2000, 1, 1, tzinfo=UTC), datetime(2200, 1, 1, tzinfo=UTC))
Window = tuple[datetime, datetime]


def epoch(moment: datetime) -> int:
    """Unix seconds, the unit every parser's answer is reduced to."""
    return int(moment.timestamp())


class Occurrence(NamedTuple):
    """One occurrence as a calendar shows it, reduced to instants."""

    uid: str
    recurrence_id: int  # the original start; equals start for a single event
    start: int
    end: int
    cancelled: bool


class ParsedEvent(NamedTuple):
    """One VEVENT as a Python parser read it."""

    uid: str
    recurrence_id: datetime | None
    start: datetime
    end: datetime
    status: str
    sequence: int
    summary: str
    starts: list[datetime]  # the occurrences' original starts: expanded RRULE minus EXDATE


def occurrences_from(parsed: list[ParsedEvent], window: Window = ALL_TIME) -> list[Occurrence]:
    """What a calendar shows: each master's occurrences with the overrides applied, in the window."""
    overrides = {(p.uid, epoch(p.recurrence_id)): p for p in parsed if p.recurrence_id}
    found = []
    for master in (p for p in parsed if p.recurrence_id is None):
        # Subtract in UTC: Python subtracts wall times when both sides share a tzinfo.
        length = master.end.astimezone(UTC) - master.start.astimezone(UTC)
        for original in master.starts:
            shown = overrides.get((master.uid, epoch(original)))
            if shown:
                occurrence = Occurrence(
                    master.uid, epoch(original), epoch(shown.start), epoch(shown.end), shown.status == "CANCELLED"
                )
            else:
                start = original.astimezone(UTC)
                occurrence = Occurrence(
                    master.uid, epoch(original), epoch(start), epoch(start + length), master.status == "CANCELLED"
                )
            if epoch(window[0]) <= occurrence.start < epoch(window[1]):
                found.append(occurrence)
    return sorted(found)


def parse_with_icalendar(data: bytes) -> list[ParsedEvent]:
    """The feed as icalendar reads it, series expanded with dateutil as a client would."""
    parsed = []
    for vevent in icalendar.Calendar.from_ical(data).walk("VEVENT"):
        start = vevent["DTSTART"].dt
        starts = [start]
        if "RRULE" in vevent:
            excluded = vevent.get("EXDATE", [])
            excluded = excluded if isinstance(excluded, list) else [excluded]
            excluded = {epoch(d.dt) for prop in excluded for d in prop.dts}
            rule = rrulestr(vevent["RRULE"].to_ical().decode(), dtstart=start)
            starts = [s for s in rule if epoch(s) not in excluded]
        recurrence_id = vevent.get("RECURRENCE-ID")
        parsed.append(
            ParsedEvent(
                str(vevent["UID"]),
                recurrence_id.dt if recurrence_id else None,
                start,
                vevent["DTEND"].dt,
                str(vevent["STATUS"]),
                int(vevent["SEQUENCE"]),
                str(vevent["SUMMARY"]),
                starts,
            )
        )
    return parsed


def parse_with_vobject(data: bytes) -> list[ParsedEvent]:
    """The feed as a fresh vobject reads it, with the file's VTIMEZONE."""
    # vobject keeps the first VTIMEZONE it meets for a TZID for the life of the process, so a
    # feed parsed earlier would decide how this one reads; start from an empty registry instead.
    # (It also takes a VTIMEZONE that has no change between 2000 and 2020 and a zero offset, like
    # Lisbon's from 2026, for UTC and falls back to pytz by name: that one is checked by the others.)
    registry = vars(vobject.icalendar)["__tzidMap"]
    registry.clear()
    vobject.icalendar.registerTzid("UTC", vobject.icalendar.utc)
    parsed = []
    for vevent in vobject.readOne(data.decode("utf-8")).vevent_list:
        start = vevent.dtstart.value
        starts = list(vevent.getrruleset(addRDate=True)) if hasattr(vevent, "rrule") else [start]
        recurrence_id = vevent.recurrence_id.value if hasattr(vevent, "recurrence_id") else None
        parsed.append(
            ParsedEvent(
                vevent.uid.value,
                recurrence_id,
                start,
                vevent.dtend.value,
                vevent.status.value,
                int(vevent.sequence.value),
                vevent.summary.value,
                starts,
            )
        )
    return parsed


def with_private_tzids(data: bytes) -> bytes:
    """The feed with TZIDs no parser has seen, so it must use this file's VTIMEZONE."""
    # icalendar and vobject keep the first VTIMEZONE they meet for a TZID for the whole process
    # (and icalendar prefers its own zoneinfo for IANA names); a fresh name per parse defeats both.
    prefix = f"Zesummen-{next(_private_tzid_counter)}".encode()
    return re.sub(rb"(TZID[:=])([A-Za-z_]+/[A-Za-z_/]+)", rb"\1" + prefix + rb"/\2", data)


_private_tzid_counter = itertools.count()


def make_icaljs() -> Callable[..., dict]:
    """A function running tests/js/parse_ics.mjs on an .ics; installs ical.js from the lockfile once if needed."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if not node or not npm:
        pytest.fail(
            "node and npm are required for the ical.js checks (install Node.js 18 or newer); "
            "these tests never skip, so a missing node fails them"
        )
    with one_installer():
        if not (JS_DIR / "node_modules" / "ical.js" / "package.json").exists():
            done = subprocess.run(
                [npm, "ci", "--prefix", str(JS_DIR), "--no-audit", "--no-fund"],
                cwd=ROOT,
                capture_output=True,
                text=True,
                timeout=240,
            )
            if done.returncode != 0:
                pytest.fail(f"npm ci --prefix tests/js failed:\n{done.stdout}\n{done.stderr}")

    def parse(data: bytes, window: Window = ALL_TIME) -> dict:
        done = subprocess.run(
            [node, str(JS_DIR / "parse_ics.mjs"), window[0].isoformat(), window[1].isoformat()],
            input=data,
            capture_output=True,
            timeout=60,
        )
        assert done.returncode == 0, f"ical.js failed:\n{done.stderr.decode()}"
        return json.loads(done.stdout)

    return parse


def parse_with_icaljs(icaljs, data: bytes, window: Window = ALL_TIME) -> list[Occurrence]:
    """The occurrences ical.js expands, overrides applied."""
    return sorted(
        Occurrence(o["uid"], o["recurrence_id"], o["start"], o["end"], o["status"] == "CANCELLED")
        for o in icaljs(data, window)["occurrences"]
    )


def assert_well_formed(data: bytes) -> None:
    """CRLF after every line, at most 75 octets a line, and no fold splitting a UTF-8 character."""
    assert data.endswith(b"\r\n")
    for line in data[:-2].split(b"\r\n"):
        assert b"\r" not in line and b"\n" not in line, line
        assert len(line) <= 75, line
        line.decode("utf-8")  # raises if a fold cut a multi-byte character in two
