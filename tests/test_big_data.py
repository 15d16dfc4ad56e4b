"""What the queries tuned for a big database (bench/bench_bigdata.py, migrations 0009 and 0011) rely
on and must still do, checked on a few rows: the 31-day rule, the running events before the coming
ones, searches giving the right events in order (through the words' index or the list's),
a registration that leaves the event's row alone, filters combined with the cursor, waiting-list
places on the organisers' pages."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from server.events import queries as q
from tests.factories import auth, create_event, create_organiser, registration_body


async def test_list_shows_a_month_long_event_that_started_weeks_ago(client, conn, settings) -> None:
    # the longest event there may be, running for weeks, is found among the running ones (0011)
    start = (datetime.now(UTC) - timedelta(days=30)).replace(microsecond=0)
    running = await create_event(
        conn,
        settings,
        title={"fr": "Exposition Zesummen"},
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(days=31)).isoformat(),
    )
    answer = await client.get("/api/events", params={"q": "Exposition Zesummen"})
    assert [item["slug"] for item in answer.json()["items"]] == [running.slug]


async def test_list_gives_the_running_events_then_the_coming_ones_page_by_page(client, conn, settings) -> None:
    # the page is read in two parts (events running now, events starting later): one order, no seams
    now = datetime.now(UTC).replace(microsecond=0)

    async def event(starts: timedelta, lasts: timedelta, kind: str = "webconference") -> str:
        body = {
            "title": {"fr": "Zesummen Moment"},
            "starts_at": (now + starts).isoformat(),
            "ends_at": (now + starts + lasts).isoformat(),
        }
        if kind == "info_session":
            body |= {"kind": kind, "commune": "Mersch", "venue": "Centre culturel", "join_url": None, "platform": None}
        return (await create_event(conn, settings, **body)).slug

    ended = await event(-timedelta(hours=3), timedelta(hours=2))  # an hour ago
    since_days = await event(-timedelta(days=2), timedelta(days=3))
    since_hour = await event(-timedelta(hours=1), timedelta(hours=2), kind="info_session")
    tomorrow = await event(timedelta(days=1), timedelta(hours=2))
    later = await event(timedelta(days=2), timedelta(hours=2), kind="info_session")

    async def walk(**params) -> list[str]:
        slugs, cursor = [], None
        while True:
            page = (
                await client.get(
                    "/api/events",
                    params={"q": "Zesummen Moment", "limit": 1, **params, **({"cursor": cursor} if cursor else {})},
                )
            ).json()
            slugs += [item["slug"] for item in page["items"]]
            if not (cursor := page["next_cursor"]):
                return slugs

    assert await walk() == [since_days, since_hour, tomorrow, later]
    assert await walk(limit=3) == [since_days, since_hour, tomorrow, later]
    assert await walk(kind="info_session") == [since_hour, later]
    # from two hours ago: what was running then (the one ended since too), then what came after
    two_hours_ago = (now - timedelta(hours=2)).isoformat()
    assert await walk(**{"from": two_hours_ago}) == [since_days, ended, since_hour, tomorrow, later]


async def walk(client, **params) -> list[list[str]]:
    """Every page of /api/events for these parameters, as slugs."""
    pages, cursor = [], None
    while True:
        page = (await client.get("/api/events", params={**params, **({"cursor": cursor} if cursor else {})})).json()
        pages.append([item["slug"] for item in page["items"]])
        if not (cursor := page["next_cursor"]):
            return pages


async def make(conn, settings, start: datetime, hours: int, title: dict[str, str], **fields) -> str:
    """An event starting `hours` after `start`, lasting half an hour; its slug."""
    return (
        await create_event(
            conn,
            settings,
            title=title,
            **fields,
            starts_at=(start + timedelta(hours=hours)).isoformat(),
            ends_at=(start + timedelta(hours=hours, minutes=30)).isoformat(),
        )
    ).slug


async def test_a_search_finds_the_events_whose_words_begin_with_those_typed_in_order(client, conn, settings) -> None:
    start = datetime(2032, 1, 5, 12, tzinfo=UTC)  # past every other test's events
    titles = [
        {"fr": "Table de conversation", "de": "Tischgespräch"},
        {"fr": "Tableau d'honneur"},
        {"en": "O'Brien's back\\slash"},
        {"pt": "Mesa de conversação"},
        {"fr": "Bientôt l'été"},
    ]
    slugs = [
        await make(conn, settings, start, n, title, summary={"lb": "Zesummen am Quartier"})
        for n, title in enumerate(titles)
    ]
    expected = {
        "tab": [0, 1],
        "TABLE": [0, 1],
        "table conv": [0],
        "tisch": [0],
        "o'brien": [2],
        "brien": [2],
        "back\\sl": [2],
        "conversação": [3],
        "convers": [0, 3],
        "bient": [4],
        "bientot": [],
        "été": [4],
        "quartier": [0, 1, 2, 3, 4],
        "table quartier": [0, 1],
        "nowordlikethis": [],
        "table nowordlikethis": [],
        "!?": [],
        "&|:*": [],
        # what the index keeps the words under (the kind, a spoken language, "any") is no word (0038)
        "webconference": [],
        "spoken=fr": [],
        "webconference/table": [],
        "fr": [],
        "any": [],
        "any/table": [],
        "lb/zesummen": [],
    }
    for typed, wanted in expected.items():
        pages = await walk(client, q=typed, **{"from": start.isoformat()}, limit=2)
        assert [slug for page in pages for slug in page] == [slugs[n] for n in wanted], typed
    # a word a title takes later is found as soon as the change is made
    await conn.execute("""UPDATE events SET title = '{"fr": "Nopeschfest Zesummen"}' WHERE slug = $1""", slugs[3])
    assert await walk(client, q="nopesch", **{"from": start.isoformat()}) == [[slugs[3]]]


async def test_a_search_with_filters_pages_through_the_events_passing_all_of_them(client, conn, settings) -> None:
    # a word common among the conversation tables, which the filters may exclude, and a rare one
    start = datetime(2031, 9, 1, 17, tzinfo=UTC)
    table = {
        "kind": "conversation_table",
        "practised_language": "lb",
        "level": "all",
        "venue": "10, rue Auguste Laval",
        "commune": "Esch-sur-Alzette",
        "join_url": None,
        "platform": None,
        "capacity": None,
    }
    tables = [await make(conn, settings, start, n, {"fr": f"Tischgespräch {n}"}, **table) for n in range(7)]
    online = await make(conn, settings, start, 30, {"fr": "Tischgespräch online"})
    other = await make(conn, settings, start, 31, {"fr": "Sonnenfest"})
    since = {"from": start.isoformat()}
    assert await walk(client, q="tischgespräch", **since, limit=3) == [tables[0:3], tables[3:6], [tables[6], online]]
    assert await walk(client, q="tischg", kind="webconference", **since, limit=1) == [[online]]
    assert await walk(client, q="tischg", kind="conversation_table", **since, limit=5) == [tables[0:5], tables[5:]]
    assert await walk(client, q="tischg", commune="Esch-sur-Alzette", **since, limit=10) == [tables]
    assert await walk(client, q="tischg", spoken="fr", kind="webconference", **since) == [[online]]
    assert await walk(client, q="tischg", spoken="pt", **since) == [[]]
    assert await walk(client, q="sonnen", **since) == [[other]]
    assert await walk(client, q="sonnen", kind="conversation_table", **since) == [[]]
    upto = (start + timedelta(hours=3)).isoformat()
    assert await walk(client, q="tischg", to=upto, **since, limit=2) == [tables[0:2], tables[2:3]]


async def explained(conn, start: datetime, filters: dict[str, str]) -> str:
    """What the public list's page for these filters from `start` ran, as the service runs a search."""
    given = tuple(name for name in q.PUBLIC_FILTERS if name in filters)
    await conn.execute("SET LOCAL plan_cache_mode = force_custom_plan")
    rows = await conn.fetch(
        "EXPLAIN (ANALYZE, COSTS OFF) " + q.public_event_page(given),
        start,
        None,
        None,
        21,
        *(filters[name] for name in given),
    )
    return "\n".join(r[0] for r in rows)


