"""Issue 23's proof: a commune's public page and its iCal feed for a commune with 5,000 past and 200 coming
events, against the same commune on a small database (`make soak`).

Both databases hold the commune's 200 coming events (what the page shows); the big one adds 5,000 past
events held in it or aimed at it (one in ten a web conference ticked for the commune) and 20,000 events
of other communes, the small one 50 and 200. The page and the feed must not read the past to show the
future: each one's p99 on the big database must stay within 1.5 times its p99 on the small one. Both
services run side by side and are measured in alternating rounds of the same run, like bench_bigdata.
"""

from __future__ import annotations

import os
import statistics
import sys
from urllib.parse import urlsplit

import asyncpg
import msgspec

from bench.harness import Context, LoadStats, Result, http_load
from server.db import create_database, drop_database, init_connection

# `python -m bench` leaves this module out; `make soak` (python -m bench --soak) runs it
SOAK = True

COMMUNE, SLUG = "Esch-sur-Alzette", "esch-sur-alzette"


class Scale(msgspec.Struct, frozen=True):
    """How many events one database holds."""

    past: int
    coming: int
    elsewhere: int


BIG, SMALL = Scale(past=5_000, coming=200, elsewhere=20_000), Scale(past=50, coming=200, elsewhere=200)
CONNECTIONS, ROUNDS, SECONDS, WARMUP = 8, 7, 1.5, 1.0
PROBES = (
    ("control: GET /bench/select-1 (reads no data)", "/bench/select-1"),
    (f"GET /communes/{SLUG} (fr)", f"/communes/{SLUG}?lang=fr"),
    (f"GET /communes/{SLUG}/calendar.ics (de)", f"/communes/{SLUG}/calendar.ics?lang=de"),
)

# $2 events of organisation $1: the first $3 in the past, one every 13 hours back (about 7 years for 5,000),
# then one a day ahead; one in ten a web conference aimed at commune $4 (event_communes), the rest held there
# ($5 = true); with $5 = false, info sessions spread over the other communes
LOAD_EVENTS = """
WITH placed AS (
    SELECT g, g % 10 = 0 AND $5 AS online,
           CASE WHEN g <= $3 THEN date_trunc('hour', now()) - g * interval '13 hours'
                ELSE date_trunc('hour', now()) + (g - $3) * interval '1 day' + interval '18 hours' END AS starts_at
    FROM generate_series(1, $2) g
), other AS (
    SELECT array_agg(name ORDER BY name) AS names FROM communes WHERE name <> $4
)
INSERT INTO events (slug, organisation_id, kind, status, title, summary, description, languages, starts_at, ends_at,
                    capacity, join_url, platform, venue, commune, topics, published_at)
SELECT CASE WHEN $5 THEN 'commune-' ELSE 'elsewhere-' END || g, $1,
       CASE WHEN online THEN 'webconference' ELSE 'info_session' END, 'published',
       jsonb_build_object('fr', 'Séance d''information ' || g, 'de', 'Informationsveranstaltung ' || g,
                          'en', 'Information session ' || g),
       jsonb_build_object('fr', 'Statuts des demandeurs de protection internationale et témoignages.'),
       jsonb_build_object('fr', repeat('Une soirée pour les habitants de la commune. ', 8)),
       ARRAY['fr', 'de'], starts_at, starts_at + interval '2 hours', 60,
       CASE WHEN online THEN 'https://meet.example.org/room-' || g END, CASE WHEN online THEN 'Webex' END,
       CASE WHEN NOT online THEN 'Salle des fêtes, ' || (1 + g % 40) || ' rue de l''Alzette' END,
       CASE WHEN online THEN NULL WHEN $5 THEN $4 ELSE other.names[1 + g % cardinality(other.names)] END,
       ARRAY['intégration'], starts_at - interval '30 days'
FROM placed, other
"""

