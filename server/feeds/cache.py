"""What one app process remembers of the feeds, and how it learns that the database changed them.

A poll's answer is decided by the feed's version, read from the database (feeds/queries.py). To
spare even that query, a process trusts the version it last read until PostgreSQL says something
changed: migration 0005's triggers NOTIFY `zesummen_feeds`, every process LISTENs, and a notice
makes all remembered versions stale. While the listening connection is down nothing is trusted
(every poll asks the database), and a remembered version is asked again after MEMO_TTL anyway, so a
lost notice delays a change by MEMO_TTL at most.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import weakref
from collections import OrderedDict
from collections.abc import Hashable
from datetime import date, datetime
from typing import NamedTuple

import asyncpg

log = logging.getLogger(__name__)
CHANNEL = "zesummen_feeds"
MEMO_TTL = 30.0  # seconds a remembered version is trusted without asking the database
PING_EVERY = 20.0  # seconds between checks that the listening connection still works
MAX_ENTRIES = 2000
MAX_BODY_BYTES = 128 * 1024 * 1024  # built feeds kept in memory, all feeds together


class Known(NamedTuple):
    """A feed's version as this process last read it, and the built feed if it was needed here."""

    version: str
    etag: str
    last_modified: datetime | None
    body: bytes | None
    generation: int  # the listener's generation when the version was read
    checked_at: float  # time.monotonic() of that read
    day: date  # the window's day: a new day may drop old events from the feed
    gzip: bytes | None = None  # the body's gzip coding, made the first time a client takes it

    @property
    def size(self) -> int:
        """Bytes of memory its bodies take."""
        return len(self.body or b"") + len(self.gzip or b"")


class ChangeListener:
    """LISTENs on its own connection; `generation` grows with every notice and every reconnection."""

    def __init__(self, database_url: str):
        self.database_url = database_url
        self.generation = 0
        self.live = False
        self._task: asyncio.Task | None = None

    def _changed(self, *_: object) -> None:
        self.generation += 1

    async def start(self) -> None:
        """Listen in the background (reconnecting as needed)."""
        self._task = asyncio.create_task(self._listen(), name="feeds-listener")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _listen(self) -> None:
        pause = 0.5
        while True:
            conn = None
            try:
                conn = await asyncpg.connect(self.database_url, timeout=5)
                await conn.add_listener(CHANNEL, self._changed)
                # what changed while nobody listened is unknown: everything remembered is stale
                self.generation += 1
                self.live, pause = True, 0.5
                while not conn.is_closed():
                    await asyncio.sleep(PING_EVERY)
                    await conn.fetchval("SELECT 1", timeout=5)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database away or restarting: try again, meanwhile trust nothing
                log.warning("feeds: not listening for changes (%r); polls ask the database", exc)
            finally:
                self.live = False
                self.generation += 1
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            await asyncio.sleep(pause)
            pause = min(pause * 2, 30.0)


class FeedCache:
    """Versions and built feeds by feed key, for one app process."""

    def __init__(self, listener: ChangeListener | None = None):
        self.listener = listener
        self._known: OrderedDict[str, Known] = OrderedDict()
        self._body_bytes = 0
        self._requests: OrderedDict[Hashable, str] = OrderedDict()
        # held by whoever uses a lock; gone when nobody waits for it
        self._locks: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def generation(self) -> int:
        return self.listener.generation if self.listener else 0

    def trusted(self, key: str, day: date) -> Known | None:
        """The remembered version if nothing can have changed it since it was read."""
        known = self._known.get(key)
        if (
            known is None
            or self.listener is None
            or not self.listener.live
            or known.generation != self.listener.generation
            or known.day != day
            or time.monotonic() - known.checked_at > MEMO_TTL
        ):
            return None
        self._known.move_to_end(key)
        return known

    def get(self, key: str) -> Known | None:
        """The remembered version, however old (its body is right for its version)."""
        return self._known.get(key)

    def remember(self, key: str, known: Known) -> None:
        old = self._known.pop(key, None)
        if old is not None:
            self._body_bytes -= old.size
        self._known[key] = known
        self._body_bytes += known.size
        while len(self._known) > MAX_ENTRIES or self._body_bytes > MAX_BODY_BYTES:
            _, dropped = self._known.popitem(last=False)
            self._body_bytes -= dropped.size

    def remember_request(self, request: Hashable, key: str) -> None:
        """Which feed a request (path, query, language) asks for, so that its next poll skips the handler."""
        self._requests[request] = key
        self._requests.move_to_end(request)
        while len(self._requests) > MAX_ENTRIES:
            self._requests.popitem(last=False)

    def known_for_request(self, request: Hashable, day: date) -> Known | None:
        """The trusted version of the feed this request asked for before, if any."""
        key = self._requests.get(request)
        return None if key is None else self.trusted(key, day)

    def lock(self, key: str) -> asyncio.Lock:
        """The lock under which this process reads or builds one feed: one build per change, not one per poll."""
        lock = self._locks.get(key)
        if lock is None:
            lock = self._locks[key] = asyncio.Lock()
        return lock


def cache_lifespan_hooks(database_url: str):
    """on_startup/on_shutdown hooks giving the app a listening FeedCache, unless it already has one."""

    async def start(app) -> None:
        if app.state.get("feed_cache") is not None:
            return
        listener = ChangeListener(database_url)
        await listener.start()
        app.state.feed_cache = FeedCache(listener)

    async def stop(app) -> None:
        cache = app.state.get("feed_cache")
        if cache is not None and cache.listener is not None:
            await cache.listener.stop()

    return start, stop
