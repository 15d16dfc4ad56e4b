"""The event editor in the back-office (issue 22): create, change, duplicate and preview through the events
service, errors next to their fields in the person's language, viewers and other organisations refused."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from tests.apps import app_on
from tests.factories import create_event, insert_registration
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_pages import csrf_token, text_of


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


class _Form(HTMLParser):
    """The values a browser would post from the page's editor form."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, object] = {}
        self._select: tuple[str, bool] | None = None
        self._textarea: str | None = None

    def _add(self, name: str, value: str, many: bool) -> None:
        if many:
            self.values.setdefault(name, []).append(value)  # type: ignore[union-attr]
        else:
            self.values[name] = value

    def handle_starttag(self, tag: str, attrs: list) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("name"):
            if a.get("type") in ("checkbox", "radio"):
                if "checked" in a:
                    self._add(a["name"], a.get("value", "on"), a["name"] in ("languages", "reminders"))
            else:
                self.values[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select = (a["name"], "multiple" in a)
            if not self._select[1]:
                self.values.setdefault(a["name"], "")
        elif tag == "option" and self._select and "selected" in a:
            self._add(self._select[0], a.get("value", ""), self._select[1])
        elif tag == "textarea":
            self._textarea = a["name"]
            self.values[a["name"]] = ""

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self.values[self._textarea] += data  # type: ignore[operator]


def form_fields(page, **changes: object) -> dict[str, object]:
    """The editor form of `page` as a browser would post it, with `changes`."""
    form = page.text.split('class="bo-editor"', 1)[1].split("</form>", 1)[0]
    parser = _Form()
    parser.feed("<form " + form)
    return {**parser.values, **changes}


def conference(token: str, **changes: str) -> dict[str, object]:
    """The editor's form of a web conference in three languages."""
    fields: dict[str, object] = {
        "csrf_token": token,
        "organisation": "asti",
        "kind": "webconference",
        "slug": "",
        "title_fr": "Les Portugais de seconde génération",
        "title_de": "Portugiesen der zweiten Generation",
        "title_pt": "Os portugueses de segunda geração",
        "summary_fr": "Leurs sentiments d'appartenance.",
        "description_fr": "Premier paragraphe.\n\nSecond paragraphe.",
        "languages": ["fr", "pt"],
        "starts_at": "2027-03-10T12:15",
        "ends_at": "2027-03-10T13:45",
        "timezone": "Europe/Luxembourg",
        "capacity": "100",
        "confirmation_required": "yes",
        "reminders": ["P1D", "PT1H"],
        "join_url": "https://meet.example.org/cefis",
        "platform": "Webex",
        "repeat": "none",
    }
    fields.update(changes)
    return fields


async def test_an_organiser_creates_a_draft_web_conference_in_three_languages(app, conn, world) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        form = await http.get("/organiser/events/new")
        assert form.status_code == 200 and 'action="/organiser/events/new"' in form.text
        done = await http.post("/organiser/events/new", data=conference(csrf_token(form)))
        assert done.status_code == 303, text_of(done)
        slug = "les-portugais-de-seconde-generation"
        assert done.headers["location"] == f"/organiser/events/{slug}?done=created"
        assert "The draft is saved." in text_of(await http.get(done.headers["location"]))
    row = await conn.fetchrow("SELECT * FROM events WHERE slug = $1", slug)
    assert row["status"] == "draft" and row["kind"] == "webconference" and row["capacity"] == 100
    assert set(row["title"]) == {"fr", "de", "pt"} and row["languages"] == ["fr", "pt"]
    assert row["description"]["fr"] == "Premier paragraphe.\n\nSecond paragraphe."
    assert row["starts_at"].isoformat() == "2027-03-10T11:15:00+00:00"
    assert row["join_url"] == "https://meet.example.org/cefis" and row["platform"] == "Webex"
    assert (
        await conn.fetchval(
            "SELECT actor_email FROM audit_log WHERE action = 'event_created' AND event_id = $1", row["id"]
        )
        == world["organiser"].email
    )


async def test_errors_are_next_to_their_fields_in_the_persons_language_and_nothing_typed_is_lost(
    app, conn, world
) -> None:
    async with signed_in(app, world["organiser"], "fr") as http:
        token = csrf_token(await http.get("/organiser/events/new"))
        refused = await http.post(
            "/organiser/events/new",
            data=conference(
                token, title_fr="", title_de="", title_pt="", capacity="douze", join_url="meet.example.org"
            ),
        )
        assert refused.status_code == 422
        assert "Veuillez écrire le titre dans au moins une langue." in text_of(refused)
        assert 'id="f-capacity-error"' in refused.text and 'value="douze"' in refused.text
        assert "commençant par https://" in text_of(refused) and 'value="meet.example.org"' in refused.text
        assert "Leurs sentiments d&#39;appartenance." in refused.text  # the summary typed is still there
        # the service's own rule (end after start) comes back next to its field too
        refused = await http.post("/organiser/events/new", data=conference(token, ends_at="2027-03-10T11:00"))
        assert refused.status_code == 422
        assert re.search(r'id="f-ends_at-error">.*La fin doit venir après le début\.', refused.text)
        assert 'value="Portugiesen der zweiten Generation"' in refused.text
    assert await conn.fetchval("SELECT count(*) FROM events") == 0


async def test_a_weekly_series_comes_from_simple_controls_and_reads_in_words(app, conn, world) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        token = csrf_token(await http.get("/organiser/events/new"))
        done = await http.post(
            "/organiser/events/new",
            data=conference(
                token,
                kind="conversation_table",
                title_fr="Table de conversation",
                title_de="",
                title_pt="",
                practised_language="fr",
                level="all",
                venue="ASTI, 10-12, rue Auguste Laval, Luxembourg",
                join_url="",
                starts_at="2026-12-01T18:30",
                ends_at="2026-12-01T20:00",
                repeat="weekly",
                until="2027-06-29",
                exceptions="22/12/2026\n2026-12-29",
            ),
        )
        assert done.status_code == 303, text_of(done)
        first = done.headers["location"].split("?")[0].rsplit("/", 1)[1]
        assert first == "table-de-conversation-2026-12-01"
        rule = await conn.fetchval("SELECT rrule FROM series WHERE slug = 'table-de-conversation'")
        assert rule == "FREQ=WEEKLY;BYDAY=TU;UNTIL=20270629"
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM events e JOIN series s ON s.id = e.series_id "
                "WHERE s.slug = 'table-de-conversation'"
            )
            == 31 - 2
        )
        page = text_of(await http.get(f"/organiser/events/{first}/edit"))
        assert "every Tuesday at 18:30 until 29 June 2027, except 22 December and 29 December." in page
        page = text_of(await http.get(f"/organiser/events/{first}"))
        assert "Part of a series: every Tuesday at 18:30 until 29 June 2027, except 22 December" in page
    async with signed_in(app, world["admin"], "de") as http:
        page = text_of(await http.get(f"/organiser/events/{first}/edit"))
        assert "jeden Dienstag um 18:30 Uhr bis zum 29. Juni 2027, außer am 22. Dezember und 29. Dezember" in page


