"""The placeholders an organiser may write in a message to registrants, filled as plain text."""

from __future__ import annotations

import re
from collections.abc import Mapping

# What an organiser may write in a message's subject and body; anything else in braces stays as typed.
PLACEHOLDERS: dict[str, str] = {
    "name": "the person's name",
    "event": "the event's title in the person's language",
    "when": "date and time in the person's language and the event's time zone",
    "location": "where it takes place",
    "event_url": "the event's public page",
    "manage_url": "the person's own link to view or cancel the registration",
}


_PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


_BRACED = re.compile(r"\{([^{}]*)\}")


def fill_placeholders(text: str, values: Mapping[str, str]) -> str:
    """Organiser text with each known `{placeholder}` replaced by plain text, in one pass; nothing is evaluated."""
    return _PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


def unknown_placeholders(text: str) -> list[str]:
    """The `{...}` in an organiser's text that are not placeholders (for the endpoint's 422)."""
    return sorted({m.group(1) for m in _BRACED.finditer(text)} - set(PLACEHOLDERS))
