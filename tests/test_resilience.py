"""The service under load while its PostgreSQL goes away and comes back (issue 7, point 2): quick 503s,
then answers again, and nothing it acknowledged lost (events created, registrations accepted)."""

from __future__ import annotations

import asyncio
import itertools
import secrets
import shutil
import time
from collections.abc import Iterator

import asyncpg
import httpx
import pytest

from server.db import create_database, init_connection
from server.dev.localdb import LocalPostgres
from server.organisers import queries as org_q
from server.organisers.service import create_admin
from server.processes import running_web
from server.settings import DATA_DIR, load_settings
from tests.factories import create_event, event_body, registration_body

OUTAGE_SECONDS = 3.0
# a request during the outage must be answered, not left hanging: the pool's connect timeout is 5 s
ANSWER_WITHIN = 6.0
RECOVER_WITHIN = 10.0


@pytest.fixture
def private_postgres() -> Iterator[LocalPostgres]:
    """A PostgreSQL of this test's own, so stopping it disturbs no other test.

    Its data lives under .data/, not in pytest's tmp_path: each pytest session that starts sets
    /tmp/pytest-of-<user> back to mode 0700, and the unprivileged account PostgreSQL runs as (when
    the suite runs as root) could then no longer reach its directory to start again.
    """
    datadir = DATA_DIR / f"restart-{secrets.token_hex(4)}"
    server = LocalPostgres(datadir / "postgres")
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.stop("immediate")
        shutil.rmtree(datadir, ignore_errors=True)


async def _seed(url: str) -> tuple[str, str]:
    """An organiser's token, and the slug of a published event without a seat limit."""
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        await conn.execute(org_q.UPSERT_ORGANISATION, "asti", "ASTI")
        settings = load_settings(database_url=url, secret_key="x")
        token = (await create_admin(conn, "ops@example.lu", settings.token_ttl)).token
        return token, (await create_event(conn, settings, capacity=None)).slug
    finally:
        await conn.close()


class Observed:
    """What the clients saw: (sent at, seconds taken, status, body) per request."""

    def __init__(self) -> None:
        self.answers: list[tuple[float, float, int, dict]] = []
        self.created: list[str] = []
        # (sent at, email) of each registration answered 202; the answer is the same for a new and a
        # known address, so every request uses an address of its own and is looked up by it
        self.registered: list[tuple[float, str]] = []


_emails = (f"restart-{n}-{secrets.token_hex(3)}@example.org" for n in itertools.count())


async def _client_loop(base: str, token: str, seen: Observed, stop: asyncio.Event, role: str, slug: str) -> None:
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, timeout=30) as http:
        while not stop.is_set():
            sent = time.monotonic()
            email = next(_emails)
            if role == "organiser":
                response = await http.post("/api/organiser/events", json=event_body(), headers=headers)
            elif role == "registrant":
                response = await http.post(f"/api/events/{slug}/registrations", json=registration_body(email=email))
            else:
                response = await http.get("/api/events")
            body = response.json()
            seen.answers.append((sent, time.monotonic() - sent, response.status_code, body))
            if response.status_code == 201:
                seen.created.append(body["slug"])
            if response.status_code == 202:
                seen.registered.append((sent, email))
            await asyncio.sleep(0.02)


async def test_database_restart_gives_quick_503s_then_recovers_without_losing_acknowledged_writes(
    private_postgres,
) -> None:
    url = await create_database(private_postgres.url, "zesummen")
    token, slug = await _seed(url)
    env = {
        "DATABASE_URL": url,
        "SECRET_KEY": "restart-secret",
        "NOTIFIER": "0",
        "BASE_URL": "https://zesummen.test",
        "RATE_LIMIT_PER_ADDRESS": "1000000",
        "RATE_LIMIT_PER_EMAIL": "1000",
    }
    with running_web(env, workers=1) as base:
        seen, stop = Observed(), asyncio.Event()
        roles = ("organiser", "reader", "registrant", "registrant", "reader")
        clients = [asyncio.create_task(_client_loop(base, token, seen, stop, role, slug)) for role in roles]
        async with httpx.AsyncClient(base_url=base, timeout=30) as probe:
            await asyncio.sleep(1.5)
            down_at = time.monotonic()
            await asyncio.to_thread(private_postgres.stop, "fast")
            await asyncio.sleep(OUTAGE_SECONDS / 2)
            readiness = await probe.get("/readyz")
            await asyncio.sleep(OUTAGE_SECONDS / 2)
            await asyncio.to_thread(private_postgres.start)
            up_at = time.monotonic()
            while (await probe.get("/readyz")).status_code != 200:
                assert time.monotonic() - up_at < RECOVER_WITHIN, "/readyz did not come back"
                await asyncio.sleep(0.1)
            await asyncio.sleep(1.0)
        stop.set()
        await asyncio.gather(*clients)

    print(
        f"\nrestart: {len(seen.answers)} answers, {sum(s == 503 for _, _, s, _ in seen.answers)} of them 503, "
        f"slowest {max(t for _, t, _, _ in seen.answers):.2f} s, {len(seen.created)} events and "
        f"{len(seen.registered)} registrations acknowledged ({sum(sent < down_at for sent, _ in seen.registered)} "
        f"before the outage, {sum(sent > up_at for sent, _ in seen.registered)} after the restart)"
    )
    assert readiness.status_code == 503 and readiness.json()["status"] == "unavailable"
    statuses = {status for _, _, status, _ in seen.answers}
    assert statuses <= {200, 201, 202, 503}, statuses
    failures = [(sent, took, body) for sent, took, status, body in seen.answers if status == 503]
    assert failures, "the outage was never seen: the test proves nothing"
    assert all(body["status"] == 503 and "database" in body["detail"] for _, _, body in failures)
    assert max(took for _, took, _, _ in seen.answers) < ANSWER_WITHIN
    # everything answers again soon after the restart, with the same service processes
    recovered = [sent for sent, _, status, _ in seen.answers if sent > up_at and status in (200, 201)]
    assert recovered and min(recovered) - up_at < RECOVER_WITHIN
    assert not [sent for sent, _, status, _ in seen.answers if sent > up_at + RECOVER_WITHIN and status == 503]
    assert any(sent < down_at for sent, _, status, _ in seen.answers if status == 201)
    assert any(sent < down_at for sent, _ in seen.registered) and any(sent > up_at for sent, _ in seen.registered)
    conn = await asyncpg.connect(url)
    try:
        stored = {r["slug"] for r in await conn.fetch("SELECT slug FROM events")}
        emails = [email for _, email in seen.registered]
        registered = {
            r["email"] for r in await conn.fetch("SELECT email FROM registrations WHERE email = ANY($1)", emails)
        }
    finally:
        await conn.close()
    assert set(seen.created) <= stored, "an event acknowledged with 201 was lost"
    assert set(emails) <= registered, "a registration acknowledged with 202 was lost"
