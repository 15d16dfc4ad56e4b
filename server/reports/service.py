"""The rules of a report: its period, who may read it, and every figure by domain beside the year before."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server.errors import Invalid
from server.organisers.schemas import Organiser
from server.reports import domains
from server.reports import queries as q
from server.reports.insights import (
    LEAD_BUCKETS,
    Insights,
    KindAttendance,
    LanguageAttendance,
    LeadTime,
    MonthDemand,
)
from server.reports.schemas import (
    FEWER_THAN_THREE,
    Attendance,
    CommuneCount,
    CommuneRequests,
    Communes,
    DomainOut,
    DomainReport,
    EventFigures,
    Figures,
    Interpretation,
    LanguageCount,
    MissionLanguage,
    OrganisationRef,
    Report,
)

ZONE = ZoneInfo("Europe/Luxembourg")
KINDS = ("webconference", "conversation_table", "info_session")
REQUEST_STATUSES = ("new", "in_discussion", "scheduled", "done", "declined")
# a report covers at most five years: the conventions run for one, and a longer period is a typo
MAX_DAYS = 5 * 366
# breakdown cells counting fewer people than this show "<3"
SMALLEST_SHOWN = 3
# grouping() of PEOPLE_FIGURES for each grouping set (bits: domain, language, commune)
BY_DOMAIN, BY_DOMAIN_LANGUAGE, BY_DOMAIN_COMMUNE = 0b011, 0b001, 0b010
IN_ALL, IN_ALL_BY_LANGUAGE, IN_ALL_BY_COMMUNE = 0b111, 0b101, 0b110
ALL = -1  # the totals' "domain": every row, tagged or not

# the refusals of period_of (the report page words each for its field)
BOTH_KINDS = "Give either a year (and quarter) or from and to, not both."
QUARTER_WITHOUT_YEAR = "A quarter needs its year."
NEED_FROM = "Give the first day of the period (from), or a year."
NEED_TO = "Give the last day of the period (to), or a year."
TO_BEFORE_FROM = "The last day (to) comes before the first (from)."
TOO_LONG = "A report covers at most five years."
OUT_OF_RANGE = "The period lies between 1971 and 2199."


@dataclass(frozen=True)
class Period:
    """Whole days from `first` to `last`, both included, in Luxembourg's time."""

    first: date
    last: date

    def bounds(self) -> tuple[datetime, datetime]:
        """[start, end) as instants: midnight of the first day to midnight after the last."""
        return (
            datetime.combine(self.first, time(0), ZONE),
            datetime.combine(self.last + timedelta(days=1), time(0), ZONE),
        )

    def year_before(self) -> Period:
        """The same days a year earlier (29 February becomes the 28th)."""
        return Period(_year_earlier(self.first), _year_earlier(self.last))


def _year_earlier(day: date) -> date:
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


def period_of(first: date | None, last: date | None, year: int | None, quarter: int | None) -> Period:
    """The period asked for: `from` and `to`, or a year (and quarter); 422 naming the field otherwise."""
    if year is not None:
        if first is not None or last is not None:
            raise Invalid.field("year", BOTH_KINDS)
        if quarter is None:
            return Period(date(year, 1, 1), date(year, 12, 31))
        start = date(year, 3 * quarter - 2, 1)
        end = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
        return Period(start, end - timedelta(days=1))
    if quarter is not None:
        raise Invalid.field("quarter", QUARTER_WITHOUT_YEAR)
    if first is None:
        raise Invalid.field("from", NEED_FROM)
    if last is None:
        raise Invalid.field("to", NEED_TO)
    if last < first:
        raise Invalid.field("to", TO_BEFORE_FROM)
    if (last - first).days >= MAX_DAYS:
        raise Invalid.field("to", TOO_LONG)
    if first.year < 1971 or last.year > 2199:
        raise Invalid.field("from", OUT_OF_RANGE)
    return Period(first, last)


@dataclass
class Rows:
    """What the report queries read for one period."""

    events: list[asyncpg.Record]
    registrations: list[asyncpg.Record]
    people: list[asyncpg.Record]
    lead: list[asyncpg.Record]
    missions: list[asyncpg.Record]
    requests: list[asyncpg.Record]


