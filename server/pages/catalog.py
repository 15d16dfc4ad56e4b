"""Keep the .po catalogs in step with the templates and code: `python -m server.pages.catalog`.

It extracts every message of the pages, the mails and the Python modules (Babel's Python extractor
and Jinja2's), adds the new ones to each language's catalog with an empty translation for a
translator to fill, and lists what is missing. The test suite fails while any message lacks a
translation in any language.
"""

from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import write_po

from server.i18n import BABEL_LOCALE, DOMAIN, LANGUAGES, po_path, read_catalog

SERVER_DIR = Path(__file__).resolve().parent.parent
# where the messages come from, as Babel's extractors read them (the first pattern that matches wins)
MESSAGE_SOURCES = [
    ("pages/templates/**.html", "jinja2"),
    ("notifications/templates/**.j2", "jinja2"),
    ("backoffice/templates/**.html", "jinja2"),
    ("reports/templates/**.html", "jinja2"),
    ("**.py", "python"),
]

# the same whitespace rules as the templates' environment, so that {% trans %} ids match
JINJA_OPTIONS = {"extensions": "jinja2.ext.i18n", "trim_blocks": "true", "lstrip_blocks": "true"}
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract() -> Catalog:
    """Every message of pages, mails, feeds and exports, with where it is used."""
    template = Catalog(domain=DOMAIN, project="Zesummen public pages")
    options = {
        "pages/templates/**.html": JINJA_OPTIONS,
        "notifications/templates/**.j2": JINJA_OPTIONS,
        "backoffice/templates/**.html": JINJA_OPTIONS,
        "reports/templates/**.html": JINJA_OPTIONS,
    }
    for filename, lineno, message, comments, context in extract_from_dir(
        SERVER_DIR,
        MESSAGE_SOURCES,
        options,
        keywords=KEYWORDS,
        strip_comment_tags=True,
    ):
        template.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return template


def missing(catalog: Catalog, template: Catalog) -> list[str]:
    """Message ids of `template` without a usable translation in `catalog`."""
    gaps = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = (
            found.string
            if found is not None and isinstance(found.string, (list, tuple))
            else ([found.string] if found is not None else [])
        )
        if found is None or found.fuzzy or not strings or not all(s and s.strip() for s in strings):
            gaps.append(message.id if isinstance(message.id, str) else message.id[0])
    return gaps


def update() -> int:
    """Merge new messages into every catalog; returns how many translations are missing."""
    template = extract()
    total = 0
    for lang in LANGUAGES:
        path = po_path(lang)
        if path.exists():
            catalog = read_catalog(lang)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            catalog = Catalog(locale=BABEL_LOCALE[lang], domain=DOMAIN, project="Zesummen public pages")
        catalog.update(template, no_fuzzy_matching=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, omit_header=False, ignore_obsolete=True, include_previous=False)
        gaps = missing(catalog, template)
        total += len(gaps)
        for gap in gaps:
            print(f"{lang}: untranslated: {gap}")
    return total


if __name__ == "__main__":
    sys.exit(1 if update() else 0)
