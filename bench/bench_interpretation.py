"""Issue 24: the ranked candidates of an interpretation request with a pool of 500 interpreters and
50,000 past missions, against the same request with a pool of 20 and 500 past missions.

Both databases get the agency's pool (French and Tigrinya or Arabic at various levels, the canton
of Luxembourg and a few communes, weekdays 8 to 18, a few days off), its past missions (done, hours
recorded, one a day at most per interpreter so that none collide, on site or by phone) spread over
the last years, some missions held in the coming weeks (so that being busy and this month's load
count), and one open request on a Monday morning in Luxembourg city. The first page of candidates,
as the mission's page in the back-office asks for it (service.CANDIDATES_PAGE), is asked for over
real HTTP from two real services in alternating rounds (bench_bigdata's harness); the p99 with
the big pool must stay within 1.5 times the p99 with the small one. The candidates query's plan on
the big pool, with its execution time, is written next to this file (interpretation-plan.txt); it is
planned for the mission's values, where the service, after five runs on a connection, runs
PostgreSQL's generic plan of the same shape. A
control (a query that reads no data, on both services) shows how far the run's noise goes.
"""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg
import msgspec

from bench.bench_bigdata import CONNECTIONS, SERVER_ENV, Probe, compare, p99_result
from bench.harness import Context, Result
from server.db import create_database, drop_database, init_connection
from server.interpretation import queries as q
from server.interpretation.service import CANDIDATES_PAGE, ranked_for
from server.organisers.service import create_admin

SOAK = True
PLAN_FILE = Path(__file__).resolve().parent / "interpretation-plan.txt"


class Pool(msgspec.Struct, frozen=True):
    """How big a pool is: interpreters and past missions."""

    interpreters: int
    missions: int


BIG, SMALL = Pool(interpreters=500, missions=50_000), Pool(interpreters=20, missions=500)

# the agency and its pool: every interpreter speaks French and, in turn, Tigrinya or Arabic
POOL = """
WITH org AS (
    INSERT INTO organisations (slug, name) VALUES ('asti', 'ASTI') RETURNING id
), made AS (
    INSERT INTO interpreters (organisation_id, name, email, phone, language, communes, cantons, monthly_cap,
                              token_nonce, token_hash)
    SELECT org.id, 'Interpreter ' || n, 'interpreter' || n || '@bench.example', '+352 621 000 ' || n,
           (ARRAY['fr', 'de', 'en', 'pt', 'lb'])[1 + n % 5],
           CASE WHEN n % 3 = 0 THEN ARRAY['Esch-sur-Alzette', 'Differdange'] ELSE ARRAY[]::text[] END,
           CASE WHEN n % 3 = 0 THEN ARRAY[]::text[] ELSE ARRAY['Luxembourg'] END,
           30, decode(md5('nonce' || n), 'hex'), decode(md5('interpreter' || n), 'hex')
    FROM org, generate_series(1, $1::int) AS n
    RETURNING id
), numbered AS (
    SELECT id, row_number() OVER (ORDER BY id) AS n FROM made
), spoken AS (
    INSERT INTO interpreter_languages (interpreter_id, code, level)
    SELECT id, 'fr', (ARRAY['B2', 'C1', 'C2', 'native'])[1 + n % 4] FROM numbered
    UNION ALL
    SELECT id, (ARRAY['ti', 'ar'])[1 + n % 2], (ARRAY['native', 'C2', 'C1', 'B2', 'B1'])[1 + n % 5] FROM numbered
    UNION ALL
    SELECT id, 'en', 'B2' FROM numbered WHERE n % 4 = 0
), slots AS (
    INSERT INTO interpreter_availability (interpreter_id, weekday, starts, ends)
    SELECT id, d, '08:00', '18:00' FROM numbered, generate_series(1, 5) AS d
)
INSERT INTO interpreter_absences (interpreter_id, days)
SELECT id, daterange(current_date + (n % 60)::int, current_date + (n % 60)::int + 7) FROM numbered WHERE n % 10 = 0
"""

