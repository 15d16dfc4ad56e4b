"""What the queries tuned for a big database (bench/bench_bigdata.py, migrations 0009 and 0011) rely
on and must still do, checked on a few rows: the 31-day rule, the running events before the coming
ones, a search read either way giving the same pages, filters combined with the cursor,
waiting-list places on the organisers' pages."""

from __future__ import annotations

import asyncio
import csv
import io
import random
import time
from datetime import datetime, timedelta, timezone

import asyncpg
import pytest

from server.events import queries as q
from server.events import search
from tests.factories import create_event, create_organiser, registration_body


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_list_shows_a_month_long_event_that_started_weeks_ago(client, conn, settings) -> None:
    # the longest event there may be, running for weeks, is found among the running ones (0011)
    start = (datetime.now(timezone.utc) - timedelta(days=30)).replace(microsecond=0)
    running = await create_event(conn, settings, title={"fr": "Exposition Zesummen"}, starts_at=start.isoformat(),
                                 ends_at=(start + timedelta(days=31)).isoformat())
    answer = await client.get("/api/events", params={"q": "Exposition Zesummen"})
    assert [item["slug"] for item in answer.json()["items"]] == [running.slug]


async def test_list_gives_the_running_events_then_the_coming_ones_page_by_page(client, conn, settings) -> None:
    # the page is read in two parts (events running now, events starting later): one order, no seams
    now = datetime.now(timezone.utc).replace(microsecond=0)

    async def event(starts: timedelta, lasts: timedelta, kind: str = "webconference") -> str:
        body = {"title": {"fr": "Zesummen Moment"}, "starts_at": (now + starts).isoformat(),
                "ends_at": (now + starts + lasts).isoformat()}
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
            page = (await client.get("/api/events", params={"q": "Zesummen Moment", "limit": 1, **params,
                                                            **({"cursor": cursor} if cursor else {})})).json()
            slugs += [item["slug"] for item in page["items"]]
            if not (cursor := page["next_cursor"]):
                return slugs

    assert await walk() == [since_days, since_hour, tomorrow, later]
    assert await walk(limit=3) == [since_days, since_hour, tomorrow, later]
    assert await walk(kind="info_session") == [since_hour, later]
    # from two hours ago: what was running then (the one ended since too), then what came after
    two_hours_ago = (now - timedelta(hours=2)).isoformat()
    assert await walk(**{"from": two_hours_ago}) == [since_days, ended, since_hour, tomorrow, later]


@pytest.fixture
def word_stats():
    """Give the search's chooser (events/search.py) these word statistics, as if ANALYZE had found them."""
    def given(shares: dict[str, float], events: float) -> None:
        search._cached = (time.monotonic(), search.WordStats(shares, least=0.01, events=events))

    yield given
    search.forget_word_stats()


# the search that reads the coming events in order, its words checked after (queries.public_event_page)
READ_IN_ORDER = "JOIN events e ON e.id = c.id"
# the count of the index's matches (queries.search_matches)
COUNTED = "SELECT count(*) FROM (\n    SELECT FROM events e"


def test_the_share_of_a_search_and_what_reading_it_in_order_costs() -> None:
    stats = search.WordStats({"table": 0.5, "tables": 0.2, "tableau": 0.6, "luxembourg": 0.3}, least=0.02, events=100_000)
    assert stats.share("Table") == 1.0  # every word beginning "table", at most all events
    assert stats.share("tables Luxembourg") == 0.2  # the rarest word of them decides
    assert stats.share("Nopeschfest") == 0.01  # rarer than the rarest common word
    assert stats.share("!?") == 0.0
    assert stats.events_to_read("luxembourg", 21) == 256  # 70 expected, three times that read, rounded up to a step
    assert stats.events_to_read("Nopeschfest", 21) is None  # the index's few matches cost less
    assert search.WordStats({"t": 0.05}, least=0.02, events=10**7).events_to_read("t", 101) is None  # past MOST_READ
    assert search.WordStats({"table": 0.5}, least=0.02, events=100).events_to_read("table", 21) is None  # a few events


