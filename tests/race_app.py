"""The app as the race tests run it under granian, plus the deliberately unlocked path of their control."""

from __future__ import annotations

import asyncio

import asyncpg
from litestar import Litestar, post

from server.app import app_from_env as service_from_env
from server.registrations.schemas import RegistrationIn


@post("/test/events/{slug:str}/unlocked-registrations", status_code=202, include_in_schema=False)
async def register_unlocked(slug: str, data: RegistrationIn, conn: asyncpg.Connection) -> dict[str, str]:
    """What the real path must never do: count, then insert, with no lock and the database's backstop off."""
    async with conn.transaction():
        await conn.execute("SET LOCAL zesummen.allow_overbooking = 'on'")
        event = await conn.fetchrow("SELECT id, capacity FROM events WHERE slug = $1", slug)
        taken = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status IN ('pending', 'confirmed')", event["id"])
        await asyncio.sleep(0.002)  # a request a little slow between deciding and writing, as any may be
        status = "confirmed" if taken < event["capacity"] else "waitlisted"
        await conn.execute(
            "INSERT INTO registrations (event_id, name, email, language, status, confirmed_at, waitlisted_at) "
            "VALUES ($1, $2, $3, $4, $5::text, CASE WHEN $5::text = 'confirmed' THEN now() END, "
            "CASE WHEN $5::text = 'waitlisted' THEN now() END)",
            event["id"], data.name, data.email.lower(), data.language, status)
    return {"status": status}


def app_from_env() -> Litestar:
    """Factory for granian: the real app with the unlocked control path registered on it."""
    app = service_from_env()
    app.register(register_unlocked)
    return app