async def test_a_change_goes_through_the_service_and_audits_only_what_differs(app, conn, settings, world) -> None:
    event = await create_event(
        conn, settings, organisation="asti", capacity=20, title={"fr": "Avant"}, languages=["fr"]
    )
    async with signed_in(app, world["organiser"], "en") as http:
        form = await http.get(f"/organiser/events/{event.slug}/edit")
        assert form.status_code == 200 and 'value="Avant"' in form.text and 'value="20"' in form.text
        # the German title is missing: the form says the public reads the French one
        assert "Empty: the public reads the Français text." in text_of(form)
        fields = form_fields(form, title_de="Vorher", capacity="30")
        done = await http.post(f"/organiser/events/{event.slug}/edit", data=fields)
        assert done.status_code == 303, text_of(done)
    row = await conn.fetchrow("SELECT * FROM events WHERE slug = $1", event.slug)
    assert row["capacity"] == 30 and row["title"] == {"fr": "Avant", "de": "Vorher"}
    detail = await conn.fetchval(
        "SELECT detail FROM audit_log WHERE action = 'event_changed' AND event_id = $1", row["id"]
    )
    assert detail == {"fields": ["capacity", "title"], "registrants_told": False}


async def test_lowering_the_places_below_the_confirmed_asks_first(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti", capacity=5, languages=["fr"])
    for _ in range(3):
        await insert_registration(conn, settings, event.slug, status="confirmed")
    async with signed_in(app, world["organiser"], "en") as http:
        form = await http.get(f"/organiser/events/{event.slug}/edit")
        fields = form_fields(form, capacity="2")
        refused = await http.post(f"/organiser/events/{event.slug}/edit", data=fields)
        assert refused.status_code == 422 and "3 people are confirmed" in text_of(refused)
        assert 'name="force"' in refused.text
        done = await http.post(f"/organiser/events/{event.slug}/edit", data={**fields, "force": "yes"})
        assert done.status_code == 303
    assert await conn.fetchval("SELECT capacity FROM events WHERE slug = $1", event.slug) == 2


async def test_a_duplicate_is_a_new_draft_with_a_free_address(app, conn, settings, world) -> None:
    event = await create_event(
        conn,
        settings,
        organisation="asti",
        slug="atelier",
        title={"fr": "Atelier"},
        languages=["fr"],
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=4", "exdates": []},
    )
    async with signed_in(app, world["organiser"], "en") as http:
        one = await http.get(f"/organiser/events/new?copy={event.slug}")
        assert one.status_code == 200 and 'value="atelier-2"' in one.text and 'value="Atelier"' in one.text
        assert '<option value="none" selected>' in one.text
        whole = await http.get(f"/organiser/events/new?copy={event.slug}&series=1")
        assert '<option value="weekly" selected>' in whole.text and 'name="count" type="number" value="4"' in whole.text
        fields = form_fields(whole)
        done = await http.post("/organiser/events/new", data=fields)
        assert done.status_code == 303, text_of(done)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM events e JOIN series s ON s.id = e.series_id "
            "WHERE s.slug = 'atelier-2' AND e.status = 'draft'"
        )
        == 4
    )


