"""Structs in and out of the reports and of the organisations' convention domains."""

from __future__ import annotations

from datetime import date
from typing import Annotated, List  # noqa: UP035 (a field named `list` hides the builtin in a class body)

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server import validation
from server.reports.insights import Insights, PeopleCount

DomainName = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=200,
        pattern=r"^[^\x00-\x1f\x7f]*\S[^\x00-\x1f\x7f]*$",
        description="The domain as the convention names it",
    ),
]

# a count of people in a breakdown by commune or language: the number, or "<3" when fewer than three
# people would be singled out (privacy); totals are never masked
FEWER_THAN_THREE = "<3"


class DomainIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new convention domain of an organisation."""

    slug: validation.Slug
    name: DomainName
    position: Annotated[int, Meta(ge=0, le=1000)] = 0


class DomainPatch(msgspec.Struct, forbid_unknown_fields=True):
    """A change of a convention domain."""

    name: DomainName | UnsetType = UNSET
    position: Annotated[int, Meta(ge=0, le=1000)] | UnsetType = UNSET


class DomainOut(msgspec.Struct):
    """A convention domain: events, commune requests and missions name it by its slug."""

    slug: str
    name: str
    position: int = 0


class OrganisationRef(msgspec.Struct):
    """The organisation a report is about."""

    slug: str
    name: str


class EventFigures(msgspec.Struct):
    """Events that took place (published, started in the period) by kind; cancelled ones; series."""

    held: int
    webconference: int
    conversation_table: int
    info_session: int
    cancelled: int
    series_sessions: int
    series: int


class Attendance(msgspec.Struct):
    """Attendance of the confirmed registrations; rates over those marked, null when none is."""

    present: int
    absent: int
    excused: int
    unmarked: int
    rate: float | None
    no_show_rate: float | None


class LanguageCount(msgspec.Struct):
    """People whose registration was in one language."""

    language: str
    people: PeopleCount


class CommuneCount(msgspec.Struct):
    """A commune reached: people living there, events held there."""

    commune: str
    people: PeopleCount
    events: int


class Communes(msgspec.Struct):
    """Communes reached by participants or by events held there."""

    count: int
    list: List[CommuneCount]  # noqa: UP006 (a field named `list` hides the builtin in the class body)


class MissionLanguage(msgspec.Struct):
    """Interpretation missions for one language (the one other than fr, de or lb when there is one)."""

    language: str
    missions: PeopleCount
    hours: float | None


class Interpretation(msgspec.Struct):
    """Interpretation missions: not cancelled, done, cancelled; hours spent on those done."""

    missions: int
    done: int
    cancelled: int
    hours: float
    by_language: list[MissionLanguage]


class CommuneRequests(msgspec.Struct):
    """Commune requests received in the period, by their status now."""

    total: int
    new: int
    in_discussion: int
    scheduled: int
    done: int
    declined: int


class Figures(msgspec.Struct, kw_only=True):
    """Every figure of a report for one domain (or all) and one period."""

    events: EventFigures
    registrations: int
    cancelled_registrations: int
    waitlist_never_seated: int
    attendance: Attendance
    people_reached: int
    languages: list[LanguageCount]
    communes: Communes
    webconference_joins: int
    interpretation: Interpretation
    commune_requests: CommuneRequests


class DomainReport(Figures, kw_only=True):
    """The figures of one domain (null: activity not tagged with a domain) beside the year before."""

    domain: DomainOut | None
    previous_year: Figures


class Report(msgspec.Struct, kw_only=True, rename={"from_": "from"}):
    """An organisation's activity report for a period, by convention domain and in total."""

    organisation: OrganisationRef
    from_: date
    to: date
    previous_year_from: date
    previous_year_to: date
    domains: list[DomainReport]
    totals: DomainReport
    insights: Insights
