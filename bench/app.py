"""The service as it runs in production, plus the bench-only ceiling endpoints it is compared with."""

from __future__ import annotations

import asyncpg
from litestar import Litestar, Request, get, post

from server.app import app_from_env as service_from_env


@get("/bench/select-1", include_in_schema=False)
async def select_one(conn: asyncpg.Connection) -> dict[str, int]:
    """The least a database-backed endpoint can do: one round trip, a tiny JSON answer."""
    return {"one": await conn.fetchval("SELECT 1")}


@post("/bench/insert-returning", status_code=202, include_in_schema=False)
async def insert_returning(request: Request, conn: asyncpg.Connection) -> dict[str, int]:
    """The least a write endpoint can do: store the body with one `INSERT ... RETURNING` (bench_registrations)."""
    body = await request.body()
    return {
        "id": await conn.fetchval(
            "INSERT INTO bench_inserts (body) VALUES ($1::text::jsonb) RETURNING id", body.decode()
        )
    }


@get("/bench/bytes/{size:int}", include_in_schema=False, media_type="application/octet-stream")
async def fixed_bytes(size: int) -> bytes:
    """The least an endpoint sending `size` bytes can do: the same bytes every time (bench_feeds)."""
    return _BYTES.setdefault(size, bytes(size))


_BYTES: dict[int, bytes] = {}


def app_from_env() -> Litestar:
    """Factory for granian: the real app with the ceilings registered on it."""
    app = service_from_env()
    for handler in (select_one, insert_returning, fixed_bytes):
        app.register(handler)
    return app
