"""The mail itself: every kind in every language, its links, dates and invitations, and when it is skipped."""

from __future__ import annotations

import email
import email.policy
import re
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from typing import Any

import msgspec
import pytest
from aiosmtplib.email import flatten_message
from hypothesis import given
from hypothesis import settings as settings_of_hypothesis
from hypothesis import strategies as st
from icalendar import Calendar

from server import mails
from server.events.schemas import EventPatch
from server.events.service import cancel_event, update_event
from server.feeds.events import occurrence_feed_event
from server.feeds.ical import build_event_invitation
from server.i18n import LANGUAGES, format_when
from server.notifications import messages
from server.notifications.messages import Skip, build_message
from server.notifications.placeholders import PLACEHOLDERS, fill_placeholders, unknown_placeholders
from server.outbox import KINDS, enqueue
from server.registrations.tokens import manage_url
from tests.factories import ADMIN, create_event, insert_registration

START = datetime(2030, 11, 13, 11, 15, tzinfo=UTC)  # a Wednesday; 12:15 in Luxembourg
END = START + timedelta(minutes=90)
JOIN = "https://meet.example.org/room"
WEEKDAY = {"fr": "mercredi", "de": "Mittwoch", "lb": "Mëttwoch", "en": "Wednesday", "pt": "quarta-feira"}
# frequent words of each language, to tell which one a text is written in
FUNCTION_WORDS = {
    "fr": {
        "votre",
        "vous",
        "pour",
        "est",
        "une",
        "des",
        "les",
        "nous",
        "sur",
        "la",
        "le",
        "et",
        "à",
        "pas",
        "ce",
        "cette",
        "parce",
        "que",
        "au",
        "ou",
        "du",
    },
    "de": {
        "sie",
        "ihre",
        "ihr",
        "ihnen",
        "ist",
        "und",
        "der",
        "die",
        "das",
        "zu",
        "wir",
        "bitte",
        "nicht",
        "für",
        "den",
        "diese",
        "dieser",
        "mit",
        "eine",
        "ein",
        "oder",
        "des",
        "wurde",
        "sich",
        "auf",
    },
    "lb": {
        "dir",
        "är",
        "iech",
        "ass",
        "fir",
        "op",
        "mat",
        "vun",
        "eng",
        "dës",
        "w.e.g.",
        "ze",
        "gëtt",
        "net",
        "mir",
        "dëser",
        "kritt",
        "well",
        "oder",
        "zu",
        "gouf",
        "den",
        "d",
    },
    "en": {
        "you",
        "your",
        "the",
        "is",
        "and",
        "to",
        "for",
        "of",
        "please",
        "we",
        "at",
        "on",
        "it",
        "this",
        "from",
        "about",
        "was",
        "are",
        "or",
    },
    "pt": {
        "sua",
        "seu",
        "para",
        "em",
        "que",
        "não",
        "pode",
        "da",
        "do",
        "com",
        "uma",
        "está",
        "o",
        "e",
        "os",
        "este",
        "foi",
        "porque",
        "sobre",
        "ou",
        "ver",
    },
}
KINDS_WITH_JOIN_LINK = {
    "registration_confirmed",
    "registration_promoted",
    "registration_exists",
    "series_registration_received",
    "event_changed",
    "reminder",
    "organiser_message",
}
INVITATIONS = {
    "registration_confirmed": "REQUEST",
    "registration_promoted": "REQUEST",
    "event_changed": "REQUEST",
    "cancellation_acknowledged": "CANCEL",
    "event_cancelled": "CANCEL",
}


# ---------------------------------------------------------------------------- helpers


async def _event(conn, settings, **overrides: Any):
    body = {"starts_at": START.isoformat(), "ends_at": END.isoformat(), **overrides}
    return await create_event(conn, settings, **body)


async def _queue(conn, kind: str, reg, payload: dict[str, Any] | None = None):
    """An outbox row as the worker claims it."""
    outbox_id = await enqueue(
        conn,
        kind,
        event_id=reg["event_id"],
        registration_id=reg["id"],
        recipient=reg["email"],
        language=reg["language"],
        payload=payload or {},
    )
    return await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", outbox_id)


async def _row_of(conn, kind: str, registration_id: int):
    return await conn.fetchrow(
        "SELECT * FROM outbox WHERE kind = $1 AND registration_id = $2 ORDER BY id DESC LIMIT 1", kind, registration_id
    )


