"""Issue 20, point 2, against the service as `make run` runs it (granian): bodies sent a byte a second
on HTML forms and JSON endpoints, three times as many as the pool has connections, while other
clients keep asking for a page, the API and /readyz. The control runs the same siege against the app
without its request gate (tests/unguarded_app.py) and sees the pool starve. Raw sockets throughout,
as an attacker sends them; the same process is also sent raw bytes that are not UTF-8, and its
access log must not show the manage tokens it served.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import socket
import statistics
import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg
import pytest

from server.db import create_database, drop_database, init_connection
from server.organisers.service import create_admin
from server.processes import free_port, stop, wait_until_ready, web_command
from server.settings import ROOT, load_settings
from tests.factories import create_event, insert_registration

POOL = 3
TRICKLERS = 3 * POOL
BODY_TIMEOUT = 3.0  # seconds; the service's default is 10
DECLARED = 1000  # the Content-Length each trickler announces and never sends in time


@dataclass
class Service:
    url: str
    port: int
    slug: str
    manage: str
    token: str
    log: Path = field(default_factory=Path)


async def _prepare(server_url: str, name: str) -> tuple[str, str, str, str]:
    url = await create_database(server_url, name)
    settings = load_settings(database_url=url, secret_key="slow-secret")
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        event = await create_event(conn, settings, capacity=None)
        _, manage = await insert_registration(conn, settings, event.slug)
        token = (await create_admin(conn, "siege@example.lu", settings.token_ttl)).token
    finally:
        await conn.close()
    return url, event.slug, manage, token


@pytest.fixture(scope="module")
def database() -> Iterator[tuple[str, str, str, str]]:
    server_url = os.environ["DATABASE_URL"]
    name = f"zesummen_slow_{secrets.token_hex(4)}"
    prepared = asyncio.run(_prepare(server_url, name))
    try:
        yield prepared
    finally:
        asyncio.run(drop_database(server_url, name))


def _serve(database: tuple[str, str, str, str], app: str, tmp_path: Path) -> Iterator[Service]:
    url, slug, manage, token = database
    port = free_port()
    log = tmp_path / "granian.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "SECRET_KEY": "slow-secret",
        "NOTIFIER": "0",
        "BASE_URL": "https://slow.zesummen.test",
        "DB_POOL_MIN": "1",
        "DB_POOL_MAX": str(POOL),
        "BODY_TIMEOUT": str(BODY_TIMEOUT),
        "RATE_LIMIT_PER_ADDRESS": "100000",
    }
    command = web_command("127.0.0.1", port, app=app)
    command[-1:-1] = ["--access-log"]  # before the app's name, the last argument
    with log.open("wb") as output:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT)
        try:
            wait_until_ready(f"http://127.0.0.1:{port}", process)
            yield Service(f"http://127.0.0.1:{port}", port, slug, manage, token, log)
        finally:
            stop(process)


@pytest.fixture
def guarded(database, tmp_path) -> Iterator[Service]:
    yield from _serve(database, "server.app:app_from_env", tmp_path)


@pytest.fixture
def unguarded(database, tmp_path) -> Iterator[Service]:
    yield from _serve(database, "tests.unguarded_app:app_from_env", tmp_path)


# ------------------------------------------------------------------------------ raw HTTP


def exchange(port: int, request: bytes, timeout: float = 5) -> tuple[int | None, float, bytes]:
    """Send a whole request on a fresh connection; (status or None, seconds to the answer, answer)."""
    started = time.monotonic()
    answer = b""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
            sock.sendall(request)
            while b"\r\n\r\n" not in answer:
                chunk = sock.recv(65536)
                if not chunk:
                    break
                answer += chunk
    except OSError:
        return None, time.monotonic() - started, answer
    status = int(answer.split(b" ", 2)[1]) if answer.startswith(b"HTTP/1.1 ") else None
    return status, time.monotonic() - started, answer


def get(port: int, path: str, timeout: float = 5) -> tuple[int | None, float]:
    request = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    status, seconds, _ = exchange(port, request, timeout)
    return status, seconds


@dataclass
class Trickle:
    """One connection that sends a POST's headers, then its body a byte a second for `seconds`."""

    port: int
    path: str
    media_type: str
    headers: str = ""
    seconds: float = 30
    status: int | None = None
    after: float | None = None  # seconds from the headers to the answer

    def run(self) -> None:
        with socket.create_connection(("127.0.0.1", self.port)) as sock:
            sock.sendall(
                f"POST {self.path} HTTP/1.1\r\nHost: x\r\nContent-Type: {self.media_type}\r\n"
                f"Content-Length: {DECLARED}\r\n{self.headers}\r\n".encode()
            )
            started = time.monotonic()
            sock.settimeout(0.2)
            answer = b""
            while time.monotonic() - started < self.seconds:
                try:
                    sock.sendall(b"a")
                except OSError:
                    pass  # the server closed its side; what it answered is still to be read
                try:
                    chunk = sock.recv(4096)
                    answer += chunk
                    if not chunk or b"\r\n\r\n" in answer:
                        break
                except TimeoutError:
                    pass
                except OSError:
                    break
                time.sleep(0.8)
            if answer.startswith(b"HTTP/1.1 "):
                self.status, self.after = int(answer.split(b" ", 2)[1]), time.monotonic() - started


