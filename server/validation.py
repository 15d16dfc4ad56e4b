"""Field types every request shares, and the checks a JSON schema cannot express, applied once on decoding.

Every text of a request is one line without control characters unless its type says it may hold
several lines; every email address is parsed by email-validator and replaced by its one canonical
form; every instant lies between 1970 and 2200; a time zone is an IANA name. The types carry regular
expressions for the OpenAPI schema (and msgspec checks them); `checked` applies the rest to a decoded
body, or to one form field, and names the field it refuses.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from functools import cache
from typing import Annotated, Any
from zoneinfo import ZoneInfo, available_timezones

import msgspec
from email_validator import EmailNotValidError, validate_email
from msgspec import UNSET, Meta

# C0 and C1 controls, DEL, the line and paragraph separators, and the bidirectional embeddings,
# overrides and isolates (text that reads otherwise than it is stored). Joiners stay: Persian and
# Indic names need them.
CONTROLS = r"\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
# the same but tab and line feed, which multi-line texts keep (forms' CRLF become LF before)
CONTROLS_BUT_LINES = r"\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL = re.compile(f"[{CONTROLS}]")
_CONTROL_BUT_LINES = re.compile(f"[{CONTROLS_BUT_LINES}]")

# msgspec applies a pattern with re.search: every one is anchored with \A and \Z, as $ also
# matches before a final newline
ONE_LINE = rf"\A[^{CONTROLS}]*\Z"
ONE_LINE_NOT_BLANK = rf"\A[^\S{CONTROLS}]*[^\s{CONTROLS}][^{CONTROLS}]*\Z"
LINES = rf"\A[^{CONTROLS_BUT_LINES}]*\Z"
LINES_NOT_BLANK = rf"\A[^\S{CONTROLS_BUT_LINES}]*[^\s{CONTROLS_BUT_LINES}][^{CONTROLS_BUT_LINES}]*\Z"
SLUG = r"\A[a-z0-9][a-z0-9-]*\Z"
HTTP_URL = rf"\Ahttps?://[^\s{CONTROLS}]+\Z"
# the shape only; email-validator decides (see canonical_email)
EMAIL = rf"\A[^\s@{CONTROLS}]+@[^\s@{CONTROLS}]+\.[^\s@{CONTROLS}]+\Z"
TIMEZONE = r"\A[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*\Z"
# an instant of a query: a date-time with its offset, or a plain date (the start of that day in Luxembourg)
INSTANT_OR_DATE = (
    r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}(T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?"
    r"(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9]))?\Z"
)

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
LOCAL_ZONE = ZoneInfo("Europe/Luxembourg")
INSTANT_WORDS = (
    "a date-time with offset such as 2026-12-01T18:30:00+01:00, or a date such as 2026-12-01, between 1970 and 2200"
)

# what each pattern asks for, in words, for the error messages (a regular expression helps nobody)
PATTERN_WORDS = {
    ONE_LINE: "one line of text without control characters",
    ONE_LINE_NOT_BLANK: "one line of text, not blank, without control characters",
    LINES: "text without control characters other than line breaks and tabs",
    LINES_NOT_BLANK: "text, not blank, without control characters other than line breaks and tabs",
    SLUG: "a slug of lower-case letters, digits and hyphens, such as cafe-des-langues",
    HTTP_URL: "an http or https URL on one line, without spaces",
    EMAIL: "one email address such as ana.silva@example.org",
    TIMEZONE: "an IANA time zone name such as Europe/Luxembourg",
    INSTANT_OR_DATE: INSTANT_WORDS,
}

# the names of the time-zone database that are places (or UTC and its fixed offsets): the files
# `localtime`, `posixrules` and `Factory` are the machine's settings and a placeholder, not zones
IANA_TIMEZONES = frozenset(
    name
    for name in available_timezones()
    if name not in ("localtime", "posixrules", "Factory") and not name.startswith(("posix/", "right/"))
)


class Refused(ValueError):
    """A value a field does not take: where it is and, in words, why."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{message} - at `$.{field}`" if field else message)
        self.field = field
        self.message = message


