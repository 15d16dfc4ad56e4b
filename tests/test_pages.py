"""The public HTML pages through real HTTP (httpx + ASGI): list, event, register, manage, privacy,
error pages, CSRF, security headers and escaping."""

from __future__ import annotations

import html
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import msgspec
import pytest

from server.events.service import cancel_event
from server.pages.csrf import COOKIE as CSRF_COOKIE
from server.pages.render import CONTENT_SECURITY_POLICY, stylesheet
from server.settings import Settings
from tests.apps import app_on
from tests.factories import ADMIN, create_event, manage_token

UTC = UTC
HTML = {"accept": "text/html"}


@pytest.fixture
async def pages(conn: asyncpg.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """A browser-like client over https (the CSRF cookie is Secure when BASE_URL is https)."""
    async with client_for(app_on(settings, conn)) as http:
        yield http


def client_for(app) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="https://testserver", headers=HTML)


def csrf_token(page: httpx.Response) -> str:
    return re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)


def text_of(page: httpx.Response) -> str:
    """The page's visible text, tags stripped, whitespace collapsed."""
    body = re.sub(r"<(script|style)\b.*?</\1>", " ", page.text, flags=re.S)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", body))).strip()


async def form_post(pages: httpx.AsyncClient, slug: str, **fields: str) -> httpx.Response:
    """GET the event page (cookie + token), then POST its form."""
    page = await pages.get(f"/events/{slug}")
    action = html.unescape(re.search(r'<form method="post" action="([^"]+)"', page.text).group(1))
    return await pages.post(action, data={"csrf_token": csrf_token(page), **fields})


def person(**overrides: str) -> dict[str, str]:
    fields = {
        "name": "Ana Silva",
        "email": f"ana{datetime.now().timestamp()}@example.org".replace(".", "", 1),
        "language": "pt",
        "consent": "yes",
    }
    fields.update(overrides)
    return fields


async def registration_row(conn: asyncpg.Connection, email: str) -> asyncpg.Record:
    return await conn.fetchrow("SELECT * FROM registrations WHERE email = $1 ORDER BY id DESC LIMIT 1", email.lower())


async def register_and_token(pages, conn, settings, slug: str, **overrides: str) -> tuple[str, asyncpg.Record]:
    fields = person(**overrides)
    answer = await form_post(pages, slug, **fields)
    assert answer.status_code == 303, answer.text
    row = await registration_row(conn, fields["email"])
    return await manage_token(conn, settings, row["id"]), row


async def post_manage(pages: httpx.AsyncClient, token: str, action: str, **fields: str) -> httpx.Response:
    """Submit one of the manage page's forms as a browser does (its action carries the page's language)."""
    page = await pages.get(f"/r/{token}")
    action_url = re.search(rf'action="(/r/{re.escape(token)}/{action}[^"]*)"', page.text).group(1)
    return await pages.post(html.unescape(action_url), data={"csrf_token": csrf_token(page), **fields})


def next_week(hour: int = 11) -> datetime:
    return (datetime.now(UTC) + timedelta(days=7)).replace(hour=hour, minute=15, second=0, microsecond=0)


# ---------------------------------------------------------------------------- the list


