"""Issue 4: notifier throughput (claim, render, send, record) against a bare aiosmtplib loop.

Both send the same number of messages over the same number of connections to the same aiosmtpd
sink (its own process), in alternating rounds of one run. The bare loop builds each message from
parts rendered once beforehand (same text, HTML and calendar parts, a fresh To and Message-ID), so
the ratio is what the worker's reading, rendering and bookkeeping cost on top of sending.
"""

from __future__ import annotations

import asyncio
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

import aiosmtplib
import asyncpg
import msgspec

from bench.harness import Context, Result
from server.db import init_connection
from server.events.schemas import EventIn
from server.events.service import create_event, publish_event
from server.notifications import messages
from server.notifications.worker import Notifier
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.outbox import enqueue, message_id
from server.processes import free_port, wait_for_port
from server.registrations.tokens import new_token
from server.settings import ROOT, Settings

PEOPLE = 500
# each person gets a confirmation (with its .ics invitation) and a reminder
KINDS = ("registration_confirmed", "reminder")
MESSAGES = PEOPLE * len(KINDS)
CONNECTIONS = 4
ROUNDS = 3
SYSTEM = Organiser(id=0, email="bench@localhost", name="bench", is_admin=True, roles={})
LANGUAGES = ("fr", "de", "lb", "en", "pt")

RESET = """
UPDATE outbox SET status = 'queued', attempts = 0, due_at = now(), sent_at = NULL, last_error = NULL,
       lease_until = NULL, lease_owner = NULL
"""


async def seed(conn: asyncpg.Connection, settings: Settings) -> None:
    """One published web conference next week with PEOPLE confirmed people and their mails queued."""
    await conn.execute(org_q.UPSERT_ORGANISATION, "asti", "ASTI")
    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=11, minute=15, second=0, microsecond=0)
    body = {
        "kind": "webconference",
        "organisation": "asti",
        "languages": ["fr", "de"],
        "title": {lang: f"Vivre ensemble au Luxembourg ({lang})" for lang in LANGUAGES},
        "summary": {"fr": "Une conférence en ligne sur la vie associative et le bénévolat. " * 3},
        "description": {"fr": "Une heure et demie d'échanges avec les associations partenaires. " * 6},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=90)).isoformat(),
        "capacity": None,
        "join_url": "https://meet.example.org/vivre-ensemble",
        "platform": "Webex",
    }
    event = await create_event(conn, SYSTEM, msgspec.convert(body, EventIn), settings)
    await publish_event(conn, SYSTEM, event.slug, settings)
    event_id = await conn.fetchval("SELECT id FROM events WHERE slug = $1", event.slug)
    async with conn.transaction():
        for n in range(PEOPLE):
            nonce, _, token_hash = new_token(settings.secret_key)
            email, lang = f"person{n}@example.org", LANGUAGES[n % len(LANGUAGES)]
            registration_id = await conn.fetchval(
                "INSERT INTO registrations (event_id, token_nonce, token_hash, name, email, language, status,"
                " consent_at, confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, 'confirmed', now(), now()) RETURNING id",
                " confirmed_at) VALUES ($1, $2, $3, $4, $5, $6, 'confirmed', now(), now()) RETURNING id",
                event_id,
                nonce,
                token_hash,
                f"Person {n}",
                email,
                lang,
            )
            for kind in KINDS:
                payload = {"offset": "PT1H", "revision": 0} if kind == "reminder" else {}
                await enqueue(
                    conn,
                    kind,
                    event_id=event_id,
                    registration_id=registration_id,
                    recipient=email,
                    language=lang,
                    payload=payload,
                )


async def notifier_round(pool: asyncpg.Pool, settings: Settings) -> float:
    """Seconds for one worker copy (its real loop) to send and record every queued message."""
    await pool.execute(RESET)
    notifier = Notifier(settings, jobs=())
    started = time.perf_counter()
    task = asyncio.create_task(notifier.run())
    while await pool.fetchval("SELECT count(*) FROM outbox WHERE status IN ('queued', 'retrying')"):
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    seconds = time.perf_counter() - started
    notifier.stop()
    await task
    problems = await pool.fetch("SELECT status, last_error FROM outbox WHERE status <> 'sent' LIMIT 3")
    if problems:
        raise RuntimeError(f"not every message was sent: {[dict(p) for p in problems]}")
    return seconds


async def sample_parts(pool: asyncpg.Pool, settings: Settings) -> list[EmailMessage]:
    """One rendered message of each kind, as the bare loop's model."""
    models = []
    async with pool.acquire() as conn:
        for kind in KINDS:
            row = await conn.fetchrow("SELECT * FROM outbox WHERE kind = $1 ORDER BY id LIMIT 1", kind)
            models.append(await messages.build_message(conn, row, settings))
    return models


