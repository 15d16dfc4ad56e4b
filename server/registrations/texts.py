"""What registrations say to people, in the five languages: the 202 answer and the CSV export.

The words are in the catalogs (server/i18n.py); these tables are their view by language code.
"""

from __future__ import annotations

from server.i18n import LANGUAGES, N_, gettext, in_every_language

# the 202 answer, by what the request got (one date) or "series" (several dates)
ACCEPTED = {
    "pending": in_every_language(
        N_("Thank you! We have sent you an email: confirm your address with the link in it to keep your place.")
    ),
    "confirmed": in_every_language(
        N_("Thank you, your registration has been received! You will get an email with all the details.")
    ),
    "waitlisted": in_every_language(
        N_("The event is full: you are on the waiting list. We will write to you as soon as a place becomes free.")
    ),
    "series": in_every_language(
        N_("Thank you! We have sent you an email listing each date and where your registration stands.")
    ),
}

CSV_COLUMNS = (
    "id",
    "name",
    "email",
    "language",
    "status",
    "waitlist_position",
    "attendance",
    "commune",
    "interpretation",
    "accessibility",
    "source",
    "registered_at",
    "confirmed_at",
    "cancelled_at",
    "joined_at",
)

_CSV_HEADER_IDS = (
    N_("No."),
    N_("Name"),
    N_("Email"),
    N_("Language"),
    N_("Status"),
    N_("Waiting list position"),
    N_("Attendance"),
    N_("Commune"),
    N_("Interpretation"),
    N_("Accessibility needs"),
    N_("Source"),
    N_("Registered on"),
    N_("Confirmed on"),
    N_("Cancelled on"),
    N_("Joined the web conference on"),
)
CSV_HEADERS = {lang: tuple(gettext(lang, header) for header in _CSV_HEADER_IDS) for lang in LANGUAGES}

# values of the status, attendance and source columns
CSV_VALUES = {
    "pending": in_every_language(N_("awaiting confirmation")),
    "confirmed": in_every_language(N_("confirmed")),
    "waitlisted": in_every_language(N_("waiting list")),
    "cancelled": in_every_language(N_("cancelled")),
    "expired": in_every_language(N_("expired")),
    "present": in_every_language(N_("present")),
    "absent": in_every_language(N_("absent")),
    "excused": in_every_language(N_("excused")),
    "public": in_every_language(N_("online")),
    "organiser": in_every_language(N_("added by staff")),
}

# the worksheet of the XLSX export
SHEET_NAME = in_every_language(N_("Registrations"))