def _parts(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    return text, html


def _calendars(message: EmailMessage) -> list[tuple[EmailMessage, bytes]]:
    return [
        (part, part.get_payload(decode=True))
        for part in message.walk()
        if part.get_content_type() in ("text/calendar", "application/ics")
    ]


class _Tags(HTMLParser):
    """Checks that every opened element is closed, in order."""

    VOID = {"meta", "br", "img", "hr", "input", "link"}

    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag not in self.VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack and self.stack[-1] == tag, f"</{tag}> closes {self.stack[-1:]}"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def _visible_text(html: str) -> str:
    parser = _Tags()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed {parser.stack}"
    return " ".join(" ".join(parser.text).split())


def _language_of(text: str) -> str:
    words = re.findall(r"[\w.-]+", text.lower())
    scores = {lang: sum(w in vocabulary for w in words) for lang, vocabulary in FUNCTION_WORDS.items()}
    best = max(scores, key=scores.get)
    assert scores[best] >= 4, scores
    return best


def assert_well_formed(
    message: EmailMessage,
    *,
    lang: str,
    settings,
    token: str,
    join: bool,
    whens: list[str],
    title: str,
    name: str = "Ana Ferreira",
    sent: bool = False,
) -> tuple[str, str]:
    """What every message must be, whatever its kind; returns (text, html)."""
    subject = message["Subject"]
    text, html = _parts(message)
    assert subject and text.strip() and html.strip()
    assert message["From"] == settings.mail_from
    assert message["To"].addresses[0].addr_spec.endswith("@example.org")
    assert message["Date"] and (message["Message-ID"] is not None) is sent  # the worker sets it
    assert message["Content-Language"] == lang
    for part in (subject, text, html):
        assert not re.search(r"\{\{|\}\}|\{%|%\}|\{#|#\}", part), part
        assert not re.search(r"\{[a-z_]+\}", part), part
        assert "None" not in part and "Undefined" not in part
    link = manage_url(settings.base, token)
    assert link in text and link in html
    # a web conference's own link never appears in a mail: the person's /j/ link stands for it
    assert JOIN not in text and JOIN not in html
    personal = re.compile(re.escape(settings.base) + r"/j/[A-Za-z0-9_-]{43}")
    assert bool(personal.search(text)) is join and bool(personal.search(html)) is join
    visible = _visible_text(html)
    assert f'<html lang="{lang}">' in html
    for when in whens:
        assert when in text and when in visible
    assert WEEKDAY[lang] in text
    assert title in subject + text and title in visible
    # both parts offer the same links, each built from BASE_URL
    text_links = set(re.findall(r"https?://[^\s<>\"]+", text))
    html_links = set(re.findall(r"https?://[^\s<>\"]+", html))
    assert text_links == html_links
    for url in text_links:
        assert url.startswith(settings.base + "/"), url
    without_names = text.replace(title, " ").replace(name, " ")
    without_names = re.sub(r"https?://\S+", " ", without_names)
    assert _language_of(without_names) == lang
    return text, html


async def _scenario(conn, settings, kind: str, lang: str) -> dict[str, Any]:
    """A real situation for `kind`, in `lang`: (row, token, the dates the mail must show, its title)."""
    event = await _event(conn, settings)
    title = {"de": "Konferenz"}.get(lang, event.title.fr)  # the factory's event has fr and de titles
    when = format_when(START, END, "Europe/Luxembourg", lang)
    status = {
        "registration_received": "pending",
        "registration_waitlisted": "waitlisted",
        "hold_expired": "expired",
        "cancellation_acknowledged": "cancelled",
    }.get(kind, "confirmed")
    columns = {"confirmed_at": datetime.now(UTC)} if kind == "cancellation_acknowledged" else {}
    payload: dict[str, Any] = {
        "registration_waitlisted": {"position": 1},
        "registration_promoted": {"status": "confirmed"},
        "registration_exists": {"status": "confirmed"},
        "cancellation_acknowledged": {"by": "person"},
        "reminder": {"offset": "P1D", "revision": 0},
        "organiser_message": {"subject": "{event}: {when}", "body": "{name},\n\n{event} ({location}).\n{manage_url}"},
    }.get(kind, {})
    whens = [when]

    if kind == "series_registration_received":
        event = await _event(conn, settings, recurrence={"rrule": "FREQ=WEEKLY;COUNT=3"})
        title = {"de": "Konferenz"}.get(lang, event.title.fr)
        slugs = await conn.fetch(
            "SELECT slug FROM events WHERE series_id = (SELECT series_id FROM events WHERE slug = $1) "
            "ORDER BY starts_at",
            event.slug,
        )
        regs = []
        email = f"series-{lang}@example.org"
        for slug, state in zip([r["slug"] for r in slugs], ["pending", "confirmed", "waitlisted"], strict=False):
            reg, token = await insert_registration(
                conn, settings, slug, status=state, language=lang, email=email, whole_series=True
            )
            regs.append((reg, token))
        row = await _queue(conn, kind, regs[0][0], {"registrations": [r["id"] for r, _ in regs]})
        whens = [
            format_when(START + timedelta(weeks=i), END + timedelta(weeks=i), "Europe/Luxembourg", lang)
            for i in range(3)
        ]
        return {"row": row, "token": regs[0][1], "whens": whens, "title": title, "tokens": [t for _, t in regs]}

    reg, token = await insert_registration(conn, settings, event.slug, status=status, language=lang, **columns)
    if kind == "event_changed":
        moved = START + timedelta(days=1, hours=2)
        await update_event(
            conn,
            ADMIN,
            event.slug,
            msgspec.convert(
                {"starts_at": moved.isoformat(), "ends_at": (moved + timedelta(minutes=90)).isoformat()}, EventPatch
            ),
            settings,
        )
        row = await _row_of(conn, kind, reg["id"])
        whens = [format_when(moved, moved + timedelta(minutes=90), "Europe/Luxembourg", lang), when]
    elif kind == "event_cancelled":
        await cancel_event(conn, ADMIN, event.slug, settings)
        row = await _row_of(conn, kind, reg["id"])
    else:
        row = await _queue(conn, kind, reg, payload)
    return {"row": row, "token": token, "whens": whens, "title": title}


# ---------------------------------------------------------------------------- every kind, every language


def test_every_outbox_kind_has_one_template_per_format_and_no_language_folders() -> None:
    assert set(KINDS) == set(messages.KINDS_WRITTEN)
    for kind in KINDS:
        for suffix in ("subject.txt", "txt", "html"):
            path = mails.TEMPLATES / f"{kind}_to_registrant.{suffix}.j2"
            assert path.is_file(), path
            for lang in LANGUAGES:
                mails.environment(lang, autoescape=suffix == "html").get_template(path.name)
    assert not [p for p in mails.TEMPLATES.iterdir() if p.is_dir()]  # the words are in the catalogs


@pytest.mark.parametrize("kind", KINDS)
async def test_each_kind_is_written_in_each_language_with_its_links_and_dates(conn, settings, kind) -> None:
    texts: dict[str, str] = {}
    for lang in LANGUAGES:
        case = await _scenario(conn, settings, kind, lang)
        message = await build_message(conn, case["row"], settings)
        text, html = assert_well_formed(
            message,
            lang=lang,
            settings=settings,
            token=case["token"],
            join=kind in KINDS_WITH_JOIN_LINK,
            whens=case["whens"],
            title=case["title"],
        )
        for other in case.get("tokens", []):
            assert manage_url(settings.base, other) in text  # each date of a series has its own link
        method = INVITATIONS.get(kind)
        calendars = _calendars(message)
        assert len(calendars) == (2 if method else 0)
        texts[lang] = re.sub(r"https?://\S+|\d", "", text)
    assert len(set(texts.values())) == len(LANGUAGES)


@pytest.mark.parametrize("kind", sorted(INVITATIONS))
async def test_invitation_parses_with_the_right_method_and_sequence(conn, settings, kind) -> None:
    case = await _scenario(conn, settings, kind, "en")
    message = await build_message(conn, case["row"], settings)
    event_row = await conn.fetchrow("SELECT * FROM events WHERE id = $1", case["row"]["event_id"])
    method = INVITATIONS[kind]
    (inline, inline_bytes), (attached, attached_bytes) = _calendars(message)
    assert inline.get_content_type() == "text/calendar" and inline.get_param("method") == method
    assert inline.get_content_charset() == "utf-8"
    assert attached.get_content_type() == "application/ics" and attached.get_filename() == "invite.ics"
    assert inline_bytes == attached_bytes
    calendar = Calendar.from_ical(inline_bytes)
    assert str(calendar["METHOD"]) == method
    (vevent,) = calendar.walk("VEVENT")
    assert int(vevent["SEQUENCE"]) == event_row["revision"]
    assert vevent["DTSTART"].dt == event_row["starts_at"]
    assert str(vevent["ATTENDEE"]) == f"mailto:{message['To'].addresses[0].addr_spec}"
    assert str(vevent["STATUS"]) == ("CANCELLED" if method == "CANCEL" else "CONFIRMED")
    assert ("CONFERENCE" in vevent) is (method == "REQUEST")


async def test_a_moved_event_sends_a_higher_sequence_than_the_first_invitation(conn, settings) -> None:
    event = await _event(conn, settings)
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed", language="de")
    first = Calendar.from_ical(
        _calendars(await build_message(conn, await _queue(conn, "registration_confirmed", reg), settings))[0][1]
    )
    moved = START + timedelta(hours=3)
    await update_event(
        conn,
        ADMIN,
        event.slug,
        msgspec.convert(
            {"starts_at": moved.isoformat(), "ends_at": (moved + timedelta(hours=1)).isoformat()}, EventPatch
        ),
        settings,
    )
    second = Calendar.from_ical(
        _calendars(await build_message(conn, await _row_of(conn, "event_changed", reg["id"]), settings))[0][1]
    )
    (a,), (b,) = first.walk("VEVENT"), second.walk("VEVENT")
    assert a["UID"] == b["UID"] and int(b["SEQUENCE"]) == int(a["SEQUENCE"]) + 1
    assert b["DTSTART"].dt == moved


# ---------------------------------------------------------------------------- invitations built once per event version


def _event_row(**changes: Any) -> dict[str, Any]:
    row = {
        "id": 7,
        "row_version": 3,
        "created_at": START - timedelta(days=9),
        "updated_at": START - timedelta(days=2),
        "languages": ["fr", "de"],
        "title": {"fr": "Vivre ensemble", "de": "Zusammenleben"},
        "summary": {"fr": "Un résumé."},
        "description": {"fr": "Une longue description. " * 12},
        "slug": "vivre-ensemble",
        "revision": 2,
        "status": "published",
        "starts_at": START,
        "ends_at": END,
        "timezone": "Europe/Luxembourg",
        "kind": "webconference",
        "platform": "Webex",
        "online": False,
        "venue": None,
        "commune": None,
        "join_url": JOIN,
    }
    return {**row, **changes}


def _built_afresh(row: dict[str, Any], method: str, lang: str, settings, email: str, name: str) -> bytes:
    feed_event = occurrence_feed_event(row, lang, settings, with_join_url=method == "REQUEST")
    return build_event_invitation(
        feed_event,
        method=method,
        lang=lang,
        organizer_email="noreply@zesummen.lu",
        organizer_name="ASTI",
        attendee_email=email,
        attendee_name=name,
    )


@given(
    name=st.text(min_size=1, max_size=120),
    local=st.from_regex(r"[a-z0-9._+-]{1,70}", fullmatch=True),
    method=st.sampled_from(["REQUEST", "CANCEL"]),
    lang=st.sampled_from(LANGUAGES),
)
@settings_of_hypothesis(max_examples=300, deadline=None)
def test_invitation_from_the_cached_calendar_is_byte_for_byte_the_builders(settings, name, local, method, lang) -> None:
    email = f"{local}@example.org"
    row = _event_row()
    got = messages.invitation(
        row,
        method,
        lang,
        settings,
        organisation="ASTI",
        with_join_url=method == "REQUEST",
        attendee_email=email,
        attendee_name=name,
    )
    assert got == _built_afresh(row, method, lang, settings, email, name)


def test_invitation_cache_never_serves_another_version_or_row(settings) -> None:
    def made(row: dict[str, Any]) -> bytes:
        return messages.invitation(
            row,
            "REQUEST",
            "fr",
            settings,
            organisation="ASTI",
            with_join_url=True,
            attendee_email="ana@example.org",
            attendee_name="Ana",
        )

    first = _event_row()
    assert made(first) == _built_afresh(first, "REQUEST", "fr", settings, "ana@example.org", "Ana")
    # the same event after an update (a new row_version), and another row that got the same id and
    # version in a database whose identities were restarted
    for other in (
        _event_row(row_version=4, title={"fr": "Nouveau titre"}, revision=3),
        _event_row(created_at=START - timedelta(days=1), title={"fr": "Une autre"}),
    ):
        assert made(other) == _built_afresh(other, "REQUEST", "fr", settings, "ana@example.org", "Ana") != made(first)


@pytest.mark.parametrize("kind", ["registration_confirmed", "reminder", "cancellation_acknowledged"])
async def test_mail_policy_writes_the_same_bytes_as_emails_default(conn, settings, kind, monkeypatch) -> None:
    case = await _scenario(conn, settings, kind, "lb")

    async def flattened() -> bytes:
        message = await build_message(conn, case["row"], settings)
        message.replace_header("Date", "Wed, 13 Nov 2030 11:15:00 +0000")  # the one field taken from the clock
        for n, part in enumerate(p for p in message.walk() if p.is_multipart()):
            part.set_boundary(f"boundary-{n}")  # otherwise random
        return flatten_message(message)

    with_cached_classes = await flattened()
    monkeypatch.setattr(messages, "MAIL_POLICY", email.policy.default)
    assert with_cached_classes == await flattened()


def test_a_boundary_found_in_the_content_is_drawn_again(monkeypatch) -> None:
    draws = iter([7, 7, 8])
    monkeypatch.setattr(mails.secrets, "randbelow", lambda _: next(draws))
    taken = "=" * 15 + f"{7:019d}" + "=="
    message = EmailMessage(policy=mails.MAIL_POLICY)
    message.set_content(f"a line that holds the boundary\n--{taken}\n", cte="8bit")
    message.add_alternative("<p>html</p>", subtype="html")
    mails.set_boundaries(message)
    assert message.get_boundary() == "=" * 15 + f"{8:019d}" + "=="
    parsed = email.message_from_bytes(flatten_message(message), policy=email.policy.default)
    assert [part.get_content_type() for part in parsed.walk()] == ["multipart/alternative", "text/plain", "text/html"]
    assert taken in parsed.get_body(("plain",)).get_content()


# ---------------------------------------------------------------------------- content rules


async def test_event_changed_shows_the_new_and_the_previous_place(conn, settings) -> None:
    event = await _event(
        conn,
        settings,
        kind="info_session",
        commune="Esch-sur-Alzette",
        venue="Maison du Peuple",
        join_url=None,
        platform=None,
    )
    reg, _ = await insert_registration(conn, settings, event.slug, status="waitlisted", language="fr")
    await update_event(
        conn, ADMIN, event.slug, msgspec.convert({"venue": "Bibliothèque municipale"}, EventPatch), settings
    )
    row = await _row_of(conn, "event_changed", reg["id"])
    assert row["payload"]["previous"]["location"] == "Maison du Peuple, Esch-sur-Alzette"
    message = await build_message(conn, row, settings)
    text, _ = _parts(message)
    assert message["Subject"].startswith("Nouveau lieu")
    assert "Bibliothèque municipale, Esch-sur-Alzette" in text and "Maison du Peuple, Esch-sur-Alzette" in text
    assert "liste d'attente, en position 1" in text
    assert not _calendars(message)  # no seat, no invitation


async def test_dates_are_written_in_the_events_time_zone(conn, settings) -> None:
    event = await _event(conn, settings, timezone="Europe/Lisbon")
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed", language="pt")
    text, _ = _parts(await build_message(conn, await _queue(conn, "registration_confirmed", reg), settings))
    assert "quarta-feira, 13 de novembro de 2030, 11h15 – 12h45" in text
    assert "12h15" not in text


async def test_event_texts_fall_back_and_say_in_which_language(conn, settings) -> None:
    event = await _event(conn, settings, title={"pt": "Os Portugueses de segunda geração"}, languages=["pt"])
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed", language="lb")
    message = await build_message(conn, await _queue(conn, "registration_confirmed", reg), settings)
    text, html = _parts(message)
    assert "Os Portugueses de segunda geração" in message["Subject"] and "Moien" in text
    assert '<strong style="font-size:17px;" lang="pt">Os Portugueses de segunda geração</strong>' in html


async def test_reminder_says_today_or_tomorrow_when_it_is(conn, settings) -> None:
    start = (datetime.now(UTC) + timedelta(days=1)).replace(second=0, microsecond=0)
    event = await _event(
        conn, settings, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat(), timezone="UTC"
    )
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed", language="en")
    message = await build_message(conn, await _queue(conn, "reminder", reg, {"offset": "P1D", "revision": 0}), settings)
    assert f"tomorrow at {start:%H:%M}" in message["Subject"]


async def test_series_mail_asks_once_to_confirm_and_lists_each_date(conn, settings) -> None:
    case = await _scenario(conn, settings, "series_registration_received", "de")
    text, html = _parts(await build_message(conn, case["row"], settings))
    assert "Platz reserviert, bitte bestätigen" in text and "Platz bestätigt" in text and "Warteliste (Platz 1)" in text
    assert "ein Klick bestätigt alle Termine" in text
    # only the confirmed date shows a join link, the person's own
    assert JOIN not in text and len(re.findall(re.escape(settings.base) + r"/j/[A-Za-z0-9_-]{43}", text)) == 1


async def test_pending_promotion_asks_to_confirm_by_the_hold_deadline(conn, settings) -> None:
    event = await _event(conn, settings)
    hold = datetime(2030, 11, 10, 17, 30, tzinfo=UTC)
    reg, _ = await insert_registration(
        conn, settings, event.slug, status="pending", language="fr", hold_expires_at=hold
    )
    message = await build_message(
        conn, await _queue(conn, "registration_promoted", reg, {"status": "pending"}), settings
    )
    text, html = _parts(message)
    assert "d'ici le dimanche 10 novembre 2030 à 18 h 30" in text and "Confirmer mon inscription" in html
    assert JOIN not in text and not _calendars(message)


# ---------------------------------------------------------------------------- organiser text


def test_placeholder_list_is_what_the_organiser_endpoint_validates_against() -> None:
    assert set(PLACEHOLDERS) == {"name", "event", "when", "location", "event_url", "manage_url"}
    assert unknown_placeholders("Hello {name}, see {event} at {when}") == []
    assert unknown_placeholders("{name.__class__} {{7*7}} {nom} {}") == ["", "7*7", "name.__class__", "nom"]


def test_placeholders_are_replaced_once_as_plain_text() -> None:
    values = {"name": "{event}", "event": "Table"}
    assert (
        fill_placeholders("{name} / {event} / {unknown} / {name.__class__}", values)
        == "{event} / Table / {unknown} / {name.__class__}"
    )


async def test_organiser_text_cannot_execute_anything(conn, settings) -> None:
    event = await _event(conn, settings, title={"fr": "Table <b>ronde</b>"})
    reg, token = await insert_registration(
        conn, settings, event.slug, status="confirmed", language="en", name="{{7*7}} <script>x</script>"
    )
    payload = {
        "subject": "{{7*7}} {event}\nBcc: evil@example.org",
        "body": "Dear {name},\n{name.__class__} {{7*7}} {% print 1 %} ${7*7} <i>hi</i>\n\nSee {manage_url}",
    }
    message = await build_message(conn, await _queue(conn, "organiser_message", reg, payload), settings)
    text, html = _parts(message)
    assert message["Subject"] == "{{7*7}} Table <b>ronde</b> Bcc: evil@example.org"
    assert message["Bcc"] is None
    assert "Dear {{7*7}} <script>x</script>," in text
    assert "{name.__class__} {{7*7}} {% print 1 %} ${7*7} <i>hi</i>" in text
    assert "49" not in text + html and "<script>" not in html and "<i>hi</i>" not in html
    assert (
        "Dear {{7*7}} &lt;script&gt;x&lt;/script&gt;,<br>"
        "{name.__class__} {{7*7}} {% print 1 %} ${7*7} &lt;i&gt;hi&lt;/i&gt;" in html
    )
    assert f"See {manage_url(settings.base, token)}" in text
    assert html.count(manage_url(settings.base, token)) >= 2  # the body's and the one always appended


async def test_a_registrants_name_is_shown_never_run(conn, settings) -> None:
    event = await _event(conn, settings)
    reg, _ = await insert_registration(
        conn, settings, event.slug, status="confirmed", language="fr", name='{{ 7*7 }} "Ana" <img src=x>'
    )
    message = await build_message(conn, await _queue(conn, "registration_confirmed", reg), settings)
    text, html = _parts(message)
    assert 'Bonjour {{ 7*7 }} "Ana" <img src=x>,' in text
    assert "Bonjour {{ 7*7 }} &#34;Ana&#34; &lt;img src=x&gt;," in html
    # the display name loses what could break the header, never the address
    assert message["To"].addresses[0].display_name == "{{ 7*7 }} Ana img src=x"


# ---------------------------------------------------------------------------- skipped when no longer true


async def _skip_reason(conn, settings, row) -> str:
    with pytest.raises(Skip) as caught:
        await build_message(conn, row, settings)
    return str(caught.value)


async def test_nothing_is_sent_to_an_anonymised_registration(conn, settings) -> None:
    event = await _event(conn, settings)
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed")
    row = await _queue(conn, "reminder", reg, {"offset": "PT1H", "revision": 0})
    await conn.execute(
        "UPDATE registrations SET name = NULL, email = NULL, token_hash = NULL, anonymised_at = now() WHERE id = $1",
        reg["id"],
    )
    assert "anonymised" in await _skip_reason(conn, settings, row)


async def test_reminder_of_an_older_revision_or_a_cancelled_event_is_skipped(conn, settings) -> None:
    event = await _event(conn, settings)
    reg, _ = await insert_registration(conn, settings, event.slug, status="confirmed")
    old = await _queue(conn, "reminder", reg, {"offset": "P1D", "revision": 0})
    moved = START + timedelta(days=2)
    await update_event(
        conn,
        ADMIN,
        event.slug,
        msgspec.convert(
            {"starts_at": moved.isoformat(), "ends_at": (moved + timedelta(hours=1)).isoformat()}, EventPatch
        ),
        settings,
    )
    assert "revision 0" in await _skip_reason(conn, settings, old)
    current = await _queue(conn, "reminder", reg, {"offset": "P1D", "revision": 1})
    await build_message(conn, current, settings)
    await cancel_event(conn, ADMIN, event.slug, settings)
    assert await _skip_reason(conn, settings, current)


async def test_reminder_goes_only_to_confirmed_people(conn, settings) -> None:
    event = await _event(conn, settings)
    reg, _ = await insert_registration(conn, settings, event.slug, status="waitlisted")
    assert "waitlisted" in await _skip_reason(conn, settings, await _queue(conn, "reminder", reg, {"revision": 0}))


async def test_messages_about_a_status_the_person_left_are_skipped(conn, settings) -> None:
    event = await _event(conn, settings)
    reg, _ = await insert_registration(conn, settings, event.slug, status="waitlisted")
    waitlisted = await _queue(conn, "registration_waitlisted", reg, {"position": 1})
    promoted = await _queue(conn, "registration_promoted", reg, {"status": "pending"})
    await conn.execute("UPDATE registrations SET status = 'confirmed', confirmed_at = now() WHERE id = $1", reg["id"])
    assert "confirmed" in await _skip_reason(conn, settings, waitlisted)
    assert "confirmed since" in await _skip_reason(conn, settings, promoted)
    confirmed = await _queue(conn, "registration_confirmed", reg)
    await conn.execute("UPDATE registrations SET status = 'cancelled', cancelled_at = now() WHERE id = $1", reg["id"])
    assert "cancelled" in await _skip_reason(conn, settings, confirmed)


async def test_confirmation_request_after_the_hold_expired_is_skipped(conn, settings) -> None:
    event = await _event(conn, settings)
    reg, _ = await insert_registration(
        conn, settings, event.slug, status="pending", hold_expires_at=datetime.now(UTC) - timedelta(minutes=1)
    )
    assert "hold expired" in await _skip_reason(conn, settings, await _queue(conn, "registration_received", reg))


async def test_a_superseded_change_is_skipped_and_a_join_link_change_reaches_only_the_confirmed(conn, settings) -> None:
    event = await _event(conn, settings)
    confirmed, _ = await insert_registration(conn, settings, event.slug, status="confirmed")
    waiting, _ = await insert_registration(conn, settings, event.slug, status="waitlisted")
    for hours in (1, 2):
        moved = START + timedelta(hours=hours)
        await update_event(
            conn,
            ADMIN,
            event.slug,
            msgspec.convert(
                {"starts_at": moved.isoformat(), "ends_at": (moved + timedelta(hours=1)).isoformat()}, EventPatch
            ),
            settings,
        )
    first, second = await conn.fetch(
        "SELECT * FROM outbox WHERE kind = 'event_changed' AND registration_id = $1 ORDER BY id", confirmed["id"]
    )
    assert "changed again" in await _skip_reason(conn, settings, first)
    await build_message(conn, second, settings)

    await update_event(
        conn, ADMIN, event.slug, msgspec.convert({"join_url": "https://meet.example.org/new"}, EventPatch), settings
    )
    assert "join link" in await _skip_reason(conn, settings, await _row_of(conn, "event_changed", waiting["id"]))
    message = await build_message(conn, await _row_of(conn, "event_changed", confirmed["id"]), settings)
    text, _ = _parts(message)
    # the person's own link stays the same and now leads to the new room; the room's link is never mailed
    assert message["Subject"].startswith("Mise à jour") and "https://meet.example.org/new" not in text
    assert re.search(re.escape(settings.base) + r"/j/[A-Za-z0-9_-]{43}", text)


# ---------------------------------------------------------------------------- rows written by the registrations service


async def test_rows_the_registrations_service_writes_all_become_mail(conn, settings) -> None:
    from server.registrations import manage
    from server.registrations import service as registrations
    from server.registrations.schemas import RegistrationIn
    from tests.factories import manage_token, registration_body

    event = await _event(conn, settings, capacity=1)
    data = msgspec.convert(registration_body(email="ana@example.org", language="lb"), RegistrationIn)
    await registrations.register(conn, event.slug, data, settings, client_ip="192.0.2.1")
    await registrations.register(
        conn,
        event.slug,
        msgspec.convert(registration_body(email="joao@example.org", language="pt"), RegistrationIn),
        settings,
        client_ip="192.0.2.2",
    )
    await registrations.register(conn, event.slug, data, settings, client_ip="192.0.2.1")  # the same address again
    ana = await conn.fetchrow("SELECT * FROM registrations WHERE email = 'ana@example.org'")
    await manage.confirm(conn, await manage_token(conn, settings, ana["id"]), "lb", settings)
    await manage.cancel(conn, await manage_token(conn, settings, ana["id"]), "lb", settings)  # João moves up

    rows = await conn.fetch("SELECT * FROM outbox WHERE event_id = $1 ORDER BY id", ana["event_id"])
    kinds = [r["kind"] for r in rows]
    assert kinds == [
        "registration_received",
        "registration_waitlisted",
        "registration_exists",
        "registration_confirmed",
        "cancellation_acknowledged",
        "registration_promoted",
    ]
    built = {}
    for row in rows:
        try:
            built[row["kind"]] = await build_message(conn, row, settings)
        except Skip as skip:
            built[row["kind"]] = str(skip)
    # Ana's first mails describe states she has left since; what is still true goes out
    assert "cancelled" in built["registration_received"] and "cancelled" in built["registration_confirmed"]
    assert "pending" in built["registration_waitlisted"]  # João was promoted before the worker came by
    assert built["registration_exists"]["Subject"].startswith("Är Umeldung")
    cancelled = built["cancellation_acknowledged"]
    assert cancelled["Subject"].startswith("Annulatioun confirméiert") and _calendars(cancelled)
    promoted = built["registration_promoted"]
    assert promoted["To"].addresses[0].addr_spec == "joao@example.org" and promoted["Content-Language"] == "pt"
    joao = await conn.fetchrow("SELECT * FROM registrations WHERE email = 'joao@example.org'")
    assert manage_url(settings.base, await manage_token(conn, settings, joao["id"])) in _parts(promoted)[0]


# ---------------------------------------------------------------------------- through the real SMTP path


async def test_every_kind_in_every_language_arrives_through_smtp_as_written(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
) -> None:
    from server.notifications.worker import Notifier
    from server.outbox import message_id

    cases = {}
    for kind in KINDS:
        for lang in LANGUAGES:
            case = await _scenario(notifier_conn, notifier_settings, kind, lang)
            cases[case["row"]["id"]] = (kind, lang, case)
    assert await Notifier(notifier_settings).drain(notifier_pool) == len(cases) == len(KINDS) * len(LANGUAGES)
    statuses = await notifier_conn.fetch("SELECT status, count(*) FROM outbox GROUP BY status")
    assert {r["status"]: r["count"] for r in statuses} == {"sent": len(cases)}

    received = {item.message_id: item for item in await smtp_server.wait_for(len(cases))}
    assert len(received) == len(cases)
    for outbox_id, (kind, lang, case) in cases.items():
        item = received[message_id(outbox_id, notifier_settings.mail_from)]
        message = item.message
        assert item.rcpt_tos == [message["To"].addresses[0].addr_spec]
        assert_well_formed(
            message,
            lang=lang,
            settings=notifier_settings,
            token=case["token"],
            join=kind in KINDS_WITH_JOIN_LINK,
            whens=case["whens"],
            title=case["title"],
            sent=True,
        )
        calendars = _calendars(message)
        if kind in INVITATIONS:
            (inline, ics), (_, attached) = calendars
            assert inline.get_param("method") == INVITATIONS[kind] == str(Calendar.from_ical(ics)["METHOD"])
            assert ics == attached
        else:
            assert calendars == []