def tricklers(service: Service, seconds: float) -> list[Trickle]:
    """Forms (the registration form, a manage page's cancel) and JSON (public and organiser), mixed."""
    form, auth = "application/x-www-form-urlencoded", f"Authorization: Bearer {service.token}\r\n"
    kinds = [
        (f"/events/{service.slug}/register", form, ""),
        (f"/api/events/{service.slug}/registrations", "application/json", ""),
        (f"/r/{service.manage}/cancel", form, ""),
        (f"/api/organiser/events/{service.slug}/registrations", "application/json", auth),
    ]
    return [Trickle(service.port, *kinds[n % len(kinds)], seconds=seconds) for n in range(TRICKLERS)]


PROBES = ("/readyz", "/", "/api/events?limit=5")


def siege(service: Service, trickle_seconds: float, probe_seconds: float) -> tuple[list[Trickle], dict[str, list]]:
    """Start the tricklers, probe the other clients' paths meanwhile; (tricklers, probe answers by path)."""
    for path in PROBES:  # warm: templates compiled, pool connections opened
        get(service.port, path)
    slow = tricklers(service, trickle_seconds)
    threads = [threading.Thread(target=t.run) for t in slow]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # every trickler has sent its headers and a byte
    probes: dict[str, list] = {path: [] for path in PROBES}
    until = time.monotonic() + probe_seconds
    while time.monotonic() < until:
        answers: dict[str, tuple] = {}
        workers = [
            threading.Thread(
                target=lambda p=p, answers=answers: answers.__setitem__(p, get(service.port, p, timeout=2.5))
            )
            for p in PROBES
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        for path, answer in answers.items():
            probes[path].append(answer)
        time.sleep(0.2)
    for thread in threads:
        thread.join()
    return slow, probes


def test_slow_bodies_hold_no_connection_and_are_refused_with_408_in_time(guarded: Service) -> None:
    slow, probes = siege(guarded, trickle_seconds=BODY_TIMEOUT + 6, probe_seconds=BODY_TIMEOUT - 1)
    for path, answers in probes.items():
        seconds = [s for _, s in answers]
        print(f"{path}: {len(answers)} answers, median {statistics.median(seconds):.3f} s, max {max(seconds):.3f} s")
        assert {status for status, _ in answers} == {200}, (path, answers)
        assert statistics.median(seconds) < 1, (path, seconds)
    print("tricklers:", [(t.path.split("/")[1], t.status, round(t.after or 0, 2)) for t in slow])
    assert [t.status for t in slow] == [408] * TRICKLERS, [(t.path, t.status) for t in slow]
    assert all(BODY_TIMEOUT - 0.5 < t.after < BODY_TIMEOUT + 2.5 for t in slow), [t.after for t in slow]
    # and the pool is whole again: the registration form takes a real post at once
    status, seconds = get(guarded.port, "/readyz")
    assert (status, seconds < 1) == (200, True)


def test_control_without_the_gate_the_same_siege_starves_the_pool(unguarded: Service) -> None:
    """The fault the gate removes is real: with it gone, the forms' handlers hold every connection."""
    slow, probes = siege(unguarded, trickle_seconds=BODY_TIMEOUT + 3, probe_seconds=BODY_TIMEOUT)
    for path, answers in probes.items():
        print(f"{path}: {answers}")
    ready = probes["/readyz"]
    assert all(status != 200 or seconds >= 1 for status, seconds in ready), ready  # 503 after its 2 s wait
    page = probes["/"]
    assert all(status is None or seconds >= 1 for status, seconds in page), page  # still waiting for a connection
    assert not any(t.status == 408 for t in slow)  # nothing ends a slow body


# ------------------------------------------------------------------------------ the same process, raw bytes


def test_raw_bytes_that_are_not_utf8_get_400_from_the_real_server(guarded: Service) -> None:
    port, slug, token = guarded.port, guarded.slug, guarded.token

    def post(path: str, body: bytes, media_type: str = "application/json", extra: str = "") -> int | None:
        head = (
            f"POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: {media_type}\r\n"
            f"Content-Length: {len(body)}\r\n{extra}\r\n"
        ).encode()
        return exchange(port, head + body)[0]

    auth = f"Authorization: Bearer {token}\r\n"
    assert post(f"/api/events/{slug}/registrations", b'{"name": "\xff", "email": "a@example.org"}') == 400
    assert post(f"/api/organiser/events/{slug}/registrations", b'{"name": "\xc3\x28"}', extra=auth) == 400
    assert post("/api/organiser/events", b'{"title": {"fr": "\xed\xa0\x80"}}', extra=auth) == 400
    assert post(f"/events/{slug}/register", b"name=%ff&csrf_token=x", "application/x-www-form-urlencoded") == 400
    assert post(f"/events/{slug}/register", b"name=\xff&csrf_token=x", "application/x-www-form-urlencoded") == 400
    for path in (f"/api/events/{slug}%ff", "/api/events?q=%ff%fe", f"/events/{slug}?lang=%c3%28", "/r/%ed%a0%80"):
        assert get(port, path)[0] == 400, path
    # bytes that are not even allowed in a request line: granian refuses them itself
    assert exchange(port, b"GET /api/events/\xff HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")[0] == 400


def test_the_access_log_shows_no_manage_token(guarded: Service) -> None:
    assert get(guarded.port, f"/r/{guarded.manage}")[0] == 200
    assert get(guarded.port, f"/api/registrations/{guarded.manage}/calendar.ics")[0] == 200
    assert get(guarded.port, f"/api/registrations/{guarded.manage}?lang=en")[0] == 200
    time.sleep(0.5)  # the access log is written after the answer
    log = guarded.log.read_text()
    assert "/r/[token]" in log and "/api/registrations/[token]/calendar.ics" in log, log[-2000:]
    assert guarded.manage not in log