def bare_message(model: EmailMessage, n: int, mail_from: str) -> EmailMessage:
    """A message with the model's parts, built afresh as a bare sender would."""
    message = EmailMessage()
    message["Subject"] = model["Subject"]
    message["From"] = mail_from
    message["To"] = f"person{n}@example.org"
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id(10_000_000 + n, mail_from)
    parts = list(model.walk())
    text = next(p for p in parts if p.get_content_type() == "text/plain").get_content()
    html = next(p for p in parts if p.get_content_type() == "text/html").get_content()
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    calendar = next((p for p in parts if p.get_content_type() == "text/calendar"), None)
    if calendar is not None:
        ics = calendar.get_content()
        method = calendar.get_param("method")
        message.add_alternative(ics, subtype="calendar", params={"method": method})
        message.add_attachment(ics.encode(), maintype="application", subtype="ics", filename="invite.ics")
    return message


async def bare_round(port: int, models: list[EmailMessage], mail_from: str) -> float:
    """Seconds for CONNECTIONS aiosmtplib sessions to build and send MESSAGES messages."""
    counter = iter(range(MESSAGES))

    async def one_connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=60)
        await client.connect()
        for n in counter:
            await client.send_message(bare_message(models[n % len(models)], n, mail_from))
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(CONNECTIONS)))
    return time.perf_counter() - started


async def render_and_send_round(pool: asyncpg.Pool, settings: Settings, port: int) -> float:
    """Seconds to write every row's message with `build_message` and send it, without claiming or recording."""
    rows = await pool.fetch("SELECT * FROM outbox ORDER BY id")
    queue = iter(rows)

    async def one_connection() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=60)
        await client.connect()
        for row in queue:
            async with pool.acquire() as conn:
                message = await messages.build_message(conn, row, settings)
            message["Message-ID"] = message_id(row["id"], settings.mail_from)
            await client.send_message(message)
        await client.quit()

    started = time.perf_counter()
    await asyncio.gather(*(one_connection() for _ in range(CONNECTIONS)))
    return time.perf_counter() - started


async def run(context: Context) -> list[Result]:
    port = free_port()
    sink = subprocess.Popen([sys.executable, "-m", "bench.smtp_sink", str(port)], cwd=ROOT)
    try:
        wait_for_port("127.0.0.1", port, sink)
        settings = msgspec.structs.replace(
            context.settings,
            smtp_host="127.0.0.1",
            smtp_port=port,
            smtp_tls="none",
            smtp_user=None,
            smtp_password=None,
            notifier_concurrency=CONNECTIONS,
            notifier_housekeeping_every=timedelta(hours=1),
            notifier_lease=timedelta(minutes=5),
        )
        pool = await asyncpg.create_pool(
            context.database_url, min_size=2, max_size=2 * CONNECTIONS + 2, init=init_connection
        )
        try:
            async with pool.acquire() as conn:
                await seed(conn, settings)
            models = await sample_parts(pool, settings)
            await bare_round(port, models, settings.mail_from)  # warm-up of both sides
            await notifier_round(pool, settings)
            worker, bare, unrecorded = [], [], []
            for _ in range(ROUNDS):
                worker.append(await notifier_round(pool, settings))
                bare.append(await bare_round(port, models, settings.mail_from))
                unrecorded.append(await render_and_send_round(pool, settings, port))
        finally:
            await pool.close()
    finally:
        sink.terminate()
        sink.wait(timeout=10)
    worker_rate, bare_rate = MESSAGES / statistics.median(worker), MESSAGES / statistics.median(bare)
    unrecorded_rate = MESSAGES / statistics.median(unrecorded)
    return [
        Result(
            name=f"notifier: claim, render, send, record ({MESSAGES} mails, {CONNECTIONS} connections)",
            figure=worker_rate,
            unit="mails/s",
            ceiling=bare_rate,
            ceiling_name="bare aiosmtplib loop, same messages and connections",
            target=0.8,
            notes={"worker_seconds": [round(s, 2) for s in worker], "bare_seconds": [round(s, 2) for s in bare]},
        ),
        Result(
            # where the gap is: the same worker against build_message + send without the queue around it
            name="notifier: the queue's own cost (claim, lease, record) on top of rendering and sending",
            figure=worker_rate,
            unit="mails/s",
            ceiling=unrecorded_rate,
            ceiling_name="build_message + send loop, no claim or record",
            target=0.9,
            notes={"render_and_send_seconds": [round(s, 2) for s in unrecorded]},
        ),
    ]
