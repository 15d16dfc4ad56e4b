"""The words of the back-office pages of communes' requests, as catalog messages by code."""

from __future__ import annotations

from functools import cache
from typing import Any

from server.communes.texts import REQUESTER_TYPES
from server.i18n import N_, gettext

# a request's status as staff name it (the requester's page words it for the requester)
STATUS_NAMES = {
    "new": N_("New"),
    "in_discussion": N_("Under discussion"),
    "scheduled": N_("Scheduled"),
    "done": N_("Done"),
    "declined": N_("Declined"),
}
EVENT_STATUS_NAMES = {
    "draft": N_("Draft"),
    "published": N_("Published"),
    "cancelled": N_("Cancelled"),
}
FIELDS = {
    "status": N_("New status"),
    "reason": N_("Why the request is declined"),
    "assignee": N_("Handled by"),
    "note": N_("Internal note"),
    "body": N_("Message to the requester"),
    "day": N_("Day"),
    "start": N_("Starts at"),
    "end": N_("Ends at"),
}
# the sentence next to a refused field
ERRORS = {
    "status": N_("Please choose one of the statuses offered."),
    "reason": N_("Please say in one line (at most 1000 characters) why the request is declined."),
    "assignee": N_("Please choose someone who handles this organisation's requests."),
    "note": N_("Please write the note (at most 5000 characters)."),
    "body": N_("Please write the message (at most 5000 characters)."),
    "day": N_("Please give a date such as 2026-01-31."),
    "start": N_("Please give a time such as 18:30."),
    "end": N_("Please give an end time after the start."),
}
# what a redirect after a form says, by its `done`
DONE = {
    "status": N_("The status is changed."),
    "assignee": N_("The request is assigned."),
    "note": N_("The note is added."),
    "message": N_("The message is sent to the requester and kept in the thread."),
}


@cache
def translated(lang: str) -> dict[str, Any]:
    """Every label of the pages in `lang`."""
    return {
        "statuses": {code: gettext(lang, text) for code, text in STATUS_NAMES.items()},
        "event_statuses": {code: gettext(lang, text) for code, text in EVENT_STATUS_NAMES.items()},
        "requester_types": {code: gettext(lang, text) for code, text in REQUESTER_TYPES.items()},
        "fields": {code: gettext(lang, text) for code, text in FIELDS.items()},
    }


def error(field: str, lang: str) -> str:
    """The sentence for a refused field in `lang`."""
    return gettext(lang, ERRORS[field])