def test_the_filters_bound_the_reading_in_order_by_what_the_index_would_cost() -> None:
    columns = {"kind": search.Shares({"webconference": 0.2, "conversation_table": 0.6}, other=0.05),
               "languages": search.Shares({"fr": 0.8, "pt": 0.16}, other=0.04),
               "commune": search.Shares({}, other=0.001)}
    stats = search.WordStats({"vivre": 0.05, "table": 0.6}, least=0.02, events=100_000, columns=columns)
    assert stats.filters_share({"kind": "webconference", "spoken": "pt", "to": "2030-01-01"}) == pytest.approx(0.032)
    assert stats.events_to_read("vivre", 21) == 1448  # 420 expected, three times that (1,260), rounded up to a step
    # the index would give 800 matches, as dear as 267 events read in order: no more are read (but
    # for the rounding up to a step)
    assert stats.events_to_read("vivre", 21, {"spoken": "pt"}) == 362
    assert stats.events_to_read("table", 21, {"kind": "webconference"}) == 128  # the margin is less (105)
    assert set(search.READ_STEPS) >= {stats.events_to_read("table", rows) for rows in range(1, 200)} - {None}
    # the index would give less than a page
    assert stats.events_to_read("vivre", 21, {"spoken": "pt", "commune": "Mersch"}) is None
    # counted in the index first: 800 matches in its bitmap cost less than the 420 events to read
    assert stats.count_first("vivre", 21, {"spoken": "pt"})
    assert not stats.count_first("table", 21, {"kind": "webconference"})  # 12,000 matches, 35 events
    assert not stats.count_first("vivre", 21, {})  # without filters, the words' statistics tell


def test_the_share_of_a_filter_from_the_statistics_of_its_column() -> None:
    row = {"vals": ["9", "5"], "freqs": [0.3, 0.2], "null_frac": 0.1, "n_distinct": 12.0}
    organisations = search.Shares.of_values(row, events=1_000, names={"9": "asti", "5": "clae"})
    assert organisations.share("asti") == 0.3
    assert organisations.share("caritas") == pytest.approx(0.04)  # the 0.4 left, among 10 others
    # a share of the events as the number of values: 500 of them, the 0.4 left among 498
    assert search.Shares.of_values({**row, "n_distinct": -0.5}, events=1_000).share("x") == pytest.approx(0.4 / 498)
    # every value among the commonest: another is rarer than the rarest of them
    assert search.Shares.of_values({**row, "n_distinct": 2.0, "null_frac": 0.5}, events=1_000).share("x") == 0.1
    languages = search.Shares.of_elements({"elems": ["fr", "pt"], "elem_freqs": [0.8, 0.16, 0.16, 0.8, 0.0]})
    assert (languages.share("pt"), languages.share("lb")) == (0.16, 0.08)


async def test_the_search_reads_its_shares_from_what_analyze_found(conn, settings) -> None:
    start = datetime(2032, 3, 1, 12, tzinfo=timezone.utc)
    for n in range(6):
        await create_event(conn, settings, organisation="asti" if n % 2 else "clae", languages=["pt", "fr"] if n < 4 else ["de"],
                           starts_at=(start + timedelta(days=n)).isoformat(), ends_at=(start + timedelta(days=n, hours=1)).isoformat())
    await conn.execute("ANALYZE events")  # in the test's transaction: rolled back with it
    search.forget_word_stats()
    try:
        stats = await search.word_stats(conn)
    finally:
        search.forget_word_stats()
    actual = await conn.fetchrow(
        """SELECT avg((kind = 'webconference')::int) AS kind, avg(('pt' = ANY(languages))::int) AS spoken,
                  avg((organisation_id = (SELECT id FROM organisations WHERE slug = 'asti'))::int) AS organisation
           FROM events""")
    assert stats.events == await conn.fetchval("SELECT count(*) FROM events")
    for name in ("kind", "spoken", "organisation"):  # ANALYZE reads every row of so small a table
        value = {"kind": "webconference", "spoken": "pt", "organisation": "asti"}[name]
        assert stats.filters_share({name: value}) == pytest.approx(float(actual[name]), rel=1e-3), name


