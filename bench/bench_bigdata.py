"""Issue 7, points 6 and 8: the busy endpoints on a big database against the same on a small one,
the query plans behind them, and a soak of mixed load on the big database (`make soak`).

The big database holds 100,000 events and 1,000,000 registrations (bench/bigdata_load.py makes it
in SQL in a few minutes); the small one is the same at a hundredth. Each endpoint is measured over
real HTTP against two real services, one per database, in alternating rounds of the same run; its
p99 on the big database must stay within 1.5 times its p99 on the small one. The plans of the
queries behind those endpoints (and the notifier's periodic jobs) are printed, written to
bench/bigdata-plans.txt and checked for sequential scans of events, registrations or outbox.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import msgspec

from bench.bench_door import ADD_PEOPLE, make_event, page_paths
from bench.bench_door import BIG as ROSTER_PEOPLE
from bench.bigdata_load import RARE_WORD, Loaded, Scale, load
from bench.harness import Context, LoadStats, Result, http_load, service_rss_mb
from server.backoffice import dashboard
from server.backoffice import queries as bo_q
from server.db import create_database, drop_database, init_connection
from server.events import listing as events
from server.events.schemas import EventFilters
from server.notifications import queries as notifier_q
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.organisers.service import create_admin, hash_token, organiser_for_token
from server.processes import free_port, wait_for_port
from server.registrations import manage
from server.registrations import organiser as staff
from server.registrations import queries as registrations_q
from server.registrations import seat_queries as seat_q
from server.registrations import service as registrations
from server.registrations.schemas import RegistrationIn
from server.settings import ROOT

# `python -m bench` leaves this module out; `make soak` (python -m bench --soak) runs it
SOAK = True

# BIGDATA_FACTOR=10 makes the big database ten times smaller, for a quicker look (not the figures of issue 7)
BIG, SMALL = Scale.of(int(os.environ.get("BIGDATA_FACTOR", "1"))), Scale.of(100)
# many short alternating rounds: on a shared machine a burst of someone else's work then spoils one
# round of one side, not the median
CONNECTIONS, ROUNDS, SECONDS, WARMUP = 8, 7, 1.5, 1.0
ORGANISER_PAGE = 100
TURNS = 1_000  # feeds and manage tokens the probes take in turn
# the limits protect the public from abuse; the load comes from one address on purpose
SERVER_ENV = {"RATE_LIMIT_PER_ADDRESS": "100000000", "RATE_LIMIT_PER_EMAIL": "1000", "MAIL_CAP_PER_DAY": "1000"}
SOAK_SECONDS = float(os.environ.get("SOAK_SECONDS", "300"))
# BIGDATA_PROBES=word measures only the probes whose name holds it (and the control), for a quicker look
ONLY = os.environ.get("BIGDATA_PROBES", "")
COMMON_WORD = "table"  # in the titles or summaries of about 60 % of the events (bench/bigdata_load.py)
SOAK_WINDOW = 30.0
PLANS_FILE = Path(__file__).resolve().parent / "bigdata-plans.txt"
# a plan that reads one of these tables whole does not stay fast as it grows
BIG_TABLES = ("events", "registrations", "outbox")
SEQ_SCAN = re.compile(r"Seq Scan on (\w+)")


class World(msgspec.Struct, kw_only=True):
    """One database and what the requests against it need."""

    label: str
    url: str
    loaded: Loaded
    organiser_token: str
    deep_cursor: str  # a third of the way down the public list
    last_page_cursor: str  # the big event's last full page of registrations for organisers
    feed_slugs: list[str]
    staff_cookie: str  # the back-office session of an ASTI organiser
    roster_event: str  # an ASTI event of 3,750 registrations (issue 22), the same on both databases
    base_url: str = ""


class Probe(msgspec.Struct, kw_only=True):
    """One endpoint measured on both databases: its http_load arguments for a world."""

    name: str
    spec: Callable[[World], dict[str, Any]]
    ok: int = 200


def log(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------- the two databases


async def prepare(label: str, url: str, scale: Scale, context: Context) -> World:
    """Load a database and look up the cursors, slugs and tokens the probes use."""
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        log(f"  loading the {label} database ({scale.events:,} events, {scale.registrations:,} registrations)")
        loaded = await load(conn, scale, context.settings.secret_key, log=log)
        log(f"  {label} database loaded in {loaded.seconds:.0f} s, {loaded.size_mb:,.0f} MB")
        token = (await create_admin(conn, "bench-admin@example.lu", timedelta(days=1))).token
        upcoming = await conn.fetchval("SELECT count(*) FROM events WHERE status <> 'draft' AND ends_at > now()")
        deep = await conn.fetchrow(
            "SELECT starts_at, id FROM events WHERE status <> 'draft' AND ends_at > now() "
            "ORDER BY starts_at, id OFFSET $1 LIMIT 1",
            upcoming // 3,
        )
        big_id = await conn.fetchval("SELECT id FROM events WHERE slug = $1", loaded.big_event)
        last_page = await conn.fetchval(
            "SELECT id FROM registrations WHERE event_id = $1 ORDER BY id DESC OFFSET $2 LIMIT 1",
            big_id,
            ORGANISER_PAGE,
        )
        feed_slugs = [
            r["slug"]
            for r in await conn.fetch(
                "SELECT slug FROM events WHERE status = 'published' AND starts_at > now() ORDER BY md5(slug) LIMIT $1",
                TURNS,
            )
        ]
        roster_event, staff_cookie = await back_office(conn, context)
    finally:
        await conn.close()
    return World(
        staff_cookie=staff_cookie,
        roster_event=roster_event,
        label=label,
        url=url,
        loaded=loaded,
        organiser_token=token,
        deep_cursor=events.encode_cursor(deep["starts_at"], deep["id"]),
        last_page_cursor=str(last_page),
        feed_slugs=feed_slugs,
    )


async def back_office(conn: asyncpg.Connection, context: Context) -> tuple[str, str]:
    """Issue 22's back-office on this database: an ASTI event of 3,750 people and an ASTI organiser's session."""
    org = await conn.fetchrow(org_q.UPSERT_ORGANISATION, "asti", "ASTI")
    slug, event_id = await make_event(conn, context, "Séance d'information sur la nationalité", ROSTER_PEOPLE + 250)
    await conn.fetch(ADD_PEOPLE, event_id, ROSTER_PEOPLE)
    staff = await conn.fetchval(org_q.UPSERT_ORGANISER, "desk@bench.example", "Desk", None, False)
    await conn.execute(org_q.UPSERT_MEMBERSHIP, staff, org["id"], "organiser")
    session = secrets.token_urlsafe(32)
    await conn.execute(bo_q.INSERT_SESSION, staff, hash_token(session), "bench", timedelta(days=1))
    await conn.execute("ANALYZE registrations")
    return slug, f"zs_session={session}"


def probes() -> list[Probe]:
    """The endpoints of issue 7.6, each as it is asked for on either database."""
    people = count()

    def registration(_: int) -> bytes:
        n = next(people)  # every request a new person, on both databases
        return msgspec.json.encode(
            {
                "name": f"Probe Person {n}",
                "email": f"probe{n}@bench.example",
                "language": "pt",
                "consent": True,
                "commune": "Esch-sur-Alzette",
            }
        )

    def organiser(w: World) -> dict[str, str]:
        return {"Authorization": f"Bearer {w.organiser_token}"}

    def pages(path: str) -> Callable[[World], dict[str, Any]]:
        return lambda w: {"path": path}

    def desk(w: World) -> dict[str, str]:
        return {"Cookie": w.staff_cookie}

    big_list = "/api/organiser/events/{slug}/registrations?limit=" + str(ORGANISER_PAGE)
    return [
        # the control: a query that reads no data, so its ratio shows how far this run's noise goes
        Probe(name="control: GET /bench/select-1 (reads no data)", spec=pages("/bench/select-1")),
        Probe(name="GET /api/events (first page, de)", spec=pages("/api/events?lang=de")),
        Probe(
            name="GET /api/events (a third of the way down, by cursor)",
            spec=lambda w: {"path": f"/api/events?lang=de&cursor={w.deep_cursor}"},
        ),
        Probe(
            name="GET /api/events?kind=conversation_table&spoken=lb",
            spec=pages("/api/events?kind=conversation_table&spoken=lb"),
        ),
        Probe(name="GET /api/events?commune=Esch-sur-Alzette", spec=pages("/api/events?commune=Esch-sur-Alzette")),
        Probe(name="GET /api/events?organisation=caritas", spec=pages("/api/events?organisation=caritas")),
        Probe(name=f"GET /api/events?q={RARE_WORD}", spec=pages(f"/api/events?q={RARE_WORD}")),
        # a word most events hold: PostgreSQL reads the list in order and checks each event's words
        Probe(name=f"GET /api/events?q={COMMON_WORD} (a common word)", spec=pages(f"/api/events?q={COMMON_WORD}")),
        # a common word with a filter that excludes it
        Probe(
            name=f"GET /api/events?q={COMMON_WORD}&kind=webconference (a common word no web conference holds)",
            spec=pages(f"/api/events?q={COMMON_WORD}&kind=webconference"),
        ),
        Probe(
            name="GET /api/events?q=vivre&spoken=pt (a word of 5% of events, none of them in Portuguese)",
            spec=pages("/api/events?q=vivre&spoken=pt"),
        ),
        Probe(
            name="GET /events/{slug}.ics (1,000 events in turn)",
            spec=lambda w: {"path_for": lambda i: f"/events/{w.feed_slugs[i % len(w.feed_slugs)]}.ics"},
        ),
        Probe(
            name="GET /api/registrations/{token}/calendar.ics (a person's feed, 1,000 people in turn)",
            spec=lambda w: {
                "path_for": lambda i: f"/api/registrations/{w.loaded.tokens[i % len(w.loaded.tokens)]}/calendar.ics"
            },
        ),
        Probe(
            name="POST /api/events/{slug}/registrations (unlimited event)",
            ok=202,
            spec=lambda w: {
                "path": f"/api/events/{w.loaded.popular[0]}/registrations",
                "method": "POST",
                "body": registration,
            },
        ),
        Probe(
            name="GET /api/registrations/{token} (1,000 people in turn)",
            spec=lambda w: {"path_for": lambda i: f"/api/registrations/{w.loaded.tokens[i % len(w.loaded.tokens)]}"},
        ),
        Probe(
            name=f"GET organiser registrations of the big event (first {ORGANISER_PAGE})",
            spec=lambda w: {"path": big_list.format(slug=w.loaded.big_event), "headers": organiser(w)},
        ),
        Probe(
            name=f"GET organiser registrations of the big event (last {ORGANISER_PAGE}, by cursor)",
            spec=lambda w: {
                "path": big_list.format(slug=w.loaded.big_event) + f"&cursor={w.last_page_cursor}",
                "headers": organiser(w),
            },
        ),
        # issue 22: the back-office's pages, signed in as an ASTI organiser
        Probe(
            name="GET /organiser/ (back-office dashboard of an ASTI organiser)",
            spec=lambda w: {"path": "/organiser/", "headers": desk(w)},
        ),
        Probe(
            name=f"GET /organiser/events/{{slug}}/registrations (back-office, an event of {ROSTER_PEOPLE:,}: "
            "every page in turn, 1 in 4 a search)",
            spec=lambda w: {"path_for": page_paths(w.roster_event, ROSTER_PEOPLE), "headers": desk(w)},
        ),
    ]


async def feeds_answer(w: World) -> bool:
    """Whether this service has the iCal feeds (issue 5) yet: an event's feed is a calendar."""
    parts = urlsplit(w.base_url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    writer.write(
        f"GET /events/{w.feed_slugs[0]}.ics HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode()
    )
    head = (await reader.read(4096)).decode("latin-1")
    writer.close()
    return head.startswith("HTTP/1.1 200") and "text/calendar" in head.lower()


async def compare(probe: Probe, big: World, small: World) -> tuple[list[LoadStats], list[LoadStats]]:
    """Warm both services up, then alternate rounds between them; returns each one's rounds.

    An answer other than the expected one is logged and kept in the rounds' statuses (the result
    shows it), so that one failing endpoint does not cost the figures of the others.
    """
    for w in (big, small):
        spec = {"path": "/", **probe.spec(w)}
        # taking turns over many paths (feeds, tokens): each once first, as a service running for a while has
        await http_load(
            w.base_url,
            connections=CONNECTIONS,
            **spec,
            **({"requests": TURNS} if "path_for" in spec else {"duration": WARMUP}),
        )
    rounds: tuple[list[LoadStats], list[LoadStats]] = ([], [])
    for _ in range(ROUNDS):
        for runs, w in zip(rounds, (big, small), strict=False):
            stats = await http_load(
                w.base_url, duration=SECONDS, connections=CONNECTIONS, **{"path": "/", **probe.spec(w)}
            )
            if set(stats.statuses) != {probe.ok}:
                log(f"  {probe.name} on the {w.label} database: unexpected answers {stats.statuses}")
            runs.append(stats)
    return rounds


def p99_result(probe: Probe, big_runs: list[LoadStats], small_runs: list[LoadStats]) -> Result:
    """The big database's median p99 against the small one's."""

    def median(runs: list[LoadStats], field: str) -> float:
        return statistics.median(getattr(s, field) for s in runs)

    # a request refused (503 after a timeout) is no figure: the result fails, its notes say why
    failed = unexpected(big_runs, probe.ok) or unexpected(small_runs, probe.ok)
    return Result(
        name=f"p99 {probe.name}",
        figure=float("inf") if failed else median(big_runs, "p99_ms"),
        unit="ms",
        ceiling=median(small_runs, "p99_ms"),
        ceiling_name=f"same on the small database ({SMALL.events:,} events)",
        target=1.5,
        better="lower",
        notes={
            "big_req_s": round(median(big_runs, "throughput"), 1),
            "small_req_s": round(median(small_runs, "throughput"), 1),
            "big_p50_ms": round(median(big_runs, "p50_ms"), 2),
            "small_p50_ms": round(median(small_runs, "p50_ms"), 2),
            "big_p99_rounds_ms": [round(s.p99_ms, 1) for s in big_runs],
            "small_p99_rounds_ms": [round(s.p99_ms, 1) for s in small_runs],
            **{
                f"{label}_unexpected_answers": bad
                for label, runs in (("big", big_runs), ("small", small_runs))
                if (bad := unexpected(runs, probe.ok))
            },
        },
    )


def unexpected(runs: list[LoadStats], ok: int) -> dict[int, int]:
    """Answers other than `ok` over all rounds, by status."""
    found: dict[int, int] = {}
    for stats in runs:
        for status, n in stats.statuses.items():
            if status != ok:
                found[status] = found.get(status, 0) + n
    return found


# ---------------------------------------------------------------------------- plans


class Recorder:
    """A connection that notes every statement the service code sends through it, with its arguments."""

    def __init__(self, conn: asyncpg.Connection):
        self._conn = conn
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._conn, name)  # transaction() and the rest, as they are

    def _note(self, sql: str, args: tuple[Any, ...]) -> None:
        if not sql.lstrip().upper().startswith("SET "):  # settings have no plan
            self.statements.append((sql, args))

    async def fetch(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._note(sql, args)
        return await self._conn.fetch(sql, *args, **kwargs)

    async def fetchrow(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._note(sql, args)
        return await self._conn.fetchrow(sql, *args, **kwargs)

    async def fetchval(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._note(sql, args)
        return await self._conn.fetchval(sql, *args, **kwargs)

    async def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._note(sql, args)
        return await self._conn.execute(sql, *args, **kwargs)


async def recorded(conn: asyncpg.Connection, world: World, settings: Any) -> list[tuple[str, str, tuple[Any, ...]]]:
    """(endpoint, sql, args) of every statement behind the measured endpoints, as the service code sends them."""
    found: list[tuple[str, str, tuple[Any, ...]]] = []

    async def note(label: str, action: Callable[[Recorder], Any], *, every: bool = False) -> None:
        """Note the statements `action` sends; `every`: also those already noted (other arguments, other plan)."""
        recorder = Recorder(conn)
        await action(recorder)
        for sql, args in recorder.statements:
            if every or sql not in {seen for _, seen, _ in found}:
                found.append((label, sql, args))

    settings = msgspec.structs.replace(settings, rate_limit_per_address=10**8)
    for label, filters, cursor in [
        ("GET /api/events (first page)", EventFilters(), None),
        ("GET /api/events (deep cursor)", EventFilters(), world.deep_cursor),
        ("GET /api/events?kind&spoken", EventFilters(kind="conversation_table", spoken="lb"), None),
        ("GET /api/events?commune", EventFilters(commune="Esch-sur-Alzette"), None),
        ("GET /api/events?organisation", EventFilters(organisation="caritas"), None),
        ("GET /api/events?q", EventFilters(q=RARE_WORD), None),
        (
            "GET /api/events?q&kind (a common word no web conference holds)",
            EventFilters(q=COMMON_WORD, kind="webconference"),
            None,
        ),
        ("GET /api/events?q&spoken (a word no event in Portuguese holds)", EventFilters(q="vivre", spoken="pt"), None),
    ]:
        events._RENDERED.clear()  # so that the full rows are read as on a first visit
        await note(
            label,
            lambda c, filters=filters, cursor=cursor: events.list_public(
                c, filters, "de", settings, limit=20, cursor=cursor
            ),
            every=True,
        )
    person = RegistrationIn(name="Plan Person", email="plan@bench.example", language="fr", consent=True)
    await note(
        "POST registrations",
        lambda c: registrations.register(c, world.loaded.popular[0], person, settings, client_ip="203.0.113.7"),
    )
    for kind, token in sorted(world.loaded.token_of.items()):
        await note(
            f"GET /api/registrations/{{token}} ({kind})", lambda c, token=token: manage.view(c, token, "fr", settings)
        )
    await note("organiser bearer token", lambda c: organiser_for_token(c, world.organiser_token))
    organiser = await organiser_for_token(conn, world.organiser_token)
    for label, cursor in [("first page", None), ("last page", world.last_page_cursor)]:
        await note(
            f"GET organiser registrations ({label})",
            lambda c, cursor=cursor: staff.list_registrations(
                c, organiser, world.loaded.big_event, status=None, attendance=None, limit=ORGANISER_PAGE, cursor=cursor
            ),
            every=True,
        )
    # issue 22: the back-office dashboard of the ASTI organiser the probes sign in as
    desk = await conn.fetchrow("SELECT id, email FROM organisers WHERE email = 'desk@bench.example'")
    asti = await conn.fetchval("SELECT id FROM organisations WHERE slug = 'asti'")
    who = Organiser(id=desk["id"], email=desk["email"], name="Desk", is_admin=False, roles={asti: "organiser"})
    await note("GET /organiser/ (back-office dashboard)", lambda c: dashboard.dashboard(c, who), every=True)
    return found


def feed_statements(world: World) -> list[tuple[str, str, tuple[Any, ...]]]:
    """The iCal feeds' queries for one event and one person, once the feeds (issue 5) are here."""
    try:
        from server.feeds import queries as feeds_q
        from server.feeds import service as feeds
    except ImportError:
        return []
    found = []
    slug = world.feed_slugs[0]
    for name in ("EVENT_FEED_VERSION", "EVENT_FEED_ITEMS"):
        if hasattr(feeds_q, name):
            found.append((f"GET /events/{{slug}}.ics ({name})", getattr(feeds_q, name), (slug,)))
    if hasattr(feeds_q, "PERSONAL_FEED_VERSION") and hasattr(feeds, "window"):
        start, end = feeds.window(datetime.now(UTC).date())
        found.append(
            (
                "GET /api/registrations/{token}/calendar.ics (PERSONAL_FEED_VERSION)",
                feeds_q.PERSONAL_FEED_VERSION,
                ("person17@example.lu", start, end),
            )
        )
    return found


def housekeeping_statements(settings: Any) -> list[tuple[str, str, tuple[Any, ...]]]:
    """The notifier's periodic jobs run these over the whole database every 30 seconds."""
    return [
        ("housekeeping: expire holds", seat_q.EVENTS_WITH_STALE_HOLDS, ()),
        ("housekeeping: plan reminders", notifier_q.PLAN_REMINDERS, (timedelta(days=2), settings.reminder_grace)),
        ("housekeeping: drop stale reminders", notifier_q.DROP_STALE_REMINDERS, ()),
        ("housekeeping: anonymise", registrations_q.DUE_FOR_ANONYMISATION, (settings.anonymise_after, 500)),
        ("notifier: claim due mail", notifier_q.CLAIM_DUE, (8, "bench", timedelta(minutes=5))),
    ]


class _Undo(Exception):
    """Leaves a transaction by rolling it back."""


async def rolled_back(conn: asyncpg.Connection, action: Callable[[], Any]) -> Any:
    """Run `action` in a transaction that is then rolled back: what it wrote is not kept."""
    result = None
    try:
        async with conn.transaction():
            result = await action()
            raise _Undo
    except _Undo:
        return result


async def explain(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> tuple[str, str]:
    """(custom plan, generic plan) with ANALYZE and BUFFERS, each in a transaction rolled back (writes too).

    The custom plan is the one for these arguments; the generic plan is the one PostgreSQL may switch
    a prepared statement to after five runs (asyncpg prepares every statement), so both must be good.
    """

    async def custom() -> str:
        return "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + sql, *args))

    prepared = False

    async def generic() -> str:
        nonlocal prepared
        await conn.execute("SET LOCAL plan_cache_mode = force_generic_plan")
        await conn.execute("PREPARE bigdata_plan AS " + sql)
        prepared = True
        # EXECUTE takes no parameters: each argument goes in as a literal of the type PREPARE gave it
        types = await conn.fetchval(
            "SELECT parameter_types::text[] FROM pg_prepared_statements WHERE name = 'bigdata_plan'"
        )
        literals = [
            f"{await conn.fetchval(f'SELECT quote_nullable(($1::{t})::text)', arg)}::{t}"
            for t, arg in zip(types, args, strict=False)
        ]
        execute = f"EXECUTE bigdata_plan({', '.join(literals)})" if args else "EXECUTE bigdata_plan"
        return "\n".join(r[0] for r in await conn.fetch("EXPLAIN (ANALYZE, BUFFERS) " + execute))

    custom_plan = await rolled_back(conn, custom)
    try:
        generic_plan = await rolled_back(conn, generic)
    except asyncpg.PostgresError as exc:
        generic_plan = f"(no generic plan: {exc})"
    if prepared:  # a prepared statement outlives the transaction that made it
        await conn.execute("DEALLOCATE bigdata_plan")
    return custom_plan, generic_plan


def statement_name(sql: str) -> str:
    """The name of the queries.py constant holding this statement, else its first line."""
    for module in list(sys.modules.values()):
        if (
            module is not None
            and getattr(module, "__name__", "").startswith("server.")
            and module.__name__.endswith("queries")
        ):
            for name, value in vars(module).items():
                # a template such as PUBLIC_EVENT_PAGE is known by its text up to the placeholder
                if (
                    name.isupper()
                    and isinstance(value, str)
                    and (value == sql or "{filters}" in value and sql.startswith(value.split("{")[0]))
                ):
                    return f"{module.__name__.removeprefix('server.')}.{name}"
    return sql.strip().splitlines()[0][:80]


def seq_scans(plan: str) -> list[str]:
    return [table for table in SEQ_SCAN.findall(plan) if table in BIG_TABLES]


def execution_ms(plan: str) -> float:
    match = re.search(r"Execution Time: ([0-9.]+) ms", plan)
    return float(match.group(1)) if match else float("nan")


async def check_plans(world: World, settings: Any) -> list[Result]:
    """Print and file every plan; per group, how many have no sequential scan of a big table."""
    conn = await asyncpg.connect(world.url)
    await init_connection(conn)
    groups = {"the measured endpoints": [], "the notifier's periodic jobs": []}
    try:
        groups["the measured endpoints"] = await rolled_back(conn, lambda: recorded(conn, world, settings))
        groups["the measured endpoints"] += feed_statements(world)
        groups["the notifier's periodic jobs"] = housekeeping_statements(settings)
        report, results = [], []
        for group, statements in groups.items():
            clean, bad = 0, []
            for label, sql, args in statements:
                custom, generic = await explain(conn, sql, args)
                scanned = sorted(set(seq_scans(custom) + seq_scans(generic)))
                clean += not scanned
                if scanned:
                    bad.append(f"{label}: {', '.join(scanned)}")
                summary = (
                    f"{label}: {statement_name(sql)} — "
                    f"{'SEQ SCAN of ' + ', '.join(scanned) if scanned else 'indexes only'}; "
                    f"custom {execution_ms(custom):.2f} ms, generic {execution_ms(generic):.2f} ms"
                )
                log("  plan: " + summary)
                report.append(
                    f"==== {summary}\n-- arguments: {args!r}\n\n-- custom plan (these arguments)\n"
                    f"{custom}\n\n-- generic plan (what a prepared statement may switch to)\n{generic}\n"
                )
            results.append(
                Result(
                    name=f"plans of {group} without a sequential scan of events, registrations or outbox "
                    "(custom and generic)",
                    figure=clean,
                    unit="plans",
                    ceiling=len(statements),
                    ceiling_name="plans examined",
                    target=1.0,
                    notes={"seq_scans": bad, "plans_file": str(PLANS_FILE.relative_to(ROOT))},
                )
            )
    finally:
        await conn.close()
    PLANS_FILE.write_text(
        f"Plans on the big database ({world.loaded.events:,} events, {world.loaded.registrations:,} "
        f"registrations, {world.loaded.outbox:,} mails), {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n"
        f"made by `make soak` (bench/bench_bigdata.py)\n\n" + "\n".join(report)
    )
    log(f"  plans written to {PLANS_FILE.relative_to(ROOT)}")
    results[0].notes.update(
        big_load_seconds=world.loaded.seconds, big_load_phases=world.loaded.phases, big_size_mb=world.loaded.size_mb
    )
    return results


# ---------------------------------------------------------------------------- the soak


def read_mix(w: World, feeds: bool) -> Callable[[int], str]:
    """The reads of the soak in turn: lists, filters, feeds, manage views, the organiser's list."""
    # not `q`: its known slowness on a big database (its own probe shows it) would hide any drift
    filters = [
        "kind=conversation_table&spoken=lb",
        "commune=Esch-sur-Alzette",
        "organisation=caritas",
        "kind=info_session",
    ]
    big_list = f"/api/organiser/events/{w.loaded.big_event}/registrations?limit={ORGANISER_PAGE}"

    def path(i: int) -> str:
        turn, n = i % 8, i // 8
        if turn == 0:
            return "/api/events?lang=de"
        if turn == 1:
            return f"/api/events?lang=en&cursor={w.deep_cursor}"
        if turn == 2:
            return f"/api/events?{filters[n % len(filters)]}"
        if turn == 3 and feeds:
            return f"/events/{w.feed_slugs[n % len(w.feed_slugs)]}.ics"
        if turn in (3, 4, 5):
            return f"/api/registrations/{w.loaded.tokens[i % len(w.loaded.tokens)]}"
        return big_list if turn == 6 else f"{big_list}&cursor={w.last_page_cursor}"

    return path


async def soak(context: Context, w: World, feeds: bool) -> list[Result]:
    """Reads and registrations for SOAK_SECONDS on the big database, the notifier sending the mail they cause."""
    people = count()

    def registration(_: int) -> bytes:
        n = next(people)
        return msgspec.json.encode(
            {"name": f"Long Run {n}", "email": f"long{n}@bench.example", "language": "lb", "consent": True}
        )

    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(port)], cwd=ROOT)
    notifier = None
    windows: list[dict[str, Any]] = []
    statuses: dict[int, int] = {}
    try:
        wait_for_port("127.0.0.1", port, sink)
        notifier = subprocess.Popen(
            [sys.executable, "-m", "server.notifications"],
            cwd=ROOT,
            env=context.env(
                {
                    "SMTP_HOST": "127.0.0.1",
                    "SMTP_PORT": str(port),
                    "SMTP_TLS": "none",
                    "NOTIFIER_HOUSEKEEPING_EVERY": "PT30S",
                }
            ),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        async with context.server(env=SERVER_ENV) as base:
            w.base_url = base
            register = f"/api/events/{w.loaded.popular[1 % len(w.loaded.popular)]}/registrations"
            headers = {"Authorization": f"Bearer {w.organiser_token}"}
            await http_load(base, "/", path_for=read_mix(w, feeds), connections=6, duration=10, headers=headers)
            deadline = time.monotonic() + SOAK_SECONDS
            while time.monotonic() < deadline:
                reads, writes = await asyncio.gather(
                    http_load(
                        base, "/", path_for=read_mix(w, feeds), connections=6, duration=SOAK_WINDOW, headers=headers
                    ),
                    http_load(base, register, method="POST", body=registration, connections=2, duration=SOAK_WINDOW),
                )
                for stats in (reads, writes):
                    for status, n in stats.statuses.items():
                        statuses[status] = statuses.get(status, 0) + n
                window = {
                    "reads_s": round(reads.throughput, 1),
                    "reads_p99_ms": round(reads.p99_ms, 1),
                    "registrations_s": round(writes.throughput, 1),
                    "registrations_p99_ms": round(writes.p99_ms, 1),
                    "web_rss_mb": round(service_rss_mb(), 1),
                }
                windows.append(window)
                log(f"  soak {len(windows) * SOAK_WINDOW:.0f} s: {window}")
        drained, mail = await drain_mail(w.url)
    finally:
        for process in (notifier, sink):
            if process is not None:
                process.terminate()
                process.wait(timeout=30)
    acknowledged = statuses.get(202, 0)
    stored = await fetch_value(w.url, "SELECT count(*) FROM registrations WHERE email LIKE 'long%@bench.example'")
    expected = sum(n for status, n in statuses.items() if status in (200, 202))
    first, last = windows[0], windows[-1]
    span = f"{len(windows) * SOAK_WINDOW:.0f} s of mixed load on the big database"
    reads_before, reads_after = thirds(windows, "reads_p99_ms")
    writes_before, writes_after = thirds(windows, "registrations_p99_ms")
    return [
        Result(
            name=f"soak: p99 of the reads, last third of the windows against the first (median of their "
            f"{SOAK_WINDOW:.0f} s windows; {span})",
            figure=reads_after,
            unit="ms",
            ceiling=reads_before,
            ceiling_name="first third",
            target=1.5,
            better="lower",
            notes={"windows": windows},
        ),
        Result(
            name="soak: p99 of the registrations, last third of the windows against the first (median)",
            figure=writes_after,
            unit="ms",
            ceiling=writes_before,
            ceiling_name="first third",
            target=1.5,
            better="lower",
        ),
        Result(
            name="soak: memory of the web service, end against start",
            figure=last["web_rss_mb"],
            unit="MB",
            ceiling=first["web_rss_mb"],
            ceiling_name="after the first window",
            target=1.5,
            better="lower",
        ),
        Result(
            name="soak: requests answered 200 (reads) or 202 (registrations)",
            figure=expected,
            unit="requests",
            ceiling=sum(statuses.values()),
            ceiling_name="requests sent",
            target=1.0,
            notes={"statuses": statuses},
        ),
        Result(
            name="soak: acknowledged registrations found in the database",
            figure=stored,
            unit="registrations",
            ceiling=acknowledged,
            ceiling_name="202 answers",
            target=1.0,
        ),
        Result(
            name="soak: mail the registrations caused, sent by the notifier (real SMTP to a sink)",
            figure=mail["sent"],
            unit="mails",
            ceiling=mail["total"],
            ceiling_name="mails queued",
            target=1.0,
            notes={**mail, "seconds_to_send_after_the_load": drained},
        ),
    ]


def thirds(windows: list[dict[str, Any]], key: str) -> tuple[float, float]:
    """The median of `key` over the first and over the last third of the windows (one window at least).

    A slowdown that grows with the run (bloat, a leak) moves the median of several windows; a single
    window does not tell it from a checkpoint or a busy neighbour on the machine (in one run, the
    window at 120 s had a p99 of 55 ms at 377 reads/s, those around it 35 ms at 460 reads/s).
    """
    third = max(1, len(windows) // 3)
    return statistics.median(w[key] for w in windows[:third]), statistics.median(w[key] for w in windows[-third:])


async def fetch_value(url: str, sql: str) -> Any:
    conn = await asyncpg.connect(url)
    try:
        return await conn.fetchval(sql)
    finally:
        await conn.close()


async def drain_mail(url: str, stall: float = 60.0) -> tuple[float | None, dict[str, int]]:
    """Wait while the notifier sends the soak's mail; returns the seconds it took (None: it stopped for `stall` s)."""
    conn = await asyncpg.connect(url)
    started = last_progress = time.monotonic()
    sent = -1
    try:
        while True:
            row = await conn.fetchrow(
                "SELECT count(*) AS total, count(*) FILTER (WHERE status = 'sent') AS sent, "
                "count(*) FILTER (WHERE status IN ('queued', 'retrying')) AS waiting "
                "FROM outbox WHERE recipient LIKE 'long%@bench.example'"
            )
            now = time.monotonic()
            if not row["waiting"]:
                return round(now - started, 1), dict(row)
            if row["sent"] != sent:
                sent, last_progress = row["sent"], now
            elif now - last_progress > stall:
                return None, dict(row)
            await asyncio.sleep(1)
    finally:
        await conn.close()


# ---------------------------------------------------------------------------- the run


async def run(context: Context) -> list[Result]:
    server_url = os.environ["DATABASE_URL"]
    small_name = f"zesummen_bench_{context.name}_small"
    small_url = await create_database(server_url, small_name)
    try:
        big = await prepare("big", context.database_url, BIG, context)
        small = await prepare("small", small_url, SMALL, context)
        results = await check_plans(big, context.settings)
        async with (
            context.server(env=SERVER_ENV) as big_base,
            context.server(env={**SERVER_ENV, "DATABASE_URL": small.url}) as small_base,
        ):
            big.base_url, small.base_url = big_base, small_base
            feeds = await feeds_answer(small)
            for probe in probes():
                if ONLY and ONLY not in probe.name and not probe.name.startswith("control"):
                    continue
                if ".ics" in probe.name and not feeds:
                    log(f"  {probe.name}: not measured, this service has no iCal feeds yet (issue 5)")
                    continue
                big_runs, small_runs = await compare(probe, big, small)
                result = p99_result(probe, big_runs, small_runs)
                log(f"  {result.name}: {result.figure:.1f} ms against {result.ceiling:.1f} ms -> {result.ratio:.2f}")
                results.append(result)
        if SOAK_SECONDS > 0:
            results += await soak(context, big, feeds)
        return results
    finally:
        # a gigabyte each: kept only when asked (BIGDATA_KEEP=1), to look at the data afterwards
        if not os.environ.get("BIGDATA_KEEP"):
            await drop_database(server_url, small_name)
            await drop_database(server_url, urlsplit(context.database_url).path.lstrip("/"))
