"""Issue 25: a year's activity report of one organisation on the big database (100,000 events,
1,000,000 registrations; bench/bigdata_load.py) against the same on the small one (a hundredth).

Both databases get the organisation's convention domains, its events tagged with them and its past
registrations' attendance marked, as an organisation that uses the reports would have them. The
report is asked for over real HTTP from two real services in alternating rounds (bench_bigdata's
harness); its p99 on the big database must stay within 1.5 times its p99 on the small one. The time
of computing the report (every query, in process) and of serving the kept one are noted beside it.
"""

from __future__ import annotations

import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import asyncpg
import msgspec

from bench.bench_bigdata import CONNECTIONS, SERVER_ENV, Probe, compare, p99_result
from bench.bigdata_load import Scale, load
from bench.harness import Context, Result
from server.db import create_database, drop_database, init_connection
from server.organisers.service import create_admin, organiser_for_token
from server.reports import service as reports

SOAK = True
BIG, SMALL = Scale.of(int(os.environ.get("BIGDATA_FACTOR", "1"))), Scale.of(100)
ORGANISATION = "asti"
DOMAINS = [
    ("communes", "Accompagnement des communes"),
    ("interpretation", "Traduction orale directe"),
    ("guichet", "Guichet Info-Migrants"),
]
IN_PROCESS_RUNS = 15

# the organisation's domains, and its events spread over them by id
TAG_EVENTS = """
WITH org AS (SELECT id FROM organisations WHERE slug = $1),
added AS (
    INSERT INTO organisation_domains (organisation_id, slug, name, position)
    SELECT org.id, d.slug, d.name, d.n FROM org, unnest($2::text[], $3::text[]) WITH ORDINALITY AS d(slug, name, n)
    RETURNING id, organisation_id, position
)
UPDATE events e SET domain_id = a.id FROM added a
WHERE e.organisation_id = a.organisation_id AND e.id % 3 = a.position - 1
"""

# attendance of the organisation's confirmed registrations of events that ended: mostly present
MARK_ATTENDANCE = """
UPDATE registrations r SET attendance = (ARRAY['present', 'present', 'present', 'absent', 'excused'])[1 + r.id % 5]
FROM events e, organisations o
WHERE e.id = r.event_id AND o.id = e.organisation_id AND o.slug = $1 AND e.ends_at < now() AND r.status = 'confirmed'
"""


class World(msgspec.Struct, kw_only=True):
    """One database and what the report request needs."""

    label: str
    url: str
    token: str
    year: int
    registrations: int  # of the organisation's events of that year
    base_url: str = ""


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def prepare(label: str, url: str, scale: Scale, context: Context) -> World:
    """Load a database, give the organisation its domains and attendance; the year to report on."""
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        log(f"  loading the {label} database ({scale.events:,} events, {scale.registrations:,} registrations)")
        loaded = await load(conn, scale, context.settings.secret_key, log=log)
        log(f"  {label} database loaded in {loaded.seconds:.0f} s")
        await conn.execute(TAG_EVENTS, ORGANISATION, [s for s, _ in DOMAINS], [n for _, n in DOMAINS])
        await conn.execute(MARK_ATTENDANCE, ORGANISATION)
        await conn.execute("ANALYZE")
        token = (await create_admin(conn, "bench-admin@example.lu", timedelta(days=1))).token
        year = datetime.now(UTC).year - 1
        registrations = await conn.fetchval(
            "SELECT count(*) FROM registrations r JOIN events e ON e.id = r.event_id "
            "JOIN organisations o ON o.id = e.organisation_id WHERE o.slug = $1 "
            "AND e.starts_at >= make_date($2, 1, 1) AND e.starts_at < make_date($2 + 1, 1, 1)",
            ORGANISATION,
            year,
        )
        log(f"  {label}: {registrations:,} registrations at {ORGANISATION}'s events of {year}")
    finally:
        await conn.close()
    return World(label=label, url=url, token=token, year=year, registrations=registrations)


async def in_process_ms(world: World) -> tuple[float, float]:
    """The median time of computing the report (cold: every query) and of serving the kept one, in milliseconds."""
    conn = await asyncpg.connect(world.url)
    await init_connection(conn)
    try:
        organiser = await organiser_for_token(conn, world.token)
        org = await conn.fetchrow("SELECT id, slug, name FROM organisations WHERE slug = $1", ORGANISATION)
        period = reports.period_of(None, None, world.year, None)
        cold, kept = [], []
        for _ in range(IN_PROCESS_RUNS):
            started = time.perf_counter()
            async with conn.transaction():
                await reports.compute_report(conn, org, period, await conn.fetchval("SELECT now()"))
            cold.append((time.perf_counter() - started) * 1000)
            started = time.perf_counter()
            await reports.build_report(conn, organiser, ORGANISATION, period)
            kept.append((time.perf_counter() - started) * 1000)
        return statistics.median(cold), statistics.median(kept)
    finally:
        await conn.close()


def probe() -> Probe:
    """GET /api/organiser/reports for the organisation's last year."""
    return Probe(
        name=f"GET /api/organiser/reports (a year of one organisation, {CONNECTIONS} connections)",
        spec=lambda w: {
            "path": f"/api/organiser/reports?organisation={ORGANISATION}&year={w.year}",
            "headers": {"Authorization": f"Bearer {w.token}"},
        },
    )


async def run(context: Context) -> list[Result]:
    server_url = os.environ["DATABASE_URL"]
    small_name = f"zesummen_bench_{context.name}_small"
    small_url = await create_database(server_url, small_name)
    try:
        big = await prepare("big", context.database_url, BIG, context)
        small = await prepare("small", small_url, SMALL, context)
        (big_cold, big_kept), (small_cold, small_kept) = await in_process_ms(big), await in_process_ms(small)
        log(
            f"  in process, computed: {big_cold:.1f} ms (big) against {small_cold:.1f} ms (small); "
            f"kept: {big_kept:.1f} ms against {small_kept:.1f} ms"
        )
        async with (
            context.server(env=SERVER_ENV) as big_base,
            context.server(env={**SERVER_ENV, "DATABASE_URL": small.url}) as small_base,
        ):
            big.base_url, small.base_url = big_base, small_base
            big_runs, small_runs = await compare(probe(), big, small)  # type: ignore[arg-type]
        result = p99_result(probe(), big_runs, small_runs)
        result.notes.update(
            {
                "big_registrations_in_year": big.registrations,
                "small_registrations_in_year": small.registrations,
                "big_computed_ms": round(big_cold, 1),
                "small_computed_ms": round(small_cold, 1),
                "big_kept_ms": round(big_kept, 1),
                "small_kept_ms": round(small_kept, 1),
            }
        )
        log(f"  {result.name}: {result.figure:.1f} ms against {result.ceiling:.1f} ms -> {result.ratio:.2f}")
        return [result]
    finally:
        if not os.environ.get("BIGDATA_KEEP"):
            await drop_database(server_url, small_name)
            await drop_database(server_url, urlsplit(context.database_url).path.lstrip("/"))
