"""What every benchmark shares: results as ratios, a fresh database, the real server, a lean load client.

A figure means nothing alone on a shared 2-core machine, so every benchmark measures a ceiling in
the same run (a trivial endpoint, a bare library loop) and reports the ratio between the two.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

import msgspec

from server.processes import running_web
from server.settings import Settings, load_settings

SECRET_KEY = "bench-secret-not-for-production"


class Result(msgspec.Struct, kw_only=True):
    """One measured figure against its ceiling from the same run."""

    name: str
    figure: float
    unit: str
    ceiling: float
    ceiling_name: str
    target: float
    better: Literal["higher", "lower"] = "higher"
    notes: dict[str, object] = {}

    @property
    def ratio(self) -> float:
        """figure / ceiling; a throughput wants it high, a time wants it low."""
        return self.figure / self.ceiling if self.ceiling else float("inf")

    @property
    def meets_target(self) -> bool:
        return self.ratio >= self.target if self.better == "higher" else self.ratio <= self.target


class LoadStats(msgspec.Struct, kw_only=True):
    """What a load run saw."""

    requests: int
    seconds: float
    throughput: float  # requests per second
    p50_ms: float
    p99_ms: float
    statuses: dict[int, int]


def percentile(sorted_values: list[float], fraction: float) -> float:
    """The value below which `fraction` of the sorted values lie (nearest rank)."""
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


class Context:
    """One benchmark module's world: its own migrated database and a way to start the service."""

    def __init__(self, name: str, database_url: str):
        self.name = name
        self.database_url = database_url
        self.settings: Settings = load_settings(
            database_url=database_url, secret_key=SECRET_KEY, base_url="https://bench.zesummen.test"
        )

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment the service processes of this benchmark run with."""
        return {
            **os.environ,
            "DATABASE_URL": self.database_url,
            "SECRET_KEY": SECRET_KEY,
            "BASE_URL": self.settings.base_url,
            "NOTIFIER": "0",
            **(extra or {}),
        }

    @contextlib.asynccontextmanager
    async def server(self, env: dict[str, str] | None = None, workers: int = 1) -> AsyncIterator[str]:
        """The real service (granian, the app plus bench/app.py's ceilings); yields its base URL."""
        with running_web(self.env(env), workers=workers, app="bench.app:app_from_env") as base_url:
            yield base_url


# ---------------------------------------------------------------------------- the service's processes


def service_pids() -> list[int]:
    """The web service's processes (granian and its workers) among this process's descendants."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    mine, frontier = set(), {os.getpid()}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - mine
        mine |= frontier
    found = []
    for pid in sorted(mine):
        try:
            if b"granian" in Path(f"/proc/{pid}/cmdline").read_bytes():
                found.append(pid)
        except OSError:
            continue
    return found


def service_rss_mb() -> float:
    """Resident memory of the web service, in MB."""
    total_kb = 0
    for pid in service_pids():
        try:
            total_kb += int(re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text()).group(1))
        except (OSError, AttributeError):
            continue
    return total_kb / 1024


def service_cpu_seconds() -> float:
    """CPU time (user and system, the kernel's work on its sockets included) the web service has used."""
    ticks = 0
    for pid in service_pids():
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
        except (OSError, ValueError, IndexError):
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------------------- the load client
# A keep-alive HTTP/1.1 client on bare asyncio streams: it costs a fraction of what httpx costs per
# request, so on a 2-core machine most of the CPU goes to the server being measured.


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, bool]:
    """Read one response; returns (status, whether the server keeps the connection)."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    keep = headers.get("connection", "").lower() != "close"
    return status, keep


def _request_bytes(method: str, host: str, path: str, body: bytes | None, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", f"Host: {host}"]
    lines += [f"{key}: {value}" for key, value in headers.items()]
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + (body or b"")


async def http_load(
    base_url: str,
    path: str,
    *,
    connections: int = 64,
    duration: float | None = None,
    requests: int | None = None,
    method: str = "GET",
    body: Callable[[int], bytes | None] | None = None,
    headers: dict[str, str] | None = None,
    path_for: Callable[[int], str] | None = None,
) -> LoadStats:
    """Run requests over `connections` keep-alive connections for `duration` s or `requests` in all.

    `body(i)` and `path_for(i)` give the i-th request's body and path (i counts across connections).
    """
    if (duration is None) == (requests is None):
        raise ValueError("give duration or requests")
    parts = urlsplit(base_url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    all_headers = {"Content-Type": "application/json", **(headers or {})} if body else dict(headers or {})
    latencies: list[float] = []
    statuses: Counter[int] = Counter()
    counter = iter(range(10**12))
    started = time.perf_counter()
    deadline = started + duration if duration is not None else None

    async def one_connection() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                index = next(counter)
                if requests is not None and index >= requests:
                    return
                if deadline is not None and time.perf_counter() >= deadline:
                    return
                request = _request_bytes(
                    method,
                    f"{host}:{port}",
                    path_for(index) if path_for else path,
                    body(index) if body else None,
                    all_headers,
                )
                sent = time.perf_counter()
                writer.write(request)
                status, keep = await _read_response(reader)
                latencies.append(time.perf_counter() - sent)
                statuses[status] += 1
                if not keep:
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
        finally:
            writer.close()

    await asyncio.gather(*(one_connection() for _ in range(connections)))
    seconds = time.perf_counter() - started
    latencies.sort()
    return LoadStats(
        requests=len(latencies),
        seconds=seconds,
        throughput=len(latencies) / seconds if seconds else 0.0,
        p50_ms=percentile(latencies, 0.5) * 1000,
        p99_ms=percentile(latencies, 0.99) * 1000,
        statuses=dict(statuses),
    )


async def paired_load(
    base_url: str,
    figure: dict[str, object],
    ceiling: dict[str, object],
    *,
    rounds: int = 3,
    seconds: float = 3.0,
    warmup: float = 1.0,
    connections: int = 64,
) -> tuple[LoadStats, LoadStats]:
    """Measure two loads in alternating rounds (drift hits both alike); returns each one's median round.

    `figure` and `ceiling` are keyword arguments of http_load without the duration, e.g.
    `{"path": "/api/events?limit=50"}`.
    """
    for spec in (figure, ceiling):
        await http_load(base_url, duration=warmup, connections=connections, **spec)  # type: ignore[arg-type]
    measured: tuple[list[LoadStats], list[LoadStats]] = ([], [])
    for _ in range(rounds):
        for runs, spec in zip(measured, (figure, ceiling), strict=False):
            runs.append(await http_load(base_url, duration=seconds, connections=connections, **spec))  # type: ignore[arg-type]
    median = [sorted(runs, key=lambda s: s.throughput)[len(runs) // 2] for runs in measured]
    return median[0], median[1]
