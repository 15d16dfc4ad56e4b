"""Languages, the gettext catalogs every part uses, the fallback rule, localised dates, sorting."""

from __future__ import annotations

import io
import re
import unicodedata
from datetime import datetime
from functools import cache, lru_cache
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import msgspec
from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from litestar.params import QueryParameter

from server.validation import ONE_LINE

Language = Literal["fr", "de", "lb", "en", "pt"]
# the `?lang=` query parameter every localised endpoint takes (see negotiate_language)
LanguageQuery = Annotated[
    str | None, QueryParameter(name="lang", max_length=35, pattern=ONE_LINE, description="fr, de, lb, en or pt")
]
LANGUAGES: tuple[str, ...] = ("fr", "de", "lb", "en", "pt")
DEFAULT_LANGUAGE = "fr"
# after the event's own languages: French, German, English, then the rest
FALLBACK_ORDER: tuple[str, ...] = ("fr", "de", "en", "lb", "pt")

# Babel locales chosen for how people in Luxembourg write: British English, European Portuguese.
BABEL_LOCALE = {
    lang: Locale.parse(tag)
    for lang, tag in {"fr": "fr_LU", "de": "de_LU", "lb": "lb", "en": "en_GB", "pt": "pt_PT"}.items()
}
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


def localise(
    text: dict[str, str] | None, lang: str, event_languages: list[str] | tuple[str, ...] = ()
) -> tuple[str, str]:
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


# ---------------------------------------------------------------------------- catalogs
# One catalog per language for pages, mails, feeds and exports. The files stay under pages/ where
# they have always been; every part reads them through these functions.
LOCALE_DIR = Path(__file__).resolve().parent / "pages" / "locale"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def po_path(lang: str) -> Path:
    """The catalog file of one language."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog:
    """One language's catalog as Babel reads it."""
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=BABEL_LOCALE[lang], domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """gettext translations for `lang`, compiled in memory from its .po file (no build step)."""
    buffer = io.BytesIO()
    # fuzzy entries are drafts: gettext must not show them, so they are left out as msgfmt does
    write_mo(buffer, read_catalog(lang), use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(lang: str, message: str) -> str:
    """One message in `lang`."""
    return translations(lang).gettext(message)


def in_every_language(message: str) -> dict[str, str]:
    """{language: translation} of one message, for code that picks a text by language code."""
    return {lang: gettext(lang, message) for lang in LANGUAGES}


def load_all() -> None:
    """Read every catalog now, so that a broken .po file stops the start, not a request."""
    for lang in LANGUAGES:
        translations(lang)


# ---------------------------------------------------------------------------- Luxembourgish n-rule
# The Eifeler Regel: a final -n (or -nn) is dropped before a word that starts with a consonant other
# than n, d, t, z or h; it stays before vowels, those five letters, and at the end of a phrase.
_N_KEEPERS = set("aeiouäëéèöüâêîôûàáíóúndtzh")
# how the numbers of a date are said, for the letter the n-rule looks at ("den 4." is "de véierten")
_NUMBER_WORDS = {
    1: "éischten",
    2: "zweeten",
    3: "drëtten",
    4: "véierten",
    5: "fënneften",
    6: "sechsten",
    7: "siwenten",
    8: "aachten",
    9: "néngten",
    10: "zéngten",
    11: "eeleften",
    12: "zwieleften",
    13: "dräizéngten",
    14: "véierzéngten",
    15: "fofzéngten",
    16: "siechzéngten",
    17: "siwwenzéngten",
    18: "uechtzéngten",
    19: "nonzéngten",
    20: "zwanzegsten",
    30: "drëssegsten",
}
# the words of our texts that follow the rule when a value is put after them
N_RULE_WORDS = frozenset(
    {
        "en",
        "den",
        "een",
        "keen",
        "mäin",
        "däin",
        "sinn",
        "hunn",
        "ginn",
        "wann",
        "an",
        "vun",
        "un",
        "fun",
        "kënnen",
        "wëllen",
    }
)


def _spoken_start(word: str) -> str:
    """The first letter of `word` as it is said (a number as its Luxembourgish word)."""
    digits = re.match(r"\d+", word)
    if digits:
        number = int(digits.group())
        # units come first above twenty: 24 is "véieranzwanzeg"
        spoken = _NUMBER_WORDS.get(number) or _NUMBER_WORDS.get(number % 10) or "z"
        return spoken[0]
    return word[:1].lower()


def n_rule(word: str, following: str) -> str:
    """`word` (ending in -n) as written before `following` in Luxembourgish: "en Dënschdeg", "e Freideg"."""
    if not word.endswith("n"):
        return word
    start = _spoken_start(following.lstrip())
    if not start or start in _N_KEEPERS or not start.isalnum():
        return word
    return word[:-2] if word.endswith("nn") else word[:-1]


_BEFORE_VALUE = re.compile(r"(?<![\w'’])(\w+) %\((\w+)\)s")


def apply_n_rule(translated: str, values: dict[str, object]) -> str:
    """A Luxembourgish message with the n-rule applied to each rule word that a value follows."""

    def fix(match: re.Match[str]) -> str:
        word, name = match.group(1), match.group(2)
        if word.lower() not in N_RULE_WORDS or name not in values:
            return match.group(0)
        return f"{n_rule(word, str(values[name]))} %({name})s"

    return _BEFORE_VALUE.sub(fix, translated)


# ---------------------------------------------------------------------------- sorting
# Babel has no collation. For the names we list (languages, communes) French, German,
# Luxembourgish, English and Portuguese all sort as the Unicode Collation Algorithm's default
# does: letters first, accents only to break a tie, so "Árabe" is among the A's and "Éislek" among
# the E's. Comparing the letters without their accents, then with them, gives that order; the
# UCA's full table (pyuca) gave the same lists and took two seconds to load.
def collation_key(text: str) -> tuple[str, str]:
    """A sort key that puts `text` where a reader of any of our languages looks for it."""
    decomposed = unicodedata.normalize("NFD", text.casefold())
    letters = "".join(c for c in decomposed if not unicodedata.combining(c))
    return letters, decomposed