async def walk(client, **params) -> list[list[str]]:
    """Every page of /api/events for these parameters, as slugs."""
    pages, cursor = [], None
    while True:
        page = (await client.get("/api/events", params={**params, **({"cursor": cursor} if cursor else {})})).json()
        pages.append([item["slug"] for item in page["items"]])
        if not (cursor := page["next_cursor"]):
            return pages


async def test_a_common_word_is_read_in_order_and_gives_the_pages_the_index_gives(client, conn, settings, word_stats):
    start = datetime(2031, 3, 3, 18, tzinfo=timezone.utc)  # past every other test's events
    wanted = []
    for n in range(12):
        title = {"fr": f"Sonnenfest {n}"} if n % 4 == 0 else {"fr": f"Tischgespräch {n}", "de": f"Tischgespräch {n}"}
        slug = (await create_event(conn, settings, title=title, starts_at=(start + timedelta(days=n)).isoformat(),
                                   ends_at=(start + timedelta(days=n, hours=1)).isoformat())).slug
        if n % 4:
            wanted.append(slug)
    statements: list[str] = []
    conn.add_query_logger(lambda record: statements.append(record.query))
    params = {"q": "tischge", "from": start.isoformat(), "limit": 3}

    word_stats({"tischgespräch": 0.9}, events=1_000_000)
    in_order = await walk(client, **params)
    assert any(READ_IN_ORDER in sql for sql in statements)
    statements.clear()
    word_stats({}, events=1_000_000)
    by_index = await walk(client, **params)
    assert not any(READ_IN_ORDER in sql for sql in statements)
    assert in_order == by_index == [wanted[0:3], wanted[3:6], wanted[6:9]]


async def test_a_word_rarer_among_the_coming_events_than_said_is_found_through_the_index(
        client, conn, settings, word_stats) -> None:
    start = datetime(2031, 6, 2, 18, tzinfo=timezone.utc)
    for n in range(30):  # more than the reading in order takes: 3 × 2 / 0.9, rounded up to a step (16)
        await create_event(conn, settings, title={"fr": f"Sonnenfest {n}"}, starts_at=(start + timedelta(hours=n)).isoformat(),
                           ends_at=(start + timedelta(hours=n, minutes=30)).isoformat())
    late = (await create_event(conn, settings, title={"fr": "Tischgespräch"}, starts_at=(start + timedelta(days=3)).isoformat(),
                               ends_at=(start + timedelta(days=3, hours=1)).isoformat())).slug
    statements: list[str] = []
    conn.add_query_logger(lambda record: statements.append(record.query))
    word_stats({"tischgespräch": 0.9}, events=1_000_000)
    assert await walk(client, q="tischgespräch", **{"from": start.isoformat()}, limit=1) == [[late]]
    assert any(READ_IN_ORDER in sql for sql in statements)  # tried first, found too few, then the index


async def test_a_common_word_among_a_rarer_kind_is_asked_of_the_indexes_with_the_filters(
        client, conn, settings, word_stats) -> None:
    start = datetime(2031, 9, 1, 17, tzinfo=timezone.utc)
    session = {"kind": "info_session", "commune": "Mersch", "venue": "Centre culturel", "join_url": None, "platform": None}
    for n in range(30):  # the word is common, but among info sessions
        await create_event(conn, settings, **session, title={"fr": f"Tischgespräch {n}"},
                           starts_at=(start + timedelta(hours=n)).isoformat(),
                           ends_at=(start + timedelta(hours=n, minutes=30)).isoformat())
    online = (await create_event(conn, settings, title={"fr": "Tischgespräch online"},
                                 starts_at=(start + timedelta(days=4)).isoformat(),
                                 ends_at=(start + timedelta(days=4, hours=1)).isoformat())).slug
    await create_event(conn, settings, title={"fr": "Sonnenfest"}, starts_at=(start + timedelta(days=5)).isoformat(),
                       ends_at=(start + timedelta(days=5, hours=1)).isoformat())
    statements: list[str] = []
    conn.add_query_logger(lambda record: statements.append(record.query))
    word_stats({"tischgespräch": 0.9}, events=1_000_000)
    params = {"q": "tischgespräch", "kind": "webconference", "from": start.isoformat(), "limit": 1}
    assert await walk(client, **params) == [[online]]
    assert any(READ_IN_ORDER in sql for sql in statements)  # tried first, found none among the events read
    # then counted in the index, one, and the page asked of it, the kind written in (migration 0016)
    assert any(COUNTED in sql for sql in statements)
    assert any("e.kind = 'webconference'" in sql for sql in statements)
    assert not any("force_custom_plan" in sql for sql in statements)
    # the spoken language too is asked of the index, as an array contained (migration 0015)
    statements.clear()
    assert await walk(client, **params, spoken="fr") == [[online]]
    assert any("e.languages @> ARRAY[" in sql for sql in statements)
    assert await walk(client, **params, spoken="pt") == [[]]


