"""The service as real processes for tests: notifier workers and web servers (always stopped again), and
requests raced against them.

Waiting is done without blocking the event loop, since the test SMTP server (tests/smtp_server.py)
runs in it and the processes talk to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
from collections.abc import AsyncIterator

import asyncpg
import httpx

from server import processes
from server.settings import ROOT, Settings
from tests.smtp_server import SmtpTestServer

# ---------------------------------------------------------------------------- notifier workers


def start_worker(settings: Settings, smtp: SmtpTestServer, **env: str) -> subprocess.Popen:
    """`python -m server.notifications` on the database of `settings`, sending to `smtp`, with short timings."""
    return subprocess.Popen(
        [sys.executable, "-m", "server.notifications"],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": settings.database_url,
            "SECRET_KEY": settings.secret_key,
            "BASE_URL": settings.base_url,
            "SMTP_HOST": smtp.host,
            "SMTP_PORT": str(smtp.port),
            "SMTP_TLS": "none",
            "NOTIFIER_CONCURRENCY": "2",
            "NOTIFIER_POLL_INTERVAL": "PT0.2S",
            "NOTIFIER_HOUSEKEEPING_EVERY": "PT1S",
            # a send that timed out on a busy machine comes back in a second, not after the real 30 s
            "NOTIFIER_RETRY_DELAYS": "PT0.5S,PT1S,PT2S,PT4S",
            **env,
        },
    )


async def exited(process: subprocess.Popen, timeout: float = 15) -> int:
    """Wait for the process to end; its exit code."""
    async with asyncio.timeout(timeout):
        while process.poll() is None:
            await asyncio.sleep(0.05)
    return process.returncode


async def stop(process: subprocess.Popen) -> int:
    """SIGTERM and its exit code; SIGKILL if it does not go within 15 s."""
    if process.poll() is None:
        process.terminate()
    try:
        return await exited(process)
    except TimeoutError:
        process.kill()
        return await exited(process)


@contextlib.asynccontextmanager
async def notifier_workers(
    settings: Settings, smtp: SmtpTestServer, count: int, **env: str
) -> AsyncIterator[list[subprocess.Popen]]:
    """`count` workers; every process in the list (a test may add replacements) is stopped at the end."""
    workers = [start_worker(settings, smtp, **env) for _ in range(count)]
    try:
        yield workers
    finally:
        await asyncio.gather(*(stop(worker) for worker in workers))


async def wait_for_rows(conn: asyncpg.Connection, sql: str, expected: object, timeout: float = 30) -> None:
    """Poll `sql` until it returns `expected`; fail with the last value after `timeout` seconds."""
    seen = None
    try:
        async with asyncio.timeout(timeout):
            while (seen := await conn.fetchval(sql)) != expected:
                await asyncio.sleep(0.1)
    except TimeoutError:
        raise AssertionError(f"after {timeout} s, {sql!r} gives {seen!r}, not {expected!r}") from None


# ---------------------------------------------------------------------------- web servers


@contextlib.asynccontextmanager
async def web_servers(
    env: dict[str, str], count: int = 2, app: str = processes.APP
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """`count` granian processes serving `app` (env added to ours), started side by side; a client for each."""
    started: list[subprocess.Popen] = []
    clients: list[httpx.AsyncClient] = []
    try:
        for _ in range(count):
            port = processes.free_port()
            started.append(
                subprocess.Popen(processes.web_command("127.0.0.1", port, app=app), cwd=ROOT, env={**os.environ, **env})
            )
            clients.append(
                httpx.AsyncClient(
                    base_url=f"http://127.0.0.1:{port}", timeout=30, limits=httpx.Limits(max_connections=100)
                )
            )
        await asyncio.gather(
            *(
                asyncio.to_thread(processes.wait_until_ready, str(c.base_url), p)
                for c, p in zip(clients, started, strict=False)
            )
        )
        yield clients
    finally:
        for http in clients:
            await http.aclose()
        await asyncio.gather(*(asyncio.to_thread(processes.stop, process) for process in started))


async def race(
    clients: list[httpx.AsyncClient],
    requests: list[tuple[str, str, dict | None]],
    headers: list[dict] | None = None,
) -> list[httpx.Response]:
    """Send every (method, path, body) at once, alternating between the servers (and between `headers`, if given)."""
    return await asyncio.gather(
        *(
            clients[n % len(clients)].request(
                method, path, json=body, headers=headers[n % len(headers)] if headers else None
            )
            for n, (method, path, body) in enumerate(requests)
        )
    )


async def seat_counts(db: asyncpg.Pool | asyncpg.Connection, event_id: int) -> asyncpg.Record:
    """An event's registrations by what they hold, next to the counters event_seats keeps."""
    return await db.fetchrow(
        "SELECT count(*) FILTER (WHERE status IN ('pending', 'confirmed')) AS held, "
        "count(*) FILTER (WHERE status = 'confirmed') AS confirmed, "
        "count(*) FILTER (WHERE status = 'waitlisted') AS waiting, "
        "(SELECT seats_taken FROM event_seats WHERE event_id = $1) AS seats_taken, "
        "(SELECT waitlist_length FROM event_seats WHERE event_id = $1) AS waitlist_length "
        "FROM registrations WHERE event_id = $1",
        event_id,
    )