async def test_list_shows_date_block_time_range_place_excerpt_and_read_more(pages, conn, settings) -> None:
    start = next_week()
    web = await create_event(
        conn,
        settings,
        title={"fr": "Les Portugais de seconde génération"},
        summary={"fr": "Se sentent-ils faire partie du Luxembourg ? " * 10},
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(minutes=90)).isoformat(),
    )
    info = await create_event(
        conn,
        settings,
        kind="info_session",
        commune="Esch-sur-Alzette",
        venue="Maison du Peuple",
        join_url=None,
        platform=None,
        title={"fr": "Accueillir les DPI"},
        starts_at=(start + timedelta(hours=4)).isoformat(),
        ends_at=(start + timedelta(hours=5)).isoformat(),
    )
    page = await pages.get("/", params={"lang": "fr"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    text = text_of(page)
    local = start.astimezone(__import__("zoneinfo").ZoneInfo("Europe/Luxembourg"))
    block = re.search(
        rf'<time class="date-block" datetime="{local.date().isoformat()}".*?</time>', page.text, re.S
    ).group(0)
    from babel.dates import format_date

    assert f">{local.day}<" in block
    assert format_date(local, "MMM", locale="fr_LU").rstrip(".") in block
    assert format_date(local, "EEE", locale="fr_LU").rstrip(".") in block
    assert f"{local.hour} h 15 – {local.hour + 1} h 45 @ Web-conférence" in text
    assert "@ Esch-sur-Alzette" in text
    # both events of the day under one date block, the excerpt cut at a word with an ellipsis
    assert page.text.count(f'datetime="{local.date().isoformat()}" aria-hidden') == 1
    assert "…" in text and "Se sentent-ils faire partie du Luxembourg ?" in text
    assert f'href="/events/{web.slug}"' in page.text and f'href="/events/{info.slug}"' in page.text
    assert text.count("En savoir plus") >= 2


async def test_list_filters_by_kind_language_and_commune_and_links_the_same_feed(pages, conn, settings) -> None:
    web = await create_event(conn, settings, languages=["de"], title={"de": "Integration in den Arbeitsmarkt"})
    info = await create_event(
        conn,
        settings,
        kind="info_session",
        commune="Differdange",
        join_url=None,
        platform=None,
        languages=["fr", "pt"],
        title={"fr": "Séance à Differdange"},
    )
    by_commune = await pages.get("/", params={"commune": "Differdange", "lang": "en"})
    assert info.slug in by_commune.text and web.slug not in by_commune.text
    by_language = await pages.get("/", params={"spoken": "de"})
    assert web.slug in by_language.text and info.slug not in by_language.text
    by_kind = await pages.get("/", params={"kind": "info_session", "spoken": "pt"})
    assert info.slug in by_kind.text and web.slug not in by_kind.text
    # the language chosen on the first request is remembered (cookie) and goes into the feed link
    feed = "https://zesummen.test/calendar.ics?kind=info_session&amp;spoken=pt&amp;lang=en"
    assert f'href="{feed}"' in by_kind.text
    assert f'href="{feed.replace("https://", "webcal://")}"' in by_kind.text
    # a value the list does not know filters nothing instead of failing
    lenient = await pages.get("/", params={"kind": "party", "spoken": "xx", "cursor": "not-a-cursor"})
    assert lenient.status_code == 200 and web.slug in lenient.text and info.slug in lenient.text


async def test_list_offers_every_commune_of_the_table_as_a_filter(pages, conn) -> None:
    page = await pages.get("/")
    communes = [row["name"] for row in await conn.fetch("SELECT name FROM communes")]
    select = re.search(r'<select id="f-commune".*?</select>', page.text, re.S).group(0)
    assert len(re.findall(r"<option value=\"[^\"]+\"", select)) == len(communes) == 100


# ---------------------------------------------------------------------------- one event


async def test_event_page_shows_seats_left_form_and_calendar_links(pages, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=12)
    page = await pages.get(f"/events/{event.slug}", params={"lang": "en"})
    assert page.status_code == 200
    text = text_of(page)
    assert "12 places left" in text
    for field in ("name", "email", "language", "commune", "interpretation", "accessibility", "consent"):
        assert re.search(rf'<label for="f-{field}">', page.text), field
        assert f'id="f-{field}" name="{field}"' in page.text, field
    assert 'href="/privacy"' in page.text
    assert 'name="whole_series"' not in page.text  # not a series
    assert f'href="https://zesummen.test/events/{event.slug}.ics"' in page.text
    assert f'href="webcal://zesummen.test/events/{event.slug}.ics"' in page.text
    assert "https://meet.example.org/room" not in page.text  # the join link is never public
    assert (
        len(
            re.findall(
                r'<option value="[^"]+">', re.search(r'<select id="f-commune".*?</select>', page.text, re.S).group(0)
            )
        )
        == 100
    )


async def test_full_event_offers_the_waiting_list(pages, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=0)
    text = text_of(await pages.get(f"/events/{event.slug}", params={"lang": "de"}))
    assert "Ausgebucht: Warteliste" in text and "Auf die Warteliste setzen" in text


async def test_series_offers_all_dates_and_cancelled_or_closed_events_no_form(pages, conn, settings) -> None:
    series = await create_event(
        conn,
        settings,
        kind="conversation_table",
        practised_language="lb",
        level="A2",
        join_url=None,
        platform=None,
        online=False,
        venue="ASTI",
        commune="Luxembourg",
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=3"},
    )
    first = series.occurrences[0] if series.occurrences else series.slug
    page = await pages.get(f"/events/{first}", params={"lang": "lb"})
    assert 'name="whole_series"' in page.text
    assert "Lëtzebuergesch, Niveau A2 (Grondkenntnisser)" in text_of(page)
    closed = await create_event(
        conn,
        settings,
        registration_closes_at=(datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        starts_at=(datetime.now(UTC) + timedelta(hours=2)).isoformat(),
        ends_at=(datetime.now(UTC) + timedelta(hours=3)).isoformat(),
    )
    page = await pages.get(f"/events/{closed.slug}", params={"lang": "fr"})
    assert "Les inscriptions à cet événement sont closes." in text_of(page) and '<form method="post"' not in page.text
    cancelled = await create_event(conn, settings)
    await cancel_event(conn, ADMIN, cancelled.slug, settings)
    page = await pages.get(f"/events/{cancelled.slug}", params={"lang": "pt"})
    assert "Este evento foi cancelado." in text_of(page) and '<form method="post"' not in page.text


# ---------------------------------------------------------------------------- registering


async def test_registering_redirects_to_what_happens_next(pages, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=5)
    fields = person(commune="Esch-sur-Alzette", interpretation="ar", accessibility="Accès en fauteuil roulant")
    answer = await form_post(pages, event.slug, **fields)
    assert answer.status_code == 303
    assert answer.headers["location"] == f"/events/{event.slug}/registered?outcome=pending&lang=fr"
    row = await registration_row(conn, fields["email"])
    assert (
        row["status"],
        row["name"],
        row["language"],
        row["commune"],
        row["interpretation"],
        row["accessibility"],
    ) == ("pending", "Ana Silva", "pt", "Esch-sur-Alzette", "ar", "Accès en fauteuil roulant")
    after = await pages.get(answer.headers["location"], params={"lang": "pt"})
    assert "Veja a sua caixa de correio" in text_of(after)


async def test_full_event_puts_the_person_on_the_waiting_list(pages, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=0)
    token, row = await register_and_token(pages, conn, settings, event.slug)
    assert row["status"] == "waitlisted"
    page = await pages.get(f"/r/{token}", params={"lang": "en"})
    assert "You are number 1 on the waiting list." in text_of(page)


async def test_form_errors_are_shown_next_to_each_field_in_the_persons_language(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    page = await pages.get(f"/events/{event.slug}", params={"lang": "de"})
    answer = await pages.post(
        f"/events/{event.slug}/register",
        data={
            "csrf_token": csrf_token(page),
            "name": "",
            "email": "nicht-gueltig",
            "language": "pt",
            "commune": "Atlantis",
            "interpretation": "Klingon!",
            "accessibility": "x" * 1001,
        },
    )
    assert answer.status_code == 422
    expected = {
        "name": "Bitte geben Sie Ihren Namen an.",
        "email": "Bitte geben Sie eine E-Mail-Adresse wie name@example.lu an.",
        "interpretation": "Bitte wählen Sie eine Sprache aus der Liste oder lassen Sie das Feld leer.",
        "accessibility": "Bitte schreiben Sie höchstens 1000 Zeichen.",
        "consent": "Bitte stimmen Sie der Datenschutzerklärung zu, damit wir Ihre Anmeldung speichern dürfen.",
    }
    for field, message in expected.items():
        error = re.search(rf'<p class="field-error" id="f-{field}-error">.*?</p>', answer.text, re.S)
        assert error and message in html.unescape(error.group(0)), field
        control = re.search(rf'<(input|textarea|select) id="f-{field}"[^>]*>', answer.text).group(0)
        assert f"f-{field}-error" in re.search(r'aria-describedby="([^"]+)"', control).group(1)
        assert 'aria-invalid="true"' in control
        assert f'<a href="#f-{field}">' in answer.text  # the summary at the top links to the field
    assert 'role="alert"' in answer.text and "Bitte korrigieren Sie Folgendes:" in text_of(answer)
    assert 'value="nicht-gueltig"' in answer.text  # what was typed stays
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = $1", event.slug
        )
        == 0
    )


async def test_a_commune_the_service_does_not_know_is_refused_next_to_the_field(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    answer = await form_post(pages, event.slug, **person(commune="Atlantis"))
    assert answer.status_code == 422
    error = re.search(r'<p class="field-error" id="f-commune-error">.*?</p>', answer.text, re.S).group(0)
    assert "Escolha uma comuna da lista" in html.unescape(error) or "Choisissez une commune" in html.unescape(error)


async def test_rate_limited_registration_says_so_with_retry_after(conn, settings) -> None:
    strict = msgspec.structs.replace(settings, rate_limit_per_address=1)
    event = await create_event(conn, settings)
    async with client_for(app_on(strict, conn)) as pages:
        assert (await form_post(pages, event.slug, **person())).status_code == 303
        page = await pages.get(f"/events/{event.slug}", params={"lang": "en"})
        answer = await pages.post(
            f"/events/{event.slug}/register?lang=en", data={"csrf_token": csrf_token(page), **person()}
        )
    assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
    assert "many registrations from your connection" in text_of(answer)


async def test_registration_closed_in_the_meantime_is_explained(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    page = await pages.get(f"/events/{event.slug}", params={"lang": "fr"})
    await cancel_event(conn, ADMIN, event.slug, settings)
    answer = await pages.post(f"/events/{event.slug}/register", data={"csrf_token": csrf_token(page), **person()})
    assert answer.status_code == 409 and "Cet événement est annulé." in text_of(answer)


# ---------------------------------------------------------------------------- managing


async def test_manage_confirm_shows_the_join_link_then_cancel(pages, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=3)
    token, _ = await register_and_token(pages, conn, settings, event.slug, language="fr")
    page = await pages.get(f"/r/{token}")
    assert page.headers["cache-control"] == "no-store"
    assert "en attente de votre confirmation" in text_of(page)  # the registration's language on a first visit
    assert "https://meet.example.org/room" not in page.text
    answer = await post_manage(pages, token, "confirm")
    assert answer.status_code == 303 and answer.headers["location"] == f"/r/{token}?done=confirmed&lang=fr"
    page = await pages.get(answer.headers["location"])
    assert "Merci : votre adresse e-mail est confirmée." in text_of(page)
    # the person's own join link, never the conference's
    assert "https://meet.example.org/room" not in page.text
    assert re.search(r'href="https://zesummen\.test/j/[A-Za-z0-9_-]{43}"', page.text)
    assert f'href="https://zesummen.test/api/registrations/{token}/calendar.ics"' in page.text
    assert f'href="webcal://zesummen.test/api/registrations/{token}/calendar.ics"' in page.text
    assert f'href="https://zesummen.test/events/{event.slug}.ics"' in page.text
    answer = await post_manage(pages, token, "cancel")
    assert answer.status_code == 303
    page = await pages.get(answer.headers["location"])
    assert "Votre inscription est annulée." in text_of(page) and "meet.example.org" not in page.text


async def test_confirming_a_cancelled_registration_says_why_on_its_page(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    token, _ = await register_and_token(pages, conn, settings, event.slug, language="en")
    page = await pages.get(f"/r/{token}")  # still open in another tab while the person cancels
    await post_manage(pages, token, "cancel")
    answer = await pages.post(f"/r/{token}/confirm?lang=en", data={"csrf_token": csrf_token(page)})
    assert answer.headers["location"] == f"/r/{token}?done=registration_cancelled&lang=en"
    assert "cannot be confirmed any more" in text_of(await pages.get(answer.headers["location"]))


async def test_erasing_needs_the_tick_then_wipes_the_data_and_the_link(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    token, row = await register_and_token(pages, conn, settings, event.slug, language="lb")
    refused = await post_manage(pages, token, "erase")
    assert refused.status_code == 422
    assert "Kräizt w.e.g. d'Këschtchen un" in text_of(refused)
    answer = await post_manage(pages, token, "erase", confirm_erase="yes")
    assert answer.status_code == 303 and answer.headers["location"] == "/erased?lang=lb"
    erased = await conn.fetchrow("SELECT name, email, token_hash, status FROM registrations WHERE id = $1", row["id"])
    assert (erased["name"], erased["email"], erased["token_hash"], erased["status"]) == (None, None, None, "cancelled")
    gone = await pages.get(f"/r/{token}", params={"lang": "lb"})
    assert gone.status_code == 404 and gone.headers["content-type"].startswith("text/html")
    assert "Dëse Link ass onbekannt" in text_of(gone)


async def test_manage_page_language_follows_the_choice_over_the_registration(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    token, _ = await register_and_token(pages, conn, settings, event.slug, language="pt")
    assert "A sua inscrição" in text_of(await pages.get(f"/r/{token}"))
    chosen = await pages.get(f"/r/{token}", params={"lang": "de"})
    assert "Ihre Anmeldung" in text_of(chosen) and chosen.cookies.get("lang") == "de"
    assert "Ihre Anmeldung" in text_of(await pages.get(f"/r/{token}"))  # remembered by the cookie


# ---------------------------------------------------------------------------- languages


async def test_first_visit_follows_accept_language_and_the_switcher_keeps_the_filters(pages) -> None:
    page = await pages.get(
        "/", params={"kind": "webconference"}, headers={"accept-language": "pt-PT,pt;q=0.9,en;q=0.5"}
    )
    assert '<html lang="pt">' in page.text and "Próximos eventos" in text_of(page)
    for code in ("fr", "de", "lb", "en", "pt"):
        assert f'href="/?kind=webconference&amp;lang={code}" hreflang="{code}"' in page.text
    assert 'lang="pt" aria-current="true"' in page.text
    assert '<html lang="lb">' in (await pages.get("/", params={"lang": "lb"})).text


async def test_privacy_notice_in_five_languages_says_what_why_how_long_and_the_rate_limit(pages, settings) -> None:
    expected = {
        "fr": ("Ce que nous gardons", "90 jours après l'événement", "adresse internet (IP)"),
        "de": ("Was wir speichern", "90 Tage nach der Veranstaltung", "Internetadresse (IP-Adresse)"),
        "lb": ("Wat mir späicheren", "90 Deeg nom Evenement", "Internetadress (IP-Adress)"),
        "en": ("What we keep", "90 days after the event", "internet (IP) address"),
        "pt": ("O que guardamos", "90 dias depois do evento", "endereço de internet (IP)"),
    }
    for lang, sentences in expected.items():
        text = text_of(await pages.get("/privacy", params={"lang": lang}))
        for sentence in sentences:
            assert sentence in text, (lang, sentence)


# ---------------------------------------------------------------------------- errors


async def test_html_routes_answer_with_pages_and_the_api_keeps_problem_json(pages, conn, settings) -> None:
    missing = await pages.get("/events/no-such-event", params={"lang": "de"})
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")
    assert "Seite nicht gefunden" in text_of(missing)
    assert (await pages.get("/events/no-such-event/registered")).status_code == 404
    async with client_for(app_on(settings, conn)) as newcomer:
        lost = await newcomer.get("/evenements", headers={"accept-language": "lb"})
    assert lost.status_code == 404 and "Säit net fonnt" in text_of(lost)
    api = await pages.get("/api/events/no-such-event", headers={"accept": "text/html,application/json"})
    assert api.status_code == 404 and api.headers["content-type"] == "application/problem+json"
    not_allowed = await pages.put("/privacy")
    assert not_allowed.status_code == 405 and not_allowed.headers["content-type"].startswith("text/html")
    too_long = await pages.get("/r/" + "a" * 300)
    assert too_long.status_code in (400, 404) and too_long.headers["content-type"].startswith("text/html")


async def test_database_down_gives_a_503_page_not_a_500(settings, pool) -> None:
    dead = await pool.acquire()
    await pool.release(dead)
    closed = await asyncpg.connect(settings.database_url)
    await closed.close()
    async with client_for(app_on(settings, closed)) as pages:
        answer = await pages.get("/", params={"lang": "en"})
    assert answer.status_code == 503 and answer.headers["retry-after"] == "5"
    assert "The service is not available right now" in text_of(answer)


# ---------------------------------------------------------------------------- CSRF and headers


async def test_form_posts_without_a_valid_token_are_refused(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    page = await pages.get(f"/events/{event.slug}")
    token = csrf_token(page)
    wrong = await pages.post(f"/events/{event.slug}/register", data={"csrf_token": "0" * 64, **person()})
    assert wrong.status_code == 403 and wrong.headers["content-type"].startswith("text/html")
    foreign = await pages.post(
        f"/events/{event.slug}/register",
        data={"csrf_token": token, **person()},
        headers={"origin": "https://evil.example"},
    )
    assert foreign.status_code == 403
    async with client_for(app_on(settings, conn)) as stranger:  # no cookie: another site's post
        no_cookie = await stranger.post(f"/events/{event.slug}/register", data={"csrf_token": token, **person()})
    assert no_cookie.status_code == 403
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = $1", event.slug
        )
        == 0
    )
    cookie = page.cookies.get(CSRF_COOKIE) or pages.cookies.get(CSRF_COOKIE)
    assert cookie and token != cookie  # the form carries a signature of the cookie, not the cookie
    ok = await pages.post(f"/events/{event.slug}/register", data={"csrf_token": token, **person()})
    assert ok.status_code == 303


async def test_the_json_api_needs_no_cookie_and_sets_none(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    answer = await client.post(
        f"/api/events/{event.slug}/registrations",
        json={"name": "Ana", "email": "ana.api@example.org", "language": "pt", "consent": True},
    )
    assert answer.status_code == 202 and "set-cookie" not in answer.headers
    listing = await client.get("/api/events")
    assert "set-cookie" not in listing.headers and "content-security-policy" not in listing.headers


async def test_every_page_sends_the_security_headers(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    token, _ = await register_and_token(pages, conn, settings, event.slug)
    for path in ("/", f"/events/{event.slug}", f"/r/{token}", "/privacy", "/erased", "/events/missing"):
        answer = await pages.get(path)
        assert answer.headers["content-security-policy"] == CONTENT_SECURITY_POLICY, path
        assert "script-src" not in CONTENT_SECURITY_POLICY and "default-src 'none'" in CONTENT_SECURITY_POLICY
        assert "style-src 'self'" in CONTENT_SECURITY_POLICY
        assert answer.headers["x-content-type-options"] == "nosniff"
        assert answer.headers["referrer-policy"] == "same-origin"
        assert answer.headers["x-frame-options"] == "DENY"
        assert "<script" not in answer.text and " style=" not in answer.text and "<style" not in answer.text


async def test_stylesheet_is_served_under_its_content_hash_with_a_long_cache(pages) -> None:
    sheet = stylesheet()
    page = await pages.get("/")
    assert f'<link rel="stylesheet" href="{sheet.url}">' in page.text
    answer = await pages.get(sheet.url)
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/css; charset=utf-8"
    assert answer.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert answer.content == sheet.body and len(sheet.body) < 16_000
    assert (await pages.get("/static/pages-000000000000.css")).status_code == 404


async def test_hostile_text_is_escaped_everywhere(pages, conn, settings) -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    event = await create_event(
        conn, settings, title={"fr": hostile}, summary={"fr": hostile}, description={"fr": hostile}
    )
    for page in (await pages.get("/"), await pages.get(f"/events/{event.slug}")):
        assert "<script>" not in page.text and "<img src=x" not in page.text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    answer = await form_post(pages, event.slug, name=hostile, email='"><b>x@example.org', language="fr")
    assert answer.status_code == 422
    assert "<img src=x" not in answer.text and "&lt;img src=x onerror=alert(2)&gt;" in answer.text
    token, _ = await register_and_token(pages, conn, settings, event.slug, name="Ana <i>x</i>")
    managed = await pages.get(f"/r/{token}")
    assert "<script>" not in managed.text and "&lt;script&gt;" in managed.text


async def test_a_whole_series_request_lists_its_other_dates_and_can_cancel_them_all(pages, conn, settings) -> None:
    series = await create_event(
        conn,
        settings,
        kind="conversation_table",
        practised_language="fr",
        level="all",
        join_url=None,
        platform=None,
        venue="ASTI",
        commune="Luxembourg",
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=3"},
    )
    first = series.occurrences[0]
    token, row = await register_and_token(pages, conn, settings, first, language="en", whole_series="yes")
    page = await pages.get(f"/r/{token}")
    dates = re.search(r'<section class="series".*?</section>', page.text, re.S).group(0)
    assert len(re.findall(r'<li><a href="https://zesummen.test/r/[A-Za-z0-9_-]{43}">', dates)) == 2
    assert f'action="/r/{token}/cancel?lang=en&amp;whole_series=yes"' in page.text
    answer = await pages.post(f"/r/{token}/cancel?lang=en&whole_series=yes", data={"csrf_token": csrf_token(page)})
    assert answer.status_code == 303
    statuses = await conn.fetch("SELECT status FROM registrations WHERE email = $1", row["email"])
    assert [r["status"] for r in statuses] == ["cancelled"] * 3


async def test_registration_not_open_yet_says_when_it_opens(pages, conn, settings) -> None:
    opens = datetime.now(UTC) + timedelta(days=2)
    event = await create_event(conn, settings, registration_opens_at=opens.isoformat())
    text = text_of(await pages.get(f"/events/{event.slug}", params={"lang": "de"}))
    from server.i18n import format_day

    assert f"Die Anmeldung beginnt am {format_day(opens, 'Europe/Luxembourg', 'de')}." in text


def test_times_never_break_across_lines_on_a_phone() -> None:
    from server.pages.render import unbroken_times

    assert (
        unbroken_times("mardi 8 décembre 2026, 12 h 15 – 13 h 45")
        == "mardi 8 décembre 2026, 12\u00a0h\u00a015 – 13\u00a0h\u00a045"
    )
    assert unbroken_times("12:15 – 13:45 Uhr").endswith("13:45\u00a0Uhr")
    assert unbroken_times("12h15 – 13h45") == "12h15 – 13h45"
