"""Demo organisations and events (the intercultural agency's real programme), dated from a given day."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import msgspec

from server.events.schemas import EventIn
from server.events.service import create_event, publish_event
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.settings import Settings

TIMEZONE = "Europe/Luxembourg"
_ZONE = ZoneInfo(TIMEZONE)

DEMO_ORGANISATIONS: list[dict[str, str]] = [
    {"slug": "asti", "name": "ASTI – Association de soutien aux travailleurs immigrés"},
    {"slug": "clae", "name": "CLAE – Comité de liaison des associations d'étrangers"},
    {"slug": "cefis", "name": "CEFIS – Centre d'étude et de formation interculturelles et sociales"},
    {"slug": "caritas", "name": "Caritas Luxembourg"},
]

MONDAY, TUESDAY, WEDNESDAY, THURSDAY = 0, 1, 2, 3
SERIES_COUNT = 12

# ---------------------------------------------------------------------------- dates


def _easter(year: int) -> dt.date:
    """Easter Sunday (Gregorian computus, Meeus/Jones/Butcher)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = b // 4, b % 4
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = c // 4, c % 4
    l = (32 + 2 * e + 2 * i - h - k) % 7  # noqa: E741 (the algorithm's own name)
    m = (a + 11 * h + 22 * l) // 451
    month, day = divmod(h + l - 7 * m + 114, 31)
    return dt.date(year, month, day + 1)


def public_holidays(year: int) -> set[dt.date]:
    """Luxembourg's eleven legal public holidays of a year (Europe Day since 2019)."""
    easter = _easter(year)
    return {
        dt.date(year, 1, 1),
        easter + dt.timedelta(days=1),  # Easter Monday
        dt.date(year, 5, 1),
        dt.date(year, 5, 9),  # Europe Day
        easter + dt.timedelta(days=39),  # Ascension
        easter + dt.timedelta(days=50),  # Whit Monday
        dt.date(year, 6, 23),  # National Day
        dt.date(year, 8, 15),
        dt.date(year, 11, 1),
        dt.date(year, 12, 25),
        dt.date(year, 12, 26),
    }


def _is_day_off(day: dt.date) -> bool:
    # the associations close between Christmas Eve and New Year's Day
    christmas_break = (day.month == 12 and day.day >= 24) or (day.month == 1 and day.day == 1)
    return christmas_break or day in public_holidays(day.year)


def _next_weekday(after: dt.date, weekday: int) -> dt.date:
    """The first given weekday strictly after `after` (1 to 7 days later)."""
    return after + dt.timedelta(days=(weekday - after.weekday() - 1) % 7 + 1)


def _working(day: dt.date) -> dt.date:
    """The same weekday a week later, as often as needed, when the day is a holiday."""
    while _is_day_off(day):
        day += dt.timedelta(days=7)
    return day


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    # never in the 02:00-03:00 DST gap, so the wall-clock time always exists
    return dt.datetime(day.year, day.month, day.day, hour, minute, tzinfo=_ZONE)


def _span(day: dt.date, start: tuple[int, int], end: tuple[int, int]) -> dict[str, str]:
    return {"starts_at": _at(day, *start).isoformat(), "ends_at": _at(day, *end).isoformat()}


