"""Languages, the one fallback rule for multilingual text, and localised dates."""

from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from babel import Locale
from litestar.params import QueryParameter
from babel.dates import format_date, format_datetime

from server.validation import ONE_LINE

Language = Literal["fr", "de", "lb", "en", "pt"]
# the `?lang=` query parameter every localised endpoint takes (see negotiate_language)
LanguageQuery = Annotated[str | None, QueryParameter(name="lang", max_length=35, pattern=ONE_LINE, description="fr, de, lb, en or pt")]
LANGUAGES: tuple[str, ...] = ("fr", "de", "lb", "en", "pt")
DEFAULT_LANGUAGE = "fr"
# after the event's own languages: French, German, English, then the rest
FALLBACK_ORDER: tuple[str, ...] = ("fr", "de", "en", "lb", "pt")

# Babel locales chosen for how people in Luxembourg write: British English, European Portuguese.
BABEL_LOCALE = {lang: Locale.parse(tag) for lang, tag in
                {"fr": "fr_LU", "de": "de_LU", "lb": "lb", "en": "en_GB", "pt": "pt_PT"}.items()}
# Times as each language writes them: French "12 h 15", Portuguese "12h15", the others "12:15".
TIME_PATTERN = {"fr": "H 'h' mm", "de": "HH:mm", "lb": "HH:mm", "en": "HH:mm", "pt": "HH'h'mm"}
TIME_SUFFIX = {"fr": "", "de": " Uhr", "lb": " Auer", "en": "", "pt": ""}
RANGE_DASH = " – "


class I18nText(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A text in up to five languages; at least one is required where the text is."""

    fr: str | None = None
    de: str | None = None
    lb: str | None = None
    en: str | None = None
    pt: str | None = None


def negotiate_language(query_lang: str | None, accept_language: str | None) -> str:
    """The answer's language: ?lang=, else the best of Accept-Language, else French."""
    if query_lang and query_lang.lower()[:2] in LANGUAGES:
        return query_lang.lower()[:2]
    if accept_language:
        weighted: list[tuple[float, int, str]] = []
        for index, part in enumerate(accept_language.split(",")[:20]):
            tag, _, params = part.strip().partition(";")
            quality = 1.0
            if params.strip().startswith("q="):
                try:
                    quality = float(params.strip()[2:])
                except ValueError:
                    quality = 0.0
            code = tag.strip().lower()[:2]
            if code in LANGUAGES and quality > 0:
                weighted.append((-quality, index, code))
        if weighted:
            return min(weighted)[2]
    return DEFAULT_LANGUAGE


def localise(text: dict[str, str] | None, lang: str, event_languages: list[str] | tuple[str, ...] = ()) -> tuple[str, str]:
    """The text in `lang`, else in the event's languages, then fr, de, en; returns (text, its language)."""
    if not text:
        return "", lang
    for candidate in (lang, *event_languages, *FALLBACK_ORDER):
        value = text.get(candidate)
        if value:
            return value, candidate
    return "", lang


def _time(moment: datetime, lang: str) -> str:
    return format_datetime(moment, TIME_PATTERN[lang], locale=BABEL_LOCALE[lang])


# an event's `when` is asked for on every list and page view, and Babel's formatting dominates the
# cost of a list; the answer depends on these four values only
@lru_cache(maxsize=8192)
def format_when(starts_at: datetime, ends_at: datetime, timezone: str, lang: str) -> str:
    """E.g. `mercredi 11 novembre 2026, 12 h 15 – 13 h 45`, in the event's time zone."""
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    locale = BABEL_LOCALE[lang]
    first_day = format_date(start, "full", locale=locale)
    if start.date() == end.date():
        return f"{first_day}, {_time(start, lang)}{RANGE_DASH}{_time(end, lang)}{TIME_SUFFIX[lang]}"
    last_day = format_date(end, "full", locale=locale)
    return (
        f"{first_day}, {_time(start, lang)}{TIME_SUFFIX[lang]}{RANGE_DASH}"
        f"{last_day}, {_time(end, lang)}{TIME_SUFFIX[lang]}"
    )


def format_time(moment: datetime, timezone: str, lang: str) -> str:
    """A localised time of day in the event's time zone, e.g. `14 h 30`, `14:30 Uhr`, `14h30`."""
    return f"{_time(moment.astimezone(ZoneInfo(timezone)), lang)}{TIME_SUFFIX[lang]}"


def format_day(moment: datetime, timezone: str, lang: str, pattern: str = "full") -> str:
    """A localised date in the event's time zone."""
    return format_date(moment.astimezone(ZoneInfo(timezone)), pattern, locale=BABEL_LOCALE[lang])


def format_time_range(starts_at: datetime, ends_at: datetime, timezone: str, lang: str) -> str:
    """E.g. `12 h 15 – 13 h 45` or `12:15 – 13:45 Uhr`, in the event's time zone (list pages)."""
    zone = ZoneInfo(timezone)
    start, end = starts_at.astimezone(zone), ends_at.astimezone(zone)
    return f"{_time(start, lang)}{RANGE_DASH}{_time(end, lang)}{TIME_SUFFIX[lang]}"
