"""The `python -m server` commands: serve, migrate, create-admin, load-demo."""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import subprocess
import sys
from datetime import date

import asyncpg
import msgspec

from server.db import init_connection, migrate_url
from server.processes import web_command
from server.settings import ROOT, Settings, load_settings

log = logging.getLogger("zesummen")


async def _connect(settings: Settings) -> asyncpg.Connection:
    conn = await asyncpg.connect(settings.database_url)
    await init_connection(conn)
    return conn


async def load_demo(settings: Settings, today: date | None = None) -> int:
    """Load the demo programme once (only into a database without events); returns events created."""
    from server.dev.demo import load_programme
    from server.validation import local_today

    conn = await _connect(settings)
    try:
        async with conn.transaction():
            # two processes starting together must not both load it
            await conn.execute("SELECT pg_advisory_xact_lock(7261002)")
            if await conn.fetchval("SELECT EXISTS (SELECT 1 FROM events)"):
                return 0
            return await load_programme(conn, settings, today or local_today())
    finally:
        await conn.close()


async def create_admin(settings: Settings, email: str) -> str:
    """Create or reset an administrator; returns a fresh token."""
    from server.organisers.service import create_admin as create

    conn = await _connect(settings)
    try:
        return (await create(conn, email, settings.token_ttl)).token
    finally:
        await conn.close()


def serve(settings: Settings) -> int:
    """Migrate, load demo data on first start, then run the web server and the notifier until stopped."""
    asyncio.run(migrate_url(settings.database_url))
    if settings.demo_data:
        created = asyncio.run(load_demo(settings))
        if created:
            log.info("loaded %d demo events", created)
    children: list[subprocess.Popen] = []
    workers = os.environ.get("WEB_WORKERS", "1")
    children.append(subprocess.Popen(web_command(settings.host, settings.port, workers), cwd=ROOT))
    children.extend(background_processes(settings))
    print(f"Zesummen serves on http://{settings.host}:{settings.port}  (Ctrl-C stops it)", flush=True)

    def stop(*_: object) -> None:
        for child in children:
            if child.poll() is None:
                child.terminate()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # when any child stops, stop the rest: a half-running service is worse than a stopped one
    while all(child.poll() is None for child in children):
        try:
            children[0].wait(timeout=1)
        except subprocess.TimeoutExpired:
            pass
    stop()
    codes = [child.wait() for child in children]
    return max((abs(code) for code in codes if code not in (0, -signal.SIGTERM, -signal.SIGINT)), default=0)


def background_processes(settings: Settings) -> list[subprocess.Popen]:
    """The notifier and, when SMTP_HOST is unset, the local mail catcher it sends to (NOTIFIER=0: neither)."""
    from server.processes import free_port, wait_for_port

    started: list[subprocess.Popen] = []
    if os.environ.get("NOTIFIER", "1") != "1":
        return started
    env = {**os.environ, "DATABASE_URL": settings.database_url}
    if settings.smtp_host is None:
        port = int(os.environ.get("MAIL_CATCHER_PORT") or free_port())
        catcher = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "server.notifications.catcher",
                "--port",
                str(port),
                "--dir",
                settings.mail_dir,
            ],
            cwd=ROOT,
        )
        started.append(catcher)
        wait_for_port("127.0.0.1", port, catcher)
        env |= {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(port),
            "SMTP_TLS": "none",
            "SMTP_USER": "",
            "SMTP_PASSWORD": "",
        }
    started.append(subprocess.Popen([sys.executable, "-m", "server.notifications"], cwd=ROOT, env=env))
    return started


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    parser = argparse.ArgumentParser(prog="python -m server", description="Zesummen")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="migrate and serve on HOST:PORT with the notifier")
    sub.add_parser("migrate", help="apply pending migrations and exit")
    admin = sub.add_parser("create-admin", help="create or reset an administrator; prints a token last")
    admin.add_argument("email")
    sub.add_parser("load-demo", help="load the demo programme into an empty database")
    args = parser.parse_args(argv)
    from server.dev.localdb import database_url

    # without DATABASE_URL every command uses (and if needed starts) the private server under .data/
    with database_url() as url:
        os.environ["DATABASE_URL"] = url  # the web workers and the notifier read it too
        return run_command(args, parser, load_settings(database_url=url))


def run_command(args: argparse.Namespace, parser: argparse.ArgumentParser, settings: Settings) -> int:
    """Carry out one parsed command."""
    if args.command == "migrate":
        applied = asyncio.run(migrate_url(settings.database_url))
        print(f"applied {len(applied)} migration(s)" + (": " + ", ".join(applied) if applied else ""))
        return 0
    if args.command == "create-admin":
        from server.organisers.schemas import Email
        from server.validation import Refused, checked

        try:
            email = checked(msgspec.convert(args.email, Email), Email)
        except (msgspec.ValidationError, Refused):
            parser.error(f"not an email address: {args.email}")
        asyncio.run(migrate_url(settings.database_url))
        token = asyncio.run(create_admin(settings, email))
        print(f"administrator {email} is ready; API token:")
        print(token)
        return 0
    if args.command == "load-demo":
        asyncio.run(migrate_url(settings.database_url))
        print(f"created {asyncio.run(load_demo(settings))} demo events")
        return 0
    return serve(settings)
