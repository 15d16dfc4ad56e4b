"""The app without its request gate (server/transport.py), for the control of the slow-body test."""

from __future__ import annotations

from litestar import Litestar
from litestar.types import ASGIApp, Receive, Scope, Send

import server.app


class NoGate:
    """Lets every request through as it comes: the body is read whenever a handler reads it."""

    def __init__(self, app: ASGIApp, **_: object) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.app(scope, receive, send)


def app_from_env() -> Litestar:
    """Factory for granian: the real app, its gate replaced by one that checks nothing."""
    server.app.RequestGate = NoGate
    return server.app.app_from_env()