async def test_a_word_common_among_later_events_of_a_kind_is_asked_of_the_index_in_a_plan_for_it(
        client, conn, settings, word_stats) -> None:
    start = datetime(2033, 6, 1, 17, tzinfo=timezone.utc)

    async def make(n: int, title: str) -> str:
        return (await create_event(conn, settings, title={"fr": f"{title} {n}"}, starts_at=(start + timedelta(hours=n)).isoformat(),
                                   ends_at=(start + timedelta(hours=n, minutes=30)).isoformat())).slug

    for n in range(20):  # more web conferences without the word than are read in order (16)
        await make(n, "Sonnenfest")
    later = [await make(n, "Tischgespräch") for n in range(20, 20 + q.SEARCH_MATCHES_COUNTED)]
    statements: list[str] = []
    conn.add_query_logger(lambda record: statements.append(record.query))
    word_stats({"tischgespräch": 0.9}, events=1_000_000)
    page = (await client.get("/api/events", params={"q": "tischg", "kind": "webconference", "from": start.isoformat(),
                                                    "limit": 1})).json()
    assert [item["slug"] for item in page["items"]] == later[:1]
    # read in order, none found; counted, too many for a page from a generic plan; planned for the word
    for part in (READ_IN_ORDER, COUNTED, "force_custom_plan"):
        assert any(part in sql for sql in statements), part


async def test_with_filters_a_word_not_common_is_counted_in_the_index_before_reading_in_order(
        client, conn, settings, word_stats) -> None:
    start = datetime(2033, 2, 1, 17, tzinfo=timezone.utc)
    session = {"kind": "info_session", "commune": "Mersch", "venue": "Centre culturel", "join_url": None, "platform": None}

    async def make(n: int, **fields) -> str:
        return (await create_event(conn, settings, title={"fr": f"Zwiebelmaart {n}"}, **fields,
                                   starts_at=(start + timedelta(hours=n)).isoformat(),
                                   ends_at=(start + timedelta(hours=n, minutes=30)).isoformat())).slug

    sessions = [await make(n, **session) for n in range(3)]
    online = [await make(n) for n in range(3, 3 + q.SEARCH_MATCHES_COUNTED)]  # web conferences, the default
    statements: list[str] = []
    conn.add_query_logger(lambda record: statements.append(record.query))
    word_stats({"zwiebelmaart": 0.008}, events=1_000_000)  # 8,000 events: its bitmap is cheap
    params = {"q": "zwiebel", "from": start.isoformat(), "limit": 2}

    # none among the conversation tables: the count says so, and nothing is read in order
    assert await walk(client, **params, kind="conversation_table") == [[]]
    await asyncio.sleep(0)  # asyncpg calls its query loggers soon after a statement, not at once
    assert any(COUNTED in sql for sql in statements) and not any(READ_IN_ORDER in sql for sql in statements)
    # three among the information sessions: the page from the index
    statements.clear()
    assert await walk(client, **params, kind="info_session") == [sessions[0:2], sessions[2:]]
    assert any(COUNTED in sql for sql in statements) and not any(READ_IN_ORDER in sql for sql in statements)
    # more than are counted among the web conferences: read in order, as a common word is
    statements.clear()
    page = (await client.get("/api/events", params={**params, "limit": 3, "kind": "webconference"})).json()
    assert [item["slug"] for item in page["items"]] == online[0:3]
    assert any(COUNTED in sql for sql in statements) and any(READ_IN_ORDER in sql for sql in statements)
    # without filters, no count: the statistics of the words alone tell
    statements.clear()
    assert (await client.get("/api/events", params={**params, "limit": 3})).json()["items"][0]["slug"] == sessions[0]
    assert not any(COUNTED in sql for sql in statements)