def ran(plan: str, node: str) -> bool:
    """Whether a node of the plan holding `node` was executed."""
    return any(node in line and "never executed" not in line for line in plan.splitlines())


async def test_a_common_word_is_read_in_list_order_and_a_rare_one_found_through_the_words_index(conn, settings) -> None:
    start = datetime.now(UTC) + timedelta(days=400)
    made = await create_event(conn, settings)
    organisation = await conn.fetchval("SELECT organisation_id FROM events WHERE slug = $1", made.slug)
    await conn.execute(
        """
        INSERT INTO events (slug, organisation_id, kind, status, title, summary, description, languages, starts_at,
                            ends_at, timezone, join_url, platform)
        SELECT 'bulk-' || n, $2::bigint, 'webconference', 'published',
               jsonb_build_object('fr', 'Table ronde ' || n || CASE WHEN n % 1000 = 77 THEN ' Nopeschfest' ELSE '' END),
               '{"fr": "Zesummen"}', '{"fr": "Zesummen"}', '{fr}', $1::timestamptz + n * interval '1 hour',
               $1::timestamptz + n * interval '1 hour' + interval '30 minutes', 'Europe/Luxembourg',
               'https://meet.example.lu/x', 'Jitsi'
        FROM generate_series(1, 3000) n""",
        start,
        organisation,
    )
    await conn.execute("ANALYZE events")
    # A few thousand rows are read whole more cheaply than through an index; on the big database
    # of bench/bench_bigdata.py they are not, and the choice is between the list's and the words' index.
    await conn.execute("SET LOCAL enable_seqscan = off")
    # The planner alone chooses, from the statistics of the words' column (migration 0038).
    # Every coming event holds "table", in French: the list read in order, the words' index never asked.
    in_order = "Index Scan using events_public_page_idx"
    for filters in ({"q": "table"}, {"spoken": "fr", "q": "table"}, {"kind": "webconference", "q": "table"}):
        common = await explained(conn, start, filters)
        assert ran(common, in_order) and not ran(common, "events_search_idx"), common
    # Three of them hold "Nopeschfest", none among the first ones; no event holds "table" with the
    # kind or the language asked: none is read in list order through the events that do not match
    for filters in ({"q": "nopesch"}, {"kind": "conversation_table", "q": "table"}, {"spoken": "pt", "q": "table"}):
        found = await explained(conn, start, filters)
        assert not ran(found, in_order), found
    # each gives the events in order
    page = q.public_event_page(("q",))
    assert [r["starts_at"] for r in await conn.fetch(page, start, None, None, 3, "table ronde")] == [
        start + timedelta(hours=n) for n in (1, 2, 3)
    ]
    assert [r["starts_at"] for r in await conn.fetch(page, start, None, None, 5, "nopesch")] == [
        start + timedelta(hours=n) for n in (77, 1077, 2077)
    ]
    by_kind = q.public_event_page(("kind", "q"))
    assert await conn.fetch(by_kind, start, None, None, 5, "conversation_table", "table") == []
    by_language = q.public_event_page(("spoken", "q"))
    assert await conn.fetch(by_language, start, None, None, 5, "pt", "table") == []
    assert len(await conn.fetch(by_language, start, None, None, 5, "fr", "table")) == 5


