"""Bodies and helpers of the interpretation tests: interpreters, missions on a future Monday in Luxembourg."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

from server.validation import local_today

LUX = ZoneInfo("Europe/Luxembourg")
_sequence = count(1)


def monday(weeks: int = 2) -> date:
    """A Monday some weeks ahead."""
    today = local_today()
    return today + timedelta(days=7 * weeks - today.weekday())


def at(day: date, hour: int, minute: int = 0) -> datetime:
    """An instant of Luxembourg's local time."""
    return datetime.combine(day, time(hour, minute), LUX)


def interpreter_body(**overrides: Any) -> dict[str, Any]:
    """An interpreter of ASTI's pool speaking French and Tigrinya, in Luxembourg's canton, Monday to Friday 8-18."""
    body: dict[str, Any] = {
        "organisation": "asti",
        "name": f"Interpreter {next(_sequence)}",
        "email": f"interpreter{next(_sequence)}@example.org",
        "phone": "+352 621 000 111",
        "languages": [{"code": "fr", "level": "C2"}, {"code": "ti", "level": "native"}],
        "cantons": ["Luxembourg"],
        "communes": ["Esch-sur-Alzette"],
        "availability": [{"weekday": d, "starts": "08:00:00", "ends": "18:00:00"} for d in range(1, 6)],
        "monthly_cap": 20,
        "language": "fr",
    }
    body.update(overrides)
    return body


def mission_body(starts_at: datetime, minutes: int = 60, **overrides: Any) -> dict[str, Any]:
    """A mission from Tigrinya into French at the social office of Luxembourg city."""
    body: dict[str, Any] = {
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(minutes=minutes)).isoformat(),
        "from_language": "ti",
        "to_language": "fr",
        "field": "social",
        "place": {"commune": "Luxembourg", "address": "3, rue du Commerce"},
        "requester": {
            "organisation": "Office social",
            "contact": "Marie Weber",
            "email": "office@example.lu",
            "type": "social_office",
            "phone": "+352 4796 1",
            "language": "fr",
        },
        "beneficiary_initials": "T.G.",
    }
    body.update(overrides)
    return body