async def test_the_index_is_asked_for_the_whole_words_that_begin_with_those_typed(conn, settings) -> None:
    # event_search_index_query (migration 0015) must match the very events event_search_query matches
    start = datetime(2032, 1, 5, 12, tzinfo=timezone.utc)
    many = " ".join(f"zqa{n}" for n in range(70))  # more than 64 words begin with "zqa": it stays a beginning
    titles = [{"fr": "Table de conversation", "de": "Tischgespräch"}, {"fr": "Tableau d'honneur"},
              {"fr": "Zqa"}, {"en": "O'Brien's back\\slash"}, {"pt": "Mesa de conversação"}]
    ids = []
    for n, title in enumerate(titles):
        event = await create_event(conn, settings, title=title, summary={"fr": many if n == 2 else "Zesummen"},
                                   starts_at=(start + timedelta(days=n)).isoformat(),
                                   ends_at=(start + timedelta(days=n, hours=1)).isoformat())
        ids.append(await conn.fetchval("SELECT id FROM events WHERE slug = $1", event.slug))

    async def matched(function: str, typed: str) -> list[int]:
        return await conn.fetchval(f"SELECT coalesce(array_agg(id ORDER BY id), '{{}}') FROM events "
                                   f"WHERE id = ANY($2) AND search_words @@ {function}($1)", typed, ids)

    for typed in ["tab", "table", "Table conv", "tisch", "zqa", "zqa1", "zqa69", "o'brien", "brien", "back\\sl",
                  "conversação", "convers", "table zqa", "nowordlikethis", "table nowordlikethis", "", "!?"]:
        assert await matched("event_search_index_query", typed) == await matched("event_search_query", typed), typed
    assert await matched("event_search_index_query", "tab") == ids[0:2]
    assert await matched("event_search_index_query", "zqa") == [ids[2]]
    assert await conn.fetchval("SELECT event_search_index_query('zqa')::text") == "'zqa':*"  # asked as a beginning
    assert await conn.fetchval("SELECT event_search_index_query('tischg')::text") == "'tischgespräch'"  # a whole word
    assert await conn.fetchval("SELECT event_search_index_query('nowordlikethis')") is None
    # a word a title takes later is asked of the index as soon as the change is made
    await conn.execute("UPDATE events SET title = '{\"fr\": \"Nopeschfest Zesummen\"}' WHERE id = $1", ids[4])
    assert await matched("event_search_index_query", "nopesch") == [ids[4]]


