"""The iCalendar feed reads back the same in icalendar, vobject and ical.js (the web clients' parser)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import unicodedata
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar
import msgspec
import pytest
import vobject
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from server.feeds.ical import build_calendar, build_event_invitation, fold_line
from server.feeds.items import FeedEvent, FeedOverride
from tests.ical_readers import (
    ROOT,
    Occurrence,
    ParsedEvent,
    assert_well_formed,
    epoch,
    occurrences_from,
    parse_with_icalendar,
    parse_with_icaljs,
    parse_with_vobject,
    with_private_tzids,
)

LUX = ZoneInfo("Europe/Luxembourg")
LISBON = ZoneInfo("Europe/Lisbon")
CREATED = datetime(2025, 12, 1, 9, 0, tzinfo=UTC)
EDITED = datetime(2025, 12, 15, 16, 45, 30, tzinfo=UTC)


def lux(*parts: int) -> datetime:
    """A wall time in Luxembourg."""
    return datetime(*parts, tzinfo=LUX)


# --- the scenario: what goes in, and what every parser must read back ----------------------------


def event(uid: str, starts_at: datetime, ends_at: datetime, **fields) -> FeedEvent:
    """A feed event with defaults, in Luxembourg unless told otherwise."""
    defaults = dict(
        uid=f"{uid}@zesummen.test",
        sequence=0,
        status="published",
        summary=f"Event {uid}",
        timezone="Europe/Luxembourg",
        created=CREATED,
        last_modified=EDITED,
        location="Biergerzentrum, Esch-sur-Alzette",
        url=f"https://zesummen.test/events/{uid}",
        categories=["info_session"],
    )
    return FeedEvent(starts_at=starts_at, ends_at=ends_at, **(defaults | fields))


def scenario_events() -> list[FeedEvent]:
    """Winter and summer events, a cancelled one, DST edges and two series with overrides."""
    return [
        event(
            "winter",
            lux(2026, 1, 14, 12, 15),
            lux(2026, 1, 14, 13, 45),
            sequence=2,
            summary="Webconférence : s'inscrire à la commune",
            categories=["webconference"],
            join_url="https://meet.example.org/zesummen-winter?pwd=a1&lang=fr",
        ),
        event("summer", lux(2026, 7, 8, 18, 0), lux(2026, 7, 8, 19, 30)),
        event("cancelled", lux(2026, 3, 18, 10, 0), lux(2026, 3, 18, 11, 0), status="cancelled", sequence=5),
        # 03:30 comes right after the spring gap: a VTIMEZONE with the onset an hour late reads it
        # as 02:30 UTC instead of 01:30 UTC.
        event("after-spring-gap", lux(2026, 3, 29, 3, 30), lux(2026, 3, 29, 4, 30)),
        # Starts in summer time and ends in winter time, three hours later, across the repeated hour.
        event("across-autumn-fold", lux(2026, 10, 25, 1, 30), datetime(2026, 10, 25, 2, 30, tzinfo=UTC)),
        event(
            "autumn-series",
            lux(2026, 10, 7, 18, 0),
            lux(2026, 10, 7, 19, 30),
            sequence=3,
            summary="Table de conversation lëtzebuergesch",
            categories=["conversation_table"],
            rrule="FREQ=WEEKLY;COUNT=8",
            exdates=[lux(2026, 10, 14, 18, 0)],
            overrides=[
                # moved from before the change to summer time's end to after it
                FeedOverride(
                    recurrence_id=lux(2026, 10, 21, 18, 0),
                    starts_at=lux(2026, 10, 27, 17, 30),
                    ends_at=lux(2026, 10, 27, 19, 0),
                    sequence=4,
                    summary="Table de conversation (salle 2)",
                ),
                FeedOverride(
                    recurrence_id=lux(2026, 11, 4, 18, 0),
                    starts_at=lux(2026, 11, 4, 18, 0),
                    ends_at=lux(2026, 11, 4, 19, 30),
                    sequence=4,
                    status="cancelled",
                ),
            ],
        ),
        # Every other week across the start of summer time 2027, UNTIL given as a local date.
        event(
            "spring-series",
            lux(2027, 2, 3, 12, 0),
            lux(2027, 2, 3, 13, 0),
            rrule="FREQ=WEEKLY;INTERVAL=2;UNTIL=20270414",
        ),
        event(
            "lisbon",
            datetime(2026, 6, 10, 19, 0, tzinfo=LISBON),
            datetime(2026, 6, 10, 20, 30, tzinfo=LISBON),
            timezone="Europe/Lisbon",
            summary="Sessão de informação",
            lang="pt",
        ),
    ]


def expected_occurrences() -> list[Occurrence]:
    """The occurrences written out by hand from the scenario, in UTC via zoneinfo."""

    def single(uid: str, start: datetime, end: datetime, cancelled: bool = False) -> Occurrence:
        return Occurrence(f"{uid}@zesummen.test", epoch(start), epoch(start), epoch(end), cancelled)

    def series(uid: str, originals: list[datetime], length: timedelta, moved=(), cancelled=()) -> list[Occurrence]:
        moved = dict(moved)
        found = []
        for original in originals:
            start, end = moved.get(original, (original, original + length))
            found.append(
                Occurrence(f"{uid}@zesummen.test", epoch(original), epoch(start), epoch(end), original in cancelled)
            )
        return found

    # zoneinfo itself is the reference: pin it to known offsets once
    assert lux(2026, 10, 21, 18, 0).astimezone(UTC).hour == 16
    assert lux(2026, 10, 28, 18, 0).astimezone(UTC).hour == 17
    return sorted(
        [
            single("winter", lux(2026, 1, 14, 12, 15), lux(2026, 1, 14, 13, 45)),
            single("summer", lux(2026, 7, 8, 18, 0), lux(2026, 7, 8, 19, 30)),
            single("cancelled", lux(2026, 3, 18, 10, 0), lux(2026, 3, 18, 11, 0), cancelled=True),
            single(
                "after-spring-gap", datetime(2026, 3, 29, 1, 30, tzinfo=UTC), datetime(2026, 3, 29, 2, 30, tzinfo=UTC)
            ),
            single(
                "across-autumn-fold",
                datetime(2026, 10, 24, 23, 30, tzinfo=UTC),
                datetime(2026, 10, 25, 2, 30, tzinfo=UTC),
            ),
            *series(
                "autumn-series",
                # 14 October is an EXDATE: it is not an occurrence at all
                [
                    lux(2026, 10, 7, 18),
                    lux(2026, 10, 21, 18),
                    lux(2026, 10, 28, 18),
                    lux(2026, 11, 4, 18),
                    lux(2026, 11, 11, 18),
                    lux(2026, 11, 18, 18),
                    lux(2026, 11, 25, 18),
                ],
                timedelta(minutes=90),
                moved={lux(2026, 10, 21, 18): (lux(2026, 10, 27, 17, 30), lux(2026, 10, 27, 19, 0))},
                cancelled={lux(2026, 11, 4, 18)},
            ),
            *series(
                "spring-series",
                [
                    lux(2027, 2, 3, 12),
                    lux(2027, 2, 17, 12),
                    lux(2027, 3, 3, 12),
                    lux(2027, 3, 17, 12),
                    lux(2027, 3, 31, 12),
                    lux(2027, 4, 14, 12),
                ],
                timedelta(hours=1),
            ),
            single("lisbon", datetime(2026, 6, 10, 18, 0, tzinfo=UTC), datetime(2026, 6, 10, 19, 30, tzinfo=UTC)),
        ]
    )


def scenario_calendar() -> bytes:
    """The scenario as the personal feed of someone registered for everything."""
    return build_calendar(
        scenario_events(), name="Zesummen – mes événements", description="Vos inscriptions", lang="fr"
    )


# --- reading the feed back with each parser -----------------------------------------------------


# --- instants, counts and cancellations ---------------------------------------------------------


@pytest.mark.parametrize(
    "reader",
    [
        pytest.param(lambda data: parse_with_icalendar(data), id="icalendar"),
        pytest.param(lambda data: parse_with_icalendar(with_private_tzids(data)), id="icalendar-vtimezone"),
        pytest.param(lambda data: parse_with_vobject(data), id="vobject"),
    ],
)
def test_python_parsers_read_the_source_instants(reader):
    """Every start and end, the number of occurrences and the cancelled ones match the source."""
    expected = expected_occurrences()
    found = occurrences_from(reader(scenario_calendar()))
    assert len(found) == len(expected) == 19
    assert [o for o in found if o.cancelled] == [o for o in expected if o.cancelled]
    assert found == expected


def test_icaljs_reads_the_source_instants(icaljs):
    """ical.js, which resolves TZIDs only from the file's VTIMEZONEs, agrees with the source."""
    expected = expected_occurrences()
    found = parse_with_icaljs(icaljs, scenario_calendar())
    # ical.js 2.2.1 quirk: expanding an occurrence, it adds DTEND-DTSTART (exact, PT3H) to the
    # start as wall time, so an event across the autumn change ends an hour late in the
    # expansion, though its VEVENT reads right (test_every_parser_reads_each_vevent_as_written).
    # Pinned, so that an ical.js that fixes it shows up here.
    fold = "across-autumn-fold@zesummen.test"
    (js_fold,), (source_fold,) = [o for o in found if o.uid == fold], [o for o in expected if o.uid == fold]
    assert js_fold.end == source_fold.end + 3600
    found = [o._replace(end=source_fold.end) if o.uid == fold else o for o in found]
    assert len(found) == len(expected)
    assert [o for o in found if o.cancelled] == [o for o in expected if o.cancelled]
    assert found == expected


