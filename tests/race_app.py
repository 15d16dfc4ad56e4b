"""The app as the race tests run it under granian, plus the deliberately unlocked paths of their controls."""

from __future__ import annotations

import asyncio

import asyncpg
from litestar import Litestar, Request, post

from server.app import app_from_env as service_from_env
from server.limits import client_address, count_attempts
from server.organisers import service as accounts
from server.organisers.schemas import LoginIn
from server.registrations.schemas import RegistrationIn
from server.settings import Settings


@post("/test/events/{slug:str}/unlocked-registrations", status_code=202, include_in_schema=False)
async def register_unlocked(slug: str, data: RegistrationIn, conn: asyncpg.Connection) -> dict[str, str]:
    """What the real path must never do: count, then insert, with no lock and the database's backstop off."""
    async with conn.transaction():
        await conn.execute("SET LOCAL zesummen.allow_overbooking = 'on'")
        event = await conn.fetchrow("SELECT id, capacity FROM events WHERE slug = $1", slug)
        taken = await conn.fetchval(
            "SELECT count(*) FROM registrations WHERE event_id = $1 AND status IN ('pending', 'confirmed')", event["id"]
        )
        await asyncio.sleep(0.002)  # a request a little slow between deciding and writing, as any may be
        status = "confirmed" if taken < event["capacity"] else "waitlisted"
        await conn.execute(
            "INSERT INTO registrations (event_id, name, email, language, status, confirmed_at, waitlisted_at) "
            "VALUES ($1, $2, $3, $4, $5::text, CASE WHEN $5::text = 'confirmed' THEN now() END, "
            "CASE WHEN $5::text = 'waitlisted' THEN now() END)",
            event["id"],
            data.name,
            data.email.lower(),
            data.language,
            status,
        )
    return {"status": status}


@post("/test/racy-login", status_code=200, include_in_schema=False)
async def racy_login(
    data: LoginIn,
    request: Request,
    conn: asyncpg.Connection,
    settings: Settings,
) -> dict[str, str]:
    """What login must never do: check the counters, then the password, and count a failure only afterwards."""
    email = accounts.account_email(data.email)
    keys, limits = accounts.sign_in_keys(settings, client_address(request, settings), email)
    hits = await conn.fetch(
        "SELECT key, hits FROM rate_limits WHERE key = ANY($1) "
        "AND window_start = date_bin($2::interval, now(), TIMESTAMPTZ 'epoch')",
        keys,
        settings.sign_in_window,
    )
    most = dict(zip(keys, limits, strict=True))
    if any(row["hits"] >= most[row["key"]] for row in hits):
        raise accounts.SignInLimited("Too many failed attempts.")
    row = await conn.fetchrow("SELECT password_hash FROM organisers WHERE email = $1", data.email)
    if not await accounts.password_matches(row["password_hash"] if row else None, data.password):
        await count_attempts(conn, keys, limits, settings.sign_in_window)
        raise accounts.Unauthorized("Wrong email or password.")
    return {"ok": "yes"}


@post(
    "/test/interpretation-missions/{mission_id:int}/unconstrained-assignment", status_code=200, include_in_schema=False
)
async def assign_unconstrained(mission_id: int, data: dict[str, int], conn: asyncpg.Connection) -> dict[str, bool]:
    """What assignment must never rely on: look for a clash in Python, then write, where no constraint stands guard.

    It writes to `interpretation_race_control`, a copy of the missions' columns that the race test
    creates without the exclusion constraints.
    """
    async with conn.transaction():
        mission = await conn.fetchrow(
            "SELECT starts_at, ends_at FROM interpretation_missions WHERE id = $1", mission_id
        )
        clash = await conn.fetchval(
            "SELECT count(*) FROM interpretation_race_control WHERE interpreter_id = $1 "
            "AND tstzrange(starts_at, ends_at) && tstzrange($2, $3)",
            data["interpreter"],
            mission["starts_at"],
            mission["ends_at"],
        )
        await asyncio.sleep(0.05)  # a request slow between deciding and writing, as any may be under load
        if not clash:
            await conn.execute(
                "INSERT INTO interpretation_race_control VALUES ($1, $2, $3, $4)",
                mission_id,
                data["interpreter"],
                mission["starts_at"],
                mission["ends_at"],
            )
    return {"assigned": not clash}


def app_from_env() -> Litestar:
    """Factory for granian: the real app with the unlocked control path registered on it."""
    app = service_from_env()
    app.register(register_unlocked)
    app.register(racy_login)
    app.register(assign_unconstrained)
    return app
