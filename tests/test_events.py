"""The events domain: public list and detail, localisation, organiser API, roles, series, validation."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from litestar.serialization import encode_json

from server.events.controllers import provide_filters
from server.events.listing import list_public
from server.events.recurrence import expand_recurrence
from server.i18n import format_when, localise, negotiate_language
from server.organisers.service import accept_invitation, invitation_token
from tests.factories import auth, create_event, create_organisation, create_organiser, event_body

LUX = ZoneInfo("Europe/Luxembourg")


# ---------------------------------------------------------------- localisation


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("fr", "mercredi 11 novembre 2026, 12 h 15 – 13 h 45"),
        ("de", "Mittwoch, 11. November 2026, 12:15 – 13:45 Uhr"),
        ("lb", "Mëttwoch, 11. November 2026, 12:15 – 13:45 Auer"),
        ("en", "Wednesday, 11 November 2026, 12:15 – 13:45"),
        ("pt", "quarta-feira, 11 de novembro de 2026, 12h15 – 13h45"),
    ],
)
def test_when_is_written_as_each_language_writes_it(lang: str, expected: str) -> None:
    start = datetime(2026, 11, 11, 11, 15, tzinfo=UTC)  # 12:15 in Luxembourg (winter)
    assert format_when(start, start + timedelta(minutes=90), "Europe/Luxembourg", lang) == expected


def test_when_uses_the_event_time_zone_in_summer() -> None:
    start = datetime(2026, 6, 10, 10, 15, tzinfo=UTC)  # 12:15 CEST
    assert format_when(start, start + timedelta(minutes=90), "Europe/Luxembourg", "fr").endswith("12 h 15 – 13 h 45")


def test_fallback_follows_event_languages_then_fr_de_en() -> None:
    text = {"de": "Deutsch", "en": "English", "pt": "Português"}
    assert localise(text, "lb", ["pt"]) == ("Português", "pt")
    assert localise(text, "lb", []) == ("Deutsch", "de")
    assert localise({"en": "English", "pt": "Português"}, "fr", []) == ("English", "en")
    assert localise(text, "en", ["pt"]) == ("English", "en")


def test_language_negotiation_prefers_query_then_accept_language() -> None:
    assert negotiate_language("pt", "de") == "pt"
    assert negotiate_language(None, "en-GB,en;q=0.9,de;q=0.8") == "en"
    assert negotiate_language(None, "es, lb;q=0.5, de;q=0.7") == "de"
    assert negotiate_language("xx", "nl") == "fr"
    assert negotiate_language(None, "de;q=nonsense, pt;q=0.1") == "pt"


@pytest.mark.parametrize("lang", ["fr", "de", "lb", "en", "pt"])
async def test_public_event_is_localised_in_every_language(client, conn, settings, lang: str) -> None:
    titles = {
        "fr": "Les Portugais",
        "de": "Die Portugiesen",
        "lb": "D'Portugisen",
        "en": "The Portuguese",
        "pt": "Os Portugueses",
    }
    event = await create_event(conn, settings, title=titles, languages=["fr", "pt"])
    response = await client.get(f"/api/events/{event.slug}", params={"lang": lang})
    assert response.status_code == 200
    body = response.json()
    assert body["title"] == titles[lang]
    assert body["lang"] == lang
    assert body["when"] == format_when(event.starts_at, event.ends_at, "Europe/Luxembourg", lang)


async def test_missing_translation_falls_back_to_the_event_language(client, conn, settings) -> None:
    event = await create_event(
        conn,
        settings,
        title={"pt": "Os Portugueses", "fr": "Les Portugais"},
        summary={"pt": "Resumo"},
        languages=["pt"],
    )
    body = (await client.get(f"/api/events/{event.slug}", headers={"Accept-Language": "de-DE,de;q=0.9"})).json()
    assert (body["title"], body["lang"], body["summary"]) == ("Os Portugueses", "pt", "Resumo")
    assert body["when"].startswith(format_when(event.starts_at, event.ends_at, "Europe/Luxembourg", "de")[:8])


async def test_public_answer_never_shows_the_join_link(client, conn, settings) -> None:
    event = await create_event(conn, settings, join_url="https://meet.example.org/secret-room")
    detail = await client.get(f"/api/events/{event.slug}")
    listing = await client.get("/api/events")
    assert "secret-room" not in detail.text and "secret-room" not in listing.text
    assert "join_url" not in detail.json()


async def test_public_event_carries_the_contract_fields(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=30)
    body = (await client.get(f"/api/events/{event.slug}")).json()
    for field in (
        "slug",
        "kind",
        "title",
        "summary",
        "description",
        "lang",
        "languages",
        "starts_at",
        "ends_at",
        "timezone",
        "when",
        "location",
        "commune",
        "organisation",
        "capacity",
        "seats_left",
        "registration_open",
        "status",
        "url",
        "ical_url",
        "webcal_url",
    ):
        assert field in body, field
    assert body["seats_left"] == 30 and body["registration_open"] is True
    assert body["url"] == f"https://zesummen.test/events/{event.slug}"
    assert body["webcal_url"] == f"webcal://zesummen.test/events/{event.slug}.ics"
    assert body["location"] == "Web-conférence (Webex)"
    assert datetime.fromisoformat(body["starts_at"]).utcoffset() is not None


async def test_drafts_are_not_public(client, conn, settings) -> None:
    draft = await create_event(conn, settings, publish=False)
    assert (await client.get(f"/api/events/{draft.slug}")).status_code == 404
    assert draft.slug not in (await client.get("/api/events")).text


# ---------------------------------------------------------------- list, filters, pagination


async def test_list_filters_by_kind_language_commune_organisation_and_text(client, conn, settings) -> None:
    await conn.execute("INSERT INTO communes (name, canton) VALUES ('Mersch', 'Mersch') ON CONFLICT DO NOTHING")
    web = await create_event(conn, settings, title={"fr": "Marché de l'emploi"}, languages=["de"])
    info = await create_event(
        conn,
        settings,
        kind="info_session",
        organisation="clae",
        commune="Mersch",
        venue="Centre culturel",
        title={"fr": "Bénévolat"},
        join_url=None,
        platform=None,
    )

    async def slugs(**params) -> set[str]:
        response = await client.get("/api/events", params={"limit": 100, **params})
        assert response.status_code == 200, response.text
        return {item["slug"] for item in response.json()["items"]}

    assert web.slug in await slugs(kind="webconference") and info.slug not in await slugs(kind="webconference")
    assert web.slug in await slugs(spoken="de") and info.slug not in await slugs(spoken="de")
    assert await slugs(commune="Mersch") == {info.slug}
    assert info.slug in await slugs(organisation="clae") and web.slug not in await slugs(organisation="clae")
    assert web.slug in await slugs(q="emploi") and info.slug not in await slugs(q="emploi")
    assert await slugs(q="100%_") == set()


async def test_list_searches_the_words_of_every_language_not_the_json_around_them(client, conn, settings) -> None:
    event = await create_event(
        conn,
        settings,
        title={"fr": "Table de conversation", "lb": "Schwätzdësch op Lëtzebuergesch"},
        summary={"de": 'Ein "offener" Abend'},
    )

    async def found(text: str) -> bool:
        response = await client.get("/api/events", params={"limit": 100, "q": text})
        assert response.status_code == 200, response.text
        return event.slug in {item["slug"] for item in response.json()["items"]}

    assert await found("schwätzdËsch") and await found("offener") and await found('"offener"')
    # the language keys and the JSON's punctuation are not words of the event
    assert not await found('"lb"') and not await found('": "') and not await found("Abend fr")
    # each word begins a word of the event, and no character of what is typed is query syntax
    assert await found("schwä offe") and not await found("chwätz")
    for typed in ("'", "\\", "a & b", "!:*", "(|", "' & '", "x'y"):
        assert not await found(typed)


async def test_list_pages_with_a_keyset_cursor_without_gaps_or_repeats(client, conn, settings) -> None:
    base = datetime(2031, 3, 1, 9, 0, tzinfo=UTC)
    made = []
    for day in range(7):
        start = base + timedelta(days=day // 2)  # pairs share a start: the id breaks the tie
        made.append(
            (
                await create_event(
                    conn, settings, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat()
                )
            ).slug
        )
    seen, cursor = [], None
    while True:
        params = {"limit": 3, "from": base.isoformat()}
        if cursor:
            params["cursor"] = cursor
        page = (await client.get("/api/events", params=params)).json()
        seen += [item["slug"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == made


async def test_bad_cursor_is_a_422_naming_the_field(client) -> None:
    response = await client.get("/api/events", params={"cursor": "not-a-cursor"})
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"][0]["field"] == "cursor"


# ---------------------------------------------------------------- organiser API and roles


async def test_organiser_creates_publishes_and_changes_an_event(client, conn) -> None:
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    created = await client.post("/api/organiser/events", json=event_body(), headers=auth(token))
    assert created.status_code == 201, created.text
    slug = created.json()["slug"]
    assert created.json()["status"] == "draft" and created.json()["join_url"] == "https://meet.example.org/room"
    published = await client.post(f"/api/organiser/events/{slug}/publish", headers=auth(token))
    assert published.json()["status"] == "published"
    changed = await client.patch(
        f"/api/organiser/events/{slug}", json={"title": {"fr": "Nouveau titre"}}, headers=auth(token)
    )
    assert changed.status_code == 200 and changed.json()["title"] == {"fr": "Nouveau titre"}
    assert changed.json()["revision"] == 0  # a new title is not a new time or place


async def test_moving_a_published_event_bumps_its_revision_and_queues_notices(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings)
    event_id = await conn.fetchval("SELECT id FROM events WHERE slug = $1", event.slug)
    await conn.execute(
        "INSERT INTO registrations (event_id, email, name, language, status, confirmed_at) "
        "VALUES ($1, 'ana@example.org', 'Ana', 'pt', 'confirmed', now())",
        event_id,
    )
    later = event.starts_at + timedelta(days=1)
    moved = await client.patch(
        f"/api/organiser/events/{event.slug}",
        headers=auth(token),
        json={"starts_at": later.isoformat(), "ends_at": (later + timedelta(hours=1)).isoformat()},
    )
    assert moved.status_code == 200, moved.text
    assert moved.json()["revision"] == 1
    queued = await conn.fetch("SELECT kind, language, recipient FROM outbox WHERE event_id = $1", event_id)
    assert [tuple(r) for r in queued] == [("event_changed", "pt", "ana@example.org")]


async def test_cancelling_keeps_the_event_public_as_cancelled(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "admin"})
    event = await create_event(conn, settings)
    response = await client.post(f"/api/organiser/events/{event.slug}/cancel", headers=auth(token))
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    public = (await client.get(f"/api/events/{event.slug}")).json()
    assert public["status"] == "cancelled" and public["registration_open"] is False


async def test_organiser_of_one_organisation_cannot_see_or_change_another_ones_draft(client, conn, settings) -> None:
    await create_organisation(conn, "asti")
    await create_organisation(conn, "clae")
    _, asti_token = await create_organiser(conn, {"asti": "organiser"})
    clae_draft = await create_event(conn, settings, organisation="clae", publish=False)
    headers = auth(asti_token)
    assert (await client.get(f"/api/organiser/events/{clae_draft.slug}", headers=headers)).status_code == 404
    listed = (await client.get("/api/organiser/events", headers=headers)).json()["items"]
    assert clae_draft.slug not in {item["slug"] for item in listed}
    patched = await client.patch(
        f"/api/organiser/events/{clae_draft.slug}", json={"title": {"fr": "x"}}, headers=headers
    )
    assert patched.status_code == 404
    assert (await client.post(f"/api/organiser/events/{clae_draft.slug}/publish", headers=headers)).status_code == 404
    create = await client.post("/api/organiser/events", json=event_body(organisation="clae"), headers=headers)
    assert create.status_code == 422
    assert await conn.fetchval("SELECT status FROM events WHERE slug = $1", clae_draft.slug) == "draft"


async def test_viewer_reads_but_cannot_change(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"cefis": "viewer"})
    event = await create_event(conn, settings, organisation="cefis", publish=False)
    assert (await client.get(f"/api/organiser/events/{event.slug}", headers=auth(token))).status_code == 200
    response = await client.post(f"/api/organiser/events/{event.slug}/publish", headers=auth(token))
    assert response.status_code == 403


async def test_organiser_api_needs_a_live_token(client, conn) -> None:
    assert (await client.get("/api/organiser/events")).status_code == 401
    assert (await client.get("/api/organiser/events", headers=auth("forged"))).status_code == 401
    _, token = await create_organiser(conn, {"asti": "organiser"})
    assert (await client.post("/api/organiser/logout", headers=auth(token))).status_code == 204
    assert (await client.get("/api/organiser/events", headers=auth(token))).status_code == 401


async def test_login_with_password_gives_a_token(client, conn) -> None:
    await create_organisation(conn, "caritas")
    _, admin_token = await create_organiser(conn, is_admin=True)
    made = await client.post(
        "/api/organiser/organisers",
        headers=auth(admin_token),
        json={"email": "Lena@Caritas.lu", "memberships": [{"organisation": "caritas", "role": "organiser"}]},
    )
    assert made.status_code == 201, made.text
    # she chooses her password through the invitation's link (tests/test_accounts.py goes through the mail)
    nonce = await conn.fetchval("SELECT token_nonce FROM invitations WHERE organiser_id = $1", made.json()["id"])
    await accept_invitation(conn, invitation_token("test-secret", bytes(nonce)), "correct horse battery")
    wrong = await client.post("/api/organiser/login", json={"email": "lena@caritas.lu", "password": "nope"})
    assert wrong.status_code == 401
    ok = await client.post(
        "/api/organiser/login", json={"email": "lena@caritas.lu", "password": "correct horse battery"}
    )
    assert ok.status_code == 200
    me = (await client.get("/api/organiser/me", headers=auth(ok.json()["token"]))).json()
    assert me["email"] == "lena@caritas.lu" and list(me["roles"].values()) == ["organiser"]
    hashes = await conn.fetch("SELECT token_hash FROM api_tokens")
    assert all(ok.json()["token"].encode() not in bytes(r["token_hash"]) for r in hashes)


# ---------------------------------------------------------------- series


def test_weekly_series_keeps_wall_clock_time_across_the_autumn_change() -> None:
    start = datetime(2026, 10, 13, 18, 30, tzinfo=LUX)  # CEST, UTC+2
    occurrences = expand_recurrence(
        start,
        start + timedelta(minutes=90),
        "Europe/Luxembourg",
        "FREQ=WEEKLY;COUNT=4",
        [datetime(2026, 10, 20, 18, 30, tzinfo=LUX)],
    )
    local = [s.astimezone(LUX) for s, _ in occurrences]
    assert [d.day for d in local] == [13, 27, 3]
    assert all((d.hour, d.minute) == (18, 30) for d in local)
    assert [s.utcoffset() for s in local] == [timedelta(hours=2), timedelta(hours=1), timedelta(hours=1)]
    assert all(e - s == timedelta(minutes=90) for s, e in occurrences)


def test_series_every_two_weeks_until_a_date_and_monthly() -> None:
    start = datetime(2027, 1, 5, 18, 0, tzinfo=LUX)
    fortnightly = expand_recurrence(
        start, start + timedelta(hours=1), "Europe/Luxembourg", "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270301T000000Z", []
    )
    assert [s.astimezone(LUX).day for s, _ in fortnightly] == [5, 19, 2, 16]
    monthly = expand_recurrence(start, start + timedelta(hours=1), "Europe/Luxembourg", "FREQ=MONTHLY;COUNT=3", [])
    assert [s.astimezone(LUX).month for s, _ in monthly] == [1, 2, 3]
    # a date alone is that whole day: the evening of 16 February is still "until 16 February"
    until_day = expand_recurrence(
        start, start + timedelta(hours=1), "Europe/Luxembourg", "FREQ=WEEKLY;INTERVAL=2;UNTIL=20270216", []
    )
    assert [s.astimezone(LUX).day for s, _ in until_day] == [5, 19, 2, 16]


async def test_series_creates_one_event_per_occurrence_with_its_own_capacity(client, conn) -> None:
    _, token = await create_organiser(conn, {"clae": "organiser"})
    start = datetime(2026, 10, 20, 18, 30, tzinfo=LUX)
    body = event_body(
        kind="conversation_table",
        organisation="clae",
        practised_language="fr",
        level="all",
        join_url=None,
        platform=None,
        venue="26, rue de Gasperich, Luxembourg",
        capacity=8,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(minutes=90)).isoformat(),
        title={"fr": "Table de conversation en français"},
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=3", "exdates": []},
    )
    response = await client.post("/api/organiser/events", json=body, headers=auth(token))
    assert response.status_code == 201, response.text
    occurrences = response.json()["occurrences"]
    assert occurrences == [
        "table-de-conversation-en-francais-2026-10-20",
        "table-de-conversation-en-francais-2026-10-27",
        "table-de-conversation-en-francais-2026-11-03",
    ]
    rows = await conn.fetch(
        "SELECT starts_at, capacity, recurrence_id FROM events WHERE slug = ANY($1) ORDER BY starts_at", occurrences
    )
    assert [r["starts_at"].astimezone(LUX).hour for r in rows] == [18, 18, 18]
    assert all(r["capacity"] == 8 and r["recurrence_id"] == r["starts_at"] for r in rows)
    await client.post(f"/api/organiser/events/{occurrences[0]}/publish", headers=auth(token))
    statuses = await conn.fetch("SELECT status FROM events WHERE slug = ANY($1)", occurrences)
    assert {r["status"] for r in statuses} == {"published"}
    # one occurrence is cancelled on its own
    await client.post(f"/api/organiser/events/{occurrences[1]}/cancel", headers=auth(token))
    statuses = dict(await conn.fetch("SELECT slug, status FROM events WHERE slug = ANY($1)", occurrences))
    assert statuses == {occurrences[0]: "published", occurrences[1]: "cancelled", occurrences[2]: "published"}


@pytest.mark.parametrize(
    "rule", ["FREQ=DAILY;COUNT=3", "FREQ=WEEKLY", "FREQ=WEEKLY;COUNT=5000", "FREQ=WEEKLY;COUNT=x", "garbage"]
)
async def test_unsupported_recurrence_is_a_422(client, conn, rule: str) -> None:
    _, token = await create_organiser(conn, {"clae": "organiser"})
    body = event_body(organisation="clae", recurrence={"rrule": rule})
    response = await client.post("/api/organiser/events", json=body, headers=auth(token))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "recurrence.rrule"


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"unknown": 1}, "unknown"),
        ({"capacity": "ten"}, "capacity"),
        ({"capacity": -1}, "capacity"),
        ({"kind": "party"}, "kind"),
        ({"title": {}}, "title"),
        ({"title": {"xx": "?"}}, "title"),
        ({"languages": []}, "languages"),
        ({"starts_at": "2026-11-11T12:15:00"}, "starts_at"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"topics": ["x"] * 10_000}, "topics"),
        ({"commune": "Atlantis"}, "commune"),
        ({"join_url": "javascript:alert(1)"}, "join_url"),
        ({"reminders": ["P-1D"]}, "reminders"),
    ],
)
async def test_bad_event_fields_are_422s_that_name_the_field(client, conn, change: dict, field: str) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    response = await client.post("/api/organiser/events", json=event_body(**change), headers=auth(token))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["status"] == 422 and problem["title"]
    assert any(field in error["field"] or field in error["message"] for error in problem["errors"]), problem


async def test_end_before_start_is_refused(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    body = event_body()
    body["ends_at"], body["starts_at"] = body["starts_at"], body["ends_at"]
    response = await client.post("/api/organiser/events", json=body, headers=auth(token))
    assert response.status_code == 422
    assert response.json()["errors"] == [{"field": "ends_at", "message": "The end must come after the start."}]


async def test_huge_bodies_are_refused_before_parsing(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    body = event_body(title={"fr": "x" * 5_000_000})
    response = await client.post("/api/organiser/events", json=body, headers=auth(token))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_long_title_is_refused(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    response = await client.post(
        "/api/organiser/events", json=event_body(title={"fr": "x" * 1000}), headers=auth(token)
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "title.fr"


async def test_malformed_json_is_a_4xx_problem(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    response = await client.post(
        "/api/organiser/events", content=b"{not json", headers={**auth(token), "content-type": "application/json"}
    )
    assert 400 <= response.status_code < 500
    assert response.headers["content-type"].startswith("application/problem+json")


async def test_unknown_route_is_a_problem_404(client) -> None:
    response = await client.get("/api/nothing-here")
    assert response.status_code == 404 and response.json()["status"] == 404


# ---------------------------------------------------------------- probes and schema


async def test_health_and_readiness(client) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    assert (await client.get("/readyz")).json() == {"status": "ready"}


async def test_openapi_schema_lists_every_endpoint(client) -> None:
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    # every URL of API.md but the HTML pages
    for path in (
        "/api/events",
        "/api/events/{slug}",
        "/api/events/{slug}/registrations",
        "/api/registrations/{token}",
        "/api/registrations/{token}/confirm",
        "/api/registrations/{token}/calendar.ics",
        "/calendar.ics",
        "/events/{slug}.ics",
        "/api/organiser/events",
        "/api/organiser/events/{slug}",
        "/api/organiser/events/{slug}/publish",
        "/api/organiser/events/{slug}/cancel",
        "/api/organiser/events/{slug}/registrations",
        "/api/organiser/registrations/{registration_id}",
        "/api/organiser/events/{slug}/registrations.csv",
        "/api/organiser/events/{slug}/stats",
        "/healthz",
        "/readyz",
    ):
        assert path in paths, path
    assert set(paths["/api/registrations/{token}"]) >= {"get", "delete"}


async def test_list_shows_each_change_at_once_despite_its_cache(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, capacity=3, title={"fr": "Avant"})

    async def listed() -> dict:
        items = (await client.get("/api/events", params={"limit": 100})).json()["items"]
        return next(item for item in items if item["slug"] == event.slug)

    assert (await listed())["title"] == "Avant"
    # same transaction as the first read: a version that only a commit could change would miss it
    await client.patch(f"/api/organiser/events/{event.slug}", json={"title": {"fr": "Après"}}, headers=auth(token))
    assert (await listed())["title"] == "Après"
    await conn.execute(
        "INSERT INTO registrations (event_id, email, name, language, status, confirmed_at) "
        "SELECT id, 'ana@example.org', 'Ana', 'pt', 'confirmed', now() FROM events WHERE slug = $1",
        event.slug,
    )
    assert (await listed())["seats_left"] == 2
    await conn.execute("UPDATE organisations SET name = 'ASTI asbl' WHERE slug = 'asti'")
    assert (await listed())["organisation"]["name"] == "ASTI asbl"


async def test_list_answer_is_the_page_as_litestar_would_encode_it(client, conn, settings) -> None:
    # the API sends items encoded once per version; they must be the bytes of list_public's structs
    await create_event(
        conn,
        settings,
        kind="conversation_table",
        practised_language="lb",
        level="all",
        venue="10, rue Auguste Laval",
        commune="Esch-sur-Alzette",
        languages=["fr", "lb"],
        join_url=None,
        platform=None,
        title={"fr": "Table 100 % « lëtzebuergesch »"},
        capacity=None,
    )
    for n in range(4):
        await create_event(conn, settings, capacity=2 + n, title={"fr": f"Conférence_{n}", "de": f"Konferenz {n}"})
    cases = [
        ({}, "fr"),
        ({"kind": "webconference"}, "de"),
        ({"q": "100 %"}, "lb"),
        ({"q": "konfer"}, "fr"),
        ({"spoken": "lb", "commune": "Esch-sur-Alzette"}, "en"),
        ({"organisation": "asti", "limit": 2}, "pt"),
        ({"to": (datetime.now(UTC) + timedelta(days=30)).isoformat()}, "fr"),
    ]
    for query, lang in cases:
        answer = await client.get("/api/events", params={**query, "lang": lang})
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        values = {k: v for k, v in query.items() if k != "limit"}
        filters = provide_filters(
            *(values.get(name) for name in ("kind", "spoken", "commune", "organisation", "from", "to", "q"))
        )
        page = await list_public(conn, filters, lang, settings, limit=query.get("limit", 20), cursor=None)
        assert answer.content == encode_json(page), query
        assert page.items, query
    first = (await client.get("/api/events", params={"limit": 2})).json()
    second = await client.get("/api/events", params={"limit": 2, "cursor": first["next_cursor"]})
    page = await list_public(conn, provide_filters(*[None] * 7), "fr", settings, limit=2, cursor=first["next_cursor"])
    assert second.content == encode_json(page) and page.items[0].slug not in [i["slug"] for i in first["items"]]


async def test_list_shows_registration_closing_by_the_clock_despite_its_cache(client, conn, settings) -> None:
    # no row changes when a registration window shuts: the cached JSON must not say it is still open
    closes = datetime.now(UTC) + timedelta(seconds=0.5)
    event = await create_event(conn, settings, registration_closes_at=closes.isoformat())

    async def listed() -> dict:
        items = (await client.get("/api/events", params={"limit": 100})).json()["items"]
        return next(item for item in items if item["slug"] == event.slug)

    assert (await listed())["registration_open"] is True
    await asyncio.sleep(max(0.0, (closes - datetime.now(UTC)).total_seconds()) + 0.05)
    assert (await listed())["registration_open"] is False


async def test_text_postgresql_cannot_store_is_a_422(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    response = await client.post(
        "/api/organiser/events", json=event_body(title={"fr": "nul\u0000"}), headers=auth(token)
    )
    # refused by the schema's check of control characters before PostgreSQL would refuse it
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "title.fr"
    listing = await client.get("/api/events", params={"organisation": "a\u0000"})
    assert listing.status_code == 422


async def test_body_types_are_not_coerced(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    for change, field in (
        ({"online": 0}, "online"),
        ({"capacity": "12"}, "capacity"),
        ({"starts_at": 1800000000}, "starts_at"),
    ):
        response = await client.post("/api/organiser/events", json=event_body(**change), headers=auth(token))
        assert response.status_code == 422, (change, response.text)
        assert response.json()["errors"][0]["field"] == field


async def test_query_instants_must_be_rfc3339(client) -> None:
    assert (await client.get("/api/events", params={"to": "0.5"})).status_code == 422
    assert (await client.get("/api/events", params={"to": "2027-02-30T10:00:00Z"})).json()["errors"][0]["field"] == "to"
    assert (await client.get("/api/events", params={"to": "2027-02-28T10:00:00+01:00"})).status_code == 200


async def test_options_lists_every_method_of_the_path(client) -> None:
    response = await client.options("/api/organiser/events/any-slug")
    assert response.headers["allow"] == "GET, OPTIONS, PATCH"


async def test_a_bad_query_value_is_named_as_the_client_wrote_it(client) -> None:
    response = await client.get("/api/events", params={"from": "yesterday"})
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "from"
