"""The words of the commune requests' form, status page and mails, as catalog messages by code."""

from __future__ import annotations

from server.i18n import N_, gettext
from server.pages.forms import language_name

REQUESTER_TYPES = {
    "administration": N_("Communal administration"),
    "ccci": N_("Communal consultative commission on integration (CCCI)"),
    "social_office": N_("Social office"),
    "association": N_("Local association"),
    "other": N_("Other"),
}
STATUSES = {
    "new": N_("received, not yet read"),
    "in_discussion": N_("under discussion with the agency"),
    "scheduled": N_("scheduled"),
    "done": N_("done"),
    "declined": N_("declined"),
}
LABELS = {
    "commune": N_("Commune"),
    "requester_type": N_("Who is asking"),
    "contact_name": N_("Contact person"),
    "email": N_("Email address"),
    "phone": N_("Phone"),
    "language": N_("Language of our emails"),
    "subject": N_("What you are asking for"),
    "preferred": N_("Preferred dates or periods"),
    "from": N_("From"),
    "to": N_("To"),
    "audience_size": N_("Expected audience (number of people)"),
    "audience_languages": N_("Languages of the audience"),
    "interpretation": N_("Interpretation needed into"),
    "venue": N_("Venue offered (address)"),
    "step_free": N_("The venue has step-free access"),
    "message": N_("Your message"),
    "consent": N_("I agree that this request and my contact details are kept to answer it."),
    "body": N_("Your answer"),
}
# the sentence next to a refused field
ERRORS = {
    "commune": N_("Please choose a commune from the list."),
    "requester_type": N_("Please say who is asking."),
    "contact_name": N_("Please give the name of a contact person."),
    "email": N_("Please give an email address such as name@example.lu."),
    "phone": N_("Please give a phone number with digits, spaces and + ( ) . / - only."),
    "language": N_("Please choose the language of our emails."),
    "subject": N_("Please choose what you are asking for."),
    "preferred": N_("Please give dates no sooner than %(earliest)s, each period ending after it starts."),
    "audience_size": N_("Please give a whole number of people, or leave it empty."),
    "audience_languages": N_("Please choose languages from the list."),
    "interpretation": N_("Please choose languages from the list."),
    "venue": N_("Please write the venue on one line, in at most 500 characters."),
    "message": N_("Please keep the message to at most 5000 characters."),
    "consent": N_("Please agree that we keep your request, or we cannot answer it."),
    "body": N_("Please write your answer (at most 5000 characters)."),
}


def interpretation_line(codes: list[str], lang: str) -> str:
    """ "Interpretation into: Arabic, Persian" in `lang`."""
    names = ", ".join(language_name(code, lang) for code in codes)
    return gettext(lang, N_("Interpretation into: %(languages)s")) % {"languages": names}


# what is asked, as the topic of the session it leads to
SUBJECT_TOPICS = {
    "statuses_statistics": N_("Statistics and statuses of applicants for international protection and refugees"),
    "testimonies": N_("Testimonies of applicants for international protection and refugees"),
    "volunteering": N_("Volunteering in welcoming and integration"),
    "good_practices": N_("Initiatives and good practices of living together"),
    "other": N_("Information session"),
    "accompaniment_pci": N_("Communal integration plan (PCI)"),
    "accompaniment_project": N_("A local integration project"),
    "accompaniment_welcome": N_("Welcoming applicants for international protection and refugees"),
}


def subject_label(subject: str, lang: str) -> str:
    """What is asked, in `lang`."""
    return gettext(lang, SUBJECT_TOPICS[subject])