class Rule:
    """A check (and perhaps a normalisation) that an annotated field's decoded value goes through."""

    def __init__(self, apply: Callable[[Any], Any]):
        self.apply = apply


class MultiLine:
    """Marks a text that may hold line feeds and tabs."""


MULTI_LINE = MultiLine()


def local_today(now: datetime | None = None) -> date:
    """The day in Luxembourg, whose days the agency counts (the server may run on UTC), now or at `now`."""
    return (now or datetime.now(UTC)).astimezone(LOCAL_ZONE).date()


def canonical_email(text: str) -> str:
    """The one stored form of an address: parsed strictly, ASCII local part, IDNA (xn--) domain, all lower-case.

    Lower-case as a whole, the local part too: mail servers treat it so in practice, and it is the
    form the tables have always required (CHECK email = lower(email)), so one form serves storage,
    the one-seat-per-address rule, the rate limits and the daily mail cap. An internationalised local
    part is refused: it needs SMTPUTF8 of every relay on the way, and its look-alikes (fullwidth
    letters) would be other mailboxes that read the same.
    """
    if _CONTROL.search(text):
        raise ValueError("An email address holds no control characters.")
    try:
        parsed = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as exc:
        raise ValueError(f"Expected one email address such as ana.silva@example.org: {exc}") from None
    return parsed.ascii_email.lower()


def _email(value: str) -> str:
    return canonical_email(value)


