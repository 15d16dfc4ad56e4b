"""Shared fixtures: one migrated database per session, one rolled-back transaction per test."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import asyncpg
import httpx
import pytest

from server.app import create_app
from server.db import create_database, drop_database, init_connection
from server.settings import Settings, load_settings


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
    app = create_app(settings, test_connection=conn)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


@pytest.fixture(scope="session")
def icaljs():
    """Runs ical.js (node) on an .ics and returns what it read (tests/ical_readers.py)."""
    from tests.ical_readers import make_icaljs

    return make_icaljs()