def test_every_parser_reads_each_vevent_as_written(icaljs):
    """UID, RECURRENCE-ID, DTSTART, DTEND, STATUS, SEQUENCE and SUMMARY of every VEVENT match the source."""
    status = {"published": "CONFIRMED", "cancelled": "CANCELLED"}
    source = []
    for e in scenario_events():
        source.append((e.uid, None, epoch(e.starts_at), epoch(e.ends_at), status[e.status], e.sequence, e.summary))
        for o in sorted(e.overrides, key=lambda o: o.recurrence_id):
            source.append(
                (
                    e.uid,
                    epoch(o.recurrence_id),
                    epoch(o.starts_at),
                    epoch(o.ends_at),
                    status[o.status],
                    o.sequence,
                    o.summary or e.summary,
                )
            )

    def as_rows(parsed: list[ParsedEvent]) -> list[tuple]:
        return [
            (
                p.uid,
                p.recurrence_id and epoch(p.recurrence_id),
                epoch(p.start),
                epoch(p.end),
                p.status,
                p.sequence,
                p.summary,
            )
            for p in parsed
        ]

    data = scenario_calendar()
    from_js = [
        (e["uid"], e["recurrence_id"], e["start"], e["end"], e["status"], e["sequence"], e["summary"])
        for e in icaljs(data)["events"]
    ]
    assert from_js == source
    assert as_rows(parse_with_vobject(data)) == source
    # vobject read Luxembourg's times from the file, not from its fallback tz database
    assert "Europe/Luxembourg" in vars(vobject.icalendar)["__tzidMap"]
    assert type(vars(vobject.icalendar)["__tzidMap"]["Europe/Luxembourg"]).__name__ == "_tzicalvtz"
    assert as_rows(parse_with_icalendar(data)) == source
    assert as_rows(parse_with_icalendar(with_private_tzids(data))) == source


