"""Shared fixtures: one migrated database per session, one rolled-back transaction per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg
import httpx
import pytest
from argon2 import PasswordHasher

from server.db import create_database, drop_database, init_connection
from server.organisers import service as accounts
from server.settings import Settings, load_settings
from tests.apps import app_on
from tests.smtp_server import SmtpTestServer


@pytest.fixture(scope="session")
async def database_url() -> AsyncIterator[str]:
    """A fresh database on the server of DATABASE_URL, migrated once, dropped at the end."""
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        pytest.exit("DATABASE_URL is not set: run the suite with `make test`", returncode=2)
    name = f"zesummen_test_{secrets.token_hex(4)}"
    url = await create_database(server_url, name)
    try:
        yield url
    finally:
        await drop_database(server_url, name)


@pytest.fixture(scope="session", autouse=True)
def cheap_password_hashes() -> Iterator[None]:
    """argon2id at its lowest cost in this process: the suite signs in hundreds of times.

    At the production cost (3 passes over 64 MiB in 4 threads) each hash or check took about a tenth of
    a second of two cores, a fifth of the suite's own CPU. The cost is written into each hash, so the
    code under test is the same; the services the suite starts as processes keep the production cost.
    """
    cheap = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(accounts, "_hasher", cheap)
        patch.setattr(accounts, "_DUMMY_HASH", cheap.hash("not a real password"))
        yield


@pytest.fixture(scope="session")
def settings(database_url: str) -> Settings:
    """Settings for tests: fixed secret and base URL."""
    return load_settings(database_url=database_url, secret_key="test-secret", base_url="https://zesummen.test")


@pytest.fixture(scope="session")
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool for tests that need several real connections (concurrency, committed data)."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=20, init=init_connection)
    yield pool
    await pool.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    async with pool.acquire() as connection:
        transaction = connection.transaction()
        await transaction.start()
        try:
            yield connection
        finally:
            await transaction.rollback()


@pytest.fixture
async def client(conn: asyncpg.Connection, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """Real HTTP through the ASGI app, on the test's transaction."""
    app = app_on(settings, conn)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture
async def smtp_server() -> AsyncIterator[SmtpTestServer]:
    """A real aiosmtpd server on a free port that records messages and can be told to fail (tests/smtp_server.py)."""
    server = await SmtpTestServer.start()
    yield server
    await server.close()


# ---------------------------------------------------------------------------- notifier
# The worker claims every due row of its database, and its tests must commit what it reads, so they
# get a database of their own, emptied before each test.

NOTIFIER_TABLES = (
    "outbox, registrations, events, series, memberships, api_tokens, organisers, organisations, rate_limits"
)


@pytest.fixture(scope="session")
async def notifier_database_url() -> AsyncIterator[str]:
    """A second migrated database, for the tests that run notifier workers."""
    server_url = os.environ["DATABASE_URL"]
    name = f"zesummen_test_notify_{secrets.token_hex(4)}"
    url = await create_database(server_url, name)
    try:
        yield url
    finally:
        await drop_database(server_url, name)


@pytest.fixture(scope="session")
async def notifier_pool(notifier_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the notifier tests' database."""
    pool = await asyncpg.create_pool(notifier_database_url, min_size=1, max_size=10, init=init_connection)
    yield pool
    await pool.close()


@pytest.fixture
async def notifier_conn(notifier_pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """A connection to the emptied notifier database; what it writes is committed."""
    async with notifier_pool.acquire() as connection:
        await connection.execute(f"TRUNCATE {NOTIFIER_TABLES} RESTART IDENTITY CASCADE")
        yield connection


@pytest.fixture
def notifier_settings(notifier_database_url: str, smtp_server: SmtpTestServer) -> Settings:
    """Settings for a worker on the notifier database sending to `smtp_server`, with short timings."""
    return load_settings(
        database_url=notifier_database_url,
        secret_key="test-secret",
        base_url="https://zesummen.test",
        smtp_host=smtp_server.host,
        smtp_port=smtp_server.port,
        smtp_tls="none",
        smtp_user=None,
        smtp_password=None,
        notifier_concurrency=4,
        notifier_lease="PT5S",
        notifier_poll_interval="PT0.2S",
        notifier_housekeeping_every="PT0.2S",
        smtp_timeout="PT1.5S",
    )


@pytest.fixture(scope="session")
def icaljs():
    """Runs ical.js (node) on an .ics and returns what it read (tests/ical_readers.py)."""
    from tests.ical_readers import make_icaljs

    return make_icaljs()


# The longest files go first, so that the two pytest-xdist workers (a file each at a time) finish
# together instead of one waiting for the schema fuzzer at the end.
LONGEST_FIRST = ("test_fuzz.py", "test_worker_crashes.py", "test_pages_fuzz.py", "test_scale_out.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Runs the longest test files first (stable: the order within each file stays)."""
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(LONGEST_FIRST)))
