"""A series' rule built from the editor's simple controls, and said in words in the reader's language."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
from babel.dates import format_date, format_skeleton
from babel.lists import format_list

from server.backoffice import queries as q
from server.i18n import BABEL_LOCALE, N_, apply_n_rule, format_time, translations

# what the editor offers; anything else a script sent through the API is said as its dates
REPEATS = ("none", "weekly", "fortnightly", "monthly")
_DAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")
_ORDINALS = {
    1: N_("every first %(weekday)s of the month at %(time)s"),
    2: N_("every second %(weekday)s of the month at %(time)s"),
    3: N_("every third %(weekday)s of the month at %(time)s"),
    4: N_("every fourth %(weekday)s of the month at %(time)s"),
    -1: N_("every last %(weekday)s of the month at %(time)s"),
}
EVERY_WEEK = N_("every %(weekday)s at %(time)s")
EVERY_OTHER_WEEK = N_("every other %(weekday)s at %(time)s")
EVERY_N_WEEKS = N_("every %(num)s weeks on %(weekday)s at %(time)s")
EVERY_MONTH_ON_DAY = N_("every month on day %(day)s at %(time)s")
UNTIL = N_("%(rule)s until %(date)s")
DATES_FROM_TO = N_("%(num)s dates from %(first)s to %(last)s")


def _month_position(local: datetime) -> int:
    """Which of its weekday the date is in its month: 1 to 4, or -1 for a fifth (the last)."""
    position = (local.day - 1) // 7 + 1
    return -1 if position == 5 else position


def build_rrule(repeat: str, local_start: datetime, until: date | None, count: int | None) -> str | None:
    """The RRULE of the editor's controls, on the start's weekday; None for a single date."""
    if repeat not in REPEATS or repeat == "none":
        return None
    day = _DAYS[local_start.weekday()]
    rule = {
        "weekly": f"FREQ=WEEKLY;BYDAY={day}",
        "fortnightly": f"FREQ=WEEKLY;INTERVAL=2;BYDAY={day}",
        "monthly": f"FREQ=MONTHLY;BYDAY={_month_position(local_start)}{day}",
    }[repeat]
    return f"{rule};UNTIL={until:%Y%m%d}" if until is not None else f"{rule};COUNT={count}"


def _parts(rrule: str) -> dict[str, str]:
    return dict(part.partition("=")[::2] for part in rrule.upper().removeprefix("RRULE:").split(";") if part)


def controls(rrule: str) -> dict[str, str]:
    """The editor's controls for a rule they can express (a duplicated series); {"repeat": "none"} otherwise."""
    parts = _parts(rrule)
    ending = (
        {"until": f"{parts['UNTIL'][:4]}-{parts['UNTIL'][4:6]}-{parts['UNTIL'][6:8]}"}
        if "UNTIL" in parts
        else {"count": parts.get("COUNT", "")}
    )
    interval, freq, byday = parts.get("INTERVAL", "1"), parts.get("FREQ"), parts.get("BYDAY", "")
    if freq == "WEEKLY" and interval in ("1", "2") and byday in ("", *_DAYS):
        return {"repeat": "weekly" if interval == "1" else "fortnightly", **ending}
    if (
        freq == "MONTHLY"
        and interval == "1"
        and byday[-2:] in _DAYS
        and set(parts) <= {"FREQ", "BYDAY", "UNTIL", "COUNT", "INTERVAL"}
    ):
        return {"repeat": "monthly", **ending}
    return {"repeat": "none"}


def _say(lang: str, message: str, plural: str = "", count: int = 0, **values: object) -> str:
    """A message in `lang` with its values, the Luxembourgish n-rule applied before each."""
    text = translations(lang).ngettext(message, plural, count) if plural else translations(lang).gettext(message)
    if lang == "lb":
        text = apply_n_rule(text, values)
    return text % values


def _day_in_year(day: date, first: date, lang: str) -> str:
    """ "30 June", "30. Juni": the year only when it is not that of the series' start."""
    if day.year != first.year:
        return format_date(day, "long", locale=BABEL_LOCALE[lang])
    return format_skeleton("MMMMd", day, locale=BABEL_LOCALE[lang])