def test_single_summer_event_feed_reads_right(icaljs):
    """A one-event feed in summer gets a VTIMEZONE of its own year, read right by all three."""
    only = [event("july", lux(2030, 7, 1, 9, 0), lux(2030, 7, 1, 10, 0))]
    data = build_calendar(only, name="x", description="", lang="de")
    expected = [
        Occurrence(
            "july@zesummen.test", epoch(only[0].starts_at), epoch(only[0].starts_at), epoch(only[0].ends_at), False
        )
    ]
    window = (datetime(2030, 1, 1, tzinfo=UTC), datetime(2031, 1, 1, tzinfo=UTC))
    found_js = sorted(
        Occurrence(o["uid"], o["recurrence_id"], o["start"], o["end"], o["status"] == "CANCELLED")
        for o in icaljs(data, window)["occurrences"]
    )
    assert found_js == expected
    assert [epoch(p.start) for p in parse_with_vobject(data)] == [expected[0].start]
    assert [epoch(p.start) for p in parse_with_icalendar(with_private_tzids(data))] == [expected[0].start]


# --- the VTIMEZONE itself ------------------------------------------------------------------------


@pytest.mark.parametrize("tzid", ["Europe/Luxembourg", "Europe/Lisbon", "America/Sao_Paulo", "Australia/Sydney"])
def test_vtimezone_offsets_match_zoneinfo_every_hour(tzid):
    """Read as RFC 5545 says (onset = DTSTART in TZOFFSETFROM), the VTIMEZONE gives zoneinfo's offsets."""
    zone = ZoneInfo(tzid)
    events = [
        event("a", datetime(2026, 2, 1, 12, tzinfo=zone), datetime(2026, 2, 1, 13, tzinfo=zone), timezone=tzid),
        event("b", datetime(2027, 8, 1, 12, tzinfo=zone), datetime(2027, 8, 1, 13, tzinfo=zone), timezone=tzid),
    ]
    (vtimezone,) = icalendar.Calendar.from_ical(build_calendar(events, name="x", description="", lang="fr")).timezones
    assert str(vtimezone["TZID"]) == tzid
    changes = []  # (instant in UTC, offset from then on)
    for observance in vtimezone.subcomponents:
        before, after = observance["TZOFFSETFROM"].td, observance["TZOFFSETTO"].td
        rdates = observance.get("RDATE", [])
        rdates = rdates if isinstance(rdates, list) else [rdates]
        for onset in [observance["DTSTART"].dt, *(d.dt for prop in rdates for d in prop.dts)]:
            changes.append((onset.replace(tzinfo=UTC) - before, after))
    changes.sort()
    moment, checked = datetime(2026, 1, 1, 12, tzinfo=UTC), 0
    while moment < datetime(2027, 12, 31, tzinfo=UTC):
        offset = [after for instant, after in changes if instant <= moment][-1]
        assert offset == moment.astimezone(zone).utcoffset(), f"{tzid} at {moment}"
        moment += timedelta(minutes=30)
        checked += 1
    assert checked > 34_000


