"""The words of the interpretation service's back-office pages, translated through the catalogs."""

from __future__ import annotations

from server.interpretation.request_form import FIELD_NAMES, MODES
from server.pages.translations import N_, gettext

STATUSES = {
    "requested": N_("Waiting for an interpreter"),
    "offered": N_("Offered to interpreters"),
    "assigned": N_("Interpreter assigned"),
    "done": N_("Mission done"),
    "cancelled": N_("Mission cancelled"),
}
OFFER_STATUSES = {
    "offered": N_("Waiting for an answer"),
    "accepted": N_("Accepted"),
    "declined": N_("Declined"),
    "taken": N_("Taken by someone else"),
    "expired": N_("No answer in time"),
}
LEVELS = {"native": N_("native language")}
# what a mission page says after a step, by the `done` of its address
DONE = {
    "created": N_("The interpretation request is stored; the interpreters who could take it are listed below."),
    "offered": N_("The mission is offered: the first interpreter to accept gets it."),
    "hours": N_("The time spent is recorded and the mission is done."),
}


def translated(lang: str) -> dict[str, dict[str, str]]:
    """The words of the interpretation pages in `lang`."""
    return {
        "fields": {code: gettext(lang, text) for code, text in FIELD_NAMES.items()},
        "modes": {code: gettext(lang, text) for code, text in MODES.items()},
        "statuses": {code: gettext(lang, text) for code, text in STATUSES.items()},
        "offer_statuses": {code: gettext(lang, text) for code, text in OFFER_STATUSES.items()},
        "levels": {code: gettext(lang, text) for code, text in LEVELS.items()},
    }
