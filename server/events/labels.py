"""How an event's kind, level and online place are called, in the reader's language (via the catalogs)."""

from __future__ import annotations

from server.i18n import N_, gettext

# each kind of event as its audience calls it (pages, feeds' CATEGORIES, emails); see docs/glossary.md
KIND_NAMES = {
    "webconference": N_("Web conference"),
    "conversation_table": N_("Conversation table"),
    "info_session": N_("Information session"),
}
KINDS = tuple(KIND_NAMES)

# a conversation table's level (schemas.Level): the CEFR levels are the same in every language
LEVEL_NAMES = {
    "A1": N_("level A1 (beginner)"),
    "A2": N_("level A2 (elementary)"),
    "B1": N_("level B1 (intermediate)"),
    "B2": N_("level B2 (upper intermediate)"),
    "C1": N_("level C1 (advanced)"),
    "C2": N_("level C2 (proficient)"),
    "all": N_("all levels"),
}

# an event that takes place online but is not a web conference
ONLINE_PLACE = N_("Online")


def kind_label(kind: str, lang: str) -> str:
    """ "Web-conférence", "Gesprächsrunde"...: the kind's name in `lang`."""
    return gettext(lang, KIND_NAMES[kind])


def level_label(level: str, lang: str) -> str:
    """A level as a reader understands it: "niveau B1 (intermédiaire)", "tous niveaux"."""
    return gettext(lang, LEVEL_NAMES[level]) if level in LEVEL_NAMES else level


def online_place(lang: str) -> str:
    """How `lang` names the place of an online event."""
    return gettext(lang, ONLINE_PLACE)
