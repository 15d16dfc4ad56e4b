"""A series said in words in each language, and built from the editor's simple controls (issue 22)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from server.backoffice import series

ZONE = ZoneInfo("Europe/Luxembourg")
FIRST = datetime(2026, 12, 1, 18, 30, tzinfo=ZONE)  # a Tuesday
WEEKLY = [FIRST + timedelta(weeks=n) for n in range(31) if n != 3]


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", "every Tuesday at 18:30 until 29 June 2027, except 22 December"),
        ("fr", "chaque mardi à 18 h 30 jusqu'au 29 juin 2027, sauf le 22 décembre"),
        ("de", "jeden Dienstag um 18:30 Uhr bis zum 29. Juni 2027, außer am 22. Dezember"),
        ("lb", "all Dënschdeg um 18:30 Auer bis den 29. Juni 2027, ausser den 22. Dezember"),
        ("pt", "todas as semanas, à terça-feira, às 18h30, até 29 de junho de 2027, exceto a 22 de dezembro"),
    ],
)
def test_a_weekly_series_reads_in_words_in_each_language(lang, words) -> None:
    said = series.in_words(
        "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270629", [FIRST + timedelta(weeks=3)], WEEKLY, "Europe/Luxembourg", lang
    )
    assert said == words


def test_monthly_and_counted_series_and_the_n_rule() -> None:
    starts = [FIRST.replace(month=12), FIRST.replace(year=2027, month=1, day=5)]
    assert (
        series.in_words("FREQ=MONTHLY;BYDAY=1TU;COUNT=2", [], starts, "Europe/Luxembourg", "fr")
        == "chaque premier mardi du mois à 18 h 30, 2 dates"
    )
    assert (
        series.in_words("FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=2", [], starts, "Europe/Luxembourg", "de")
        == "jeden zweiten Dienstag um 18:30 Uhr, 2 Termine"
    )
    # Luxembourgish drops the -n of "den" before a consonant: "de 5.", said "fënneften"
    assert (
        series.in_words("FREQ=MONTHLY;BYMONTHDAY=5,9;COUNT=2", [], starts, "Europe/Luxembourg", "lb")
        == "2 Datumer vum 1. Dezember 2026 bis de 5. Januar 2027"
    )


def test_the_simple_controls_give_the_rule_on_the_start_s_weekday() -> None:
    local = datetime(2027, 1, 26, 18, 30)  # the fourth Tuesday
    assert series.build_rrule("weekly", local, date(2027, 6, 29), None) == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270629"
    assert series.build_rrule("fortnightly", local, None, 8) == "FREQ=WEEKLY;INTERVAL=2;BYDAY=TU;COUNT=8"
    assert series.build_rrule("monthly", local, None, 5) == "FREQ=MONTHLY;BYDAY=4TU;COUNT=5"
    assert series.build_rrule("monthly", datetime(2027, 3, 30, 18, 30), None, 5) == "FREQ=MONTHLY;BYDAY=-1TU;COUNT=5"
    assert series.build_rrule("none", local, None, 5) is None
    assert series.controls("FREQ=WEEKLY;BYDAY=TU;UNTIL=20270629") == {"repeat": "weekly", "until": "2027-06-29"}
    assert series.controls("FREQ=MONTHLY;BYDAY=-1TU;COUNT=5") == {"repeat": "monthly", "count": "5"}
    assert series.controls("FREQ=MONTHLY;BYMONTHDAY=5;COUNT=5") == {"repeat": "none"}