async def test_a_kind_is_asked_only_for_the_words_its_events_hold(client, conn, settings, word_stats) -> None:
    start = datetime(2032, 9, 6, 18, tzinfo=timezone.utc)
    table = {"kind": "conversation_table", "practised_language": "lb", "level": "all", "venue": "10, rue Auguste Laval",
             "commune": "Esch-sur-Alzette", "join_url": None, "platform": None, "capacity": None}
    for n in range(3):
        await create_event(conn, settings, **table, title={"fr": f"Kwätschdësch {n}"},
                           starts_at=(start + timedelta(days=n)).isoformat(), ends_at=(start + timedelta(days=n, hours=1)).isoformat())
    online = (await create_event(conn, settings, title={"fr": "Kwätschen online"}, starts_at=(start + timedelta(days=5)).isoformat(),
                                 ends_at=(start + timedelta(days=5, hours=1)).isoformat())).slug
    holds = await conn.fetchval("SELECT array_agg(k ORDER BY k) FROM unnest($1::text[]) k WHERE event_search_index_query($2, k) IS NOT NULL",
                                list(q.KINDS), "kwätschd")
    assert holds == ["conversation_table"]  # among the words of each kind (migration 0017)
    statements: list[str] = []
    conn.add_query_logger(lambda record: statements.append(record.query))
    word_stats({"kwätschdësch": 0.9}, events=1_000_000)  # common: it would be read in order
    params = {"q": "kwätschd", "from": start.isoformat(), "limit": 2}
    assert await walk(client, **params, kind="webconference") == [[]]
    await asyncio.sleep(0)  # asyncpg calls its query loggers soon after a statement, not at once
    assert any(q.KIND_HOLDS_WORDS in sql for sql in statements) and not any(READ_IN_ORDER in sql for sql in statements)
    assert len(await walk(client, **params, kind="conversation_table")) == 2  # three, two to a page
    assert await walk(client, q="kwätsch", kind="webconference", **{"from": start.isoformat()}) == [[online]]
    # a word an event takes later is held by its kind as soon as the change is made
    await conn.execute("UPDATE events SET title = '{\"fr\": \"Kwätschdësch online\"}' WHERE slug = $1", online)
    assert await walk(client, **params, kind="webconference") == [[online]]


async def test_every_word_index_of_events_writes_without_a_pending_list(conn) -> None:
    # a search reads a GIN index's pending list whole, and a busy event's row is written on every
    # registration (migration 0018): each GIN index on events, one added later too, goes without
    indexes = await conn.fetch(
        "SELECT c.relname, coalesce(c.reloptions, '{}') AS options FROM pg_index i "
        "JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am a ON a.oid = c.relam "
        "WHERE i.indrelid = 'events'::regclass AND a.amname = 'gin'")
    assert len(indexes) == 1 + len(q.KINDS)  # 0015's, and one per kind (0016)
    assert [r["relname"] for r in indexes if "fastupdate=off" not in r["options"]] == []


async def test_a_registration_updates_the_seats_of_a_long_event_without_writing_its_indexes(client, conn, settings):
    # words kept in the row (migration 0013) as long as the big database's: two such rows fill a
    # page, unless the table keeps room for a row's next version (0019)
    letters = random.Random(19)
    def words() -> str:
        return " ".join("".join(letters.choices("abcdefghijklmnopqrstuvwxyz", k=9)) for _ in range(160))
    made = [(await create_event(conn, settings, summary={"fr": words()})).slug for _ in range(2)]
    # each copied in one write: the page of an event published in a transaction of its own holds it
    # alone once its first version is pruned, which this test's one transaction keeps from happening
    await conn.execute("CREATE TEMP TABLE copies ON COMMIT DROP AS SELECT * FROM events WHERE slug = ANY($1)", made)
    await conn.execute("UPDATE copies SET id = nextval(pg_get_serial_sequence('events', 'id')), slug = slug || '-copy'")
    await conn.execute("INSERT INTO events OVERRIDING SYSTEM VALUE SELECT * FROM copies")
    slugs = [slug + "-copy" for slug in made]
    stored = await conn.fetch("SELECT pg_column_size(search_words) AS size FROM events WHERE slug = ANY($1)", slugs)
    assert all(8192 / 3 < r["size"] < 8192 / 2 for r in stored)
    counts = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'events'"
    before = await conn.fetchrow(counts)
    for slug in slugs:
        assert (await client.post(f"/api/events/{slug}/registrations", json=registration_body())).status_code == 202
    after = await conn.fetchrow(counts)
    updated, hot = after["n_tup_upd"] - before["n_tup_upd"], after["n_tup_hot_upd"] - before["n_tup_hot_upd"]
    assert updated >= 2 and hot == updated  # HOT: the seat counters changed, no index entry written


async def test_the_table_refuses_an_event_longer_than_31_days(conn, settings) -> None:
    event = await create_event(conn, settings)
    with pytest.raises(asyncpg.CheckViolationError, match="events_last_at_most_31_days"):
        async with conn.transaction():
            await conn.execute("UPDATE events SET ends_at = starts_at + interval '32 days' WHERE slug = $1", event.slug)


