"""The notifier worker: claims due outbox rows under a lease, writes, sends and records each one, and
runs the periodic housekeeping; any number of copies may run side by side on any number of machines.

- Claiming uses `FOR UPDATE SKIP LOCKED`, so copies never take the same row, and a lease
  (NOTIFIER_LEASE), so the rows of a copy that crashed come back to the others once it runs out.
  A result is recorded only by the copy still holding the lease.
- A row may be sent twice if a copy dies between the server's "250 OK" and the record; both copies
  carry the same Message-ID (derived from the row id), which is how mail clients recognise them.
- Copies wake on LISTEN/NOTIFY when mail is queued, sleep until the next due row otherwise, and poll
  every NOTIFIER_POLL_INTERVAL in case a notification was missed (a lost listening connection).
- A database that is away is waited for, with growing pauses; the worker never exits for it.
- So is an SMTP server that cannot be reached (refused, no greeting, login refused): the copy stops
  claiming for a pause that grows along the retry schedule (at most SMTP_AWAY_MAX_PAUSE), and gives
  the rows it held back untried, their attempts not counted and their due times kept. The first
  message that goes through ends it: the queue then goes out at once and in order of due time, not
  scattered by each row's own backoff (which is for failures of one message: a 4xx at RCPT or DATA).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import secrets
import socket
import time
from collections.abc import Mapping, Sequence
from datetime import timedelta
from typing import Any

import asyncpg

from server.db import init_connection
from server.errors import DATABASE_DOWN
from server.notifications import messages
from server.notifications import queries as q
from server.notifications.housekeeping import HOUSEKEEPING_JOBS, Job, run_housekeeping
from server.notifications.smtp import DeliveryError, SmtpSender
from server.outbox import message_id
from server.settings import Settings

log = logging.getLogger(__name__)

# When a temporary failure is tried again: after 30 s, 1, 2, 5, 10, 30 min, 1 h, then every hour
# until 24 h have passed since the first attempt (the sum is 23 h 48 min 30 s); then the row fails.
# NOTIFIER_RETRY_DELAYS replaces it (tests use pauses of a fraction of a second).
RETRY_DELAYS: tuple[timedelta, ...] = (
    timedelta(seconds=30),
    timedelta(minutes=1),
    timedelta(minutes=2),
    timedelta(minutes=5),
    timedelta(minutes=10),
    timedelta(minutes=30),
    timedelta(hours=1),
) + (timedelta(hours=1),) * 22

# the database is away (or restarting, or full): wait and come back, never exit for it
DATABASE_AWAY: tuple[type[BaseException], ...] = (
    *DATABASE_DOWN,
    asyncpg.exceptions.PostgresConnectionError,
    asyncpg.exceptions.TooManyConnectionsError,
)
MAX_PAUSE_SECONDS = 30.0
# an SMTP server that is away is tried again at least this often: a connection attempt is cheap, and
# the mail should follow soon after the server is back
SMTP_AWAY_MAX_PAUSE = timedelta(minutes=5)
# what _attempt returns for a row whose message could not even be offered (not a status of the table)
GIVEN_BACK = "given back"


def retry_delay(attempts: int, schedule: Sequence[timedelta] = RETRY_DELAYS) -> timedelta | None:
    """The pause after the `attempts`-th attempt failed for a temporary reason; None: give up."""
    if 1 <= attempts <= len(schedule):
        return schedule[attempts - 1]
    return None


def worker_name() -> str:
    """host:pid:random, unique per copy; it holds the leases and shows in logs."""
    return f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"


class Notifier:
    """One worker copy."""

    def __init__(self, settings: Settings, *, jobs: tuple[tuple[str, Job], ...] = HOUSEKEEPING_JOBS):
        self.settings = settings
        self.jobs = jobs
        self.owner = worker_name()
        self.concurrency = max(1, settings.notifier_concurrency)
        # twice as many messages in flight as connections: the next ones are written while these are sent
        self.in_flight_limit = 2 * self.concurrency
        self.retry_delays = settings.notifier_retry_delays or RETRY_DELAYS
        self.sender = SmtpSender(settings, connections=self.concurrency)
        if settings.notifier_lease < 3 * settings.smtp_timeout:
            # a claimed row may wait for a connection behind another send, then take SMTP_TIMEOUT itself
            log.warning(
                "NOTIFIER_LEASE (%s) is under three times SMTP_TIMEOUT (%s): slow sends may go out twice",
                settings.notifier_lease,
                settings.smtp_timeout,
            )
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()
        self._listener_lost = False
        self._connected = False
        # the SMTP server could not be reached: how many pauses in a row, since when, until when
        self._smtp_away_rounds = 0
        self._smtp_away_since: float | None = None
        self._smtp_pause_until = 0.0

    # ------------------------------------------------------------------------ running

    def stop(self) -> None:
        """Finish the messages in flight, then return from run()."""
        self._stopping.set()
        self._wake.set()

    async def run(self) -> None:
        """Deliver and keep house until stop(); a database that is away is waited for."""
        pause = 0.5
        log.info("notifier %s: sending through %s:%s", self.owner, self.sender.host, self.sender.port)
        try:
            while not self._stopping.is_set():
                self._connected = False
                try:
                    await self._run_connected()
                except DATABASE_AWAY as exc:
                    pause = 0.5 if self._connected else pause  # a fresh outage starts with short pauses
                    log.warning(
                        "notifier: the database is not reachable (%s); trying again in %g s",
                        exc or type(exc).__name__,
                        pause,
                    )
                    await self._pause(pause)
                    pause = min(pause * 2, MAX_PAUSE_SECONDS)
                except Exception:
                    # e.g. a database not migrated yet: say so and come back, as for an outage
                    pause = 0.5 if self._connected else pause
                    log.exception("notifier: unexpected error; trying again in %g s", pause)
                    await self._pause(pause)
                    pause = min(pause * 2, MAX_PAUSE_SECONDS)
        finally:
            await self.sender.close()
        log.info("notifier %s: stopped", self.owner)

    async def _pause(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._stopping.wait()

    async def _run_connected(self) -> None:
        pool = await asyncpg.create_pool(
            self.settings.database_url,
            min_size=1,
            max_size=self.in_flight_limit + 2,
            init=init_connection,
            timeout=10,
            command_timeout=60,
        )
        listener: asyncpg.Connection | None = None
        housekeeping: asyncio.Task | None = None
        try:
            listener = await asyncpg.connect(self.settings.database_url, timeout=10)
            self._listener_lost = False
            listener.add_termination_listener(self._on_listener_lost)
            await listener.add_listener(q.WAKE_CHANNEL, self._on_notify)
            self._connected = True
            housekeeping = asyncio.create_task(self._keep_house(pool), name="notifier-housekeeping")
            await self._dispatch(pool)
        finally:
            if housekeeping is not None:
                housekeeping.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await housekeeping
            if listener is not None:
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(listener.close(), 5)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(pool.close(), 10)
            pool.terminate()

    def _on_notify(self, *_: Any) -> None:
        self._wake.set()

    def _on_listener_lost(self, *_: Any) -> None:
        self._listener_lost = True
        self._wake.set()

    async def _dispatch(self, pool: asyncpg.Pool) -> None:
        """Keep messages in flight; between them sleep until the next is due, a notification, or the poll."""
        in_flight: set[asyncio.Task] = set()
        stopping = asyncio.create_task(self._stopping.wait())
        try:
            while not self._stopping.is_set():
                if self._listener_lost:
                    raise asyncpg.exceptions.ConnectionDoesNotExistError("the LISTEN connection was lost")
                if (pause := self._smtp_pause_left()) > 0:
                    await asyncio.wait({stopping}, timeout=pause)
                    continue
                free = self.in_flight_limit - len(in_flight)
                # claim in batches (one query for several rows), but always when nothing is in flight
                if free < self.concurrency and in_flight:
                    await asyncio.wait({*in_flight, stopping}, return_when=asyncio.FIRST_COMPLETED)
                    continue
                self._wake.clear()  # before claiming: a notification during the claim is not lost
                rows = await pool.fetch(q.CLAIM_DUE, free, self.owner, self.settings.notifier_lease)
                for row in rows:
                    task = asyncio.create_task(self._deliver(pool, row))
                    in_flight.add(task)
                    task.add_done_callback(in_flight.discard)
                if len(rows) == free:
                    continue  # there may be more: claim again as soon as slots free
                seconds = await self._seconds_to_next_due(pool)
                woken = asyncio.create_task(self._wake.wait())
                try:
                    await asyncio.wait({woken, stopping}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
                finally:
                    woken.cancel()
        finally:
            stopping.cancel()
            if in_flight:
                # a graceful stop (or a lost database) lets the messages in flight finish
                await asyncio.wait(in_flight, timeout=self.sender.limit + 10)

    async def _seconds_to_next_due(self, pool: asyncpg.Pool) -> float:
        poll = self.settings.notifier_poll_interval.total_seconds()
        seconds = await pool.fetchval(q.SECONDS_TO_NEXT_DUE)
        if seconds is None:
            return poll
        # never spin: a due row another transaction has locked is not claimable for a moment
        return min(max(seconds, 0.05), poll)

    async def _keep_house(self, pool: asyncpg.Pool) -> None:
        every = self.settings.notifier_housekeeping_every.total_seconds()
        while not self._stopping.is_set():
            try:
                await run_housekeeping(pool, self.settings, self.jobs)
            except DATABASE_AWAY as exc:
                log.warning("housekeeping: the database is not reachable (%s)", exc)
            except Exception:
                log.exception("housekeeping round failed")
            await self._pause(every)

    async def drain(self, pool: asyncpg.Pool) -> int:
        """Deliver everything due now, then return how many rows were handled (tests, benchmarks)."""
        handled = 0
        while self._smtp_pause_left() <= 0 and (
            rows := await pool.fetch(q.CLAIM_DUE, self.concurrency, self.owner, self.settings.notifier_lease)
        ):
            await asyncio.gather(*(self._deliver(pool, row) for row in rows))
            handled += len(rows)
        return handled

    # ------------------------------------------------------------------------ one message

    async def _deliver(self, pool: asyncpg.Pool, row: Mapping[str, Any]) -> None:
        """Write, send and record one claimed row; every path ends in a record, or in a lease left to run out."""
        try:
            status, error, delay = await self._attempt(pool, row)
        except DATABASE_AWAY as exc:
            # it could not even be written: the row comes back when its lease runs out
            log.warning("outbox %s: database away while writing it (%s); it comes back after the lease", row["id"], exc)
            return
        await self._record(pool, row, status, error, delay)

    async def _attempt(self, pool: asyncpg.Pool, row: Mapping[str, Any]) -> tuple[str, str | None, timedelta | None]:
        """(status, error, delay before the next attempt) for one row."""
        if row["expired"]:
            return "skipped", "its moment had passed by more than the grace period: not sent late", None
        if row["attempts"] > len(self.retry_delays) + 1:
            return "failed", f"claimed {row['attempts']} times without a result (a worker may crash on it)", None
        try:
            async with pool.acquire() as conn:
                message, recipient = await messages.build_delivery(conn, row, self.settings)
        except messages.Skip as skip:
            return "skipped", str(skip) or "no longer applies", None
        except DATABASE_AWAY:
            raise
        except Exception as exc:
            # a bug or bad data: nothing will change by itself, so fail visibly (organisers can resend)
            log.exception("outbox %s (%s): the message could not be written", row["id"], row["kind"])
            return "failed", f"the message could not be written: {type(exc).__name__}: {exc}"[:1000], None
        del message["Message-ID"]
        message["Message-ID"] = message_id(row["id"], self.settings.mail_from)
        try:
            await self.sender.send(message, recipient)
        except DeliveryError as failure:
            if failure.unreachable:
                self._smtp_unreachable(failure.reason)
                return GIVEN_BACK, failure.reason, None
            if not failure.temporary:
                log.warning("outbox %s: permanent failure: %s", row["id"], failure.reason)
                return "failed", failure.reason, None
            delay = retry_delay(row["attempts"], self.retry_delays)
            if delay is None:
                return "failed", f"gave up after {row['attempts']} attempts; last: {failure.reason}", None
            log.info(
                "outbox %s: attempt %d failed (%s); again in %s", row["id"], row["attempts"], failure.reason, delay
            )
            return "retrying", failure.reason, delay
        self._smtp_reached()
        return "sent", None, None

    # ------------------------------------------------------------------------ an SMTP server away

    def _smtp_pause_left(self) -> float:
        return self._smtp_pause_until - time.monotonic()

    def _smtp_unreachable(self, reason: str) -> None:
        """Pause claiming; the first failure of a round lengthens the pause, the others in flight join it."""
        now = time.monotonic()
        if now < self._smtp_pause_until:
            return
        self._smtp_away_rounds += 1
        if self._smtp_away_since is None:
            self._smtp_away_since = now
        step = self.retry_delays[min(self._smtp_away_rounds, len(self.retry_delays)) - 1]
        pause = min(step, SMTP_AWAY_MAX_PAUSE).total_seconds()
        self._smtp_pause_until = now + pause
        log.warning(
            "notifier: the SMTP server %s:%s cannot be reached (%s); no mail for %g s",
            self.sender.host,
            self.sender.port,
            reason,
            pause,
        )

    def _smtp_reached(self) -> None:
        if self._smtp_away_since is not None:
            log.info("notifier: the SMTP server answers again after %.0f s", time.monotonic() - self._smtp_away_since)
        self._smtp_away_rounds, self._smtp_away_since, self._smtp_pause_until = 0, None, 0.0

    async def _record(
        self, pool: asyncpg.Pool, row: Mapping[str, Any], status: str, error: str | None, delay: timedelta | None
    ) -> None:
        """Store the outcome, trying for a while if the database hiccups (the mail may be out already)."""
        if status == GIVEN_BACK:
            query, args = q.GIVE_BACK_UNTRIED, (row["id"], self.owner, error)
        else:
            query, args = q.RECORD_RESULT, (row["id"], self.owner, status, error, delay)
        for pause in (0.5, 1, 2, 4, 0):
            try:
                recorded = await pool.fetchval(query, *args)
            except DATABASE_AWAY as exc:
                if not pause or self._stopping.is_set():
                    log.warning(
                        "outbox %s: %s but not recorded (%s); it comes back after the lease", row["id"], status, exc
                    )
                    return
                await asyncio.sleep(pause)
                continue
            if recorded is None:
                log.warning("outbox %s: %s, but its lease had passed to another worker", row["id"], status)
            return


async def serve(settings: Settings) -> None:
    """Run one worker copy until SIGTERM or SIGINT; with SMTP_HOST unset, mail goes to the local catcher."""
    import signal

    import msgspec

    from server.notifications.catcher import start_catcher

    catcher = None
    if settings.smtp_host is None:
        catcher = await start_catcher("127.0.0.1", 0, settings.mail_dir)
        log.info("SMTP_HOST is not set: every message is written under %s", settings.mail_dir)
        settings = msgspec.structs.replace(
            settings, smtp_host="127.0.0.1", smtp_port=catcher.port, smtp_tls="none", smtp_user=None, smtp_password=None
        )
    notifier = Notifier(settings)
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, notifier.stop)
    try:
        await notifier.run()
    finally:
        if catcher is not None:
            catcher.close()