# past missions, done with their hours: interpreter k's i-th is 3i days before yesterday, so none of
# one interpreter's missions collide; then every other interpreter holds one in the coming four weeks
MISSIONS = """
WITH pool AS (
    SELECT id, row_number() OVER (ORDER BY id) - 1 AS k, count(*) OVER () AS size FROM interpreters
), plan AS (
    SELECT p.id AS interpreter_id, g AS n,
           (current_date - 1 - 3 * (g / p.size)::int)::timestamp + make_interval(hours => 8 + (g % 9)::int)
               AS local_start
    FROM generate_series(0, $1::int - 1) AS g JOIN pool p ON p.k = g % p.size
    UNION ALL
    SELECT p.id, $1::int + p.k,
           (current_date + 1 + (p.k % 28)::int)::timestamp + make_interval(hours => 8 + (p.k % 9)::int)
    FROM pool p WHERE p.k % 2 = 0
)
INSERT INTO interpretation_missions (
    organisation_id, starts_at, ends_at, mode, commune, address, from_language, to_language, field,
    requester_organisation, requester_contact, requester_email, requester_type, status, interpreter_id,
    minutes_spent, status_nonce, status_hash)
SELECT (SELECT id FROM organisations WHERE slug = 'asti'),
       local_start AT TIME ZONE 'Europe/Luxembourg', (local_start + interval '1 hour') AT TIME ZONE 'Europe/Luxembourg',
       CASE WHEN n % 4 = 0 THEN 'phone' ELSE 'on_site' END,
       CASE WHEN n % 4 = 0 THEN NULL ELSE (ARRAY['Luxembourg', 'Esch-sur-Alzette', 'Differdange'])[1 + n % 3] END,
       '', 'ti', 'fr', (ARRAY['social', 'school', 'health', 'administrative', 'legal'])[1 + n % 5],
       'Office social', '-', 'office@bench.example', 'social_office',
       CASE WHEN n < $1 THEN 'done' ELSE 'assigned' END, interpreter_id, CASE WHEN n < $1 THEN 60 END,
       decode(md5('mission-nonce' || n), 'hex'), decode(md5('mission' || n), 'hex')
FROM plan
"""

# the open request whose candidates are asked for: Tigrinya into French on a Monday two weeks ahead
REQUEST = """
INSERT INTO interpretation_missions (
    organisation_id, starts_at, ends_at, mode, commune, address, from_language, to_language, field,
    requester_organisation, requester_contact, requester_email, requester_type, status_nonce, status_hash)
SELECT id, (d + time '10:00') AT TIME ZONE 'Europe/Luxembourg', (d + time '11:00') AT TIME ZONE 'Europe/Luxembourg',
       'on_site', 'Luxembourg', '3, rue du Commerce', 'ti', 'fr', 'social', 'Office social', 'Marie Weber',
       'office@bench.example', 'social_office', decode(md5('request-nonce'), 'hex'), decode(md5('request'), 'hex')
FROM organisations, (SELECT current_date + 14 - extract(isodow FROM current_date)::int + 1 AS d) AS monday
WHERE slug = 'asti'
RETURNING id
"""


# the query's other parameters as the service gives them for the first page: no cursor, a page and one more
FIRST_PAGE = (None, None, None, CANDIDATES_PAGE + 1)


class World(msgspec.Struct, kw_only=True):
    """One database and what the candidates request needs."""

    label: str
    url: str
    token: str
    mission: int
    ranked: tuple  # the mission's values the candidates query takes (service.ranked_for)
    candidates: int
    base_url: str = ""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def prepare(label: str, url: str, pool: Pool) -> World:
    """Fill a database with a pool and its missions; the request to rank and a staff token."""
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        await conn.execute(POOL, pool.interpreters)
        await conn.execute(MISSIONS, pool.missions)
        mission = await conn.fetchval(REQUEST)
        # as autovacuum leaves a pool in use: statistics, and the visibility map index-only scans rely on
        await conn.execute(
            "VACUUM (ANALYZE) interpreters, interpreter_languages, interpreter_availability, interpreter_absences, "
            "interpretation_missions, interpreter_months, communes"
        )
        held = await conn.fetchval("SELECT count(*) FROM interpretation_missions")
        token = (await create_admin(conn, "bench-admin@example.lu", timedelta(days=1))).token
        ranked = ranked_for(await conn.fetchrow(q.MISSION, mission))
        candidates = len(await conn.fetch(q.CANDIDATES, *ranked, None, None, None, 10_000))
        log(
            f"  {label}: {pool.interpreters} interpreters, {held:,} missions, {candidates} candidates in all, "
            f"{min(candidates, CANDIDATES_PAGE)} on the first page"
        )
    finally:
        await conn.close()
    return World(label=label, url=url, token=token, mission=mission, ranked=ranked, candidates=candidates)