async def test_the_preview_is_the_public_page_in_each_language_and_sends_nothing(app, conn, settings, world) -> None:
    draft = await create_event(
        conn, settings, organisation="asti", publish=False, languages=["fr"], title={"fr": "Bientôt", "de": "Demnächst"}
    )
    async with signed_in(app, world["viewer"], "en") as http:
        german = await http.get(f"/organiser/events/{draft.slug}/preview?lang=de")
        assert german.status_code == 200 and '<h1 lang="de">Demnächst</h1>' in german.text
        assert "Anmeldung" in text_of(german) and "form-action 'none'" in german.headers["content-security-policy"]
        assert "Preview: this is how the public page will read" in text_of(german)
        portuguese = await http.get(f"/organiser/events/{draft.slug}/preview?lang=pt")
        assert '<h1 lang="fr">Bientôt</h1>' in portuguese.text and "Inscrição" in text_of(portuguese)
    async with signed_in(app, world["caritas_admin"], "en") as http:
        assert (await http.get(f"/organiser/events/{draft.slug}/preview?lang=de")).status_code == 404


async def test_a_viewer_sees_no_write_control_and_the_server_refuses_writes(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti")
    async with signed_in(app, world["viewer"], "en") as http:
        page = await http.get(f"/organiser/events/{event.slug}")
        assert "/edit" not in page.text and "copy=" not in page.text and "/preview?lang=" in page.text
        assert "/organiser/events/new" not in (await http.get("/organiser/")).text
        token = csrf_token(page)
        assert (await http.get(f"/organiser/events/{event.slug}/edit")).status_code == 403
        assert (
            await http.post(f"/organiser/events/{event.slug}/edit", data={"csrf_token": token, "capacity": "1"})
        ).status_code == 403
        assert (await http.get("/organiser/events/new")).status_code == 403
        assert (await http.post("/organiser/events/new", data=conference(token))).status_code == 403
    assert await conn.fetchval("SELECT count(*) FROM events") == 1


async def test_another_organisations_staff_get_the_same_as_a_missing_event(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti")
    async with signed_in(app, world["caritas_admin"], "en") as http:
        token = csrf_token(await http.get("/organiser/"))
        missing = await http.get("/organiser/events/no-such-event/edit")
        assert missing.status_code == 404
        for answer in (
            await http.get(f"/organiser/events/{event.slug}/edit"),
            await http.post(f"/organiser/events/{event.slug}/edit", data={"csrf_token": token}),
            await http.get(f"/organiser/events/new?copy={event.slug}"),
            await http.get(f"/organiser/events/{event.slug}/preview"),
        ):
            assert answer.status_code == 404 and text_of(answer) == text_of(missing)
        # and it cannot create an event in ASTI's name
        refused = await http.post("/organiser/events/new", data=conference(token))
        assert refused.status_code == 422 and "Please choose one of your organisations." in text_of(refused)
    assert await conn.fetchval("SELECT count(*) FROM events") == 1


async def test_a_new_time_of_a_published_event_tells_the_registered_people(app, conn, settings, world) -> None:
    event = await create_event(conn, settings, organisation="asti", languages=["fr"])
    await insert_registration(conn, settings, event.slug, status="confirmed", language="pt")
    async with signed_in(app, world["organiser"], "en") as http:
        form = await http.get(f"/organiser/events/{event.slug}/edit")
        assert "if you change its time or place, the registered people get an email" in text_of(form)
        starts, ends = form_fields(form)["starts_at"], form_fields(form)["ends_at"]
        later = {"starts_at": starts[:11] + "19:00", "ends_at": ends[:11] + "20:30"}
        done = await http.post(f"/organiser/events/{event.slug}/edit", data=form_fields(form, **later))
        assert done.status_code == 303, text_of(done)
    told = await conn.fetch(
        "SELECT o.language FROM outbox o JOIN events e ON e.id = o.event_id "
        "WHERE e.slug = $1 AND o.kind = 'event_changed'",
        event.slug,
    )
    assert [r["language"] for r in told] == ["pt"]
    assert await conn.fetchval(
        "SELECT detail FROM audit_log a JOIN events e ON e.id = a.event_id "
        "WHERE e.slug = $1 AND a.action = 'event_changed'",
        event.slug,
    ) == {"fields": ["ends_at", "starts_at"], "registrants_told": True}


async def test_the_series_typed_reads_in_words_before_anything_is_created(app, conn, world) -> None:
    async with signed_in(app, world["organiser"], "fr") as http:
        token = csrf_token(await http.get("/organiser/events/new"))
        checked = await http.post(
            "/organiser/events/new",
            data=conference(
                token,
                starts_at="2027-01-12T18:30",
                ends_at="2027-01-12T20:00",
                repeat="monthly",
                count="6",
                exceptions="09/03/2027",
                check_series="yes",
            ),
        )
        assert checked.status_code == 200
        assert "La série : chaque deuxième mardi du mois à 18 h 30, 6 dates, sauf le 9 mars." in checked.text.replace(
            "\u00a0", " "
        )
        assert '<option value="monthly" selected>' in checked.text and 'value="09/03/2027"' not in checked.text
        assert "09/03/2027</textarea>" in checked.text  # what was typed stays
    assert await conn.fetchval("SELECT count(*) FROM events") == 0


async def test_no_event_gets_an_address_word_of_the_back_office_as_its_slug(app, conn, world) -> None:
    """An event titled "New" is not given /organiser/events/new, which is the form of a new event."""
    async with signed_in(app, world["organiser"], "en") as http:
        token = csrf_token(await http.get("/organiser/events/new"))
        done = await http.post(
            "/organiser/events/new", data=conference(token, title_fr="New", title_de="", title_pt="")
        )
        assert done.status_code == 303, text_of(done)
        assert done.headers["location"] == "/organiser/events/new-2?done=created"
        assert "New" in text_of(await http.get("/organiser/events/new-2"))
        assert 'action="/organiser/events/new"' in (await http.get("/organiser/events/new")).text
        # asked for, the word is refused next to the field with a free address, nothing typed lost
        asked = await http.post(
            "/organiser/events/new", data=conference(token, slug="new", title_fr="Atelier", title_pt="")
        )
        assert asked.status_code in (409, 422) and "‘new-3’ is free" in text_of(asked)
        assert 'value="Atelier"' in asked.text
        for word in ("edit", "preview"):
            taken = await http.post("/organiser/events/new", data=conference(token, slug=word))
            assert f"‘{word}-2’ is free" in text_of(taken)
    assert await conn.fetchval("SELECT count(*) FROM events WHERE slug IN ('new', 'edit', 'preview')") == 0


async def _series(http, conn) -> list[str]:
    """A weekly table on Tuesdays at 18:30 from 1 December 2026 to 30 March 2027 (summer time from 28 March)."""
    token = csrf_token(await http.get("/organiser/events/new"))
    fields = conference(
        token,
        kind="conversation_table",
        title_fr="Table du mardi",
        title_de="",
        title_pt="",
        practised_language="fr",
        level="all",
        venue="ASTI, Luxembourg",
        join_url="",
        starts_at="2026-12-01T18:30",
        ends_at="2026-12-01T20:00",
        repeat="weekly",
        until="2027-03-30",
    )
    assert (await http.post("/organiser/events/new", data=fields)).status_code == 303
    return [
        r["slug"]
        for r in await conn.fetch(
            "SELECT e.slug FROM events e JOIN series s ON s.id = e.series_id WHERE s.slug = 'table-du-mardi' "
            "ORDER BY e.starts_at"
        )
    ]


async def _local_times(conn, slugs: list[str]) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT to_char(starts_at AT TIME ZONE 'Europe/Luxembourg', 'HH24:MI') AS s, "
        "to_char(ends_at AT TIME ZONE 'Europe/Luxembourg', 'HH24:MI') AS e, venue FROM events "
        "WHERE slug = ANY($1::text[]) ORDER BY starts_at",
        slugs,
    )
    return [(r["s"], r["e"], r["venue"]) for r in rows]


async def test_a_change_applies_to_one_date_or_to_it_and_every_later_date_of_its_series(
    app, conn, settings, world
) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        dates = await _series(http, conn)
        assert len(dates) == 18
        form = await http.get(f"/organiser/events/{dates[2]}/edit")
        assert "Apply the changes to" in text_of(form) and 'value="one" checked' in form.text
        # one date only (the default): the others keep their time and place
        one = form_fields(form, venue="CLAE, Luxembourg")
        assert one["scope"] == "one"
        assert (await http.post(f"/organiser/events/{dates[2]}/edit", data=one)).status_code == 303
        assert await _local_times(conn, dates[1:4]) == [
            ("18:30", "20:00", "ASTI, Luxembourg"),
            ("18:30", "20:00", "CLAE, Luxembourg"),
            ("18:30", "20:00", "ASTI, Luxembourg"),
        ]
        # the fifth date and all later ones: half an hour later, in another place, across summer time
        form = await http.get(f"/organiser/events/{dates[4]}/edit")
        starts = form_fields(form)["starts_at"]
        assert starts == "2026-12-29T18:30"
        following = form_fields(
            form, scope="following", starts_at="2026-12-29T19:00", ends_at="2026-12-29T20:30", venue="Kulturhaus"
        )
        done = await http.post(f"/organiser/events/{dates[4]}/edit", data=following)
        assert done.status_code == 303, text_of(done)
    times = await _local_times(conn, dates)
    assert times[:4] == [("18:30", "20:00", "ASTI, Luxembourg")] * 2 + [
        ("18:30", "20:00", "CLAE, Luxembourg"),
        ("18:30", "20:00", "ASTI, Luxembourg"),
    ]
    assert times[4:] == [("19:00", "20:30", "Kulturhaus")] * 14  # 30 March 2027 included (summer time)
    days = await conn.fetch(
        "SELECT (starts_at AT TIME ZONE 'Europe/Luxembourg')::date AS d FROM events WHERE slug = ANY($1::text[]) "
        "ORDER BY starts_at",
        dates,
    )
    assert all(d["d"].isoweekday() == 2 for d in days)  # still Tuesdays
    changed = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'event_changed' AND actor_email = $1", world["organiser"].email
    )
    assert changed == 1 + 14  # one row per date changed


async def test_a_series_change_is_all_or_nothing(app, conn, settings, world) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        dates = await _series(http, conn)
        # three people on the last date: lowering every later date to two places is refused there
        await conn.execute("UPDATE events SET capacity = 10 WHERE slug = ANY($1::text[])", dates)
        for n in range(3):
            await insert_registration(conn, settings, dates[-1], status="confirmed", name=f"P{n}", email=f"p{n}@ex.org")
        form = await http.get(f"/organiser/events/{dates[10]}/edit")
        refused = await http.post(
            f"/organiser/events/{dates[10]}/edit", data=form_fields(form, scope="following", capacity="2")
        )
        assert refused.status_code == 422 and 'value="following" checked' in refused.text
    assert await conn.fetchval("SELECT count(*) FROM events WHERE slug = ANY($1::text[]) AND capacity = 2", dates) == 0
