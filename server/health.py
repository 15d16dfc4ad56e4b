"""Liveness and readiness probes."""

from __future__ import annotations

import asyncio

from litestar import Request, get
from litestar.openapi.datastructures import ResponseSpec
from litestar.response import Response

from server.errors import DATABASE_DOWN


@get("/healthz", tags=["health"], sync_to_thread=False)
def healthz() -> dict[str, str]:
    """200 while the process runs."""
    return {"status": "ok"}


@get(
    "/readyz",
    tags=["health"],
    responses={503: ResponseSpec(dict[str, str], description="The database does not answer", generate_examples=False)},
)
async def readyz(request: Request) -> Response[dict[str, str]]:
    """200 when the database answers, 503 otherwise."""
    state = request.app.state
    try:
        async with asyncio.timeout(2):
            async with state.pool.acquire() as conn:
                await conn.fetchval("SELECT 1")
    except DATABASE_DOWN as exc:
        return Response({"status": "unavailable", "detail": f"database: {type(exc).__name__}"}, status_code=503)
    return Response({"status": "ready"})