# the commune's web conferences just loaded are aimed at commune $1
AIM_WEBCONFERENCES = """
INSERT INTO event_communes (event_id, commune)
SELECT id, $1 FROM events WHERE kind = 'webconference' AND slug LIKE 'commune-%'
"""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def load(url: str, scale: Scale) -> None:
    """One database: the commune's past and coming events, and the other communes' events."""
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        organisation = await conn.fetchval(
            "INSERT INTO organisations (slug, name) VALUES ('asti', 'ASTI') RETURNING id"
        )
        await conn.execute(LOAD_EVENTS, organisation, scale.past + scale.coming, scale.past, COMMUNE, True)
        await conn.execute(AIM_WEBCONFERENCES, COMMUNE)
        await conn.execute(LOAD_EVENTS, organisation, scale.elsewhere, scale.elsewhere // 2, COMMUNE, False)
        await conn.execute("ANALYZE")
        aimed = await conn.fetchval("SELECT count(*) FROM event_communes WHERE commune = $1", COMMUNE)
        coming = await conn.fetchval(
            "SELECT count(*) FROM events WHERE slug LIKE 'commune-%' AND starts_at > now()",
        )
        log(f"  {scale}: {aimed} web conferences aimed at {COMMUNE}, {coming} coming")
    finally:
        await conn.close()


async def rounds(path: str, big: str, small: str) -> tuple[list[LoadStats], list[LoadStats]]:
    """Warm both services up, then alternate rounds between them."""
    for base in (big, small):
        await http_load(base, path, connections=CONNECTIONS, duration=WARMUP)
    runs: tuple[list[LoadStats], list[LoadStats]] = ([], [])
    for _ in range(ROUNDS):
        for found, base in zip(runs, (big, small), strict=True):
            found.append(await http_load(base, path, connections=CONNECTIONS, duration=SECONDS))
    return runs


def p99(name: str, big_runs: list[LoadStats], small_runs: list[LoadStats]) -> Result:
    """The big database's median p99 against the small one's; any answer but 200 fails it."""

    def median(runs: list[LoadStats], field: str) -> float:
        return statistics.median(getattr(s, field) for s in runs)

    bad = {
        label: statuses
        for label, runs in (("big", big_runs), ("small", small_runs))
        if (statuses := {k: v for s in runs for k, v in s.statuses.items() if k != 200})
    }
    return Result(
        name=f"p99 {name}",
        figure=float("inf") if bad else median(big_runs, "p99_ms"),
        unit="ms",
        ceiling=median(small_runs, "p99_ms"),
        ceiling_name=f"same with {SMALL.past} past events",
        target=1.5,
        better="lower",
        notes={
            "big_req_s": round(median(big_runs, "throughput"), 1),
            "small_req_s": round(median(small_runs, "throughput"), 1),
            "big_p50_ms": round(median(big_runs, "p50_ms"), 2),
            "small_p50_ms": round(median(small_runs, "p50_ms"), 2),
            "big_p99_rounds_ms": [round(s.p99_ms, 1) for s in big_runs],
            "small_p99_rounds_ms": [round(s.p99_ms, 1) for s in small_runs],
            **({"unexpected_answers": bad} if bad else {}),
        },
    )


async def run(context: Context) -> list[Result]:
    server_url = os.environ["DATABASE_URL"]
    small_name = f"zesummen_bench_{context.name}_small"
    small_url = await create_database(server_url, small_name)
    try:
        await load(context.database_url, BIG)
        await load(small_url, SMALL)
        results = []
        async with (
            context.server() as big_base,
            context.server(env={"DATABASE_URL": small_url}) as small_base,
        ):
            for name, path in PROBES:
                result = p99(name, *await rounds(path, big_base, small_base))
                log(f"  {result.name}: {result.figure:.1f} ms against {result.ceiling:.1f} ms -> {result.ratio:.2f}")
                results.append(result)
        return results
    finally:
        await drop_database(server_url, small_name)
        await drop_database(server_url, urlsplit(context.database_url).path.lstrip("/"))