def test_one_vtimezone_per_zone_used_and_none_for_utc():
    """Each TZID used has exactly one VTIMEZONE, placed before the events; UTC needs none."""
    utc_event = event("utc", datetime(2026, 5, 1, 8, tzinfo=UTC), datetime(2026, 5, 1, 9, tzinfo=UTC), timezone="UTC")
    calendar = icalendar.Calendar.from_ical(
        build_calendar([*scenario_events(), utc_event], name="x", description="", lang="fr")
    )
    assert [str(tz["TZID"]) for tz in calendar.timezones] == ["Europe/Lisbon", "Europe/Luxembourg"]
    names = [c.name for c in calendar.subcomponents]
    assert names[:2] == ["VTIMEZONE", "VTIMEZONE"] and set(names[2:]) == {"VEVENT"}
    assert calendar.get_missing_tzids() == set()


# --- text and line format -------------------------------------------------------------------------

# Line breaks and TEXT's escapes, Luxembourgish letters (also ë decomposed, as macOS writes it),
# CJK, emoji with skin tone, ZWJ sequence and flag: what issue 5 lists, and what breaks folding.
NASTY = "\n\r;,\\:\"'ëéäöüÄÉËèêçâôûœß€½ e\u0308 日本語中文한국어😀👩🏽‍🏫🇱🇺\t "
texts = st.text(alphabet=st.one_of(st.sampled_from(NASTY), st.characters()), max_size=300)


def cleaned(text: str) -> str:
    """What a feed can carry of a text: line breaks as \\n, no control characters but tab, no lone
    surrogates, no U+FEFF."""
    for line_break in ("\r\n", "\r", "\u2028", "\u2029"):
        text = text.replace(line_break, "\n")
    text = text.replace("\ufeff", "")
    return "".join(c for c in text if c in "\n\t" or unicodedata.category(c) not in ("Cc", "Cs"))


