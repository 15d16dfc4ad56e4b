"""How the web service runs as a process: for `serve`, and for benchmarks and tests that need several."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

from server.settings import ROOT

APP = "server.app:app_from_env"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def web_command(host: str, port: int, workers: int | str = 1, app: str = APP) -> list[str]:
    """The production ASGI server (granian) serving `app`, a factory taking no arguments."""
    return [
        sys.executable,
        "-m",
        "granian",
        "--interface",
        "asgi",
        "--factory",
        "--host",
        host,
        "--port",
        str(port),
        "--workers",
        str(workers),
        "--log-level",
        "warning",
        app,
    ]


def wait_until_ready(base_url: str, process: subprocess.Popen, timeout: float = 30) -> None:
    """Block until GET /readyz answers 200; raise if the process dies or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the web process exited with {process.returncode} before it was ready")
        with contextlib.suppress(OSError, urllib.error.URLError):
            with urllib.request.urlopen(f"{base_url}/readyz", timeout=2) as answer:
                if answer.status == 200:
                    return
        time.sleep(0.1)
    raise RuntimeError(f"{base_url} was not ready within {timeout} s")


def wait_for_port(host: str, port: int, process: subprocess.Popen, timeout: float = 15) -> None:
    """Block until something accepts TCP connections on host:port; raise if `process` dies first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the process exited with {process.returncode} before it listened on {port}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {host}:{port} within {timeout} s")


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM, then SIGKILL if it does not go."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.contextmanager
def running_web(env: dict[str, str], *, workers: int = 1, app: str = APP) -> Iterator[str]:
    """A web process on a free local port with `env` added to ours; yields its base URL."""
    port = free_port()
    process = subprocess.Popen(web_command("127.0.0.1", port, workers, app), cwd=ROOT, env={**os.environ, **env})
    base_url = f"http://127.0.0.1:{port}"
    try:
        wait_until_ready(base_url, process)
        yield base_url
    finally:
        stop(process)
