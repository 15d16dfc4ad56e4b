"""The app on a test's own connection: every request runs inside the test's rolled-back transaction."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
from litestar import Litestar

from server.app import create_app
from server.feeds.cache import FeedCache
from server.settings import Settings


class OneConnection:
    """A pool of one connection, which it never closes (the test's fixture owns it)."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn

    @asynccontextmanager
    async def acquire(self) -> AsyncIterator[asyncpg.Connection]:
        yield self.conn

    async def close(self) -> None:
        pass


def app_on(settings: Settings, conn: asyncpg.Connection) -> Litestar:
    """`create_app(settings)` serving every request on `conn`."""
    app = create_app(settings)
    app.state.pool = OneConnection(conn)
    app.state.feed_cache = FeedCache()  # a rolled-back transaction notifies no listener
    return app
