"""Issue 22: the back-office's registrations page of an event with 3,750 registrations against the same
page of an event with 50 (p99, 20 connections), and the door's check-in POST under 20 concurrent door staff
against the bare `INSERT ... RETURNING` endpoint, measured in the same run."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from bench.harness import Context, Result, paired_load
from server.backoffice import queries as bo_q
from server.db import init_connection
from server.events.schemas import EventIn
from server.events.service import create_event, publish_event
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.organisers.service import hash_token
from server.pages.csrf import form_token

BIG = 3_750
SMALL = 50
PAGE_SIZE = 50
DOOR_STAFF = 20
SYSTEM = Organiser(id=0, email="bench@localhost", name="bench", is_admin=True, roles={})

# the people of event $1: $2 of them, confirmed, each with the confirmation mail the service wrote them
ADD_PEOPLE = """
WITH added AS (
    INSERT INTO registrations (event_id, token_nonce, token_hash, name, email, language, status, consent_at,
                               confirmed_at, source)
    SELECT $1::bigint, decode(md5($1::bigint || '-' || n), 'hex'), sha256(($1::bigint || '-' || n)::bytea),
           (ARRAY['Ana', 'Bruno', 'Carla', 'Dara', 'Eva', 'Filipe', 'Greta', 'Hugo'])[n % 8 + 1] || ' Person ' || n,
           'person' || n || '-' || $1::bigint || '@bench.example', (ARRAY['fr', 'de', 'lb', 'en', 'pt'])[n % 5 + 1],
           'confirmed', now(), now(), 'public'
    FROM generate_series(1, $2::int) n
    RETURNING id, event_id, email, language
)
INSERT INTO outbox (kind, event_id, registration_id, recipient, language, status)
SELECT 'registration_confirmed', event_id, id, email, language, 'skipped' FROM added
RETURNING registration_id
"""


async def make_event(conn: asyncpg.Connection, context: Context, title: str, capacity: int) -> tuple[str, int]:
    start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=5)
    body = {
        "kind": "info_session",
        "organisation": "asti",
        "languages": ["fr"],
        "title": {"fr": title},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": capacity,
        "venue": "ASTI, 10 rue Auguste Laval",
        "commune": "Luxembourg",
    }
    event = await create_event(conn, SYSTEM, msgspec.convert(body, EventIn), context.settings)
    await publish_event(conn, SYSTEM, event.slug, context.settings)
    return event.slug, await conn.fetchval("SELECT id FROM events WHERE slug = $1", event.slug)


async def seed(context: Context) -> dict[str, object]:
    """Two events of ASTI (3,750 and 50 people), an organiser's session and CSRF cookie, the ceiling's table."""
    conn = await asyncpg.connect(context.database_url)
    await init_connection(conn)
    try:
        await conn.execute(
            "CREATE TABLE bench_inserts (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, body jsonb NOT NULL)"
        )
        org = await conn.fetchrow(org_q.UPSERT_ORGANISATION, "asti", "ASTI")
        big, big_id = await make_event(conn, context, "Séance d'information sur la nationalité luxembourgeoise", 4_000)
        small, small_id = await make_event(conn, context, "Table de conversation", 60)
        ids = [r["registration_id"] for r in await conn.fetch(ADD_PEOPLE, big_id, BIG)]
        await conn.fetch(ADD_PEOPLE, small_id, SMALL)
        staff = await conn.fetchval(org_q.UPSERT_ORGANISER, "door@bench.example", "Door staff", None, False)
        await conn.execute(org_q.UPSERT_MEMBERSHIP, staff, org["id"], "organiser")
        session = secrets.token_urlsafe(32)
        await conn.execute(bo_q.INSERT_SESSION, staff, hash_token(session), "bench", timedelta(hours=2))
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    csrf_cookie = secrets.token_urlsafe(32)
    return {
        "big": big,
        "small": small,
        "ids": ids,
        "cookie": f"zs_session={session}; zs_csrf={csrf_cookie}",
        "csrf": form_token(context.settings, csrf_cookie),
    }


def page_paths(slug: str, people: int):
    """The i-th request of the table: every page in turn, and one in four a search by name."""
    pages = -(-people // PAGE_SIZE)

    def path(i: int) -> str:
        if i % 4 == 3:
            return f"/organiser/events/{slug}/registrations?q=Person+{i % 90 + 10}"
        return f"/organiser/events/{slug}/registrations?page={i % pages + 1}"

    return path


async def run(context: Context) -> list[Result]:
    world = await seed(context)
    cookie = {"Cookie": world["cookie"]}
    ids: list[int] = world["ids"]  # type: ignore[assignment]
    tap = f"csrf_token={world['csrf']}&q=".encode()

    async with context.server() as base:
        big_page, small_page = await paired_load(
            base,
            {"path": "/", "path_for": page_paths(str(world["big"]), BIG), "headers": cookie},
            {"path": "/", "path_for": page_paths(str(world["small"]), SMALL), "headers": cookie},
            connections=DOOR_STAFF,
        )
        tapping, inserting = await paired_load(
            base,
            {
                "path": "/",
                "method": "POST",
                "body": lambda _: tap,
                "path_for": lambda i: f"/organiser/events/{world['big']}/checkin/{ids[i % len(ids)]}/present",
                "headers": {**cookie, "Content-Type": "application/x-www-form-urlencoded"},
            },
            {
                "path": "/bench/insert-returning",
                "method": "POST",
                "body": lambda i: msgspec.json.encode({"registration": ids[i % len(ids)], "attendance": "present"}),
            },
            connections=DOOR_STAFF,
        )
    for stats, expected in ((big_page, 200), (small_page, 200), (tapping, 303), (inserting, 202)):
        if set(stats.statuses) != {expected}:
            raise RuntimeError(f"unexpected answers: {stats.statuses}")
    marked = await _present(context)
    return [
        Result(
            name=f"GET registrations page, event of {BIG:,} (every page, 1 in 4 a search), p99, "
            f"{DOOR_STAFF} connections",
            figure=big_page.p99_ms,
            unit="ms",
            ceiling=small_page.p99_ms,
            ceiling_name=f"the same page of an event of {SMALL}",
            target=1.5,
            better="lower",
            notes={
                "p50_ms": round(big_page.p50_ms, 1),
                "throughput": round(big_page.throughput, 1),
                "ceiling_p50_ms": round(small_page.p50_ms, 1),
                "ceiling_throughput": round(small_page.throughput, 1),
            },
        ),
        Result(
            name=f"POST check-in at the door (mark present + audit row), {DOOR_STAFF} connections",
            figure=tapping.throughput,
            unit="req/s",
            ceiling=inserting.throughput,
            ceiling_name="bare INSERT ... RETURNING endpoint",
            target=0.5,
            notes={"p99_ms": round(tapping.p99_ms, 1), "ceiling_p99_ms": round(inserting.p99_ms, 1), "present": marked},
        ),
    ]


async def _present(context: Context) -> int:
    """How many of the big event's people were marked present (a check that the taps did write)."""
    conn = await asyncpg.connect(context.database_url)
    try:
        return await conn.fetchval("SELECT count(*) FROM registrations WHERE attendance = 'present'")
    finally:
        await conn.close()