async def test_list_combines_filters_and_pages_through_them(client, conn, settings) -> None:
    first = (datetime.now(timezone.utc) + timedelta(days=3)).replace(hour=17, minute=0, second=0, microsecond=0)

    async def session(day: int, **overrides) -> str:
        start = first + timedelta(days=day)
        body = {"kind": "info_session", "organisation": "clae", "commune": "Mersch", "venue": "Centre culturel",
                "title": {"fr": "Bénévolat à Mersch"}, "join_url": None, "platform": None,
                "starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat(), **overrides}
        return (await create_event(conn, settings, **body)).slug

    wanted = [await session(day) for day in range(3)]
    await session(1, commune="Mamer")
    await session(2, title={"fr": "Marché de l'emploi"})
    await session(4, organisation="asti")
    late = await session(40)
    params = {"kind": "info_session", "commune": "Mersch", "organisation": "clae", "q": "bénévolat",
              "to": (first + timedelta(days=30)).isoformat(), "limit": 2}
    page = (await client.get("/api/events", params=params)).json()
    rest = (await client.get("/api/events", params={**params, "cursor": page["next_cursor"]})).json()
    assert [item["slug"] for item in page["items"] + rest["items"]] == wanted
    assert rest["next_cursor"] is None
    without_to = {key: value for key, value in params.items() if key != "to"}
    assert late in {item["slug"] for item in (await client.get("/api/events", params={**without_to, "limit": 10})).json()["items"]}


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
    assert places == [(emails[0], "confirmed", None), (emails[1], "waitlisted", 1), (emails[2], "waitlisted", 2),
                      (emails[3], "waitlisted", 3)]
    export = await client.get(f"{url}.csv", params={"delimiter": "comma", "lang": "en"}, headers=auth(token))
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    column = rows[0].index(next(name for name in rows[0] if "waiting" in name.lower()))
    assert [row[column] for row in rows[1:]] == ["", "1", "2", "3"]


async def test_waiting_list_places_follow_the_time_each_person_began_to_wait_not_the_page_order(
        client, conn, settings) -> None:
    # places count the list in (waitlisted_at, id) order, ties broken by id, whatever order the page
    # is in and however the page cuts the list; a person who left the list has no place
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, capacity=1, confirmation_required=False)
    for _ in range(7):
        assert (await client.post(f"/api/events/{event.slug}/registrations", json=registration_body())).status_code == 202
    ids = [r["id"] for r in await conn.fetch(
        "SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = $1 AND r.status = 'waitlisted' "
        "ORDER BY r.id", event.slug)]
    began = datetime.now(timezone.utc) - timedelta(hours=1)
    minutes = [50, 10, 30, 10, 0, 40]  # the second and fourth began to wait at the same instant
    await conn.execute("UPDATE registrations SET waitlisted_at = $2::timestamptz + m * interval '1 minute' "
                       "FROM unnest($1::bigint[], $3::int[]) AS u(id, m) WHERE registrations.id = u.id",
                       ids, began, minutes)
    await conn.execute("UPDATE registrations SET status = 'cancelled', cancelled_at = now(), "
                       "waitlisted_at = NULL WHERE id = $1", ids[2])
    staying = sorted((m, i) for i, m in zip(ids, minutes) if i != ids[2])
    expected = {i: place for place, (_, i) in enumerate(staying, start=1)}
    url = f"/api/organiser/events/{event.slug}/registrations"
    items, cursor = [], None
    while True:
        page = (await client.get(url, params={"limit": 3, **({"cursor": cursor} if cursor else {})},
                                 headers=auth(token))).json()
        items += page["items"]
        if not (cursor := page["next_cursor"]):
            break
    places = {item["id"]: item["waitlist_position"] for item in items if item["id"] in ids}
    assert places == {**expected, ids[2]: None}
    assert [places[i] for i in ids] == [5, 2, None, 3, 1, 4]
