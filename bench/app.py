"""The service as it runs in production, plus the bench-only ceiling endpoints it is compared with."""

from __future__ import annotations

import asyncpg
from litestar import Litestar, get

from server.app import app_from_env as service_from_env


@get("/bench/select-1", include_in_schema=False)
async def select_one(conn: asyncpg.Connection) -> dict[str, int]:
    """The least a database-backed endpoint can do: one round trip, a tiny JSON answer."""
    return {"one": await conn.fetchval("SELECT 1")}


def app_from_env() -> Litestar:
    """Factory for granian: the real app with the ceilings registered on it."""
    app = service_from_env()
    for handler in (select_one,):
        app.register(handler)
    return app
