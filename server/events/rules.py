"""Event field rules that msgspec cannot express, and slugs."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta
from typing import Any

import asyncpg
import msgspec

from server.errors import FieldError, Invalid
from server.events import queries as q
from server.events.recurrence import EARLIEST_START, LATEST_START
from server.i18n import LANGUAGES
from server.validation import IANA_TIMEZONES

TITLE_MAX, SUMMARY_MAX, DESCRIPTION_MAX = 300, 2000, 20_000
SLUG_MAX = 63
# words of the back-office's addresses beside an event's slug (/organiser/events/new): an event of that
# slug could not be opened, so no event gets one, made up from its title or asked for
RESERVED_SLUGS = frozenset({"new", "edit", "preview", "copy", "import", "export", "search"})


def _check_texts(field: str, text: Any, limit: int, errors: list[FieldError], *, required: bool = False) -> None:
    plain = msgspec.to_builtins(text) if isinstance(text, msgspec.Struct) else (text or {})
    values = {lang: plain[lang] for lang in LANGUAGES if plain.get(lang)}
    if required and not any(v.strip() for v in values.values()):
        errors.append(FieldError(field, "Give the text in at least one of fr, de, lb, en, pt."))
    for lang, value in values.items():
        if len(value) > limit:
            errors.append(FieldError(f"{field}.{lang}", f"At most {limit} characters."))


async def validate_event(conn: asyncpg.Connection, values: dict[str, Any], *, partial: set[str] | None = None) -> None:
    """Field rules msgspec cannot express; raises one 422 naming every bad field."""
    errors: list[FieldError] = []

    def touched(name: str) -> bool:
        return partial is None or name in partial

    if touched("title"):
        _check_texts("title", values["title"], TITLE_MAX, errors, required=True)
    if touched("summary"):
        _check_texts("summary", values["summary"], SUMMARY_MAX, errors)
    if touched("description"):
        _check_texts("description", values["description"], DESCRIPTION_MAX, errors)
    if touched("timezone") and values["timezone"] not in IANA_TIMEZONES:
        errors.append(FieldError("timezone", "Use an IANA time zone such as Europe/Luxembourg."))
    if values["ends_at"] <= values["starts_at"]:
        errors.append(FieldError("ends_at", "The end must come after the start."))
    elif values["ends_at"] - values["starts_at"] > timedelta(days=31):  # a rule of the table too (0009)
        errors.append(FieldError("ends_at", "An event lasts at most 31 days."))
    if not EARLIEST_START <= values["starts_at"] < LATEST_START:
        errors.append(FieldError("starts_at", "An event starts between the years 2000 and 2199."))
    opens, closes = values.get("registration_opens_at"), values.get("registration_closes_at")
    if opens and closes and closes <= opens:
        errors.append(FieldError("registration_closes_at", "Registration must close after it opens."))
    if closes and closes > values["ends_at"]:
        errors.append(FieldError("registration_closes_at", "Registration cannot close after the event ends."))
    for index, offset in enumerate(values.get("reminders") or []):
        if offset <= timedelta(0) or offset > timedelta(days=60):
            errors.append(
                FieldError(f"reminders[{index}]", "A reminder comes between 1 second and 60 days before the start.")
            )
    if touched("topics") and len(set(values.get("topics") or [])) != len(values.get("topics") or []):
        errors.append(FieldError("topics", "Each topic once."))
    if touched("languages") and len(set(values["languages"])) != len(values["languages"]):
        errors.append(FieldError("languages", "Each language once."))
    commune = values.get("commune")
    if touched("commune") and commune is not None and not await conn.fetchval(q.COMMUNE_EXISTS, commune):
        errors.append(FieldError("commune", f"'{commune[:100]}' is not a commune of Luxembourg."))
    aimed = values.get("aimed_at_communes") or []
    if touched("aimed_at_communes") and aimed and (unknown := await conn.fetch(q.UNKNOWN_COMMUNES, list(aimed))):
        errors.append(FieldError("aimed_at_communes", f"'{unknown[0]['name'][:100]}' is not a commune of Luxembourg."))
    kind = values["kind"]
    if kind == "webconference" and values.get("commune") is None and values.get("venue"):
        pass  # a web conference may name a room for a hybrid session
    if kind != "webconference" and values.get("join_url") and not values.get("online"):
        errors.append(FieldError("join_url", "Only online events have a join link."))
    if kind == "conversation_table" and touched("practised_language") and values.get("practised_language") is None:
        errors.append(FieldError("practised_language", "Say which language the table practises."))
    if kind == "info_session" and touched("commune") and values.get("commune") is None:
        errors.append(FieldError("commune", "An information session takes place in a commune."))
    if kind != "conversation_table" and values.get("level") is not None and touched("level"):
        errors.append(FieldError("level", "Only conversation tables have a level."))
    if errors:
        raise Invalid("; ".join(f"{e.field}: {e.message}" for e in errors)[:1000], errors=errors)


def slugify(text: str) -> str:
    """Lowercase ASCII words joined by hyphens, at most 80 characters."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")
    return slug[:80].rstrip("-") or "event"


async def slug_taken(conn: asyncpg.Connection, slug: str) -> bool:
    """Whether an event holds this slug already or it is a word of the back-office's addresses."""
    return slug in RESERVED_SLUGS or await conn.fetchval(q.SLUG_TAKEN, slug)


async def free_slug(conn: asyncpg.Connection, base: str) -> str:
    """This slug, or the first of slug-2, slug-3, ... that is free."""
    candidate, n = base, 1
    while await slug_taken(conn, candidate):
        n += 1
        candidate = f"{base}-{n}"
    return candidate
