"""Issue 5: a 1,000-event feed, warm (200 and 304) against /healthz, and its cold build against bare icalendar."""

from __future__ import annotations

import random
import statistics
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import icalendar
import msgspec

from bench.harness import Context, Result, http_load, paired_load, service_cpu_seconds
from server.db import init_connection
from server.events.schemas import EventFilters, EventIn
from server.events.service import create_event, publish_event
from server.feeds import queries as feed_q
from server.feeds import service as feeds
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser

EVENTS = 1000
SERIES, DATES = 10, 10  # of the 1,000 events, 100 are the dates of ten weekly series
SYSTEM = Organiser(id=0, email="bench@localhost", name="bench", is_admin=True, roles={})
FEED = "/calendar.ics?lang=fr"
COLD_ROUNDS = 9


# words of the agency's own pages (shared/seeds), so that texts differ as real ones do: a repeated
# sentence would compress far better than a real programme and flatter the gzip figures
WORDS = """Le Département de l'intégration entretient une collaboration étroite avec de nombreuses
associations et ONG œuvrant en faveur de l'intégration et des étrangers au Grand-Duché de Luxembourg
le ministère de la Famille conclut une convention avec certains organismes pour mener des activités
l'accompagnement des communes la traduction orale directe et le Guichet Info-Migrants l'Accueil et le
Centre Oasis dans les communes pilotes du Pakt vum Zesummeliewen une étude sur le racisme et les
discriminations la sensibilisation à l'inscription sur les listes électorales l'information
l'orientation et la formation des individus les expressions associatives et citoyennes de nouveaux
paradigmes citoyens les subsides aux associations bénévolat demandeurs de protection internationale
réfugiés vivre ensemble bonnes pratiques séance conférence table de conversation échange""".split()


def text(rng: random.Random, low: int, high: int) -> str:
    """A made-up sentence of the agency's words."""
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def event_body(n: int, start: datetime, recurrence: dict | None = None) -> dict:
    """An event of a realistic size: a title in two languages, a summary, a paragraph of description."""
    rng = random.Random(n)
    kind = ("webconference", "conversation_table", "info_session")[n % 3]
    body = {
        "kind": kind,
        "organisation": "asti",
        "languages": ["fr", "de"],
        "title": {"fr": text(rng, 4, 9).rstrip("."), "de": f"Veranstaltung Nr. {n}"},
        "summary": {"fr": text(rng, 8, 16)},
        "description": {"fr": text(rng, 40, 90) + "\n\n" + text(rng, 20, 40)},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=90)).isoformat(),
        "capacity": 40,
    }
    if kind == "webconference":
        body |= {"join_url": "https://meet.example.org/room", "platform": "Webex"}
    elif kind == "conversation_table":
        body |= {"practised_language": "lb", "level": "all", "venue": "ASTI, 10-12, rue Auguste Laval, Luxembourg"}
    else:
        body |= {"commune": "Esch-sur-Alzette", "venue": "Biergerzentrum"}
    if recurrence:
        body["recurrence"] = recurrence
    return body


async def seed(conn: asyncpg.Connection, context: Context) -> None:
    """900 single events and ten weekly series of ten dates over the next two years, published."""
    await conn.execute(org_q.UPSERT_ORGANISATION, "asti", "ASTI")
    first = datetime.now(UTC).replace(hour=11, minute=15, second=0, microsecond=0) + timedelta(days=1)
    singles = EVENTS - SERIES * DATES
    for n in range(singles):
        start = first + timedelta(hours=17 * n)
        event = await create_event(conn, SYSTEM, msgspec.convert(event_body(n, start), EventIn), context.settings)
        await publish_event(conn, SYSTEM, event.slug, context.settings)
    for s in range(SERIES):
        start = first + timedelta(days=30 * s, hours=7)
        body = event_body(3 * s + 1, start, {"rrule": f"FREQ=WEEKLY;COUNT={DATES}", "exdates": []})
        event = await create_event(conn, SYSTEM, msgspec.convert(body, EventIn), context.settings)
        await publish_event(conn, SYSTEM, event.slug, context.settings)
    assert await conn.fetchval("SELECT count(*) FROM events WHERE status = 'published'") == EVENTS


