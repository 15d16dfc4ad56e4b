"""The connection pool, its codecs, the `conn` dependency and the migration runner."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import msgspec
from litestar import Litestar
from litestar.datastructures import State

from server.settings import ROOT, Settings

log = logging.getLogger(__name__)
MIGRATIONS_DIR = ROOT / "migrations"
# any fixed number shared by every process that migrates this database
MIGRATION_LOCK_KEY = 7_261_001


def _encode_json(value: object) -> str:
    return msgspec.json.encode(value).decode()


async def init_connection(conn: asyncpg.Connection) -> None:
    """jsonb in and out as Python objects."""
    # msgspec decodes several times faster than json; the event list decodes three texts per row
    for type_name in ("jsonb", "json"):
        await conn.set_type_codec(type_name, encoder=_encode_json, decoder=msgspec.json.decode, schema="pg_catalog")


async def create_pool(settings: Settings) -> asyncpg.Pool:
    """A pool whose connections speak jsonb as Python objects."""
    return await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=init_connection,
        # a stopped database must give a quick 503, not a request that hangs
        timeout=5,
        command_timeout=30,
    )


# something that lends a connection for a `async with connect() as conn:` block
Connect = Callable[[], AbstractAsyncContextManager[asyncpg.Connection]]


def connections(state: State) -> Connect:
    """The app's way to lend a connection for a block: from the pool, or the tests' one.

    For code that needs a connection only part of the time (a registration waiting for the statement
    that decides it holds none). One per app, so that its identity tells apps apart.
    """
    connect = state.get("connect")
    if connect is None:

        @asynccontextmanager
        async def connect() -> AsyncIterator[asyncpg.Connection]:
            async with state.pool.acquire() as conn:
                yield conn

        state.connect = connect
    return connect


def lending(conn: asyncpg.Connection) -> Connect:
    """A Connect that lends a connection the caller already holds."""

    @asynccontextmanager
    async def connect() -> AsyncIterator[asyncpg.Connection]:
        yield conn

    return connect


async def provide_connection(state: State) -> AsyncIterator[asyncpg.Connection]:
    """The `conn` dependency: one pooled connection for the length of a request."""
    async with connections(state)() as conn:
        yield conn


def migration_files() -> list[Path]:
    """The migrations in the order they apply."""
    return sorted(MIGRATIONS_DIR.glob("[0-9][0-9][0-9][0-9]_*.sql"))


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations under an advisory lock; returns the names applied."""
    applied_now: list[str] = []
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_KEY)
    try:
        await conn.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
        )
        done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
        for path in migration_files():
            if path.name in done:
                continue
            async with conn.transaction():
                await conn.execute(path.read_text())
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", path.name)
            log.info("applied migration %s", path.name)
            applied_now.append(path.name)
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_KEY)
    return applied_now


async def create_database(server_url: str, name: str) -> str:
    """A new, migrated database `name` on the server of `server_url` (dropped first if it exists)."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    url = urlunsplit(urlsplit(server_url)._replace(path=f"/{name}"))
    await migrate_url(url)
    return url


async def drop_database(server_url: str, name: str) -> None:
    """Drop database `name`, closing its connections."""
    admin = await asyncpg.connect(server_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


async def migrate_url(database_url: str) -> list[str]:
    """Connect, migrate and disconnect."""
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


def pool_lifespan_hooks(settings: Settings):
    """on_startup/on_shutdown hooks that own the pool in app.state."""

    async def open_pool(app: Litestar) -> None:
        if app.state.get("pool") is None:  # unless the app was handed one
            app.state.pool = await create_pool(settings)

    async def close_pool(app: Litestar) -> None:
        pool = app.state.get("pool")
        if pool is not None:
            await pool.close()

    return open_pool, close_pool
