"""Sending over SMTP with aiosmtplib: reused connections, a bound on them, a total time limit per
message, and every outcome sorted into delivered, worth retrying, or not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import ssl
import time
from email.message import EmailMessage

import aiosmtplib
from aiosmtplib import (
    SMTPAuthenticationError,
    SMTPConnectResponseError,
    SMTPHeloError,
    SMTPNotSupported,
    SMTPRecipientsRefused,
    SMTPResponseException,
)

from server.settings import Settings

log = logging.getLogger(__name__)

# servers close idle sessions (Postfix after 300 s); a connection idle longer than this is replaced
# rather than risk a message on a connection the server already dropped
MAX_IDLE_SECONDS = 30.0
# many servers limit the messages of one session (Postfix: 100 recipients per session by default)
MAX_MESSAGES_PER_CONNECTION = 100


class DeliveryError(Exception):
    """The message was not delivered; `temporary` says whether trying again later can help, and
    `unreachable` that no session could be opened (the server or our settings, not this message)."""

    def __init__(self, reason: str, *, temporary: bool, unreachable: bool = False):
        super().__init__(reason)
        self.reason = reason
        self.temporary = temporary or unreachable
        self.unreachable = unreachable


class _Connection:
    """One SMTP session and how much it has been used."""

    def __init__(self, client: aiosmtplib.SMTP):
        self.client = client
        self.sent = 0
        self.idle_since = time.monotonic()

    @property
    def fresh(self) -> bool:
        return (
            self.client.is_connected
            and self.sent < MAX_MESSAGES_PER_CONNECTION
            and time.monotonic() - self.idle_since < MAX_IDLE_SECONDS
        )


class SmtpSender:
    """At most `connections` SMTP sessions to the configured server, reused from message to message."""

    def __init__(
        self, settings: Settings, *, host: str | None = None, port: int | None = None, connections: int | None = None
    ):
        self.settings = settings
        self.host = host or settings.smtp_host or "127.0.0.1"
        self.port = port or settings.smtp_port
        self.limit = settings.smtp_timeout.total_seconds()
        self._slots = asyncio.Semaphore(connections or settings.notifier_concurrency)
        self._idle: list[_Connection] = []
        self._tls_context: ssl.SSLContext | None = None

    async def send(self, message: EmailMessage, recipient: str) -> None:
        """Deliver one message to `recipient` alone, or raise DeliveryError.

        The envelope names the stored address itself: recipients are never read back from the
        headers, where a display name or an address could hold several of them.
        """
        async with self._slots:
            connection = self._take_idle()
            opening = connection is None
            try:
                # the whole exchange under one limit: aiosmtplib's timeout restarts with every command,
                # so a server that answers slowly but steadily would otherwise hold a message for ever
                async with asyncio.timeout(self.limit):
                    if connection is None:
                        connection = _Connection(await self._connect())
                    opening = False
                    refused, _ = await connection.client.send_message(message, recipients=[recipient])
            except BaseException as exc:
                if connection is not None:
                    # the session's state is unknown after a failure: never reuse it
                    connection.client.close()
                if isinstance(exc, Exception):
                    failure = classify(exc, self.limit)
                    if opening:
                        # connecting, the greeting, TLS and login involve no message: the server is away
                        # or our settings are wrong, and the message waits rather than using up its attempts
                        failure = DeliveryError(failure.reason, temporary=True, unreachable=True)
                    raise failure from exc
                raise
            connection.sent += 1
            connection.idle_since = time.monotonic()
            self._idle.append(connection)
        if refused:
            # accepted for some recipients, refused for others: aiosmtplib returns this instead of raising.
            # Not retried, as that would send the accepted ones a second copy.
            detail = "; ".join(
                f"{address}: {response.code} {response.message}" for address, response in refused.items()
            )
            raise DeliveryError(f"refused for some recipients ({detail}); delivered to the others", temporary=False)

    def _take_idle(self) -> _Connection | None:
        while self._idle:
            connection = self._idle.pop()
            if connection.fresh:
                return connection
            self._close_later(connection)
        return None

    def _close_later(self, connection: _Connection) -> None:
        async def quit_politely() -> None:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await connection.client.quit()
            connection.client.close()

        asyncio.get_running_loop().create_task(quit_politely())

    async def _connect(self) -> aiosmtplib.SMTP:
        settings = self.settings
        mode = settings.smtp_tls
        client = aiosmtplib.SMTP(
            hostname=self.host,
            port=self.port,
            timeout=self.limit,
            use_tls=mode == "tls",
            start_tls=mode == "starttls",
            tls_context=self._tls() if mode != "none" else None,
            username=settings.smtp_user,
            password=settings.smtp_password,
        )
        await client.connect()
        return client

    def _tls(self) -> ssl.SSLContext:
        if self._tls_context is None:
            self._tls_context = ssl.create_default_context()
        return self._tls_context

    async def close(self) -> None:
        """QUIT every idle session."""
        idle, self._idle = self._idle, []
        for connection in idle:
            with contextlib.suppress(Exception):
                async with asyncio.timeout(5):
                    await connection.client.quit()
            connection.client.close()


def classify(exc: Exception, limit: float) -> DeliveryError:
    """An exception from connecting or sending as a temporary or permanent DeliveryError."""
    if isinstance(exc, SMTPRecipientsRefused):
        codes = [refusal.code for refusal in exc.recipients]
        detail = "; ".join(f"{r.recipient}: {r.code} {r.message}" for r in exc.recipients)
        return DeliveryError(f"recipient refused ({detail})", temporary=all(400 <= code < 500 for code in codes))
    if isinstance(exc, (SMTPConnectResponseError, SMTPHeloError, SMTPAuthenticationError)):
        # the server or our own settings, not this message: later (or after a fix) it may pass
        return DeliveryError(f"the SMTP server turned the session down: {exc.code} {exc.message}", temporary=True)
    if isinstance(exc, SMTPResponseException):
        return DeliveryError(f"{exc.code} {exc.message}", temporary=not 500 <= exc.code < 600)
    if isinstance(exc, TimeoutError):
        return DeliveryError(f"no answer within {limit:g} s", temporary=True)
    if isinstance(exc, (ConnectionError, OSError)):
        return DeliveryError(f"connection failed: {exc}", temporary=True)
    if isinstance(exc, SMTPNotSupported):
        return DeliveryError(f"the server cannot take this message: {exc}", temporary=False)
    if isinstance(exc, ValueError):
        # aiosmtplib refuses an address it cannot write into the envelope
        return DeliveryError(f"not a deliverable address: {exc}", temporary=False)
    return DeliveryError(f"{type(exc).__name__}: {exc}", temporary=True)