def bare_icalendar(rows: list[asyncpg.Record]) -> bytes:
    """The ceiling: the same events written with icalendar directly, one VEVENT per row, no rules."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//bench//EN")
    calendar.add("version", "2.0")
    for row in rows:
        zone = ZoneInfo(row["timezone"])
        vevent = icalendar.Event()
        vevent.add("uid", f"event-{row['id']}@bench")
        vevent.add("dtstamp", row["updated_at"])
        vevent.add("sequence", row["revision"])
        vevent.add("status", "CONFIRMED")
        vevent.add("dtstart", row["starts_at"].astimezone(zone))
        vevent.add("dtend", row["ends_at"].astimezone(zone))
        vevent.add("summary", row["title"]["fr"])
        vevent.add("description", row["description"].get("fr", ""))
        vevent.add("location", row["venue"] or "")
        vevent.add("url", f"https://bench.zesummen.test/events/{row['slug']}")
        vevent.add("categories", [row["kind"]])
        calendar.add_component(vevent)
    return calendar.to_ical()


async def cold_builds(context: Context) -> tuple[dict[str, float], dict[str, float], int]:
    """Median wall and CPU seconds of a cold build (rows read, localised, written) and of bare icalendar, alternated."""
    conn = await asyncpg.connect(context.database_url)
    await init_connection(conn)
    try:
        feed = feeds.public_feed(EventFilters(), "fr", context.settings)
        rows = await conn.fetch(feed_q.PUBLIC_FEED_ITEMS, *feed.args)
        await feeds.build(conn, feed, context.settings)  # once, for imports and the VTIMEZONE cache
        times: dict[str, dict[str, list[float]]] = {"ours": {"wall": [], "cpu": []}, "bare": {"wall": [], "cpu": []}}

        async def ours() -> bytes:
            return await feeds.build(conn, feed, context.settings)

        async def bare() -> bytes:
            return bare_icalendar(await conn.fetch(feed_q.PUBLIC_FEED_ITEMS, *feed.args))

        for _ in range(COLD_ROUNDS):
            for name, build in (("ours", ours), ("bare", bare)):
                wall, cpu = time.perf_counter(), time.process_time()
                body = await build()
                times[name]["wall"].append(time.perf_counter() - wall)
                times[name]["cpu"].append(time.process_time() - cpu)
                if name == "ours":
                    assert body.count(b"BEGIN:VEVENT") >= EVENTS - SERIES * (DATES - 1)
        medians = {
            name: {kind: statistics.median(values) for kind, values in kinds.items()} for name, kinds in times.items()
        }
        return medians["ours"], medians["bare"], len(rows)
    finally:
        await conn.close()


async def server_cpu_us(base: str, spec: dict, seconds: float = 3.0) -> float:
    """The service's own CPU time per answer, in µs, under the same load: what a remote client would not share."""
    before = service_cpu_seconds()
    stats = await http_load(base, duration=seconds, **spec)
    return (service_cpu_seconds() - before) / stats.requests * 1e6


async def run(context: Context) -> list[Result]:
    conn = await asyncpg.connect(context.database_url)
    await init_connection(conn)
    try:
        await seed(conn, context)
    finally:
        await conn.close()
    ours, bare, rows = await cold_builds(context)
    async with context.server() as base:
        with urllib.request.urlopen(f"{base}{FEED}") as first:
            etag, size = first.headers["ETag"], len(first.read())
        gzip_asked = {"Accept-Encoding": "gzip, deflate"}  # as calendar apps' fetchers ask
        with urllib.request.urlopen(urllib.request.Request(f"{base}{FEED}", headers=gzip_asked)) as packed:
            gzip_size = len(packed.read())
        compressed, healthz_gz = await paired_load(base, {"path": FEED, "headers": gzip_asked}, {"path": "/healthz"})
        # what any endpoint costs that sends that many bytes: where the 200s' gap to /healthz goes
        _, same_bytes = await paired_load(
            base, {"path": FEED, "headers": gzip_asked}, {"path": f"/bench/bytes/{gzip_size}"}
        )
        # the load client shares the two cores: the service's own CPU per answer shows what is left
        # once the client's reading of the body is taken out
        cpu_us = {
            name: await server_cpu_us(base, spec)
            for name, spec in (
                ("feed", {"path": FEED, "headers": gzip_asked}),
                ("healthz", {"path": "/healthz"}),
                ("same_bytes", {"path": f"/bench/bytes/{gzip_size}"}),
            )
        }
        full, healthz = await paired_load(base, {"path": FEED}, {"path": "/healthz"})
        unchanged, healthz_304 = await paired_load(
            base, {"path": FEED, "headers": {"If-None-Match": etag}}, {"path": "/healthz"}
        )
    for stats, status in (
        (compressed, 200),
        (full, 200),
        (unchanged, 304),
        (healthz, 200),
        (healthz_gz, 200),
        (healthz_304, 200),
        (same_bytes, 200),
    ):
        if set(stats.statuses) != {status}:
            raise RuntimeError(f"unexpected answers: {stats.statuses}")

    def warm(name: str, stats, ceiling, **notes) -> Result:
        return Result(
            name=name,
            figure=stats.throughput,
            unit="req/s",
            ceiling=ceiling.throughput,
            ceiling_name="/healthz",
            target=0.8,
            notes={"p99_ms": round(stats.p99_ms, 1), "ceiling_p99_ms": round(ceiling.p99_ms, 1), **notes},
        )

    return [
        warm(f"GET {FEED} warm, 304 (If-None-Match), {EVENTS} events", unchanged, healthz_304),
        warm(
            f"GET {FEED} warm, 200 gzip ({gzip_size // 1024} KiB)",
            compressed,
            healthz_gz,
            body_bytes=gzip_size,
            same_size_bytes_endpoint_rps=round(same_bytes.throughput, 1),
            ratio_to_same_size_bytes=round(compressed.throughput / same_bytes.throughput, 2),
            server_cpu_us_per_answer=round(cpu_us["feed"]),
            healthz_server_cpu_us=round(cpu_us["healthz"]),
            same_size_bytes_server_cpu_us=round(cpu_us["same_bytes"]),
            server_cpu_ratio=round(cpu_us["healthz"] / cpu_us["feed"], 2),
        ),
        warm(f"GET {FEED} warm, 200 identity ({size // 1024} KiB)", full, healthz, body_bytes=size),
        Result(
            name=f"cold build of the feed ({rows} rows: read, localised, series folded, written)",
            figure=ours["wall"] * 1000,
            unit="ms",
            ceiling=bare["wall"] * 1000,
            ceiling_name="the same rows read and written with bare icalendar",
            target=1.2,
            better="lower",
            # CPU time of this process alone, less disturbed by whatever else the machine runs
            notes={
                "cpu_ms": round(ours["cpu"] * 1000, 1),
                "ceiling_cpu_ms": round(bare["cpu"] * 1000, 1),
                "cpu_ratio": round(ours["cpu"] / bare["cpu"], 2),
            },
        ),
    ]