async def _read(conn: asyncpg.Connection, organisation_id: int, period: Period, as_of: datetime) -> Rows:
    start, end = period.bounds()
    # only events that have started count: they are the ones held (or cancelled) so far
    held_until = min(end, as_of)
    events = [
        await conn.fetch(sql, organisation_id, start, held_until)
        for sql in (q.EVENT_FIGURES, q.REGISTRATION_FIGURES, q.PEOPLE_FIGURES, q.REGISTRATION_LEAD)
    ]
    others = [
        await conn.fetch(sql, organisation_id, start, end) for sql in (q.MISSION_FIGURES, q.COMMUNE_REQUEST_FIGURES)
    ]
    return Rows(*events, *others)


def masked(people: int) -> int | str:
    """A breakdown cell: the count, or "<3" for one or two people."""
    return FEWER_THAN_THREE if 0 < people < SMALLEST_SHOWN else people


def _rate(part: int, whole: int) -> float | None:
    return round(part / whole, 3) if whole else None


def _of(rows: Iterable[asyncpg.Record], domain_id: int | None) -> list[asyncpg.Record]:
    return [r for r in rows if domain_id == ALL or r["domain_id"] == domain_id]


def _sum(rows: list[asyncpg.Record], column: str) -> int:
    return sum(r[column] for r in rows)


def figures(rows: Rows, domain_id: int | None) -> Figures:
    """Every figure of one domain (None: untagged activity, ALL: everything) for the period read."""
    events, registrations = _of(rows.events, domain_id), _of(rows.registrations, domain_id)
    held = {kind: sum(r["held"] for r in events if r["kind"] == kind) for kind in KINDS}
    series = {s for r in events for s in (r["series"] or [])}
    present, absent, excused = (_sum(registrations, c) for c in ("present", "absent", "excused"))
    confirmed, marked = _sum(registrations, "confirmed"), present + absent + excused
    sets = (
        (IN_ALL, IN_ALL_BY_LANGUAGE, IN_ALL_BY_COMMUNE)
        if domain_id == ALL
        else (BY_DOMAIN, BY_DOMAIN_LANGUAGE, BY_DOMAIN_COMMUNE)
    )
    people = [r for r in rows.people if r["grouping_set"] in sets and (domain_id == ALL or r["domain_id"] == domain_id)]
    reached = sum(r["people"] for r in people if r["grouping_set"] == sets[0])
    languages = sorted(
        ((r["language"], r["people"]) for r in people if r["grouping_set"] == sets[1]),
        key=lambda item: (-item[1], item[0]),
    )
    living = {r["commune"]: r["people"] for r in people if r["grouping_set"] == sets[2] and r["commune"]}
    hosting: dict[str, int] = defaultdict(int)
    for r in events:
        if r["commune"] and r["held"]:
            hosting[r["commune"]] += r["held"]
    communes = sorted(set(living) | set(hosting), key=lambda name: (-living.get(name, 0), -hosting.get(name, 0), name))
    return Figures(
        events=EventFigures(
            held=sum(held.values()),
            **held,
            cancelled=_sum(events, "cancelled"),
            series_sessions=_sum(events, "series_sessions"),
            series=len(series),
        ),
        registrations=confirmed,
        cancelled_registrations=_sum(registrations, "cancelled"),
        waitlist_never_seated=_sum(registrations, "never_seated"),
        attendance=Attendance(
            present=present,
            absent=absent,
            excused=excused,
            unmarked=confirmed - marked,
            rate=_rate(present, marked),
            no_show_rate=_rate(absent, marked),
        ),
        people_reached=reached,
        languages=[LanguageCount(language, masked(count)) for language, count in languages],
        communes=Communes(
            count=len(communes),
            list=[CommuneCount(name, masked(living.get(name, 0)), hosting.get(name, 0)) for name in communes],
        ),
        webconference_joins=_sum(registrations, "joins"),
        interpretation=_interpretation(_of(rows.missions, domain_id)),
        commune_requests=_requests(_of(rows.requests, domain_id)),
    )


def _interpretation(missions: list[asyncpg.Record]) -> Interpretation:
    held = [r for r in missions if r["status"] != "cancelled"]
    done = [r for r in missions if r["status"] == "done"]
    by_language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in held:
        by_language[r["language"]][0] += r["missions"]
        if r["status"] == "done":
            by_language[r["language"]][1] += r["minutes"]
    return Interpretation(
        missions=_sum(held, "missions"),
        done=_sum(done, "missions"),
        cancelled=sum(r["missions"] for r in missions if r["status"] == "cancelled"),
        hours=round(_sum(done, "minutes") / 60, 2),
        by_language=[
            # hours of one or two missions would tell how long someone's appointment was
            MissionLanguage(language, masked(count), round(minutes / 60, 2) if count >= SMALLEST_SHOWN else None)
            for language, (count, minutes) in sorted(by_language.items(), key=lambda item: (-item[1][0], item[0]))
        ],
    )


