"""Every word of pages, mails, feeds and exports is in all five catalogs; no page shows text that skipped gettext."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from server.i18n import LANGUAGES
from server.pages.catalog import extract, missing
from server.pages.render import TEMPLATES_DIR, environment
from server.pages.translations import read_catalog, translations
from tests.apps import app_on
from tests.factories import create_event, manage_token
from tests.test_pages import client_for, csrf_token, person, registration_row, text_of

PLACEHOLDER = re.compile(r"%\((\w+)\)s")
LETTER = re.compile(r"[^\W\d_]")
# attributes a person reads (or hears from a screen reader)
READ_ATTRIBUTES = {"alt", "title", "aria-label", "placeholder", "label"}


@pytest.fixture(scope="module")
def template_catalog():
    return extract()


def test_the_catalogs_hold_the_messages_of_every_template_and_module(template_catalog) -> None:
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template_catalog if m.id}
    assert len(ids) > 150  # extraction really found the pages' words
    assert "Upcoming events" in ids and "Registration opens on %(date)s." in ids and "%(count)s place left" in ids


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_message_has_a_translation_in_every_language(template_catalog, lang) -> None:
    catalog = read_catalog(lang)
    assert missing(catalog, template_catalog) == []
    for message in template_catalog:
        if not message.id:
            continue
        found = catalog.get(message.id)
        sources = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = found.string if isinstance(found.string, tuple) else (found.string,)
        wanted = set(PLACEHOLDER.findall(" ".join(sources)))
        for text in strings:
            assert set(PLACEHOLDER.findall(text)) == wanted, (lang, message.id, text)
            assert "%" not in PLACEHOLDER.sub("", text), (lang, text)  # a stray % breaks new-style gettext


@pytest.mark.parametrize("lang", LANGUAGES)
def test_catalogs_are_read_from_po_files_without_a_compile_step(lang) -> None:
    assert not list(TEMPLATES_DIR.parent.glob("locale/*/LC_MESSAGES/*.mo"))
    expected = {
        "fr": "Événements à venir",
        "de": "Kommende Veranstaltungen",
        "lb": "Nächst Evenementer",
        "en": "Upcoming events",
        "pt": "Próximos eventos",
    }[lang]
    assert translations(lang).gettext("Upcoming events") == expected
    assert translations(lang).ngettext("%(count)s place left", "%(count)s places left", 3) % {"count": 3} != ""


class _TextCollector(HTMLParser):
    """Text nodes and read attributes of a template skeleton (Jinja parts replaced by a mark)."""

    def __init__(self) -> None:
        super().__init__()
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.texts.extend(value or "" for name, value in attrs if name in READ_ATTRIBUTES)

    def handle_data(self, data: str) -> None:
        self.texts.append(data)


def skeleton(name: str) -> str:
    """A template's raw text outside {% trans %} blocks, each Jinja expression or tag as one mark."""
    env = environment("en")
    source = (TEMPLATES_DIR / name).read_text()
    parts: list[str] = []
    in_trans = False
    tokens = list(env.lex(source))
    for index, (_, kind, value) in enumerate(tokens):
        if kind == "block_begin":
            following = next((v for _, k, v in tokens[index + 1 :] if k == "name"), "")
            in_trans = following in ("trans", "pluralize") or (in_trans and following != "endtrans")
            parts.append("\x00")
        elif kind == "data" and not in_trans:
            parts.append(value)
        elif kind in ("variable_begin",):
            parts.append("\x00")
    return "".join(parts)


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES_DIR.glob("*.html")))
def test_templates_have_no_words_outside_gettext(name) -> None:
    collector = _TextCollector()
    collector.feed(re.sub(r"\{#.*?#\}", "", skeleton(name), flags=re.S))
    # a macro may print attributes (aria-describedby="...") outside a tag: those are no words
    texts = [re.sub(r'\s[\w-]+="[^"]*"', " ", text).replace("\x00", "") for text in collector.texts]
    words = [text for text in texts if LETTER.search(text)]
    assert words == [], f"{name}: text that is not translated: {words}"


async def test_no_page_shows_an_untranslated_message(conn, settings) -> None:
    """In each language, no English message whose translation differs appears on any page."""
    event = await create_event(
        conn, settings, capacity=2, title={"fr": "Titre", "de": "Titel", "lb": "Titel", "en": "Title", "pt": "Título"}
    )
    full = await create_event(conn, settings, capacity=0)
    english = read_catalog("en")
    app = app_on(settings, conn)
    for lang in LANGUAGES:
        async with client_for(app) as pages:
            page = await pages.get(f"/events/{event.slug}", params={"lang": lang})
            fields = person(language=lang)
            await pages.post(
                f"/events/{event.slug}/register?lang={lang}", data={"csrf_token": csrf_token(page), **fields}
            )
            token = await manage_token(conn, settings, (await registration_row(conn, fields["email"]))["id"])
            bad = await pages.post(
                f"/events/{event.slug}/register?lang={lang}", data={"csrf_token": csrf_token(page), "email": "x"}
            )
            shown = [
                page,
                bad,
                await pages.get("/", params={"lang": lang}),
                await pages.get(f"/events/{full.slug}", params={"lang": lang}),
                await pages.get(f"/events/{event.slug}/registered", params={"lang": lang, "outcome": "waitlisted"}),
                await pages.get(f"/r/{token}", params={"lang": lang, "done": "confirmed"}),
                await pages.get("/privacy", params={"lang": lang}),
                await pages.get("/erased", params={"lang": lang}),
                await pages.get("/no-such-page", params={"lang": lang}),
            ]
        if lang == "en":
            continue
        catalog = read_catalog(lang)
        untranslated = [
            message.id
            for message in english
            if isinstance(message.id, str)
            and len(PLACEHOLDER.sub("", message.id).strip()) >= 12
            and catalog.get(message.id).string != message.id
        ]
        for answer in shown:
            assert f'<html lang="{lang}">' in answer.text
            text = text_of(answer)
            leaked = [message for message in untranslated if PLACEHOLDER.sub("", message)[:40] in text]
            assert leaked == [], (lang, str(answer.url), leaked)
