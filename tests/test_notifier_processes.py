"""Notifier workers as real processes: killed mid-batch, two side by side, stopped by SIGTERM, and
started by `make run` with the local mail catcher."""

from __future__ import annotations

import asyncio
import email
import email.policy
import signal
from collections import Counter
from pathlib import Path

from server.notifications.smtp import SmtpSender
from server.outbox import message_id
from tests.factories import queue_messages
from tests.processes import exited, start_worker, stop, wait_for_rows
from tests.smtp_server import SmtpTestServer


async def test_a_worker_killed_mid_batch_loses_nothing_and_its_duplicates_share_a_message_id(
    notifier_conn, notifier_settings, smtp_server: SmtpTestServer
):
    ids = await queue_messages(notifier_conn, notifier_settings, 40)
    # every message is accepted, recorded, and only then answered: a kill in between makes a duplicate
    smtp_server.delay = 0.2
    first = start_worker(notifier_settings, smtp_server, NOTIFIER_LEASE="PT2S", SMTP_TIMEOUT="PT0.6S")
    try:
        await smtp_server.wait_for(5, timeout=30)
        first.send_signal(signal.SIGKILL)
        await exited(first)
    finally:
        await stop(first)
    unsent = await notifier_conn.fetchval("SELECT count(*) FROM outbox WHERE status <> 'sent'")
    assert unsent > 0, "the kill came too late to test anything"
    second = start_worker(notifier_settings, smtp_server, NOTIFIER_LEASE="PT2S", SMTP_TIMEOUT="PT0.6S")
    try:
        await wait_for_rows(notifier_conn, "SELECT count(*) FROM outbox WHERE status = 'sent'", 40)
    finally:
        assert await stop(second) == 0
    recipients = {r["id"]: r["recipient"] for r in await notifier_conn.fetch("SELECT id, recipient FROM outbox")}
    groups = smtp_server.by_message_id()
    assert set(groups) == {message_id(i, notifier_settings.mail_from) for i in ids}
    for outbox_id in ids:
        copies = groups[message_id(outbox_id, notifier_settings.mail_from)]
        # every copy of a Message-ID is the same row's mail: same person, same subject
        assert {tuple(c.rcpt_tos) for c in copies} == {(recipients[outbox_id],)}
        assert len({str(c.message["Subject"]) for c in copies}) == 1
    duplicated = [key for key, copies in groups.items() if len(copies) > 1]
    assert duplicated, "the message in flight at the kill should have gone out twice"


async def test_two_workers_on_one_outbox_send_each_message_once(notifier_conn, notifier_settings, smtp_server):
    ids = await queue_messages(notifier_conn, notifier_settings, 60)
    smtp_server.delay = 0.01
    workers = [start_worker(notifier_settings, smtp_server, NOTIFIER_LEASE="PT60S") for _ in range(2)]
    try:
        await wait_for_rows(notifier_conn, "SELECT count(*) FROM outbox WHERE status = 'sent'", 60)
    finally:
        codes = [await stop(worker) for worker in workers]
    assert codes == [0, 0]
    counts = Counter(m.message_id for m in smtp_server.received)
    assert set(counts) == {message_id(i, notifier_settings.mail_from) for i in ids}
    assert set(counts.values()) == {1}
    # both took part: each keeps at most two connections, and more than two were used
    assert len({m.peer for m in smtp_server.received}) > 2


async def test_control_two_senders_without_claims_do_send_twice(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    """The control of the test above: the harness sees double sending when rows are not claimed."""
    from server.notifications.messages import build_delivery

    await queue_messages(notifier_conn, notifier_settings, 10)

    async def careless_sender() -> None:
        sender = SmtpSender(notifier_settings, connections=1)
        rows = await notifier_pool.fetch("SELECT * FROM outbox WHERE status = 'queued' ORDER BY id")
        for row in rows:
            async with notifier_pool.acquire() as conn:
                message, recipient = await build_delivery(conn, row, notifier_settings)
            message["Message-ID"] = message_id(row["id"], notifier_settings.mail_from)
            await sender.send(message, recipient)
            await notifier_pool.execute("UPDATE outbox SET status = 'sent' WHERE id = $1", row["id"])
        await sender.close()

    await asyncio.gather(careless_sender(), careless_sender())
    assert max(Counter(m.message_id for m in smtp_server.received).values()) == 2


async def test_sigterm_lets_the_message_in_flight_finish(notifier_conn, notifier_settings, smtp_server):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    smtp_server.delay = 1.0
    worker = start_worker(notifier_settings, smtp_server)
    try:
        await smtp_server.wait_for(1, timeout=30)
        worker.send_signal(signal.SIGTERM)
        assert await exited(worker) == 0
    finally:
        await stop(worker)
    row = await notifier_conn.fetchrow("SELECT status, lease_owner FROM outbox WHERE id = $1", outbox_id)
    assert (row["status"], row["lease_owner"]) == ("sent", None)


async def test_make_run_starts_the_worker_and_a_mail_catcher_writing_eml_files(
    notifier_conn, notifier_settings, tmp_path: Path, monkeypatch
):
    import msgspec

    from server.cli import background_processes

    monkeypatch.setenv("NOTIFIER", "1")
    for name in ("SMTP_HOST", "SMTP_PORT", "SMTP_USER", "SMTP_PASSWORD", "SMTP_TLS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SECRET_KEY", notifier_settings.secret_key)
    settings = msgspec.structs.replace(notifier_settings, smtp_host=None, mail_dir=str(tmp_path / "mail"))
    children = background_processes(settings)
    try:
        assert len(children) == 2  # the catcher and the worker
        [outbox_id] = await queue_messages(notifier_conn, settings, 1)
        async with asyncio.timeout(30):
            while not list((tmp_path / "mail").glob("*.eml")):
                await asyncio.sleep(0.1)
    finally:
        codes = [await stop(child) for child in reversed(children)]
    assert codes == [0, 0]
    [eml] = (tmp_path / "mail").glob("*.eml")
    message = email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)
    assert message["Message-ID"] == message_id(outbox_id, settings.mail_from)
    recipient = await notifier_conn.fetchval("SELECT recipient FROM outbox WHERE id = $1", outbox_id)
    assert message["X-Envelope-To"] == recipient
    assert message.get_body(("plain",)) is not None and message.get_body(("html",)) is not None


def test_notifier_0_starts_neither(monkeypatch, notifier_settings):
    from server.cli import background_processes

    monkeypatch.setenv("NOTIFIER", "0")
    assert background_processes(notifier_settings) == []


async def test_a_worker_on_its_own_without_smtp_host_writes_eml_files(
    notifier_conn, notifier_settings, smtp_server, tmp_path
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    worker = start_worker(notifier_settings, smtp_server, SMTP_HOST="", MAIL_DIR=str(tmp_path))
    try:
        async with asyncio.timeout(30):
            while not list(tmp_path.glob("*.eml")):
                await asyncio.sleep(0.1)
    finally:
        assert await stop(worker) == 0
    [eml] = tmp_path.glob("*.eml")
    assert email.message_from_bytes(eml.read_bytes(), policy=email.policy.default)["Message-ID"] == message_id(
        outbox_id, notifier_settings.mail_from
    )
    assert smtp_server.received == []