def _requests(requests: list[asyncpg.Record]) -> CommuneRequests:
    by_status = {status: sum(r["requests"] for r in requests if r["status"] == status) for status in REQUEST_STATUSES}
    return CommuneRequests(total=sum(by_status.values()), **by_status)


def insights(rows: Rows) -> Insights:
    """The charts' data across domains."""
    lead: dict[int, int] = defaultdict(int)
    for r in rows.lead:
        lead[r["bucket"]] += r["registrations"]
    by_kind: dict[str, list[int]] = {kind: [0, 0] for kind in KINDS}
    by_language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for r in rows.registrations:
        marked = r["present"] + r["absent"] + r["excused"]
        by_kind[r["kind"]][0] += marked
        by_kind[r["kind"]][1] += r["present"]
        by_language[r["language"]][0] += marked
        by_language[r["language"]][1] += r["present"]
    demand: dict[tuple[date, str], int] = defaultdict(int)
    for r in rows.missions:
        if r["status"] != "cancelled":
            demand[(r["month"], r["language"])] += r["missions"]
    return Insights(
        lead_time=[LeadTime(label, lead.get(bucket, 0)) for bucket, label in enumerate(LEAD_BUCKETS)],
        attendance_by_kind=[
            KindAttendance(kind, marked, present, _rate(present, marked)) for kind, (marked, present) in by_kind.items()
        ],
        attendance_by_language=[
            LanguageAttendance(language, masked(marked), _rate(present, marked) if marked >= SMALLEST_SHOWN else None)
            for language, (marked, present) in sorted(by_language.items())
            if marked
        ],
        interpretation_by_month=[
            MonthDemand(month, language, masked(count)) for (month, language), count in sorted(demand.items())
        ],
    )


async def build_report(conn: asyncpg.Connection, who: Organiser, slug: str, period: Period) -> Report:
    """The report of an organisation the person belongs to (404 otherwise) for `period`, beside the year before;
    the one kept from an earlier request while nothing it counts has changed (migration 0031)."""
    org = await domains.organisation(conn, who, slug)
    bounds = (*period.bounds(), *period.year_before().bounds())
    kept = await conn.fetchval(q.KEPT_REPORT, org["id"], period.first, period.last, *bounds)
    if kept is not None:
        return _KEPT.decode(kept)
    async with conn.transaction():
        # the number first: a change committed while the report is computed raises it, so the
        # report kept under the number read here is never used after that change
        version = await conn.fetchval(q.REPORT_VERSION, org["id"])
        as_of = await conn.fetchval(q.NOW)
        report = await compute_report(conn, org, period, as_of)
        await conn.execute(q.FORGET_OLD_REPORTS)
        await conn.execute(
            q.KEEP_REPORT, org["id"], period.first, period.last, version, as_of, msgspec.json.encode(report)
        )
    return report


_KEPT = msgspec.json.Decoder(Report)


async def compute_report(conn: asyncpg.Connection, org: asyncpg.Record, period: Period, as_of: datetime) -> Report:
    """Every figure of the report, read from the events, registrations, missions and requests."""
    listed = await conn.fetch(q.DOMAINS, org["id"])
    now = await _read(conn, org["id"], period, as_of)
    before = await _read(conn, org["id"], period.year_before(), as_of)
    reports = [_domain_report(now, before, d["id"], DomainOut(d["slug"], d["name"], d["position"])) for d in listed]
    untagged = _domain_report(now, before, None, None)
    if _any_activity(untagged) or not listed:
        reports.append(untagged)
    previous = period.year_before()
    return Report(
        organisation=OrganisationRef(org["slug"], org["name"]),
        from_=period.first,
        to=period.last,
        previous_year_from=previous.first,
        previous_year_to=previous.last,
        domains=reports,
        totals=_domain_report(now, before, ALL, None),
        insights=insights(now),
    )


def _domain_report(now: Rows, before: Rows, domain_id: int | None, domain: DomainOut | None) -> DomainReport:
    current = figures(now, domain_id)
    fields: dict[str, Any] = {name: getattr(current, name) for name in current.__struct_fields__}
    return DomainReport(**fields, domain=domain, previous_year=figures(before, domain_id))


def _any_activity(report: DomainReport) -> bool:
    return any(
        f.events.held
        or f.events.cancelled
        or f.registrations
        or f.interpretation.missions
        or f.interpretation.cancelled
        or f.commune_requests.total
        for f in (report, report.previous_year)
    )