async def test_a_search_with_a_kind_or_a_language_finds_what_each_condition_alone_finds(client, conn, settings) -> None:
    # the words are kept under the kind and the spoken languages (migration 0038): the search of
    # each combination gives the events a plain reading of the words, the kind and the languages gives
    start = datetime(2033, 3, 1, 9, tzinfo=UTC)  # past every other test's events
    made = await create_event(conn, settings)
    organisation = await conn.fetchval("SELECT organisation_id FROM events WHERE slug = $1", made.slug)
    kinds = ["webconference", "conversation_table", "info_session"]
    language_sets = [["fr"], ["fr", "de"], ["lb", "fr"], ["pt", "fr"], ["en"], ["de", "lb", "pt"]]
    titles = ["Table ronde", "Vivre ensemble", "Tableau vivant", "Mesa redonda", "Zesummen liewen"]
    rows = await conn.fetch(
        """
        INSERT INTO events (slug, organisation_id, kind, status, title, summary, languages, starts_at, ends_at)
        SELECT 'same-words-' || n, $2::bigint, ($3::text[])[n % 3 + 1], 'published',
               jsonb_build_object(($4::text[])[n % 5 + 1], ($5::text[])[n % 5 + 1]),
               jsonb_build_object('de', 'Runde ' || n), ARRAY(SELECT jsonb_array_elements_text(($6::jsonb) -> (n % 6))),
               $1::timestamptz + n * interval '1 hour', $1::timestamptz + n * interval '1 hour' + interval '1 hour'
        FROM generate_series(0, 59) n
        RETURNING slug, kind, languages, tsvector_to_array(event_search_words(title, summary)) AS words""",
        start,
        organisation,
        kinds,
        ["fr", "fr", "fr", "pt", "lb"],
        titles,
        language_sets,
    )
    matching = 0  # searches that find some event
    for typed in ("tab", "table", "vivre", "runde 7", "mesa", "zesummen liewen", "nowordlikethis"):
        for kind in (None, *kinds):
            for spoken in (None, "fr", "de", "lb", "en", "pt"):
                wanted = [
                    r["slug"]
                    for r in rows
                    if all(any(w.startswith(t) for w in r["words"]) for t in typed.split())
                    and kind in (None, r["kind"])
                    and spoken in (None, *r["languages"])
                ]
                filters = {"kind": kind, "spoken": spoken}
                params = {"q": typed, "from": start.isoformat(), "limit": 100}
                found = await walk(client, **params, **{k: v for k, v in filters.items() if v})
                assert found == [wanted], (typed, kind, spoken)
                matching += bool(wanted)
    assert matching > 60


