"""The event editor's form: its fields read into the events service's EventIn or EventPatch, and back.

Every refusal becomes a sentence next to its field in the person's language; the values typed come
back as they were typed.
"""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from server.backoffice import series
from server.events.schemas import EventIn, EventPatch
from server.i18n import LANGUAGES, N_, gettext, localise
from server.validation import HTTP_URL, IANA_TIMEZONES, SLUG

TEXT_FIELDS = ("title", "summary", "description")
DEFAULT_ZONE = "Europe/Luxembourg"
KINDS = ("webconference", "conversation_table", "info_session")
LEVELS = ("all", "A1", "A2", "B1", "B2", "C1", "C2")
# the reminders offered, as ISO 8601 durations before the start
REMINDER_CHOICES = ("P7D", "P2D", "P1D", "PT3H", "PT1H", "PT15M")
SINGLE_LINES = {"platform": 100, "venue": 2000, "audience": 2000, "requesting_partner": 200, "join_url": 2000}
# fields a form posts as several values (checkboxes, a multiple select)
LISTS = ("languages", "reminders", "aimed_at_communes")
MAX_EXCEPTIONS = 100

LABELS = {
    "organisation": N_("Organisation"),
    "kind": N_("Kind of event"),
    "slug": N_("Address of the public page"),
    "title": N_("Title"),
    "summary": N_("Summary"),
    "description": N_("Description"),
    "languages": N_("Languages spoken at the event"),
    "starts_at": N_("Starts"),
    "ends_at": N_("Ends"),
    "timezone": N_("Time zone"),
    "capacity": N_("Places"),
    "registration_opens_at": N_("Registration opens"),
    "registration_closes_at": N_("Registration closes"),
    "confirmation_required": N_("People confirm their email address before their place is theirs"),
    "reminders": N_("Reminder emails"),
    "join_url": N_("Link to the web conference"),
    "platform": N_("Platform"),
    "venue": N_("Venue"),
    "online": N_("Takes place online"),
    "commune": N_("Commune"),
    "practised_language": N_("Language practised"),
    "level": N_("Level"),
    "topics": N_("Topics"),
    "audience": N_("Audience"),
    "requesting_partner": N_("Requesting partner"),
    "aimed_at_communes": N_("Communes it is aimed at"),
    "repeat": N_("Repeat"),
    "until": N_("Last date"),
    "count": N_("Number of dates"),
    "exceptions": N_("Dates left out"),
    "force": N_("Lower it anyway: everybody confirmed keeps their place"),
}

REPEAT_NAMES = {
    "none": N_("Once, no series"),
    "weekly": N_("Every week, on the same weekday"),
    "fortnightly": N_("Every other week, on the same weekday"),
    "monthly": N_("Every month, on the same weekday of the month (e.g. the second Tuesday)"),
}

REMINDER_NAMES = {
    "P7D": N_("a week before"),
    "P2D": N_("two days before"),
    "P1D": N_("the day before"),
    "PT3H": N_("three hours before"),
    "PT1H": N_("an hour before"),
    "PT15M": N_("a quarter of an hour before"),
}

PROBLEMS = {
    "title": N_("Please write the title in at least one language."),
    "text_long": N_("This text is too long: please shorten it."),
    "one_line": N_("Please write this on one line, without special characters."),
    "languages": N_("Please tick at least one language spoken at the event."),
    "when": N_("Please give a date and a time, such as 10/03/2027 12:15."),
    "capacity": N_("Please write a whole number of places, or leave it empty for no limit."),
    "url": N_("Please write a complete web address, starting with https://."),
    "timezone": N_("Please give a time zone such as Europe/Luxembourg."),
    "slug": N_("Please use only lower-case letters without accents, digits and hyphens."),
    "choose": N_("Please choose one of the options."),
    "ending": N_("Please give the last date of the series or its number of dates (at most 200)."),
    "exceptions": N_("Please write each date left out as 22/12/2027 or 2027-12-22, one per line."),
    "topics": N_("Please separate the topics with commas; each at most 100 characters."),
    "check": N_("Please check this value."),
}


