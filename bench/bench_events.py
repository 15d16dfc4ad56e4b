"""Issue 2: the public event list (50 events, localised) against a `SELECT 1` endpoint."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec

from bench.harness import Context, Result, paired_load
from server.db import init_connection
from server.events.schemas import EventIn
from server.events.service import create_event, publish_event
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser

EVENTS = 50
SYSTEM = Organiser(id=0, email="bench@localhost", name="bench", is_admin=True, roles={})


async def seed(context: Context) -> None:
    """Fifty published events of every kind, titles in five languages."""
    conn = await asyncpg.connect(context.database_url)
    await init_connection(conn)
    try:
        await conn.execute(org_q.UPSERT_ORGANISATION, "asti", "ASTI")
        first = datetime.now(UTC).replace(minute=15, second=0, microsecond=0) + timedelta(days=1)
        for n in range(EVENTS):
            start = first + timedelta(days=n)
            kind = ("webconference", "conversation_table", "info_session")[n % 3]
            body = {
                "kind": kind,
                "organisation": "asti",
                "languages": ["fr", "de"],
                "title": {lang: f"{lang} title {n}" for lang in ("fr", "de", "lb", "en", "pt")},
                "summary": {"fr": "Un résumé un peu plus long, comme sur le site de l'agence. " * 3},
                "starts_at": start.isoformat(),
                "ends_at": (start + timedelta(minutes=90)).isoformat(),
                "capacity": 40,
            }
            if kind == "webconference":
                body |= {"join_url": "https://meet.example.org/room", "platform": "Webex"}
            elif kind == "conversation_table":
                body |= {"practised_language": "lb", "level": "all", "venue": "10, rue Auguste Laval, Luxembourg"}
            else:
                body |= {"commune": "Esch-sur-Alzette", "venue": "Biergerzentrum"}
            event = await create_event(conn, SYSTEM, msgspec.convert(body, EventIn), context.settings)
            await publish_event(conn, SYSTEM, event.slug, context.settings)
    finally:
        await conn.close()


async def run(context: Context) -> list[Result]:
    await seed(context)
    async with context.server() as base:
        listing, select_one = await paired_load(
            base,
            {"path": f"/api/events?limit={EVENTS}&lang=de"},
            {"path": "/bench/select-1"},
        )
    for stats in (listing, select_one):
        if set(stats.statuses) != {200}:
            raise RuntimeError(f"unexpected answers: {stats.statuses}")
    return [
        Result(
            name=f"GET /api/events ({EVENTS} events, de)",
            figure=listing.throughput,
            unit="req/s",
            ceiling=select_one.throughput,
            ceiling_name="SELECT 1 endpoint",
            target=0.5,
            notes={"p99_ms": round(listing.p99_ms, 1), "ceiling_p99_ms": round(select_one.p99_ms, 1)},
        )
    ]