async def test_an_event_with_a_word_too_long_for_the_index_is_still_made_and_found(client, conn, settings) -> None:
    # the longest word a lexeme holds (2046 bytes) does not fit with its kind before it (migration 0038)
    start = datetime(2033, 6, 1, 9, tzinfo=UTC)
    slug = await make(conn, settings, start, 0, {"fr": "Lang Wierder"}, summary={"fr": "é" * 1020 + " Langwuert"})
    assert await walk(client, q="langwuert", kind="webconference", **{"from": start.isoformat()}) == [[slug]]
    assert await walk(client, q="é" * 50, **{"from": start.isoformat()}) == [[slug]]


async def test_an_event_read_gives_every_column_but_the_search_words(conn, settings) -> None:
    # the words are read by the search alone (events/queries.py _EVENT_COLUMNS); any other column is read
    event = await create_event(conn, settings)
    row = await conn.fetchrow(q.EVENT_BY_SLUG, event.slug)
    columns = await conn.fetch(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'events'::regclass AND attnum > 0 AND NOT attisdropped"
    )
    assert {c["attname"] for c in columns} - set(row.keys()) == {"search"}


async def test_a_registration_writes_the_seat_counters_and_not_the_event(client, conn, settings) -> None:
    # the counters have a narrow table of their own (migration 0024): a registration writes no
    # version of the event's row, so no index of events, and the counters' update is HOT
    event = await create_event(conn, settings, capacity=5, summary={"fr": " ".join(["Zesummen"] * 200)})
    counts = (
        "SELECT relname, n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables "
        "WHERE relname IN ('events', 'event_seats')"
    )
    before = {r["relname"]: r for r in await conn.fetch(counts)}
    for _ in range(2):
        answer = await client.post(f"/api/events/{event.slug}/registrations", json=registration_body())
        assert answer.status_code == 202
    after = {r["relname"]: r for r in await conn.fetch(counts)}
    assert after["events"]["n_tup_upd"] == before["events"]["n_tup_upd"]
    seats = (
        after["event_seats"]["n_tup_upd"] - before["event_seats"]["n_tup_upd"],
        after["event_seats"]["n_tup_hot_upd"] - before["event_seats"]["n_tup_hot_upd"],
    )
    assert seats == (2, 2)
    assert (await client.get(f"/api/events/{event.slug}")).json()["seats_left"] == 3


async def test_the_table_refuses_an_event_longer_than_31_days(conn, settings) -> None:
    event = await create_event(conn, settings)
    with pytest.raises(asyncpg.CheckViolationError, match="events_last_at_most_31_days"):
        async with conn.transaction():
            await conn.execute("UPDATE events SET ends_at = starts_at + interval '32 days' WHERE slug = $1", event.slug)