async def plan(world: World, runs: int = 7) -> tuple[str, float]:
    """EXPLAIN ANALYZE of the candidates query and its fastest execution time in milliseconds (the
    fastest of a few runs: on a shared machine the slower ones measure the neighbours)."""
    conn = await asyncpg.connect(world.url)
    await init_connection(conn)
    try:
        await conn.fetch(q.CANDIDATES, *world.ranked, *FIRST_PAGE)  # warm
        plans = []
        for _ in range(runs):
            rows = await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + q.CANDIDATES, *world.ranked, *FIRST_PAGE)
            text = "\n".join(r[0] for r in rows)
            plans.append((float(text.rsplit("Execution Time: ", 1)[1].split()[0]), text))
    finally:
        await conn.close()
    ms, text = min(plans)
    return text, ms


# the control: a query that reads no data, so its ratio shows how far this run's noise goes
CONTROL = Probe(name="control: GET /bench/select-1 (reads no data)", spec=lambda w: {"path": "/bench/select-1"})


def probe() -> Probe:
    """GET the candidates of the open request."""
    return Probe(
        name=f"GET /api/organiser/interpretation-missions/{{id}}/candidates ({CONNECTIONS} connections)",
        spec=lambda w: {
            "path": f"/api/organiser/interpretation-missions/{w.mission}/candidates",
            "headers": {"Authorization": f"Bearer {w.token}"},
        },
    )


async def run(context: Context) -> list[Result]:
    server_url = os.environ["DATABASE_URL"]
    small_name = f"zesummen_bench_{context.name}_small"
    small_url = await create_database(server_url, small_name)
    try:
        big = await prepare("big", context.database_url, BIG)
        small = await prepare("small", small_url, SMALL)
        (big_plan, big_ms), (_, small_ms) = await plan(big), await plan(small)
        PLAN_FILE.write_text(f"-- the candidates query with {BIG.interpreters} interpreters\n{big_plan}\n")
        log(f"  candidates query in process: {big_ms:.2f} ms (big) against {small_ms:.2f} ms (small)")
        async with (
            context.server(env=SERVER_ENV) as big_base,
            context.server(env={**SERVER_ENV, "DATABASE_URL": small.url}) as small_base,
        ):
            big.base_url, small.base_url = big_base, small_base
            control = p99_result(CONTROL, *await compare(CONTROL, big, small))  # type: ignore[arg-type]
            control.ceiling_name = "same on the service of the small pool"
            log(f"  {control.name}: {control.figure:.1f} ms against {control.ceiling:.1f} ms -> {control.ratio:.2f}")
            big_runs, small_runs = await compare(probe(), big, small)  # type: ignore[arg-type]
        result = p99_result(probe(), big_runs, small_runs)
        result.ceiling_name = (
            f"same with a pool of {SMALL.interpreters} and {SMALL.missions:,} missions "
            f"(big: {BIG.interpreters} and {BIG.missions:,})"
        )
        result.notes.update(
            {
                "big_candidates": big.candidates,
                "small_candidates": small.candidates,
                "big_query_ms": round(big_ms, 2),
                "small_query_ms": round(small_ms, 2),
            }
        )
        log(f"  {result.name}: {result.figure:.1f} ms against {result.ceiling:.1f} ms -> {result.ratio:.2f}")
        return [control, result]
    finally:
        if not os.environ.get("BIGDATA_KEEP"):
            await drop_database(server_url, small_name)
            await drop_database(server_url, urlsplit(context.database_url).path.lstrip("/"))
