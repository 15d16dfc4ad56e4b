"""Group commit: work for one key that arrives while a statement for that key runs waits, and goes
together in the next statement.

Registrations for a busy event all wait for the event's row lock, and handing that lock from one
transaction to the next (waking the next backend, its statement, its commit) cost about as much as
the work done under it. Batched, the people who came while one statement ran share the next one:
one lock, one hand-over, one round trip for all of them. Nobody waits for a timer: the first
request of a quiet moment runs at once, alone.

The request that runs a batch borrows a connection for it; the others wait for their row holding
none, so a burst of sixty people needs one connection, not sixty (with a pool of ten, the fifty
others would wait for one before they could even join a batch). When a batch is done, the oldest
waiting request runs the next one, so no request serves others for longer than one statement.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

import asyncpg

from server.db import Connect

Item = TypeVar("Item")
Outcome = TypeVar("Outcome")


class _Waiting(Generic[Item]):
    """One request in line: what it asks for, and the future that tells it its outcome or its turn."""

    __slots__ = ("item", "future", "leads")

    def __init__(self, item: Item) -> None:
        self.item = item
        self.future: asyncio.Future = asyncio.get_running_loop().create_future()
        self.leads = False  # told to run the next batch itself


_ALONE = object()  # the batch's runner was cancelled: its outcome is unknown, so run your own


class GroupCommit(Generic[Item, Outcome]):
    """Runs `run(conn, key, items)` (one outcome per item, in order) for items of one key that came together."""

    def __init__(
        self, run: Callable[[asyncpg.Connection, Hashable, list[Item]], Awaitable[list[Outcome]]], *, most: int = 64
    ) -> None:
        self._run = run
        self._most = most
        # the requests waiting per (event loop, key); a key is present while one of its batches runs
        self._lines: dict[tuple[int, Hashable], list[_Waiting[Item]]] = {}
        self.batches = 0  # how many batches ran (tests show with it that requests were grouped)

    async def submit(self, connect: Connect, key: Hashable, item: Item) -> Outcome:
        """The outcome for `item`, decided with whatever else came for `key` meanwhile.

        `connect` lends the connection if this request runs a batch; requests of one key must be
        able to share a statement (same database, same transaction if any).
        """
        line_key = (id(asyncio.get_running_loop()), key)
        me: _Waiting[Item] = _Waiting(item)
        line = self._lines.get(line_key)
        if line is None:
            self._lines[line_key] = line = [me]
        else:
            line.append(me)
            try:
                told = await me.future
            except asyncio.CancelledError:
                self._leave(line_key, line, me)
                raise
            if told is _ALONE:
                async with connect() as conn:
                    return (await self._run(conn, key, [item]))[0]
            if not me.leads:
                return told
        return await self._run_batch(connect, key, line_key, line)

    async def _run_batch(
        self, connect: Connect, key: Hashable, line_key: tuple[int, Hashable], line: list[_Waiting[Item]]
    ) -> Outcome:
        # the one who runs is first in line, so its own item is the batch's first
        batch = line[: self._most]
        del line[: self._most]
        self.batches += 1
        try:
            async with connect() as conn:
                outcomes = await self._run(conn, key, [waiting.item for waiting in batch])
            if len(outcomes) != len(batch):
                raise RuntimeError(f"{len(outcomes)} outcomes for {len(batch)} items")
        except Exception as exc:
            # the same failure for everyone in it (a lock not granted in time, a database away...)
            for waiting in batch[1:]:
                if not waiting.future.done():
                    waiting.future.set_exception(exc)
            raise
        except BaseException:
            for waiting in batch[1:]:
                if not waiting.future.done():
                    waiting.future.set_result(_ALONE)
            raise
        finally:
            self._hand_over(line_key, line)
        for waiting, outcome in zip(batch[1:], outcomes[1:], strict=False):
            if not waiting.future.done():
                waiting.future.set_result(outcome)
        return outcomes[0]

    def _hand_over(self, line_key: tuple[int, Hashable], line: list[_Waiting[Item]]) -> None:
        """The oldest request still waiting runs the next batch; with nobody left the key is free."""
        while line:
            first = line[0]
            if first.future.done():  # cancelled while it waited
                line.pop(0)
                continue
            first.leads = True
            first.future.set_result(None)
            return
        del self._lines[line_key]

    def _leave(self, line_key: tuple[int, Hashable], line: list[_Waiting[Item]], me: _Waiting[Item]) -> None:
        """A request cancelled in line: out of it, and if its turn had come, the turn passes on."""
        if me in line:
            line.remove(me)
        if me.leads:
            self._hand_over(line_key, line)