async def test_list_combines_filters_and_pages_through_them(client, conn, settings) -> None:
    first = (datetime.now(UTC) + timedelta(days=3)).replace(hour=17, minute=0, second=0, microsecond=0)

    async def session(day: int, **overrides) -> str:
        start = first + timedelta(days=day)
        body = {
            "kind": "info_session",
            "organisation": "clae",
            "commune": "Mersch",
            "venue": "Centre culturel",
            "title": {"fr": "Bénévolat à Mersch"},
            "join_url": None,
            "platform": None,
            "starts_at": start.isoformat(),
            "ends_at": (start + timedelta(hours=2)).isoformat(),
            **overrides,
        }
        return (await create_event(conn, settings, **body)).slug

    wanted = [await session(day) for day in range(3)]
    await session(1, commune="Mamer")
    await session(2, title={"fr": "Marché de l'emploi"})
    await session(4, organisation="asti")
    late = await session(40)
    params = {
        "kind": "info_session",
        "commune": "Mersch",
        "organisation": "clae",
        "q": "bénévolat",
        "to": (first + timedelta(days=30)).isoformat(),
        "limit": 2,
    }
    page = (await client.get("/api/events", params=params)).json()
    rest = (await client.get("/api/events", params={**params, "cursor": page["next_cursor"]})).json()
    assert [item["slug"] for item in page["items"] + rest["items"]] == wanted
    assert rest["next_cursor"] is None
    without_to = {key: value for key, value in params.items() if key != "to"}
    assert late in {
        item["slug"] for item in (await client.get("/api/events", params={**without_to, "limit": 10})).json()["items"]
    }


async def test_organiser_pages_and_export_show_each_waitlisted_persons_place(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, capacity=1, confirmation_required=False)
    emails = []
    for _ in range(4):
        body = registration_body()
        assert (await client.post(f"/api/events/{event.slug}/registrations", json=body)).status_code == 202
        emails.append(body["email"])
    url = f"/api/organiser/events/{event.slug}/registrations"
    page = (await client.get(url, params={"limit": 2}, headers=auth(token))).json()
    rest = (await client.get(url, params={"limit": 2, "cursor": page["next_cursor"]}, headers=auth(token))).json()
    places = [(item["email"], item["status"], item["waitlist_position"]) for item in page["items"] + rest["items"]]
    assert places == [
        (emails[0], "confirmed", None),
        (emails[1], "waitlisted", 1),
        (emails[2], "waitlisted", 2),
        (emails[3], "waitlisted", 3),
    ]
    export = await client.get(f"{url}.csv", params={"delimiter": "comma", "lang": "en"}, headers=auth(token))
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    column = rows[0].index(next(name for name in rows[0] if "waiting" in name.lower()))
    assert [row[column] for row in rows[1:]] == ["", "1", "2", "3"]


async def test_waiting_list_places_follow_the_time_each_person_began_to_wait_not_the_page_order(
    client, conn, settings
) -> None:
    # places count the list in (waitlisted_at, id) order, ties broken by id, whatever order the page
    # is in and however the page cuts the list; a person who left the list has no place
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, capacity=1, confirmation_required=False)
    for _ in range(7):
        assert (
            await client.post(f"/api/events/{event.slug}/registrations", json=registration_body())
        ).status_code == 202
    ids = [
        r["id"]
        for r in await conn.fetch(
            "SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id "
            "WHERE e.slug = $1 AND r.status = 'waitlisted' ORDER BY r.id",
            event.slug,
        )
    ]
    began = datetime.now(UTC) - timedelta(hours=1)
    minutes = [50, 10, 30, 10, 0, 40]  # the second and fourth began to wait at the same instant
    await conn.execute(
        "UPDATE registrations SET waitlisted_at = $2::timestamptz + m * interval '1 minute' "
        "FROM unnest($1::bigint[], $3::int[]) AS u(id, m) WHERE registrations.id = u.id",
        ids,
        began,
        minutes,
    )
    await conn.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = now(), waitlisted_at = NULL WHERE id = $1",
        ids[2],
    )
    staying = sorted((m, i) for i, m in zip(ids, minutes, strict=False) if i != ids[2])
    expected = {i: place for place, (_, i) in enumerate(staying, start=1)}
    url = f"/api/organiser/events/{event.slug}/registrations"
    items, cursor = [], None
    while True:
        page = (
            await client.get(url, params={"limit": 3, **({"cursor": cursor} if cursor else {})}, headers=auth(token))
        ).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    places = {item["id"]: item["waitlist_position"] for item in items if item["id"] in ids}
    assert places == {**expected, ids[2]: None}
    assert [places[i] for i in ids] == [5, 2, None, 3, 1, 4]