def unescape_text(raw: str) -> str:
    """RFC 5545 3.3.11 TEXT unescaping, for parsers that hand X- properties back raw."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], raw)


def one_line(text: str) -> str:
    """A calendar name as written: its line breaks become spaces."""
    return text.replace("\n", " ")


def text_event(uid: str, summary: str, description: str, location: str) -> FeedEvent:
    """A plain event carrying the given texts."""
    return event(
        uid, lux(2026, 5, 6, 18), lux(2026, 5, 6, 19), summary=summary, description=description, location=location
    )


# make test tries the same cases on every run, so CI is repeatable; make fuzz (FUZZ_SEED set) draws
# new ones, ten times as many
FUZZING = "FUZZ_SEED" in os.environ


@settings(
    max_examples=2000 if FUZZING else 200,
    deadline=None,
    derandomize=not FUZZING,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(summary=texts, description=texts, location=texts)
# every case issue 5 names, always tried: newlines, ; , \ and emoji, CJK and Luxembourgish
@example(
    summary="Konversatiounsdësch; Lëtzebuergesch, fir Ufänker 🇱🇺",
    description=NASTY * 6 + "\nZweet Linn\r\nDrëtt Linn\\n (keng nei Linn)",
    location="Biergerzentrum, Esch-sur-Uelzecht; 2. Stack \\ Sall 日本",
)
@example(summary="\ufeff", description="\ufeffa", location="b\ufeff")  # found by hypothesis
# found by hypothesis: icalendar wrote a backslash before a capital N as a line break
@example(summary="\\N", description="C:\\New\\n\\\\NAS", location="\\\\NAS\\Events")
def test_any_text_is_folded_safely_and_reads_back(summary, description, location):
    """Lines fit in 75 octets, end in CRLF, and icalendar and vobject give every text back."""
    data = build_calendar(
        [text_event("t", summary, description, location)], name=summary, description=description, lang="lb"
    )
    assert_well_formed(data)

    calendar = icalendar.Calendar.from_ical(data)
    (vevent,) = calendar.walk("VEVENT")
    # icalendar hands X- properties back raw, still escaped as the TEXT they are (RFC 5545 3.8.8.2)
    assert unescape_text(str(calendar["X-WR-CALNAME"])) == one_line(cleaned(summary))
    assert unescape_text(str(calendar.get("X-WR-CALDESC", ""))) == cleaned(description)
    assert str(vevent["SUMMARY"]) == cleaned(summary)
    assert str(vevent.get("DESCRIPTION", "")) == cleaned(description)
    assert str(vevent.get("LOCATION", "")) == cleaned(location)

    vcalendar = vobject.readOne(data.decode("utf-8"))
    assert vcalendar.x_wr_calname.value == one_line(cleaned(summary))
    (vevent,) = vcalendar.vevent_list
    assert vevent.summary.value == cleaned(summary)
    assert (vevent.description.value if hasattr(vevent, "description") else "") == cleaned(description)
    assert (vevent.location.value if hasattr(vevent, "location") else "") == cleaned(location)


@settings(
    max_examples=250 if FUZZING else 25,
    deadline=None,
    derandomize=not FUZZING,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(batch=st.lists(st.tuples(texts, texts, texts), min_size=1, max_size=8))
def test_icaljs_gives_any_text_back(icaljs, batch):
    """ical.js unescapes and unfolds every text to what was put in (one node run per batch)."""
    events = [text_event(f"t{i}", *texts_) for i, texts_ in enumerate(batch)]
    found = icaljs(build_calendar(events, name=batch[0][0], description="", lang="en"))
    # ical.js hands X- properties back raw, still escaped as the TEXT they are
    assert unescape_text(found["calendar"]["name"]) == one_line(cleaned(batch[0][0]))
    for (summary, description, location), parsed in zip(batch, found["events"], strict=True):
        assert parsed["summary"] == cleaned(summary)
        assert (parsed["description"] or "") == cleaned(description)
        assert (parsed["location"] or "") == cleaned(location)


@settings(max_examples=500, deadline=None)
@given(
    line=st.text(
        alphabet=st.one_of(
            st.sampled_from(NASTY.replace("\n", "").replace("\r", "") + "\\^"),
            st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n"),
        ),
        max_size=400,
    )
)
def test_folding_on_bytes_is_icalendar_s_folding(line):
    """The builder folds encoded lines itself (speed); the result is icalendar's own, octet for octet."""
    from icalendar.parser.string import _foldline

    assert fold_line(line) == _foldline(line).encode()


