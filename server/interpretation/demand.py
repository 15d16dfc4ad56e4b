"""Interpretation asked for by an event's registrants, and the mission staff ask for it in one step."""

from __future__ import annotations

from typing import Any, get_args

import asyncpg

from server.errors import Conflict, FieldError, Forbidden, Invalid
from server.events.reading import readable_event
from server.i18n import localise
from server.interpretation import queries as q
from server.interpretation import trail
from server.interpretation.schemas import Field, MissionIn, Place, StaffRequester, known_languages, language_name
from server.interpretation.service import insert_mission
from server.organisers.schemas import Organiser
from server.pages.forms import SIGN_LANGUAGES
from server.pages.forms import language_name as sign_language_name
from server.registrations.stats import event_stats
from server.settings import Settings

FIELDS: tuple[str, ...] = get_args(Field)
# what an event is most likely about when staff ask for its interpreter; they may choose another field
FIELD_OF_KIND = {"info_session": "administrative", "conversation_table": "social", "webconference": "social"}


class AskedAlready(Conflict):
    """The event has a live mission for this language already."""

    code = "event_language_asked"


def _name(code: str, lang: str) -> str:
    """A language's name as a sentence says it in `lang` (CLDR's case: "tigrinya" in French, "Tigrinya" in German)."""
    if code in SIGN_LANGUAGES:
        return sign_language_name(code, lang)
    return language_name(code, lang) if code in known_languages() else code


def _askable(code: str) -> bool:
    """Whether the service's pool can be asked for this tag (sign languages and unknown tags are arranged apart)."""
    return code in known_languages()


async def event_demand(conn: asyncpg.Connection, organiser: Organiser, slug: str, lang: str) -> dict[str, Any]:
    """The languages the event's live registrants asked interpretation into, most asked first, with their missions."""
    event = await readable_event(conn, organiser, slug)
    stats = await event_stats(conn, organiser, slug)
    missions = {row["to_language"]: row for row in await conn.fetch(q.EVENT_MISSIONS, event["id"])}
    rows = [
        {
            "code": code,
            "name": _name(code, lang),
            "people": people,
            "mission": missions.get(code),
            "askable": _askable(code),
        }
        for code, people in stats.by_interpretation.items()
    ]
    return {
        "event": event,
        "demand": rows,
        "people": sum(row["people"] for row in rows),
        "may_ask": organiser.can_write(event["organisation_id"]) and event["status"] != "cancelled",
        "fields": FIELDS,
        "default_field": FIELD_OF_KIND.get(event["kind"], "social"),
    }


def _pair(event: asyncpg.Record, code: str) -> str:
    """The language interpreted from: the event's first language that is not the one asked for."""
    for spoken in event["languages"]:
        if spoken != code and spoken in known_languages():
            return spoken
    raise Invalid.field("language", f"The event is held in '{code}' already.")


def _where(event: asyncpg.Record) -> tuple[Place | None, str | None]:
    """(place, remote) of the event: by video when online, else at its venue in its commune."""
    if event["online"] or event["kind"] == "webconference":
        return None, "video"
    if event["commune"] is None:
        raise Invalid.field("place", "The event has no commune: say where it takes place first.")
    return Place(event["commune"], (event["venue"] or "")[:300]), None


async def ask_for_event(
    conn: asyncpg.Connection,
    organiser: Organiser,
    slug: str,
    code: str,
    field: str,
    settings: Settings,
    *,
    lang: str,
) -> int:
    """A mission for the event's registrants who asked for `code`, pre-filled from the event; returns its id."""
    async with conn.transaction():
        event = await readable_event(conn, organiser, slug)
        if not organiser.can_write(event["organisation_id"]):
            # the page hides the form from viewers; this refuses a forged post
            raise Forbidden("Your role in this organisation does not allow changes.")
        if event["status"] == "cancelled":
            raise Invalid.field("status", "The event is cancelled.")
        if not _askable(code):
            raise Invalid.field("language", f"The interpretation service has no interpreters for '{code}'.")
        if field not in FIELDS:
            raise Invalid.field("field", "Choose one of the fields.")
        place, remote = _where(event)
        data = MissionIn(
            starts_at=event["starts_at"],
            ends_at=event["ends_at"],
            from_language=_pair(event, code),
            to_language=code,
            field=field,  # type: ignore[arg-type]
            requester=StaffRequester(
                organisation=event["organisation_name"],
                contact=organiser.name or organiser.email,
                email=organiser.email,
                type="other",
                language=lang,  # type: ignore[arg-type]
            ),
            place=place,
            remote=remote,  # type: ignore[arg-type]
            # what the interpreter and staff read of the occasion: the event's title in the staff's language
            notes=localise(event["title"], lang, event["languages"])[0][:2000],
        )
        try:
            async with conn.transaction():
                mission_id, _ = await insert_mission(
                    conn, event["organisation_id"], data, settings, event_id=event["id"]
                )
                await trail.record(
                    conn, organiser, "mission_created", mission_id, event["organisation_id"], event_id=event["id"]
                )
        except asyncpg.UniqueViolationError:
            raise AskedAlready(
                f"A mission into '{code}' is asked for this event already.",
                errors=[FieldError("language", "Asked for already.")],
            ) from None
    return mission_id
