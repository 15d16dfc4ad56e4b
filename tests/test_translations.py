"""One way to translate: mails in the shared catalogs, the Luxembourgish n-rule, sorting, levels."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from itertools import chain
from types import SimpleNamespace
from typing import Any

import pytest
from babel.dates import format_date

from server.events.labels import LEVEL_NAMES, level_label
from server.events.schemas import Level
from server.i18n import BABEL_LOCALE, LANGUAGES, N_RULE_WORDS, collation_key, format_day, n_rule, read_catalog
from server.mails import TEMPLATES, environment, render
from server.outbox import INTERPRETATION_KINDS, KINDS
from server.pages.catalog import extract
from server.pages.forms import interpretation_options
from tests.apps import app_on
from tests.factories import create_event
from tests.test_pages import client_for, text_of
from tests.test_pages_i18n import LETTER, _TextCollector

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


@pytest.fixture(scope="module")
def template_catalog():
    return extract()


def _mail_ids(template_catalog) -> list[str]:
    return [
        m.id
        for m in template_catalog
        if isinstance(m.id, str) and any("notifications/templates/" in path for path, _ in m.locations)
    ]


# ---------------------------------------------------------------------------- the catalogs hold every text


def test_the_catalogs_hold_the_mails_and_the_former_dicts(template_catalog) -> None:
    """What pages, mails, feeds, kind names and the CSV export say is extracted into one catalog."""
    ids = {m.id if isinstance(m.id, str) else m.id[0] for m in template_catalog if m.id}
    assert len(_mail_ids(template_catalog)) > 90
    confirmed = "Your place at ‘%(title)s’ is confirmed. We look forward to seeing you!"
    for msgid in (
        "Upcoming events",
        "Hello %(name)s,",
        confirmed,
        "Web conference",
        "Zesummen – events calendar",
        "Waiting list position",
        "all levels",
        "Online",
    ):
        assert msgid in ids
    for lang in LANGUAGES:
        catalog = read_catalog(lang)
        assert not [m.id for m in catalog if m.id and m.fuzzy]


# ---------------------------------------------------------------------------- every mail, every language


def _context(lang: str, **changes: Any) -> dict[str, Any]:
    """A context with every variable a mail template reads; `changes` pick the branches."""
    moment = datetime(2030, 11, 12, 17, 30, tzinfo=UTC)
    event = SimpleNamespace(title="TITLE", lang=lang, when="WHEN", location="PLACE", url="https://z.test/events/e")
    items = [
        {
            "when": f"DATE{i}",
            "status": status,
            "position": position,
            "manage_url": f"https://z.test/r/{i}",
            "join_url": "https://meet.test/x" if status == "confirmed" else None,
        }
        for i, (status, position) in enumerate(
            [
                ("pending", None),
                ("confirmed", None),
                ("waitlisted", 2),
                ("waitlisted", None),
                ("cancelled", None),
                ("expired", None),
            ]
        )
    ]
    context: dict[str, Any] = {
        "lang": lang,
        "name": "NAME",
        "event": event,
        "kind_label": "KIND",
        "webconference": False,
        "organisation": "ORGANISATION",
        "manage_url": "https://z.test/r/T",
        "events_url": "https://z.test/",
        "status": "pending",
        "join_url": None,
        "invitation": None,
        "position": None,
        "by_organiser": False,
        "deadline_day": format_day(moment, "Europe/Luxembourg", lang),
        "deadline_time": "TIME",
        "registration_open": True,
        "time_changed": False,
        "place_changed": False,
        "previous_when": "BEFORE",
        "previous_location": "",
        "relative_day": None,
        "start_day": format_day(moment, "Europe/Luxembourg", lang),
        "start_time": "TIME",
        "items": items,
        "any_pending": True,
        "any_waitlisted": True,
        "confirm_url": "https://z.test/r/C",
        "organiser_subject": "SUBJECT",
        "organiser_body": "BODY",
        "organiser_paragraphs": [["BODY"]],
        "checkin_qr": None,
    }
    context.update(changes)
    return context


# together these take every branch of every template (the English renders are checked to show every message)
VARIANTS: list[dict[str, Any]] = [
    {},
    {
        "status": "confirmed",
        "invitation": "REQUEST",
        "join_url": "https://meet.test/x",
        "by_organiser": True,
        "checkin_qr": "checkin-qr@zesummen",
        "time_changed": True,
        "place_changed": True,
        "previous_location": "OLD PLACE",
        "relative_day": "today",
        "registration_open": False,
        "name": "",
    },
    {
        "status": "waitlisted",
        "position": 3,
        "time_changed": True,
        "relative_day": "tomorrow",
        "deadline_day": None,
        "any_pending": False,
        "any_waitlisted": False,
        "invitation": "CANCEL",
        "webconference": True,
    },
    {
        "status": "waitlisted",
        "place_changed": True,
        "event": SimpleNamespace(title="TITLE", lang="xx", when="WHEN", location="", url="https://z.test/events/e"),
    },
    {"status": "cancelled"},
    {"status": "expired"},
    {"status": "pending", "deadline_day": None},
]


def _renders(lang: str) -> list[str]:
    out = []
    for kind in KINDS:
        for changes in VARIANTS:
            subject, text, page = render(f"{kind}_to_registrant", lang, _context(lang, **changes))
            out.append(f"{subject}\n{text}\n{html.unescape(page)}")
    for name, roles in (("Ana", ["admin", "organiser", "viewer"]), ("", [])):
        subject, text, page = render(
            "organiser_invitation_to_invitee",
            lang,
            {
                "lang": lang,
                "name": name,
                "inviter": "Maria Schmit",
                "memberships": [("ASTI", role) for role in roles],
                "link": "https://zesummen.test/organiser/invitations/x",
                "hours": 48,
                "expiry_day": "9 December 2026",
                "expiry_time": "10:30",
            },
        )
        out.append(f"{subject}\n{text}\n{html.unescape(page)}")
    for name in ("Ana", ""):
        subject, text, page = render(
            "organiser_password_reset_to_account_owner",
            lang,
            {
                "lang": lang,
                "name": name,
                "email": "ana@example.org",
                "minutes": 60,
                "link": "https://zesummen.test/organiser/password-reset/x",
                "expiry_day": "9 December 2026",
                "expiry_time": "10:30",
            },
        )
        out.append(f"{subject}\n{text}\n{html.unescape(page)}")
    for kind in INTERPRETATION_KINDS:
        for audience, mode in (("interpreter", "on_site"), ("requester", "phone"), ("requester", "video")):
            subject, text, page = render(
                kind,
                lang,
                {
                    "lang": lang,
                    "name": "NAME",
                    "audience": audience,
                    "link": "https://zesummen.test/i/x",
                    "when": "WHEN",
                    "pair": "LANGUAGES",
                    "mode": mode,
                    "place": "PLACE",
                    "contact": "CONTACT",
                    "requester": "REQUESTER",
                    "requester_phone": "PHONE",
                    "interpreter_name": "ANA",
                    "interpreter_phone": "PHONE",
                    "answer_by": "ANSWER_BY" if audience == "interpreter" else "",
                },
            )
            out.append(f"{subject}\n{text}\n{html.unescape(page)}")
    out += _commune_renders(lang)
    out += _subsidy_renders(lang)
    return out


# the subsidy requests' mails (server/subsidies/mails.py): both outcomes of a decision
SUBSIDY_MAILS = (
    "subsidy_question_to_applicant",
    "subsidy_decision_to_applicant",
    "subsidy_deadline_reminder_to_applicant",
)


def _subsidy_renders(lang: str) -> list[str]:
    out = []
    for name in SUBSIDY_MAILS:
        for eligible in (True, False):
            subject, text, page = render(
                name,
                lang,
                {
                    "lang": lang,
                    "name": "NAME",
                    "title": "TITLE",
                    "link": "https://z.test/organiser/subsidies/1",
                    "body": "BODY\nLINE",
                    "eligible": eligible,
                    "amount": "AMOUNT",
                    "reason": "REASON",
                    "deadline": "DEADLINE",
                    "starts": "STARTS",
                    "days": 14,
                },
            )
            out.append(f"{subject}\n{text}\n{html.unescape(page)}")
    return out


# the commune requests' mails (server/communes/mails.py): every kind, both audiences
COMMUNE_MAILS = (
    "commune_request_received_to_requester",
    "commune_request_arrived_to_staff",
    "commune_request_message_to_requester",
    "commune_request_answered_to_staff",
    "commune_request_scheduled_to_requester",
    "commune_request_reminder_to_staff",
)


def _commune_renders(lang: str) -> list[str]:
    out = []
    for name in COMMUNE_MAILS:
        for person in ("NAME", ""):
            subject, text, page = render(
                name,
                lang,
                {
                    "lang": lang,
                    "name": person,
                    "commune": "COMMUNE",
                    "contact_name": "CONTACT",
                    "requester": "WHO",
                    "subject_label": "SUBJECT",
                    "status_link": "https://z.test/requests/T",
                    "staff_link": "https://z.test/organiser/requests/1",
                    "body": "BODY\nLINE",
                    "event": SimpleNamespace(title="TITLE", when="WHEN", url="https://z.test/events/e"),
                    "days": 5,
                },
            )
            out.append(f"{subject}\n{text}\n{html.unescape(page)}")
    return out


def _pieces(message: str) -> list[str]:
    """The literal parts of a message around its values."""
    return [piece.strip() for piece in PLACEHOLDER.split(message)[::2] if len(piece.strip()) >= 4]


def test_every_mail_message_is_shown_by_some_english_render(template_catalog) -> None:
    """The variants above reach every message of the templates, so the next test checks them all."""
    shown = "\n".join(_renders("en"))
    unseen = [msgid for msgid in _mail_ids(template_catalog) if not all(piece in shown for piece in _pieces(msgid))]
    assert unseen == []


@pytest.mark.parametrize("lang", [lang for lang in LANGUAGES if lang != "en"])
def test_no_mail_shows_english_in_another_language(template_catalog, lang) -> None:
    """Every kind, both formats, every branch: rendered with StrictUndefined, and no English message in it."""
    catalog = read_catalog(lang)
    english = [
        msgid
        for msgid in chain(_mail_ids(template_catalog), ["Web conference"])
        if catalog.get(msgid) is not None and catalog.get(msgid).string != msgid
    ]
    shown = "\n".join(_renders(lang))
    leaked = [msgid for msgid in english if any(len(piece) >= 12 and piece in shown for piece in _pieces(msgid))]
    assert leaked == []
    assert "Hello" not in shown and "Best wishes" not in shown and "registration" not in shown


@pytest.mark.parametrize("name", sorted(p.name for p in TEMPLATES.glob("*.j2")))
def test_mail_templates_have_no_words_outside_gettext(name) -> None:
    """Every letter a reader sees comes through gettext (the template's data, tags and comments aside)."""
    env = environment("en", autoescape=name.endswith(".html.j2"))
    data = "".join(value for _, kind, value in env.lex((TEMPLATES / name).read_text()) if kind == "data")
    collector = _TextCollector()
    collector.feed(data)
    words = [text for text in collector.texts if LETTER.search(text)]
    assert words == [], f"{name}: text that is not translated: {words}"


def test_values_are_escaped_in_html_and_plain_in_text() -> None:
    subject, text, page = render("registration_confirmed_to_registrant", "fr", _context("fr", name='<b>"Ana"</b>'))
    assert 'Bonjour <b>"Ana"</b>,' in text
    assert "Bonjour &lt;b&gt;&#34;Ana&#34;&lt;/b&gt;," in page


def test_trans_blocks_and_plurals_render_in_the_recipients_language() -> None:
    """{% trans %} blocks work as well as _() calls: same msgids, values escaped, plurals by count."""
    source = (
        "{% trans name=name %}Hello {{ name }},{% endtrans %} "
        "{% trans count=n %}{{ count }} place left{% pluralize %}{{ count }} places left{% endtrans %}"
    )
    for n, expected in ((1, "Bonjour &lt;Ana&gt;, Il reste 1 place"), (3, "Bonjour &lt;Ana&gt;, Il reste 3 places")):
        shown = environment("fr", autoescape=True).from_string(source).render(name="<Ana>", n=n)
        assert shown == expected
    lb = environment("lb", autoescape=False).from_string("{{ _('on %(day)s at %(time)s', day=d, time='9:00') }}")
    assert lb.render(d="Freideg") == "e Freideg, ëm 9:00" and lb.render(d="Dënschdeg") == "en Dënschdeg, ëm 9:00"


def test_each_language_has_its_own_mail_environment_with_strict_undefined() -> None:
    with pytest.raises(Exception, match="undefined"):
        render("registration_confirmed_to_registrant", "de", {"lang": "de"})
    assert environment("lb", autoescape=True) is not environment("lb", autoescape=False)
    assert environment("lb", autoescape=True).autoescape is True


# ---------------------------------------------------------------------------- the Luxembourgish n-rule

# the article "en" before each weekday and month, as a Luxembourgish speaker writes it
WEEKDAYS = {
    "Méindeg": "e",
    "Dënschdeg": "en",
    "Mëttwoch": "e",
    "Donneschdeg": "en",
    "Freideg": "e",
    "Samschdeg": "e",
    "Sonndeg": "e",
}
MONTHS = {
    "Januar": "e",
    "Februar": "e",
    "Mäerz": "e",
    "Abrëll": "en",
    "Mee": "e",
    "Juni": "e",
    "Juli": "e",
    "August": "en",
    "September": "e",
    "Oktober": "en",
    "November": "en",
    "Dezember": "en",
}


def test_babel_names_the_weekdays_and_months_this_test_covers() -> None:
    locale = BABEL_LOCALE["lb"]
    assert set(locale.days["format"]["wide"].values()) == set(WEEKDAYS)
    assert set(locale.months["format"]["wide"].values()) == set(MONTHS)


@pytest.mark.parametrize(("name", "article"), [*WEEKDAYS.items(), *MONTHS.items()])
def test_n_rule_on_every_weekday_and_month(name, article) -> None:
    assert n_rule("en", name) == article
    assert n_rule("den", name) == "d" + article  # "de Mäerz", "den Abrëll"
    assert n_rule("een", name) == article.replace("e", "ee", 1)


def test_n_rule_on_the_other_words_and_numbers() -> None:
    assert [n_rule("sinn", w) for w in ("frou", "do", "elo", "net")] == ["si", "sinn", "sinn", "sinn"]
    assert [n_rule("hunn", w) for w in ("gesot", "Zäit", "Hunger")] == ["hu", "hunn", "hunn"]
    # a number is read as its word: "den 13." is "den dräizéngten", "de 4." is "de véierten"
    assert [n_rule("den", w) for w in ("13.", "4.", "24.", "21.", "1.", "5.")] == [
        "den",
        "de",
        "de",
        "den",
        "den",
        "de",
    ]


@pytest.mark.parametrize("day", range(7))
def test_a_weekday_after_en_in_a_mail_follows_the_rule(day) -> None:
    """'en %(day)s' in the Luxembourgish catalog gives "e Mëttwoch" but "en Dënschdeg"."""
    moment = datetime(2030, 11, 11 + day, 10, tzinfo=UTC)  # 11 November 2030 is a Monday
    start_day = format_day(moment, "Europe/Luxembourg", "lb")
    weekday = format_date(moment, "EEEE", locale=BABEL_LOCALE["lb"])
    subject, text, _ = render("reminder_to_registrant", "lb", _context("lb", start_day=start_day))
    assert f"{WEEKDAYS[weekday]} {start_day}, ëm TIME" in subject and f" {WEEKDAYS[weekday]} {start_day}" in text


def test_luxembourgish_texts_follow_the_rule_before_written_words() -> None:
    """Every rule word in the catalog, followed by a written word, keeps or drops its -n as it should."""
    wrong = []
    for message in read_catalog("lb"):
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        for text in strings:
            for word, following in re.findall(r"(?<![\w'’])(\w+) ([\w'’]+)", text or ""):
                if word.lower() in N_RULE_WORDS and n_rule(word, following) != word:
                    wrong.append(f"{word} {following}")
    assert wrong == []


# ---------------------------------------------------------------------------- sorting and levels


def test_language_lists_sort_with_accents_among_their_letters() -> None:
    names = [name for _, name in interpretation_options("pt")]
    assert names.index("Árabe") < names.index("Chinês") and names[-1] != "Árabe"
    for lang in LANGUAGES:
        names = [name for _, name in interpretation_options(lang)]
        assert names == sorted(names, key=collation_key)
        firsts = [collation_key(name)[0][0] for name in names]
        assert firsts == sorted(firsts)
    assert sorted(["Zoufftgen", "Éislek", "Esch", "Äischen", "Aach", "echt"], key=collation_key) == [
        "Aach",
        "Äischen",
        "echt",
        "Éislek",
        "Esch",
        "Zoufftgen",
    ]


def test_every_level_has_a_translated_name() -> None:
    assert set(LEVEL_NAMES) == set(Level.__args__)
    for lang in LANGUAGES:
        names = {level: level_label(level, lang) for level in LEVEL_NAMES}
        assert len(set(names.values())) == len(names)
        assert all(level in name for level, name in names.items() if level != "all")
        if lang != "en":
            assert all(name != LEVEL_NAMES[level] for level, name in names.items())


async def test_the_event_page_shows_the_level_in_the_readers_words(conn, settings) -> None:
    event = await create_event(
        conn,
        settings,
        kind="conversation_table",
        practised_language="fr",
        level="all",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI",
        commune="Luxembourg",
    )
    async with client_for(app_on(settings, conn)) as pages:
        shown = {lang: text_of(await pages.get(f"/events/{event.slug}", params={"lang": lang})) for lang in LANGUAGES}
    assert "Français, tous niveaux" in shown["fr"] and "Französisch, alle Niveaus" in shown["de"]
    assert "Portuguese" not in shown["pt"] and "francês, todos os níveis" in shown["pt"].lower()
    assert all(" all)" not in text and "level all" not in text for text in shown.values())