def _instant(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError(f"Expected {INSTANT_WORDS}")
    try:
        instant = value.astimezone(UTC)
    except OverflowError:
        raise ValueError(f"Expected {INSTANT_WORDS}") from None
    if not EARLIEST <= instant < LATEST:
        raise ValueError(f"Expected {INSTANT_WORDS}")
    return value


def _timezone(value: str) -> str:
    if value not in IANA_TIMEZONES:
        raise ValueError("Expected an IANA time zone name such as Europe/Luxembourg")
    return value


EMAIL_RULE = Rule(_email)
TIMEZONE_RULE = Rule(_timezone)


def line(max_length: int, *, min_length: int = 0, blank: bool = True, **meta: Any) -> Any:
    """A one-line text type: no control character, line break, separator or bidi override."""
    pattern = ONE_LINE if blank else ONE_LINE_NOT_BLANK
    return Annotated[str, Meta(min_length=min_length, max_length=max_length, pattern=pattern, **meta)]


def lines(max_length: int, *, min_length: int = 0, blank: bool = True, **meta: Any) -> Any:
    """A multi-line text type: line feeds and tabs, no other control character."""
    pattern = LINES if blank else LINES_NOT_BLANK
    return Annotated[str, Meta(min_length=min_length, max_length=max_length, pattern=pattern, **meta), MULTI_LINE]


Email = Annotated[
    str,
    Meta(
        min_length=3,
        max_length=254,
        pattern=EMAIL,
        examples=["ana.silva@example.org"],
        description="One email address; stored lower-case with an IDNA (xn--) domain",
    ),
    EMAIL_RULE,
]
Slug = Annotated[str, Meta(min_length=1, max_length=63, pattern=SLUG)]
HttpUrl = Annotated[str, Meta(max_length=2000, pattern=HTTP_URL)]
Timezone = Annotated[
    str,
    Meta(
        min_length=1,
        max_length=64,
        pattern=TIMEZONE,
        examples=["Europe/Luxembourg"],
        description="An IANA time zone name",
    ),
    TIMEZONE_RULE,
]
Instant = Annotated[datetime, Meta(tz=True, description="A date-time with offset, between 1970 and 2200")]


# ---------------------------------------------------------------------------- a decoded body


def checked(value: Any, hint: Any = None, field: str = "") -> Any:
    """`value` decoded as `hint`, with the checks of its types applied; raises Refused naming the field.

    Without annotations of its own, a text is taken as one line and an instant must lie between
    1970 and 2200, so that a field added later is covered without anyone thinking of it.
    """
    rules, multi_line, inner = _annotations(hint)
    try:
        if isinstance(value, str):
            if (_CONTROL_BUT_LINES if multi_line else _CONTROL).search(value):
                raise ValueError("Expected " + PATTERN_WORDS[LINES if multi_line else ONE_LINE])
        elif isinstance(value, datetime):
            value = _instant(value)
        for rule in rules:
            value = rule.apply(value)
    except Refused:
        raise
    except ValueError as exc:
        raise Refused(field, str(exc)) from None
    if isinstance(value, msgspec.Struct):
        for name, field_hint in _fields(type(value)):
            item = getattr(value, name)
            if item is not None and item is not UNSET:
                new = checked(item, field_hint, f"{field}.{name}" if field else name)
                if new is not item:
                    setattr(value, name, new)
    elif isinstance(value, list):
        item_hint = _item_hint(inner)
        for index, item in enumerate(value):
            new = checked(item, item_hint, f"{field}[{index}]")
            if new is not item:
                value[index] = new
    elif isinstance(value, dict):
        for key, item in value.items():
            checked(key, None, f"{field}.{key}")
            value[key] = checked(item, None, f"{field}.{key}")
    return value


@cache
def _fields(struct_type: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(struct_type, include_extras=True)
    return tuple((f.name, hints[f.name]) for f in msgspec.structs.fields(struct_type))


@cache
def _annotations(hint: Any) -> tuple[list[Rule], bool, list[Any]]:
    """(rules, whether multi-line, the bare types) of a type, through Annotated, unions and Optional."""
    rules: list[Rule] = []
    multi_line = False
    bare: list[Any] = []
    pending = [hint]
    while pending:
        current = pending.pop()
        if current is None:
            continue
        if typing.get_origin(current) is Annotated:
            base, *extras = typing.get_args(current)
            rules += [extra for extra in extras if isinstance(extra, Rule)]
            multi_line = multi_line or any(isinstance(extra, MultiLine) for extra in extras)
            pending.append(base)
        elif typing.get_origin(current) in (typing.Union, _UnionType):
            pending += typing.get_args(current)
        else:
            bare.append(current)
    return rules, multi_line, bare


_UnionType = type(int | None)


def _item_hint(bare: list[Any]) -> Any:
    for candidate in bare:
        if typing.get_origin(candidate) in (list, tuple, set, frozenset) and typing.get_args(candidate):
            return typing.get_args(candidate)[0]
    return None


def explain(message: str) -> str:
    """msgspec's "Expected `str` matching regex '...'" in words; other messages as they are."""
    head, found, rest = message.partition("Expected `str` matching regex ")
    if not found:
        return message
    for pattern, words in PATTERN_WORDS.items():
        if rest.startswith(repr(pattern)):
            return f"{head}Expected {words}{rest[len(repr(pattern)) :]}"
    pattern, at, where = rest.partition(" - at `")
    return f"{head}Expected text of the form the schema describes{at}{where}"


# ---------------------------------------------------------------------------- query instants


def instant_or_day(name: str, text: str | None) -> datetime | None:
    """A query's date-time with offset, or a plain date (that day's start in Luxembourg); 422 outside 1970-2200."""
    if text is None:
        return None
    try:
        if re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", text):
            value = datetime.combine(date.fromisoformat(text), time(0), LOCAL_ZONE)
        elif re.fullmatch(INSTANT_OR_DATE, text):
            value = datetime.fromisoformat(text)
        else:
            raise ValueError
        return _instant(value)
    except (ValueError, OverflowError):
        raise Refused(name, f"Expected {INSTANT_WORDS}; '{text[:40]}' is not one") from None
