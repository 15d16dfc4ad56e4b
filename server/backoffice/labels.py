"""The back-office's names for fields, roles, what needs attention and audit actions (via the catalogs)."""

from __future__ import annotations

from functools import cache

from server.events.labels import KIND_NAMES
from server.i18n import N_, gettext

FIELDS = {
    "email": N_("Email address"),
    "password": N_("Password"),
    "password_confirm": N_("The same password again"),
    "name": N_("Name"),
    "role": N_("Role"),
    "language": N_("Language of the invitation email"),
}

ROLE_NAMES = {
    "admin": N_("Admin: manages the events and the team"),
    "organiser": N_("Organiser: creates and manages events"),
    "viewer": N_("Viewer: sees the events and registrations"),
}

# what needs doing about an event (the codes queries.DASHBOARD_ATTENTION decides)
ATTENTION = {
    "no_join_link": N_("Web conference without a join link"),
    "no_venue": N_("Information session without a venue"),
    "failed_mails": N_("Emails that could not be delivered"),
    "waiting_while_free": N_("People on the waiting list while places are free"),
    "pending_soon": N_("Starts within 24 hours with unconfirmed places"),
}

# the audit log's actions (audit.ACTIONS) as the page names them
ACTIONS = {
    "sign_in": N_("Signed in"),
    "sign_in_failed": N_("Failed sign-in"),
    "sign_out_everywhere": N_("Signed out everywhere"),
    "password_reset_asked": N_("Asked for a new password"),
    "password_set": N_("Chose a new password"),
    "person_invited": N_("Invited a person"),
    "role_changed": N_("Changed a role"),
    "person_removed": N_("Removed a person"),
    "event_created": N_("Created an event"),
    "event_changed": N_("Changed an event"),
    "event_published": N_("Published an event"),
    "event_cancelled": N_("Cancelled an event"),
    "export": N_("Exported the registrations"),
    "message_sent": N_("Wrote to the registered people"),
    "attendance": N_("Marked a person present"),
    "registration_added": N_("Registered a person on their behalf"),
    "registration_cancelled": N_("Cancelled a registration on the person's behalf"),
    "registration_confirmed": N_("Confirmed a place on the person's behalf"),
    "registration_promoted": N_("Gave a place to a person on the waiting list"),
    "mail_resent": N_("Sent an email again"),
    "subsidy_created": N_("Started a subsidy request"),
    "subsidy_saved": N_("Saved a subsidy request"),
    "subsidy_submitted": N_("Submitted a subsidy request"),
    "subsidy_document_added": N_("Added a document to a subsidy request"),
    "subsidy_document_removed": N_("Removed a document from a subsidy request"),
    "subsidy_question": N_("Asked a question about a subsidy request"),
    "subsidy_answer": N_("Answered a question about a subsidy request"),
    "subsidy_decided": N_("Decided on a subsidy request"),
    "subsidy_report": N_("Filed the report of a subsidised project"),
    "subsidy_closed": N_("Closed a subsidy file"),
    "subsidy_themes_changed": N_("Changed the themes of the year"),
    "subsidy_export": N_("Exported the granted subsidies"),
    "organisation_kind_set": N_("Recorded an organisation's kind"),
    "reviewer_set": N_("Changed who reviews subsidy requests"),
    "commune_request_outcome": N_("Recorded the outcome of a commune's request"),
    "practices_export": N_("Exported the good practices"),
    "interpreter_added": N_("Added an interpreter to the pool"),
    "interpreter_changed": N_("Changed an interpreter of the pool"),
    "mission_created": N_("Entered an interpretation request"),
    "mission_offered": N_("Offered an interpretation mission to interpreters"),
    "mission_assigned": N_("Assigned an interpreter to a mission"),
    "mission_unassigned": N_("Took the interpreter off a mission"),
    "mission_moved": N_("Moved an interpretation mission"),
    "mission_changed": N_("Changed an interpretation mission"),
    "mission_cancelled": N_("Cancelled an interpretation mission"),
    "mission_done": N_("Marked an interpretation mission as done"),
}


STATUS_NAMES = {
    "draft": N_("Draft, not public"),
    "published": N_("Published"),
    "cancelled": N_("Cancelled"),
}

TEXT_FIELDS = {
    "title": N_("Title"),
    "summary": N_("Summary"),
    "description": N_("Description"),
}


@cache
def translated(lang: str) -> dict[str, dict[str, str]]:
    """Every label in `lang`, by group."""
    groups = {
        "fields": FIELDS,
        "roles": ROLE_NAMES,
        "attention": ATTENTION,
        "actions": ACTIONS,
        "kinds": KIND_NAMES,
        "statuses": STATUS_NAMES,
        "text_fields": TEXT_FIELDS,
    }
    return {group: {code: gettext(lang, text) for code, text in names.items()} for group, names in groups.items()}
