"""The app on a test's own connection: every request runs inside the test's rolled-back transaction."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg
import msgspec
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


# Building an app takes most of a second (routes, OpenAPI schema), more than most tests: the last few
# settings keep theirs, which serves the current test's connection.
_apps: OrderedDict[bytes, Litestar] = OrderedDict()


def app_on(settings: Settings, conn: asyncpg.Connection, *, fresh: bool = False) -> Litestar:
    """The app of `settings`, serving every request on `conn`; `fresh` for a test that changes the app."""
    key = msgspec.json.encode(settings)
    app = create_app(settings) if fresh else _apps.pop(key, None) or create_app(settings)
    if not fresh:
        _apps[key] = app
    while len(_apps) > 4:
        _apps.popitem(last=False)
    app.state.pool = OneConnection(conn)
    app.state.feed_cache = FeedCache()  # a rolled-back transaction notifies no listener
    return app
