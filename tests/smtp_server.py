"""A real SMTP server for tests (aiosmtpd) that records what it receives and can be told to fail.

server = await SmtpTestServer.start()
server.fail_next(421)             # the next message is answered 421 at DATA (then 250 again)
server.fail_next(550, times=2)
server.refuse("nobody@example.org", 550)   # at RCPT
server.drop_next()                # the next message's connection is cut before it is accepted
server.delay = 0.2                # accept each message, record it, then wait before saying 250
server.step_delay = 0.3           # wait this long before answering each of MAIL, RCPT and DATA
await server.go_down()            # as a server that stops: connections refused, open sessions cut
await server.come_back()          # listening again on the same port
await server.wait_for(3)          # until three messages were received
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import functools
import time
import warnings
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesHeaderParser

from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session


@dataclass
class Received:
    """One message as the server accepted it (parsed when first read: the stress tests take thousands)."""

    mail_from: str
    rcpt_tos: list[str]
    data: bytes
    received_at: float  # time.time()
    peer: str  # the client's address and port: one per connection

    @functools.cached_property
    def message(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=email.policy.default)  # type: ignore[return-value]

    @functools.cached_property
    def message_id(self) -> str:
        # the headers alone, in the legacy policy: a fraction of the cost of parsing the whole message
        return str(BytesHeaderParser(policy=email.policy.compat32).parsebytes(self.data)["Message-ID"]).strip()


class SmtpTestServer:
    """An aiosmtpd server on a free local port, in the running event loop."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.failures: list[int] = []
        self.refused: dict[str, int] = {}
        self.drops = 0
        self.delay = 0.0
        self.step_delay = 0.0
        self.sessions = 0
        self._server: asyncio.Server | None = None
        self._new_session: Callable[[], SMTP] | None = None
        self._open_sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self._arrived = asyncio.Condition()
        self.host = "127.0.0.1"
        self.port = 0

    @classmethod
    async def start(cls, *, login: tuple[str, str] | None = None) -> SmtpTestServer:
        """A server on a free port; with `login` (user, password) it takes mail only after AUTH."""
        server = cls()
        loop = asyncio.get_running_loop()

        def check(_server: SMTP, _session: Session, _envelope: Envelope, _mechanism: str, data: object) -> AuthResult:
            ok = (
                isinstance(data, LoginPassword)
                and login is not None
                and (data.login.decode(), data.password.decode()) == login
            )
            return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 235 or 535

        auth = {"authenticator": check, "auth_required": True, "auth_require_tls": False} if login else {}

        def session() -> SMTP:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # AUTH without TLS: only ever on 127.0.0.1 in tests
                protocol = SMTP(server, hostname="smtp.test", ident="test SMTP", enable_SMTPUTF8=True, **auth)
            server._open_sessions.add(protocol)
            return protocol

        server._new_session = session
        server._server = await loop.create_server(session, server.host, 0)
        server.port = server._server.sockets[0].getsockname()[1]
        return server

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            # close_clients (3.13) is not in 3.11: the sessions end with their clients

    async def go_down(self) -> None:
        """Stop as a mail server that goes away does: new connections are refused, open sessions cut."""
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()
        for session in list(self._open_sessions):
            if session.transport is not None:
                session.transport.abort()

    async def come_back(self) -> None:
        """Listen again, on the same port, after go_down()."""
        assert self._new_session is not None
        self._server = await asyncio.get_running_loop().create_server(self._new_session, self.host, self.port)

    # ------------------------------------------------------------------ what to do

    def fail_next(self, code: int, *, times: int = 1) -> None:
        """Answer the next `times` messages with `code` at DATA instead of accepting them."""
        self.failures.extend([code] * times)

    def refuse(self, address: str, code: int = 550) -> None:
        """Refuse this recipient at RCPT."""
        self.refused[address.lower()] = code

    def drop_next(self, times: int = 1) -> None:
        """Cut the connection of the next `times` messages at DATA, before accepting them."""
        self.drops += times

    # ------------------------------------------------------------------ aiosmtpd handler hooks

    async def handle_EHLO(
        self, server: SMTP, session: Session, envelope: Envelope, hostname: str, responses: list[str]
    ) -> list[str]:
        self.sessions += 1
        session.host_name = hostname
        return responses

    async def handle_MAIL(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.step_delay:
            await asyncio.sleep(self.step_delay)
        envelope.mail_from = address
        envelope.mail_options.extend(options)
        return "250 OK"

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self.step_delay:
            await asyncio.sleep(self.step_delay)
        code = self.refused.get(address.lower())
        if code is not None:
            return (
                f"{code} 5.1.1 <{address}>: recipient refused (test)"
                if code >= 500
                else f"{code} 4.2.1 <{address}>: try later (test)"
            )
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.step_delay:
            await asyncio.sleep(self.step_delay)
        if self.drops:
            self.drops -= 1
            assert server.transport is not None
            server.transport.abort()
            return "250 never heard"
        if self.failures:
            code = self.failures.pop(0)
            text = {
                421: "4.3.2 Service not available, closing channel",
                450: "4.2.0 Mailbox busy",
                451: "4.3.0 Local error",
                550: "5.1.1 Mailbox unavailable",
                554: "5.7.1 Rejected",
            }.get(code, "test")
            return f"{code} {text}"
        self.received.append(
            Received(
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                bytes(envelope.original_content or b""),
                time.time(),
                f"{session.peer[0]}:{session.peer[1]}",
            )
        )
        async with self._arrived:
            self._arrived.notify_all()
        if self.delay:
            await asyncio.sleep(self.delay)
        return "250 2.0.0 OK: queued"

    # ------------------------------------------------------------------ reading

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least `count` messages arrived; fail the test after `timeout`."""
        async with asyncio.timeout(timeout):
            async with self._arrived:
                await self._arrived.wait_for(lambda: len(self.received) >= count)
        return self.received

    def by_message_id(self) -> dict[str, list[Received]]:
        """The received messages grouped by Message-ID."""
        groups: dict[str, list[Received]] = {}
        for item in self.received:
            groups.setdefault(item.message_id, []).append(item)
        return groups
