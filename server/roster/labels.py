"""The words of the registrations table and the door page (via the catalogs): notices, statuses, audiences."""

from __future__ import annotations

from functools import cache

from server.i18n import N_, gettext
from server.registrations.texts import CSV_VALUES

# what the page says after an action (?done=), success or refusal
DONE = {
    "added": N_("The person is registered. If they gave an email address, they get the usual email."),
    "written": N_("The message is on its way, to each person in their language."),
    "cancel_done": N_(
        "The registration is cancelled. The person gets an email; a place freed goes to the waiting list."
    ),
    "cancel_refused": N_("This registration could not be cancelled."),
    "confirm_done": N_("The place is confirmed. The person gets the confirmation email."),
    "confirm_refused": N_("Only a registration awaiting confirmation can be confirmed."),
    "promote_done": N_(
        "The person has a place now and gets an email saying so. If the event was full, it has one more place now."
    ),
    "promote_refused": N_("Only a person on the waiting list of an event that is not cancelled can be given a place."),
    "resend_done": N_("The latest email to this person will be sent again."),
    "resend_refused": N_("There is no email to send again, or it is already waiting to be sent."),
    "attendance_done": N_("The attendance is saved."),
    "attendance_refused": N_("Only a person with a place has an attendance."),
    "present_done": N_("Marked present."),
    "undo_done": N_("No longer marked present."),
    "walked_in": N_("The person is added and marked present."),
}
REFUSALS = {code for code in DONE if code.endswith("_refused")}

AUDIENCES = {
    "confirmed": N_("The people with a confirmed place"),
    "waitlisted": N_("The people on the waiting list"),
    "all": N_("Everyone: confirmed and on the waiting list"),
    "attended": N_("The people marked present"),
}


@cache
def translated(lang: str) -> dict[str, dict[str, str]]:
    """The notices, audiences, and the export's names of statuses, attendance and sources, in `lang`."""
    return {
        "done": {code: gettext(lang, text) for code, text in DONE.items()},
        "audiences": {code: gettext(lang, text) for code, text in AUDIENCES.items()},
        "values": {code: names[lang] for code, names in CSV_VALUES.items()},
    }