def test_multibyte_text_at_every_fold_position():
    """Shifting 2-, 3- and 4-byte characters across the fold never splits one."""
    for prefix in range(0, 80):
        for character in ("ë", "€", "語", "😀"):
            text = "x" * prefix + character * 40
            data = build_calendar([text_event("m", text, text, text)], name="n", description="", lang="lb")
            assert_well_formed(data)
            (vevent,) = icalendar.Calendar.from_ical(data).walk("VEVENT")
            assert str(vevent["SUMMARY"]) == text


# --- determinism and revision ---------------------------------------------------------------------


def test_identical_input_gives_identical_bytes():
    """Two builds in this process and one in a process with another hash seed match byte for byte."""
    first, second = scenario_calendar(), scenario_calendar()
    assert first == second
    # Set order (e.g. of TZIDs) changes with the hash seed, which only another process shows.
    script = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('scenario', {str(Path(__file__))!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "sys.stdout.buffer.write(module.scenario_calendar())\n"
    )
    for seed in ("0", "1", "2", "3", "4", "5"):
        done = subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            capture_output=True,
            timeout=120,
            env={**os.environ, "PYTHONHASHSEED": seed},
        )
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout == first


def test_dtstamp_comes_from_last_modified_not_the_clock():
    """DTSTAMP is the revision time in UTC, so rebuilding later changes nothing."""
    data = scenario_calendar().decode()
    assert set(re.findall(r"^DTSTAMP:(.*)\r$", data, re.M)) == {"20251215T164530Z"}
    assert set(re.findall(r"^LAST-MODIFIED:(.*)\r$", data, re.M)) == {"20251215T164530Z"}


def test_sequence_is_the_revision():
    """SEQUENCE is the event's revision, and each override's own."""
    data = build_calendar(
        [msgspec.structs.replace(e, sequence=17) for e in scenario_events()], name="x", description="", lang="fr"
    )
    calendar = icalendar.Calendar.from_ical(data)
    sequences = {(str(v["UID"]), "RECURRENCE-ID" in v): int(v["SEQUENCE"]) for v in calendar.walk("VEVENT")}
    assert sequences.pop(("autumn-series@zesummen.test", True)) == 4
    assert set(sequences.values()) == {17}


# --- calendar properties ----------------------------------------------------------------------------


def test_feed_header():
    """The calendar-level properties clients use to name, refresh and place the feed."""
    data = build_calendar(scenario_events(), name="Zesummen", description="All events", lang="en")
    header = data.split(b"BEGIN:VTIMEZONE")[0].decode().split("\r\n")
    assert "PRODID:-//Zesummen//Zesummen events//EN" in header
    assert "VERSION:2.0" in header and "CALSCALE:GREGORIAN" in header
    assert "X-WR-CALNAME:Zesummen" in header and "X-WR-CALDESC:All events" in header
    assert "NAME;LANGUAGE=en:Zesummen" in header
    assert "X-WR-TIMEZONE:Europe/Luxembourg" in header
    assert "REFRESH-INTERVAL;VALUE=DURATION:PT1H" in header and "X-PUBLISHED-TTL:PT1H" in header
    assert not any(line.startswith("METHOD") for line in header)
    with_method = build_calendar([], name="x", description="", lang="fr", method="PUBLISH")
    assert b"\r\nMETHOD:PUBLISH\r\n" in with_method


def test_event_properties():
    """Status, language, categories, URL and the join link are written where clients look."""
    data = scenario_calendar()
    calendar = icalendar.Calendar.from_ical(data)
    by_uid = {str(v["UID"]): v for v in calendar.walk("VEVENT") if "RECURRENCE-ID" not in v}
    winter = by_uid["winter@zesummen.test"]
    assert winter["STATUS"] == "CONFIRMED"
    assert winter["SUMMARY"].params["LANGUAGE"] == "fr"
    assert winter.categories == ["webconference"]
    assert str(winter["URL"]) == "https://zesummen.test/events/winter"
    assert str(winter["CONFERENCE"]) == "https://meet.example.org/zesummen-winter?pwd=a1&lang=fr"
    assert str(winter["DESCRIPTION"]).endswith("https://meet.example.org/zesummen-winter?pwd=a1&lang=fr")
    assert by_uid["cancelled@zesummen.test"]["STATUS"] == "CANCELLED"
    assert by_uid["lisbon@zesummen.test"]["SUMMARY"].params["LANGUAGE"] == "pt"
    assert "CONFERENCE" not in by_uid["summer@zesummen.test"]
    assert b"DTSTART;TZID=Europe/Luxembourg:20260114T121500\r\n" in data
    # UNTIL given as a local date becomes the end of that day, in UTC (RFC 5545 with a TZID)
    assert b"UNTIL=20270414T215959Z" in data