def empty_values(organisation: str, kind: str, lang: str) -> dict[str, Any]:
    """The form of a new event: the person's language spoken, the API's defaults."""
    return {
        "organisation": organisation,
        "kind": kind if kind in KINDS else "webconference",
        "languages": [lang],
        "timezone": DEFAULT_ZONE,
        "confirmation_required": "yes",
        "reminders": ["P1D", "PT1H"],
        "repeat": "none",
        "aimed_at_communes": [],
    }


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%dT%H:%M") if moment else ""


def iso_duration(delta: timedelta) -> str:
    """A reminder offset as the form's value: P1D, PT1H, PT15M, P1DT2H."""
    days, seconds = delta.days, delta.seconds
    hours, minutes = divmod(seconds // 60, 60)
    time = (f"{hours}H" if hours else "") + (f"{minutes}M" if minutes else "")
    return "P" + (f"{days}D" if days else "") + (f"T{time}" if time else "") if (days or time) else "PT0M"


def values_of(row: Any, aimed: list[str]) -> dict[str, Any]:
    """The form's values of an existing event (to edit it or to start a copy)."""
    zone = ZoneInfo(row["timezone"])
    values: dict[str, Any] = {
        "organisation": row["organisation_slug"],
        "kind": row["kind"],
        "timezone": row["timezone"],
        "languages": list(row["languages"]),
        "starts_at": _local(row["starts_at"], zone),
        "ends_at": _local(row["ends_at"], zone),
        "capacity": "" if row["capacity"] is None else str(row["capacity"]),
        "registration_opens_at": _local(row["registration_opens_at"], zone),
        "registration_closes_at": _local(row["registration_closes_at"], zone),
        "confirmation_required": "yes" if row["confirmation_required"] else "",
        "online": "yes" if row["online"] else "",
        "reminders": [iso_duration(d) for d in row["reminders"]],
        "topics": ", ".join(row["topics"]),
        "aimed_at_communes": list(aimed),
        "repeat": "none",
    }
    for name in (
        "join_url",
        "platform",
        "venue",
        "commune",
        "practised_language",
        "level",
        "audience",
        "requesting_partner",
    ):
        values[name] = row[name] or ""
    for field in TEXT_FIELDS:
        for code in LANGUAGES:
            values[f"{field}_{code}"] = (row[field] or {}).get(code) or ""
    return values


def texts_with_fallback(values: dict[str, Any]) -> dict[str, dict[str, tuple[str, str]]]:
    """{field: {language: (text the public reads, its language)}} of the values typed: the public's fallback."""
    spoken = [code for code in values.get("languages") or [] if code in LANGUAGES]
    result = {}
    for field in TEXT_FIELDS:
        typed = {code: values.get(f"{field}_{code}", "").strip() for code in LANGUAGES}
        result[field] = {code: localise({k: v for k, v in typed.items() if v}, code, spoken) for code in LANGUAGES}
    return result


def form_values(form: Any) -> dict[str, Any]:
    """What was posted, as the form shows it again: strings, lists for the multiple fields."""
    values: dict[str, Any] = {}
    for key in form.keys():
        if key == "csrf_token":
            continue
        if key in LISTS:
            values[key] = [str(v)[:200] for v in form.getall(key)][:120]
        else:
            values[key] = str(form.get(key))[:20_000]
    for key in LISTS:
        values.setdefault(key, [])
    return values


_DAY = re.compile(r"\A\s*(?:(\d{4})-(\d{1,2})-(\d{1,2})|(\d{1,2})[./](\d{1,2})[./](\d{4}))\s*\Z")


def _day(text: str) -> date | None:
    match = _DAY.match(text)
    if not match:
        return None
    year, month, day = (
        (match.group(1), match.group(2), match.group(3))
        if match.group(1)
        else (match.group(6), match.group(5), match.group(4))
    )
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _moment(text: str, zone: ZoneInfo) -> datetime | None:
    """A datetime-local value ("2027-03-10T12:15", or with a space) in the event's zone."""
    text = text.strip().replace(" ", "T")
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return None if moment.tzinfo is not None else moment.replace(tzinfo=zone)


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_CONTROL_BUT_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


class Reading:
    """Reads one posted form; `errors` holds a translated sentence per field."""

    def __init__(self, values: dict[str, Any], lang: str) -> None:
        self.values, self.lang = values, lang
        self.errors: dict[str, str] = {}
        self.zone = ZoneInfo(DEFAULT_ZONE)

    def refuse(self, name: str, problem: str) -> None:
        self.errors.setdefault(name, gettext(self.lang, PROBLEMS[problem]))

    def text(self, name: str, limit: int = 2000) -> str | None:
        value = " ".join(str(self.values.get(name, "")).split())
        if _CONTROL.search(str(self.values.get(name, "")).replace("\t", " ").replace("\r", " ").replace("\n", " ")):
            self.refuse(name, "one_line")
        if len(value) > limit:
            self.refuse(name, "text_long")
        return value or None

    def texts(self, field: str) -> dict[str, str]:
        """The five languages of one text; a title is one line, the others keep their paragraphs."""
        result = {}
        for code in LANGUAGES:
            raw = str(self.values.get(f"{field}_{code}", "")).replace("\r\n", "\n").strip()
            if not raw:
                continue
            if field == "title":
                raw = " ".join(raw.split())
            if (_CONTROL if field == "title" else _CONTROL_BUT_LINES).search(raw):
                self.refuse(field, "one_line")
            if len(raw) > {"title": 300, "summary": 2000}.get(field, 20_000):
                self.refuse(field, "text_long")
            result[code] = raw
        return result

    def moment(self, name: str, *, required: bool) -> datetime | None:
        text = str(self.values.get(name, "")).strip()
        if not text:
            if required:
                self.refuse(name, "when")
            return None
        moment = _moment(text, self.zone)
        if moment is None:
            self.refuse(name, "when")
        return moment

    def common(self) -> dict[str, Any]:
        """The fields an event has whether it is new or changed, as the events service's structs take them."""
        data: dict[str, Any] = {}
        timezone = str(self.values.get("timezone", "")).strip() or DEFAULT_ZONE
        if timezone not in IANA_TIMEZONES:
            self.refuse("timezone", "timezone")
        else:
            self.zone = ZoneInfo(timezone)
        data["timezone"] = timezone
        for field in TEXT_FIELDS:
            data[field] = self.texts(field)
        if not data["title"]:
            self.refuse("title", "title")
        languages = [code for code in self.values.get("languages") or [] if code in LANGUAGES]
        if not languages:
            self.refuse("languages", "languages")
        data["languages"] = list(dict.fromkeys(languages))
        data["starts_at"] = self.moment("starts_at", required=True)
        data["ends_at"] = self.moment("ends_at", required=True)
        data["registration_opens_at"] = self.moment("registration_opens_at", required=False)
        data["registration_closes_at"] = self.moment("registration_closes_at", required=False)
        capacity = str(self.values.get("capacity", "")).strip()
        data["capacity"] = None
        if capacity:
            if capacity.isdigit() and int(capacity) <= 100_000:
                data["capacity"] = int(capacity)
            else:
                self.refuse("capacity", "capacity")
        data["confirmation_required"] = bool(self.values.get("confirmation_required"))
        data["online"] = bool(self.values.get("online"))
        reminders = []
        for code in self.values.get("reminders") or []:
            try:
                reminders.append(msgspec.convert(code, timedelta))
            except msgspec.ValidationError:
                self.refuse("reminders", "choose")
        data["reminders"] = sorted(set(reminders), reverse=True)[:5]
        for name, limit in SINGLE_LINES.items():
            data[name] = self.text(name, limit)
        if data["join_url"] and not re.match(HTTP_URL, data["join_url"]):
            self.refuse("join_url", "url")
        data["commune"] = self.text("commune", 100)
        practised = str(self.values.get("practised_language", ""))
        data["practised_language"] = practised if practised in LANGUAGES else None
        level = str(self.values.get("level", ""))
        data["level"] = level if level in LEVELS else None
        topics = [" ".join(t.split()) for t in str(self.values.get("topics", "")).split(",") if t.strip()]
        if len(topics) > 20 or any(len(t) > 100 or _CONTROL.search(t) for t in topics):
            self.refuse("topics", "topics")
        data["topics"] = list(dict.fromkeys(topics))[:20]
        data["aimed_at_communes"] = [c for c in dict.fromkeys(self.values.get("aimed_at_communes") or []) if c][:100]
        return data

    def series(self, starts_at: datetime | None) -> dict[str, Any] | None:
        """The recurrence of a new event from the simple controls, or None for a single date."""
        repeat = str(self.values.get("repeat", "none"))
        if repeat not in series.REPEATS:
            self.refuse("repeat", "choose")
            return None
        if repeat == "none" or starts_at is None:
            return None
        until = _day(str(self.values.get("until", "")))
        count_text = str(self.values.get("count", "")).strip()
        count = int(count_text) if count_text.isdigit() and 1 <= int(count_text) <= 200 else None
        if (until is None) == (count is None):
            self.refuse("until", "ending")
            return None
        exdates = []
        for line in str(self.values.get("exceptions", "")).replace(",", "\n").splitlines()[:MAX_EXCEPTIONS]:
            if not line.strip():
                continue
            day = _day(line)
            if day is None:
                self.refuse("exceptions", "exceptions")
                return None
            local = starts_at.astimezone(self.zone)
            exdates.append(datetime.combine(day, local.time().replace(tzinfo=None), tzinfo=self.zone))
        rule = series.build_rrule(repeat, starts_at.astimezone(self.zone), until, count)
        return {"rrule": rule, "exdates": exdates}


def read_new(values: dict[str, Any], lang: str) -> tuple[EventIn | None, dict[str, str]]:
    """A new event from the form, or None and the errors by field."""
    reading = Reading(values, lang)
    data = reading.common()
    data["kind"] = str(values.get("kind", ""))
    if data["kind"] not in KINDS:
        reading.refuse("kind", "choose")
    data["organisation"] = str(values.get("organisation", ""))[:63]
    slug = str(values.get("slug", "")).strip()
    if slug and not (re.match(SLUG, slug) and len(slug) <= 63):
        reading.refuse("slug", "slug")
    data["slug"] = slug or None
    data["recurrence"] = reading.series(data["starts_at"])
    return _convert(reading, data, EventIn)


def read_change(
    values: dict[str, Any], lang: str, row: Any, aimed: list[str]
) -> tuple[EventPatch | None, dict[str, str]]:
    """The changes the form makes to an event (only the fields that differ), or None and the errors by field."""
    reading = Reading(values, lang)
    data = reading.common()
    if reading.errors:
        return None, reading.errors
    current = {**dict(row), "aimed_at_communes": aimed}
    changes = {name: value for name, value in data.items() if not _same(value, current.get(name))}
    if values.get("force"):
        changes["force"] = True
    return _convert(reading, changes, EventPatch)


def _same(new: Any, old: Any) -> bool:
    if isinstance(new, dict):
        return {k: v for k, v in new.items() if v} == {k: v for k, v in (old or {}).items() if v}
    if isinstance(new, list):
        return sorted(map(str, new)) == sorted(map(str, old or []))
    return new == old


def _convert(reading: Reading, data: dict[str, Any], struct: type) -> tuple[Any, dict[str, str]]:
    if reading.errors:
        return None, reading.errors
    try:
        return msgspec.convert(data, struct), {}
    except msgspec.ValidationError as exc:
        # what the struct refuses that the reading above let through: named by its path
        match = re.search(r"at `\$\.(\w+)", str(exc))
        name = match.group(1) if match else "form"
        reading.refuse(name if name in LABELS else "form", "check")
        return None, reading.errors