def _weekly(first: dt.date, start: tuple[int, int], end: tuple[int, int]) -> dict[str, Any]:
    """Times and recurrence of a weekly series; holidays and the Christmas break are left out."""
    days = [first + dt.timedelta(weeks=n) for n in range(SERIES_COUNT)]
    skipped = [d for d in days if _is_day_off(d)]
    if not skipped:
        # no holiday in these twelve weeks: the facilitators still take one week off half-way, so
        # that every demo series shows an exception
        skipped = [days[SERIES_COUNT // 2]]
    # an exdate is the exact local start of the occurrence it removes (RFC 5545 EXDATE)
    return {
        **_span(first, start, end),
        "recurrence": {
            "rrule": f"FREQ=WEEKLY;COUNT={SERIES_COUNT}",
            "exdates": [_at(d, *start).isoformat() for d in skipped],
        },
    }


# ---------------------------------------------------------------------------- texts

_LUNCH = ((12, 15), (13, 45))
_EVENING = ((18, 30), (20, 0))

_TEXTS = json.loads((Path(__file__).with_name("demo_texts.json")).read_text(encoding="utf-8"))


def _volunteering_texts(requested_by: dict[str, str]) -> dict[str, dict[str, str]]:
    """The information session on volunteering with DPI; `requested_by` names the commune in each language."""
    return {
        field: {lang: text.replace("{requested_by}", requested_by[lang]) for lang, text in texts.items()}
        for field, texts in _TEXTS["volunteering"].items()
    }


# ---------------------------------------------------------------------------- events


def _webconference(organisation: str, slug: str, texts: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    return {
        "kind": "webconference",
        "organisation": organisation,
        "slug": slug,
        **texts,
        "languages": languages,
        "timezone": TIMEZONE,
        "capacity": 100,
        "confirmation_required": True,
        "reminders": ["P1D", "PT1H"],
        "online": True,
        "platform": "Webex",
        # a placeholder host: demo data never carries a working meeting link
        "join_url": f"https://meet.example.org/{organisation}-{slug}",
        "audience": "Tout public",
        "publish": True,
    }


def demo_events(today: dt.date) -> list[dict[str, Any]]:
    """Organiser API bodies (POST /api/organiser/events) plus a `publish` flag, all starting after `today`."""
    # the real programme's rhythm: a Wednesday talk, MIPEX the following Monday, the refugee
    # sessions two Wednesdays later; each moved a week on if it falls on a holiday
    first_wednesday = _next_weekday(today, WEDNESDAY)
    portuguese_day = _working(first_wednesday)
    mipex_day = _working(first_wednesday + dt.timedelta(days=5))
    refugees_day = _working(first_wednesday + dt.timedelta(days=14))
    mersch_day = _working(first_wednesday + dt.timedelta(days=19))  # a Monday evening
    differdange_day = _working(first_wednesday + dt.timedelta(days=36))  # a Thursday evening
    french_table_day = _working(_next_weekday(today, TUESDAY))
    luxembourgish_table_day = _working(_next_weekday(today, THURSDAY))

    portuguese = _webconference("cefis", "portugais-seconde-generation", _TEXTS["pt_second_generation"], ["fr"])
    portuguese.update(_span(portuguese_day, *_LUNCH))
    portuguese["topics"] = ["seconde génération", "sentiment d'appartenance", "immigration portugaise"]

    press = _webconference("asti", "mipex-2020-conference-de-presse", _TEXTS["mipex_press"], ["fr", "en"])
    press.update(_span(mipex_day, (10, 0), (11, 0)))
    press.update(
        capacity=20,
        audience="Journalistes et représentants des médias",
        topics=["MIPEX 2020", "politiques d'intégration"],
    )

    mipex = _webconference("asti", "mipex-2020-luxembourg", _TEXTS["mipex_public"], ["fr", "en"])
    mipex.update(_span(mipex_day, *_LUNCH))
    mipex["topics"] = ["MIPEX 2020", "politiques d'intégration", "comparaison internationale"]

    refugees_topics = ["réfugiés", "marché de l'emploi", "Allemagne", "Luxembourg"]
    refugees_de = _webconference("caritas", "fluechtlinge-arbeitsmarkt", _TEXTS["refugees_de"], ["de"])
    refugees_de.update(_span(refugees_day, *_LUNCH), topics=refugees_topics)
    refugees_fr = _webconference("caritas", "refugies-marche-de-l-emploi", _TEXTS["refugees_fr"], ["fr"])
    refugees_fr.update(_span(refugees_day, *_LUNCH), topics=refugees_topics)

    french_table = {
        "kind": "conversation_table",
        "organisation": "asti",
        "slug": "table-de-conversation-francais",
        **_TEXTS["table_fr"],
        "languages": ["fr"],
        **_weekly(french_table_day, *_EVENING),
        "timezone": TIMEZONE,
        "capacity": 8,
        "confirmation_required": True,
        "reminders": ["P1D"],
        "online": False,
        "venue": "ASTI, 10-12, rue Auguste Laval, L-1922 Luxembourg-Eich",
        "commune": "Luxembourg",
        "practised_language": "fr",
        "level": "all",
        "topics": ["vie quotidienne", "actualité"],
        "audience": "Adultes apprenant le français, tous niveaux",
        "publish": True,
    }

    luxembourgish_table = {
        "kind": "conversation_table",
        "organisation": "clae",
        "slug": "konversatiounsdesch-letzebuergesch",
        **_TEXTS["table_lb"],
        "languages": ["lb"],
        **_weekly(luxembourgish_table_day, *_EVENING),
        "timezone": TIMEZONE,
        "capacity": 8,
        "confirmation_required": True,
        "reminders": ["P1D"],
        "online": False,
        "venue": "CLAE, 26, rue de Gasperich, L-1617 Luxembourg-Gasperich",
        "commune": "Luxembourg",
        "practised_language": "lb",
        "level": "all",
        "topics": ["vie quotidienne", "actualité"],
        "audience": "Adultes apprenant le luxembourgeois, tous niveaux",
        "publish": True,
    }

    def info_session(
        slug: str, day: dt.date, commune: str, venue: str, partner: str, requested_by: dict[str, str], publish: bool
    ) -> dict[str, Any]:
        return {
            "kind": "info_session",
            "organisation": "asti",
            "slug": slug,
            **_volunteering_texts(requested_by),
            "languages": ["fr", "lb"],
            **_span(day, (19, 0), (21, 0)),
            "timezone": TIMEZONE,
            "capacity": 40,
            "confirmation_required": True,
            "reminders": ["P2D", "PT2H"],
            "online": False,
            "venue": venue,
            "commune": commune,
            "topics": list(_TEXTS["volunteering_topics"]),
            "audience": "Habitants, associations locales et toute personne intéressée par le bénévolat",
            "requesting_partner": partner,
            "publish": publish,
        }

    mersch = info_session(
        "benevolat-dpi-mersch",
        mersch_day,
        "Mersch",
        "Mierscher Kulturhaus, route d'Arlon, Mersch",
        "Commune de Mersch",
        {
            "fr": "de la commune de Mersch",
            "de": "der Gemeinde Mersch",
            "lb": "vun der Gemeng Miersch",
            "en": "of the commune of Mersch",
            "pt": "da comuna de Mersch",
        },
        publish=True,
    )
    # still being planned with the city: the one draft, to show that drafts stay out of public lists
    differdange = info_session(
        "benevolat-dpi-differdange",
        differdange_day,
        "Differdange",
        "Aalt Stadhaus, avenue Charlotte, Differdange",
        "Ville de Differdange",
        {
            "fr": "de la Ville de Differdange",
            "de": "der Stadt Differdingen",
            "lb": "vun der Stad Déifferdeng",
            "en": "of the City of Differdange",
            "pt": "da cidade de Differdange",
        },
        publish=False,
    )

    return [portuguese, press, mipex, refugees_de, refugees_fr, french_table, luxembourgish_table, mersch, differdange]


async def load_programme(conn: asyncpg.Connection, settings: Settings, today: dt.date) -> int:
    """Create the demo organisations and events (published unless marked otherwise); returns events made."""
    for org in DEMO_ORGANISATIONS:
        await conn.execute(org_q.UPSERT_ORGANISATION, org["slug"], org["name"])
    system = Organiser(id=0, email="demo@localhost", name="demo", is_admin=True, roles={})
    created = 0
    for body in demo_events(today):
        body = dict(body)
        publish = body.pop("publish", True)
        event = await create_event(conn, system, msgspec.convert(body, EventIn), settings)
        if publish:
            await publish_event(conn, system, event.slug, settings)
        created += len(event.occurrences or [event.slug])
    return created
