"""The notifier worker in this process against a real aiosmtpd server: sending, retrying, failing,
skipping, leases, wake-ups, and a database that goes away."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage

import asyncpg
import msgspec
import pytest

from server.notifications import queries as q
from server.notifications.smtp import DeliveryError, SmtpSender
from server.notifications.worker import RETRY_DELAYS, Notifier, retry_delay
from server.outbox import message_id
from server.processes import free_port
from server.settings import Settings, load_settings
from tests.factories import queue_messages
from tests.smtp_server import SmtpTestServer


async def outbox_row(conn: asyncpg.Connection, outbox_id: int) -> asyncpg.Record:
    return await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", outbox_id)


def quiet(settings: Settings, **changes: object) -> Settings:
    """The same settings with some changed (durations as ISO 8601 text or timedelta)."""
    return msgspec.convert({**msgspec.structs.asdict(settings), **changes}, Settings, strict=False)


# ---------------------------------------------------------------------------- sending


async def test_each_message_goes_out_once_with_a_message_id_from_its_row(
    notifier_conn, notifier_pool, notifier_settings, smtp_server: SmtpTestServer
):
    ids = await queue_messages(notifier_conn, notifier_settings, 10)
    handled = await Notifier(notifier_settings).drain(notifier_pool)
    assert handled == 10
    groups = smtp_server.by_message_id()
    assert set(groups) == {message_id(i, notifier_settings.mail_from) for i in ids}
    assert all(len(copies) == 1 for copies in groups.values())
    rows = await notifier_conn.fetch("SELECT status, sent_at, lease_owner, attempts FROM outbox")
    assert {(r["status"], r["lease_owner"], r["attempts"]) for r in rows} == {("sent", None, 1)}
    assert all(r["sent_at"] is not None for r in rows)


async def test_connections_are_reused_within_the_bound(notifier_conn, notifier_pool, notifier_settings, smtp_server):
    await queue_messages(notifier_conn, notifier_settings, 12)
    await Notifier(notifier_settings).drain(notifier_pool)
    assert len(smtp_server.received) == 12
    # four connections at most (NOTIFIER_CONCURRENCY), not one per message
    assert 1 <= smtp_server.sessions <= notifier_settings.notifier_concurrency


async def test_a_421_is_retried_on_the_schedule_and_then_delivered(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    smtp_server.fail_next(421)
    before = datetime.now(UTC)
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert (row["status"], row["attempts"]) == ("retrying", 1)
    assert row["last_error"].startswith("421")
    assert before + RETRY_DELAYS[0] - timedelta(seconds=2) <= row["due_at"] <= datetime.now(UTC) + RETRY_DELAYS[0]
    assert smtp_server.received == []
    # not before its time
    assert await Notifier(notifier_settings).drain(notifier_pool) == 0
    await notifier_conn.execute("UPDATE outbox SET due_at = now() WHERE id = $1", outbox_id)
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert (row["status"], row["attempts"], row["last_error"]) == ("sent", 2, None)
    assert [m.message_id for m in smtp_server.received] == [message_id(outbox_id, notifier_settings.mail_from)]


async def test_a_550_stops_at_once(notifier_conn, notifier_pool, notifier_settings, smtp_server):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    smtp_server.fail_next(550)
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert (row["status"], row["attempts"]) == ("failed", 1)
    assert "550" in row["last_error"]
    await notifier_conn.execute("UPDATE outbox SET due_at = now() - interval '1 day'")
    assert await Notifier(notifier_settings).drain(notifier_pool) == 0
    assert smtp_server.received == []


async def test_a_refused_recipient_fails_on_5xx_and_retries_on_4xx(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    first, second = await queue_messages(notifier_conn, notifier_settings, 2)
    addresses = {r["id"]: r["recipient"] for r in await notifier_conn.fetch("SELECT id, recipient FROM outbox")}
    smtp_server.refuse(addresses[first], 550)
    smtp_server.refuse(addresses[second], 450)
    await Notifier(notifier_settings).drain(notifier_pool)
    failed, retrying = await outbox_row(notifier_conn, first), await outbox_row(notifier_conn, second)
    assert failed["status"] == "failed" and addresses[first] in failed["last_error"] and "550" in failed["last_error"]
    assert retrying["status"] == "retrying" and "450" in retrying["last_error"]


async def test_the_envelope_names_the_given_recipient_alone_whatever_the_headers_say(notifier_settings, smtp_server):
    message = EmailMessage()
    message["From"] = notifier_settings.mail_from
    message["To"] = "ana@example.org, victim@example.org"
    message["Cc"] = "other@example.org"
    message["Subject"] = "Test"
    message.set_content("Hello")
    sender = SmtpSender(notifier_settings)
    await sender.send(message, "ana@example.org")
    await sender.close()
    assert [m.rcpt_tos for m in smtp_server.received] == [["ana@example.org"]]


async def test_a_refused_recipient_is_a_permanent_failure(notifier_settings, smtp_server):
    message = EmailMessage()
    message["From"] = notifier_settings.mail_from
    message["To"] = "nobody@example.org"
    message["Subject"] = "Test"
    message.set_content("Hello")
    smtp_server.refuse("nobody@example.org", 550)
    sender = SmtpSender(notifier_settings)
    with pytest.raises(DeliveryError) as caught:
        await sender.send(message, "nobody@example.org")
    await sender.close()
    assert not caught.value.temporary
    assert "nobody@example.org: 550" in caught.value.reason
    assert smtp_server.received == []


async def test_a_dropped_connection_is_retried(notifier_conn, notifier_pool, notifier_settings, smtp_server):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    smtp_server.drop_next()
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert row["status"] == "retrying"
    assert "connection" in row["last_error"].lower() or "disconnect" in row["last_error"].lower()


async def test_smtp_user_and_password_log_in_and_a_wrong_one_is_retried_later(
    notifier_conn, notifier_pool, notifier_settings
):
    server = await SmtpTestServer.start(login=("zesummen", "s3cret"))
    try:
        first, second = await queue_messages(notifier_conn, notifier_settings, 2)
        wrong = quiet(notifier_settings, smtp_port=server.port, smtp_user="zesummen", smtp_password="wrong")
        await notifier_conn.execute("UPDATE outbox SET due_at = now() + interval '1 hour' WHERE id = $1", second)
        await Notifier(wrong).drain(notifier_pool)
        row = await outbox_row(notifier_conn, first)
        # a login refused is our settings' fault, not the message's: retried, not failed
        assert row["status"] == "retrying" and "535" in row["last_error"]
        await notifier_conn.execute("UPDATE outbox SET due_at = now()")
        right = quiet(notifier_settings, smtp_port=server.port, smtp_user="zesummen", smtp_password="s3cret")
        await Notifier(right).drain(notifier_pool)
        assert len(server.received) == 2
    finally:
        await server.close()


async def test_a_refused_connection_is_retried(notifier_conn, notifier_pool, notifier_settings):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    nobody_listens = quiet(notifier_settings, smtp_port=free_port())
    await Notifier(nobody_listens).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert row["status"] == "retrying" and row["last_error"].startswith("connection failed")


async def test_a_server_that_cannot_be_reached_costs_no_attempt_and_pauses_the_copy(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    await queue_messages(notifier_conn, notifier_settings, 6)
    due = {r["id"]: r["due_at"] for r in await notifier_conn.fetch("SELECT id, due_at FROM outbox")}
    away = Notifier(quiet(notifier_settings, smtp_port=free_port()))
    # one round of tries (NOTIFIER_CONCURRENCY rows), then the copy pauses rather than try every row
    assert await away.drain(notifier_pool) == notifier_settings.notifier_concurrency
    assert await away.drain(notifier_pool) == 0
    rows = await notifier_conn.fetch("SELECT id, status, attempts, due_at, lease_owner FROM outbox ORDER BY id")
    tried = [r for r in rows if r["status"] == "retrying"]
    # given back as they were: no attempt counted, the due time kept (the queue keeps its order)
    assert len(tried) == notifier_settings.notifier_concurrency
    assert all((r["attempts"], r["due_at"], r["lease_owner"]) == (0, due[r["id"]], None) for r in tried)
    assert {r["status"] for r in rows if r not in tried} == {"queued"}
    # the server is back: everything goes, at once
    assert await Notifier(notifier_settings).drain(notifier_pool) == 6
    assert len(smtp_server.received) == 6


async def test_the_time_limit_covers_the_whole_message_not_each_command(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    # each answer comes within the limit, but MAIL + RCPT + DATA together do not
    smtp_server.step_delay = 0.3
    await Notifier(quiet(notifier_settings, smtp_timeout="PT0.5S")).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert (row["status"], row["last_error"]) == ("retrying", "no answer within 0.5 s")
    assert smtp_server.received == []


async def test_a_message_that_no_longer_applies_is_skipped_with_the_reason(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    await notifier_conn.execute(
        "UPDATE registrations SET status = 'cancelled', cancelled_at = now() "
        "WHERE id = (SELECT registration_id FROM outbox WHERE id = $1)",
        outbox_id,
    )
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert (row["status"], row["last_error"]) == ("skipped", "the registration is cancelled now")
    assert smtp_server.received == []


async def test_a_reminder_past_its_grace_is_skipped_not_sent_late(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1, kind="reminder")
    await notifier_conn.execute(
        'UPDATE outbox SET payload = \'{"offset": "PT1H", "revision": 0}\', due_at = now() - interval \'2 hours\','
        " expires_at = now() - interval '105 minutes' WHERE id = $1",
        outbox_id,
    )
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert row["status"] == "skipped" and "not sent late" in row["last_error"]
    assert smtp_server.received == []


async def test_a_message_that_cannot_be_written_fails_visibly(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    # a row of a kind nobody writes (data from a newer version, say): failed with why, not lost
    await notifier_conn.execute("UPDATE outbox SET kind = 'no_such_kind' WHERE id = $1", outbox_id)
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert row["status"] == "failed" and "could not be written" in row["last_error"]


def test_the_retry_schedule_is_30s_1_2_5_10_30min_1h_then_hourly_up_to_a_day():
    minutes = [d.total_seconds() / 60 for d in RETRY_DELAYS]
    assert minutes[:7] == [0.5, 1, 2, 5, 10, 30, 60]
    assert set(minutes[7:]) == {60}
    assert timedelta(hours=23) < sum(RETRY_DELAYS, timedelta()) <= timedelta(hours=24)
    assert retry_delay(1) == timedelta(seconds=30)
    assert retry_delay(len(RETRY_DELAYS) + 1) is None


async def test_after_the_last_retry_a_temporary_failure_fails(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    await notifier_conn.execute(
        "UPDATE outbox SET status = 'retrying', attempts = $2 WHERE id = $1", outbox_id, len(RETRY_DELAYS)
    )
    smtp_server.fail_next(421)
    await Notifier(notifier_settings).drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert row["status"] == "failed" and row["last_error"].startswith(f"gave up after {len(RETRY_DELAYS) + 1} attempts")


async def test_notifier_retry_delays_replaces_the_schedule(
    notifier_conn, notifier_pool, notifier_settings, smtp_server, monkeypatch
):
    monkeypatch.setenv("NOTIFIER_RETRY_DELAYS", "PT0.5S, PT2S")
    short = load_settings(database_url=notifier_settings.database_url, secret_key="test-secret")
    assert short.notifier_retry_delays == (timedelta(seconds=0.5), timedelta(seconds=2))
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    smtp_server.fail_next(421, times=3)
    before = datetime.now(UTC)
    worker = Notifier(quiet(notifier_settings, notifier_retry_delays=short.notifier_retry_delays))
    await worker.drain(notifier_pool)
    row = await outbox_row(notifier_conn, outbox_id)
    assert (row["status"], row["attempts"]) == ("retrying", 1)
    assert before + timedelta(seconds=0.4) <= row["due_at"] <= datetime.now(UTC) + timedelta(seconds=0.5)
    for expected in ("retrying", "failed"):  # the second pause, then no third: it fails
        await notifier_conn.execute("UPDATE outbox SET due_at = now() WHERE id = $1", outbox_id)
        await worker.drain(notifier_pool)
        assert (await outbox_row(notifier_conn, outbox_id))["status"] == expected
    assert (await outbox_row(notifier_conn, outbox_id))["last_error"].startswith("gave up after 3 attempts")


# ---------------------------------------------------------------------------- leases


async def test_a_leased_row_is_left_alone_until_its_lease_runs_out(
    notifier_conn, notifier_pool, notifier_settings, smtp_server
):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    # another copy claimed it and died without a word
    [claimed] = await notifier_conn.fetch(q.CLAIM_DUE, 10, "dead-worker", timedelta(seconds=1))
    assert claimed["id"] == outbox_id
    assert await Notifier(notifier_settings).drain(notifier_pool) == 0
    await asyncio.sleep(1.1)
    assert await Notifier(notifier_settings).drain(notifier_pool) == 1
    row = await outbox_row(notifier_conn, outbox_id)
    assert (row["status"], row["attempts"]) == ("sent", 2)
    # the dead copy's late word is not recorded over the living one's
    assert await notifier_conn.fetchval(q.RECORD_RESULT, outbox_id, "dead-worker", "failed", "late", None) is None
    assert (await outbox_row(notifier_conn, outbox_id))["status"] == "sent"


# ---------------------------------------------------------------------------- running


async def wait_until(predicate, timeout: float = 10.0, step: float = 0.05):
    """Poll `predicate` (sync or async) until it is truthy; fail after `timeout`."""
    async with asyncio.timeout(timeout):
        while True:
            value = predicate()
            if asyncio.iscoroutine(value):
                value = await value
            if value:
                return value
            await asyncio.sleep(step)


@contextlib.asynccontextmanager
async def running(notifier: Notifier):
    task = asyncio.create_task(notifier.run())
    try:
        yield task
    finally:
        notifier.stop()
        await asyncio.wait_for(task, 15)


async def listening(conn: asyncpg.Connection) -> bool:
    return bool(
        await conn.fetchval(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND query LIKE 'LISTEN %zesummen_outbox%'"
        )
    )


async def test_queued_mail_wakes_a_waiting_worker(notifier_conn, notifier_settings, smtp_server):
    # a poll every minute: only the notification can explain a delivery within seconds
    settings = quiet(notifier_settings, notifier_poll_interval="PT60S", notifier_housekeeping_every="PT60S")
    async with running(Notifier(settings)):
        await wait_until(lambda: listening(notifier_conn))
        await asyncio.sleep(0.2)  # the worker is asleep now
        await queue_messages(notifier_conn, settings, 2)
        await smtp_server.wait_for(2, timeout=5)


async def test_a_stopped_worker_finishes_what_it_was_sending(notifier_conn, notifier_settings, smtp_server):
    [outbox_id] = await queue_messages(notifier_conn, notifier_settings, 1)
    smtp_server.delay = 0.5
    notifier = Notifier(notifier_settings)
    async with running(notifier) as task:
        await smtp_server.wait_for(1)
        notifier.stop()
        await asyncio.wait_for(task, 10)
    assert (await outbox_row(notifier_conn, outbox_id))["status"] == "sent"


class FlakyProxy:
    """A TCP proxy to PostgreSQL that can be down, up, or cut every connection it carries."""

    def __init__(self, target_port: int):
        self.target_port = target_port
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    async def up(self) -> None:
        self.server = await asyncio.start_server(self._carry, "127.0.0.1", self.port)

    async def down(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.pipes):
            writer.transport.abort()
        self.pipes.clear()

    async def _carry(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        self.pipes |= {writer, up_writer}

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(Exception):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))


async def test_a_database_that_goes_away_is_waited_for(
    notifier_conn, notifier_database_url, notifier_settings, smtp_server
):
    from urllib.parse import urlsplit

    parts = urlsplit(notifier_database_url)
    proxy = FlakyProxy(parts.port)
    through_proxy = parts._replace(netloc=f"{parts.username}@127.0.0.1:{proxy.port}").geturl()
    settings = quiet(notifier_settings, database_url=through_proxy)
    async with running(Notifier(settings)) as task:
        await asyncio.sleep(1.0)  # nothing listens yet: the worker keeps trying
        assert not task.done()
        await proxy.up()
        await queue_messages(notifier_conn, settings, 1)
        await smtp_server.wait_for(1, timeout=15)
        await proxy.down()  # every connection cut, and none taken for a moment
        await queue_messages(notifier_conn, settings, 1)
        await asyncio.sleep(1.0)
        assert not task.done() and len(smtp_server.received) == 1
        await proxy.up()
        await smtp_server.wait_for(2, timeout=30)
    await proxy.down()
    assert await notifier_conn.fetchval("SELECT count(*) FROM outbox WHERE status = 'sent'") == 2