def test_naive_datetimes_are_refused():
    """A naive datetime would silently become floating time in every client."""
    naive = event("naive", datetime(2026, 5, 1, 10), datetime(2026, 5, 1, 11))
    with pytest.raises(ValueError, match="naive"):
        build_calendar([naive], name="x", description="", lang="fr")


# --- invitations ----------------------------------------------------------------------------------


def invitation(method: str, source: FeedEvent) -> bytes:
    """An invitation to Ana for the given event."""
    return build_event_invitation(
        source,
        method=method,
        lang="fr",
        organizer_email="agenda@zesummen.test",
        organizer_name="Zesummen",
        attendee_email="ana.silva@example.org",
        attendee_name='Ana "Nini" Silva, Jr.',
    )


def test_invitation_request_carries_organizer_attendee_and_feed_identity(icaljs):
    """METHOD:REQUEST with ORGANIZER and ATTENDEE, and the UID and SEQUENCE the feed has."""
    (series,) = [e for e in scenario_events() if e.uid.startswith("autumn-series")]
    data = invitation("REQUEST", series)
    assert_well_formed(data)
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["METHOD"] == "REQUEST"
    vevents = calendar.walk("VEVENT")
    assert len(vevents) == 3  # the series and its two overrides
    for vevent in vevents:
        assert str(vevent["UID"]) == series.uid
        assert str(vevent["ORGANIZER"]) == "mailto:agenda@zesummen.test"
        assert vevent["ORGANIZER"].params["CN"] == "Zesummen"
        attendee = vevent["ATTENDEE"]
        assert str(attendee) == "mailto:ana.silva@example.org"
        assert attendee.params["CN"] == "Ana 'Nini' Silva, Jr."
        assert (attendee.params["ROLE"], attendee.params["PARTSTAT"], attendee.params["RSVP"]) == (
            "REQ-PARTICIPANT",
            "ACCEPTED",
            "FALSE",
        )
    assert int(vevents[0]["SEQUENCE"]) == series.sequence
    assert b"X-WR-CALNAME" not in data and b"REFRESH-INTERVAL" not in data
    assert parse_with_icaljs(icaljs, data) == [o for o in expected_occurrences() if o.uid == series.uid]
    assert occurrences_from(parse_with_vobject(data)) == parse_with_icaljs(icaljs, data)


def test_invitation_cancel_cancels_the_whole_series(icaljs):
    """METHOD:CANCEL: one VEVENT with STATUS:CANCELLED, the same UID and the given SEQUENCE."""
    (series,) = [e for e in scenario_events() if e.uid.startswith("autumn-series")]
    cancelled = msgspec.structs.replace(series, status="cancelled", sequence=series.sequence + 1)
    data = invitation("CANCEL", cancelled)
    calendar = icalendar.Calendar.from_ical(data)
    assert calendar["METHOD"] == "CANCEL"
    (vevent,) = calendar.walk("VEVENT")
    assert (str(vevent["UID"]), int(vevent["SEQUENCE"]), vevent["STATUS"]) == (series.uid, 4, "CANCELLED")
    found = parse_with_icaljs(icaljs, data)
    assert found and all(o.cancelled for o in found)
    assert icaljs(data)["calendar"]["method"] == "CANCEL"


def test_request_for_a_cancelled_event_is_refused():
    """A cancelled event goes out as CANCEL; a REQUEST would bring it back in the calendar."""
    (cancelled,) = [e for e in scenario_events() if e.status == "cancelled"]
    with pytest.raises(ValueError, match="CANCEL"):
        invitation("REQUEST", cancelled)