def _rule_words(parts: dict[str, str], local_start: datetime, timezone: str, lang: str) -> str | None:
    """The repeating part ("every Tuesday at 18:30"), or None for a rule the words do not cover."""
    locale = BABEL_LOCALE[lang]
    time = format_time(local_start, timezone, lang)
    freq, interval, byday = parts.get("FREQ"), int(parts.get("INTERVAL", "1") or 1), parts.get("BYDAY", "")
    extra = set(parts) - {"FREQ", "INTERVAL", "BYDAY", "UNTIL", "COUNT", "WKST"}
    if extra:
        return None
    if freq == "WEEKLY":
        days = byday.split(",") if byday else [_DAYS[local_start.weekday()]]
        if any(day not in _DAYS for day in days):
            return None
        # a Monday of 2024-01 names the weekday in `lang` (Babel has no other way to name one alone)
        names = [format_date(date(2024, 1, 1 + _DAYS.index(day)), "EEEE", locale=locale) for day in days]
        weekday = format_list(names, locale=locale)
        if interval == 1:
            return _say(lang, EVERY_WEEK, weekday=weekday, time=time)
        if interval == 2:
            return _say(lang, EVERY_OTHER_WEEK, weekday=weekday, time=time)
        return _say(lang, EVERY_N_WEEKS, num=interval, weekday=weekday, time=time)
    if freq == "MONTHLY" and interval == 1:
        if not byday:
            return _say(lang, EVERY_MONTH_ON_DAY, day=local_start.day, time=time)
        position, day = byday[:-2] or "1", byday[-2:]
        if day not in _DAYS or "," in byday or int(position) not in _ORDINALS:
            return None
        weekday = format_date(date(2024, 1, 1 + _DAYS.index(day)), "EEEE", locale=locale)
        return _say(lang, _ORDINALS[int(position)], weekday=weekday, time=time)
    return None


def in_words(rrule: str, exdates: list[datetime], occurrences: list[datetime], timezone: str, lang: str) -> str:
    """E.g. "every Tuesday at 18:30 until 30 June, except 22 December", in `lang`; `occurrences` are the starts."""
    zone = ZoneInfo(timezone)
    starts = sorted(moment.astimezone(zone) for moment in occurrences)
    first = starts[0] if starts else datetime.now(zone)
    parts = _parts(rrule)
    rule = _rule_words(parts, first, timezone, lang)
    if rule is None or not starts:
        text = _say(
            lang,
            DATES_FROM_TO,
            num=len(starts),
            first=_day_in_year(first.date(), date(1, 1, 1), lang),
            last=_day_in_year(starts[-1].date() if starts else first.date(), date(1, 1, 1), lang),
        )
    elif "UNTIL" in parts:
        text = _say(lang, UNTIL, rule=rule, date=_day_in_year(starts[-1].date(), first.date(), lang))
    else:
        count = int(parts.get("COUNT") or len(starts))  # the dates of the rule, those left out included
        text = _say(lang, "%(rule)s, %(num)s date", "%(rule)s, %(num)s dates", count, rule=rule, num=count)
    if exdates and rule is not None:
        days = format_list(
            [_day_in_year(d.astimezone(zone).date(), first.date(), lang) for d in sorted(exdates)],
            locale=BABEL_LOCALE[lang],
        )
        text = _say(
            lang, "%(rule)s, except %(dates)s", "%(rule)s, except %(dates)s", len(exdates), rule=text, dates=days
        )
    return text


async def series_words(conn: asyncpg.Connection, row: Any, lang: str) -> str:
    """The event's series in words ("every Tuesday at 18:30 until 30 June, except 22 December"), or ""."""
    if row["series_id"] is None:
        return ""
    found = await conn.fetchrow(q.SERIES_OF_EVENT, row["series_id"])
    return in_words(found["rrule"], list(found["exdates"]), list(found["starts"]), row["timezone"], lang)
