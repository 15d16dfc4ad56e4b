"""The registration form: its fields read into the registrations service's RegistrationIn, and every
refusal turned into a sentence next to its field, in the person's language."""

from __future__ import annotations

import typing
from typing import Any

import msgspec
from babel import Locale

from server.errors import DomainError
from server.i18n import BABEL_LOCALE, LANGUAGES, collation_key
from server.pages.translations import LANGUAGE_NAMES, N_, gettext
from server.registrations.schemas import RegistrationIn
from server.validation import Refused, checked

FIELDS = ("name", "email", "language", "commune", "interpretation", "accessibility", "whole_series", "consent")
CHECKBOXES = ("whole_series", "consent")
OPTIONAL_TEXT = ("commune", "interpretation", "accessibility")
_HINTS = typing.get_type_hints(RegistrationIn, include_extras=True)

LABELS = {
    "name": N_("Your name"),
    "email": N_("Your email address"),
    "language": N_("Language of our emails"),
    "commune": N_("Your commune"),
    "interpretation": N_("Interpretation"),
    "accessibility": N_("Accessibility needs"),
    "whole_series": N_("Register me for every date of this series"),
    "consent": N_("I agree that my registration is kept as the privacy notice explains."),
    "confirm_erase": N_("Yes, erase my data and cancel my registration."),
}

# shorter names of the long checkbox labels for the error summary at the top
SUMMARY_LABELS = {"consent": N_("Your data"), "confirm_erase": N_("Erase my data")}

# the sentence shown next to a field whose value the service's struct refuses
FIELD_MESSAGES = {
    "name": (N_("Please give your name."), N_("Please write your name on one line, in at most 200 characters.")),
    "email": (N_("Please give your email address."), N_("Please give an email address such as name@example.lu.")),
    "language": (N_("Please choose the language of our emails."), N_("Please choose the language of our emails.")),
    "commune": (None, N_("Please choose a commune from the list, or leave it empty.")),
    "interpretation": (None, N_("Please choose a language from the list, or leave it empty.")),
    "accessibility": (None, N_("Please keep this to at most 1000 characters.")),
    "whole_series": (None, N_("Please tick the box or leave it empty.")),
    "consent": (None, N_("Please agree to the privacy notice so that we may keep your registration.")),
}

# field refusals of the service, by code (contract.md)
CODE_FIELDS = {"consent_required": "consent", "commune_unknown": "commune"}

# languages an interpreter is most often asked for in Luxembourg (ISO 639 codes), with the two
# sign languages used here; any other tag the service accepts can still come through the API
INTERPRETATION_LANGUAGES = (
    "fr",
    "de",
    "lb",
    "en",
    "pt",
    "it",
    "es",
    "ar",
    "fa",
    "ps",
    "ti",
    "so",
    "tr",
    "ku",
    "sq",
    "sr",
    "ru",
    "uk",
    "zh",
    "gsg",
    "fsl",
)
SIGN_LANGUAGES = {"gsg": N_("German Sign Language"), "fsl": N_("French Sign Language")}


def language_name(code: str, lang: str) -> str:
    """A language's name in `lang`, capitalised as a list item (Babel's CLDR names)."""
    if code in SIGN_LANGUAGES:
        return gettext(lang, SIGN_LANGUAGES[code])
    name = Locale.parse(BABEL_LOCALE[lang]).languages.get(code, code)
    return name[:1].upper() + name[1:]


def interpretation_options(lang: str) -> list[tuple[str, str]]:
    """(code, name) of the interpretation choices, in the reader's alphabetical order."""
    options = [(code, language_name(code, lang)) for code in INTERPRETATION_LANGUAGES]
    return sorted(options, key=lambda option: collation_key(option[1]))


def email_language_options() -> list[tuple[str, str]]:
    """(code, own name) of the five languages our emails are written in."""
    return [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES]


def labels(lang: str) -> dict[str, str]:
    """The fields' labels in `lang`."""
    return {name: gettext(lang, label) for name, label in LABELS.items()}


def summary_labels(lang: str) -> dict[str, str]:
    """The fields' names in the error summary, in `lang`."""
    return {**labels(lang), **{name: gettext(lang, label) for name, label in SUMMARY_LABELS.items()}}


def form_values(form: Any) -> dict[str, str]:
    """The submitted values, as text, for showing them again."""
    return {name: str(form.get(name, "") or "") for name in FIELDS}


def read_registration(values: dict[str, str], lang: str) -> tuple[RegistrationIn | None, dict[str, str]]:
    """(registration, {}) or (None, {field: translated sentence}); every field is checked, not only the first."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in FIELDS:
        raw = values.get(name, "")
        # browsers send a textarea's line breaks as CRLF; the service's texts keep LF only
        text = raw.replace("\r\n", "\n")
        if name in CHECKBOXES:
            value: Any = raw == "yes"
        elif name in OPTIONAL_TEXT:
            value = text.strip() or None
        else:
            value = text.strip()
        missing, invalid = FIELD_MESSAGES[name]
        if "\x00" in raw:  # no field holds a NUL character, and PostgreSQL cannot keep one
            errors[name] = gettext(lang, invalid)
            continue
        if missing and not value:
            errors[name] = gettext(lang, missing)
            continue
        try:
            # the API's checks, the email address's parsing and normalisation included
            data[name] = checked(msgspec.convert(value, _HINTS[name]), _HINTS[name], name)
        except (msgspec.ValidationError, Refused):
            errors[name] = gettext(lang, invalid)
    if not data.get("consent") and "consent" not in errors:
        errors["consent"] = gettext(lang, FIELD_MESSAGES["consent"][1])
    if errors:
        return None, errors
    return RegistrationIn(**data), {}


def refusal_errors(exc: DomainError, lang: str) -> dict[str, str]:
    """A refusal of the service as {field: sentence}; `form` when it concerns the whole form."""
    from server.pages.errors import CODE_TEXTS, explanation

    field = CODE_FIELDS.get(exc.code)
    if field is None and exc.errors:
        field = next((e.field for e in exc.errors if e.field in FIELD_MESSAGES), None)
    if field is not None:
        return {field: gettext(lang, FIELD_MESSAGES[field][1])}
    if exc.code in CODE_TEXTS:
        return {"form": gettext(lang, CODE_TEXTS[exc.code])}
    return {"form": gettext(lang, explanation(exc.status, exc.code)[1])}
