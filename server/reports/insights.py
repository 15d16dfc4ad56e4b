"""The insights of a report: what the charts of the report page draw, as plain data."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

# a count of people in a breakdown by commune or language: the number, or "<3" when fewer than three
# people would be singled out (privacy); totals are never masked
PeopleCount = Annotated[
    int | Literal["<3"],
    Meta(
        description='A number of people, or the string "<3" when a breakdown cell counts one or two people '
        "(so that no one is singled out)"
    ),
]

# how long before the start people registered, as REGISTRATION_LEAD buckets them (days)
LEAD_BUCKETS = ("0", "1", "2-3", "4-7", "8-14", "15-30", "31+")


class LeadTime(msgspec.Struct):
    """Registrations that came `days` before the start of their event."""

    days: str
    registrations: int


class KindAttendance(msgspec.Struct):
    """Attendance of one kind of event: registrations marked, present among them, the rate."""

    kind: str
    marked: int
    present: int
    rate: float | None


class LanguageAttendance(msgspec.Struct):
    """Attendance of the people who registered in one language; masked below three."""

    language: str
    marked: PeopleCount
    rate: float | None


class MonthDemand(msgspec.Struct):
    """Interpretation missions (not cancelled) in one language in one month."""

    month: date
    language: str
    missions: PeopleCount


class Insights(msgspec.Struct, kw_only=True):
    """What the report page draws: lead time, attendance by kind and language, reach, interpretation demand."""

    lead_time: list[LeadTime]
    attendance_by_kind: list[KindAttendance]
    attendance_by_language: list[LanguageAttendance]
    interpretation_by_month: list[MonthDemand]
