"""The pages' words in five languages: gettext catalogs (.po) read with Babel at start-up."""

from __future__ import annotations

import io
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from server.i18n import BABEL_LOCALE, LANGUAGES

PACKAGE_DIR = Path(__file__).resolve().parent
LOCALE_DIR = PACKAGE_DIR / "locale"
DOMAIN = "messages"
# where the messages come from, as Babel's extractors read them (see server/pages/catalog.py)
MESSAGE_SOURCES = [("**.py", "python"), ("templates/**.html", "jinja2")]
# templates elsewhere whose words are in these catalogs too: (directory, what Babel reads there)
OTHER_SOURCES = [(PACKAGE_DIR.parent / "notifications" / "account_templates", [("**.j2", "jinja2")])]

# each language named in itself: a person looks for their own language's name, not ours
LANGUAGE_NAMES = {"fr": "Français", "de": "Deutsch", "lb": "Lëtzebuergesch", "en": "English", "pt": "Português"}


def N_(message: str) -> str:
    """Marks a message for extraction; it is translated where it is shown."""
    return message


def po_path(lang: str) -> Path:
    """The catalog file of one language."""
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def read_catalog(lang: str) -> Catalog:
    """One language's catalog as Babel reads it."""
    with po_path(lang).open("rb") as handle:
        return read_po(handle, locale=BABEL_LOCALE[lang], domain=DOMAIN)


@cache
def translations(lang: str) -> Translations:
    """gettext translations for `lang`, compiled in memory from its .po file (no build step)."""
    buffer = io.BytesIO()
    # fuzzy entries are drafts: gettext must not show them, so they are left out as msgfmt does
    write_mo(buffer, read_catalog(lang), use_fuzzy=False)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def gettext(lang: str, message: str) -> str:
    """One message in `lang`."""
    return translations(lang).gettext(message)


def load_all() -> None:
    """Read every catalog now, so that a broken .po file stops the start, not a request."""
    for lang in LANGUAGES:
        translations(lang)
