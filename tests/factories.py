"""Test data with sensible defaults: organisations, organisers with roles, events."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import asyncpg
import httpx
import msgspec

from server.events.schemas import EventIn, OrganiserEventOut
from server.events.service import create_event as create_event_service
from server.events.service import publish_event
from server.organisers import queries as org_q
from server.organisers.schemas import Organiser
from server.organisers.service import issue_token
from server.settings import Settings

_sequence = count(1)
ADMIN = Organiser(id=0, email="system@test", name="system", is_admin=True, roles={})


async def create_organisation(
    conn: asyncpg.Connection, slug: str | None = None, name: str | None = None
) -> asyncpg.Record:
    """An organisation (by default a fresh one)."""
    slug = slug or f"org-{next(_sequence)}"
    return await conn.fetchrow(org_q.UPSERT_ORGANISATION, slug, name or slug.upper())


async def create_organiser(
    conn: asyncpg.Connection, roles: dict[str, str] | None = None, *, is_admin: bool = False
) -> tuple[Organiser, str]:
    """A staff member with roles {organisation slug: role}; returns (organiser, bearer token)."""
    email = f"staff{next(_sequence)}@example.org"
    organiser_id = await conn.fetchval(org_q.UPSERT_ORGANISER, email, "Staff", None, is_admin)
    role_ids: dict[int, str] = {}
    for slug, role in (roles or {}).items():
        org = await conn.fetchrow(org_q.ORGANISATION_BY_SLUG, slug) or await create_organisation(conn, slug)
        await conn.execute(org_q.UPSERT_MEMBERSHIP, organiser_id, org["id"], role)
        role_ids[org["id"]] = role
    token = await issue_token(conn, organiser_id, timedelta(hours=1))
    return Organiser(id=organiser_id, email=email, name="Staff", is_admin=is_admin, roles=role_ids), token.token


def event_body(**overrides: Any) -> dict[str, Any]:
    """A valid organiser API body for a web conference a week from now."""
    start = (datetime.now(UTC) + timedelta(days=7)).replace(hour=11, minute=15, second=0, microsecond=0)
    body: dict[str, Any] = {
        "kind": "webconference",
        "organisation": "asti",
        "title": {"fr": f"Conférence {next(_sequence)}", "de": "Konferenz"},
        "summary": {"fr": "Un résumé.", "de": "Eine Zusammenfassung."},
        "description": {"fr": "Une description."},
        "languages": ["fr"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(minutes=90)).isoformat(),
        "capacity": 100,
        "join_url": "https://meet.example.org/room",
        "platform": "Webex",
    }
    body.update(overrides)
    return body


async def create_event(
    conn: asyncpg.Connection, settings: Settings, *, publish: bool = True, **overrides: Any
) -> OrganiserEventOut:
    """An event through the service (published by default); the organisation is created if missing."""
    body = event_body(**overrides)
    if await conn.fetchrow(org_q.ORGANISATION_BY_SLUG, body["organisation"]) is None:
        await create_organisation(conn, body["organisation"])
    event = await create_event_service(conn, ADMIN, msgspec.convert(body, EventIn), settings)
    if publish:
        event = await publish_event(conn, ADMIN, event.slug, settings)
    return event


@asynccontextmanager
async def committed_events(
    pool: asyncpg.Pool, settings: Settings, prefix: str
) -> AsyncIterator[Callable[..., Awaitable[tuple[str, int]]]]:
    """Make committed events (seen by other connections and processes): `make(**overrides)` gives
    (slug, id); every row hanging off them is deleted afterwards."""
    organisation = f"{prefix}-{secrets.token_hex(3)}"
    made: list[int] = []

    async def make(**overrides: Any) -> tuple[str, int]:
        async with pool.acquire() as conn:
            if not made:
                await create_organisation(conn, organisation)
            event = await create_event(conn, settings, organisation=organisation, **overrides)
            made.append(await conn.fetchval("SELECT id FROM events WHERE slug = $1", event.slug))
        return event.slug, made[-1]

    try:
        yield make
    finally:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("DELETE FROM outbox WHERE event_id = ANY($1)", made)
            await conn.execute("DELETE FROM registrations WHERE event_id = ANY($1)", made)
            await conn.execute("DELETE FROM events WHERE id = ANY($1)", made)
            await conn.execute("DELETE FROM organisations WHERE slug = $1", organisation)


def registration_body(**overrides: Any) -> dict[str, Any]:
    """A valid public registration body with a fresh address."""
    body: dict[str, Any] = {
        "name": "Ana Silva",
        "email": f"person{next(_sequence)}@example.org",
        "language": "pt",
        "consent": True,
    }
    body.update(overrides)
    return body


async def manage_token(conn: asyncpg.Connection, settings: Settings, registration_id: int) -> str:
    """The manage token a registration's emails carry, derived as the notifier derives it."""
    from server.registrations.tokens import token_from_nonce

    nonce = await conn.fetchval("SELECT token_nonce FROM registrations WHERE id = $1", registration_id)
    return token_from_nonce(settings.secret_key, bytes(nonce))


async def insert_registration(
    conn: asyncpg.Connection,
    settings: Settings,
    event_slug: str,
    *,
    status: str = "confirmed",
    name: str = "Ana Ferreira",
    email: str | None = None,
    language: str = "fr",
    whole_series: bool = False,
    **columns: Any,
) -> tuple[asyncpg.Record, str]:
    """A registration row in the given state, written directly (no rules applied); returns (row, manage token).

    The timestamps a status implies (hold, waiting list, confirmation) are filled in unless given.
    """
    from server.registrations.tokens import new_token

    now = datetime.now(UTC)
    nonce, token, token_hash = new_token(settings.secret_key)
    values: dict[str, Any] = {
        "event_id": await conn.fetchval("SELECT id FROM events WHERE slug = $1", event_slug),
        "token_nonce": nonce,
        "token_hash": token_hash,
        "name": name,
        "email": email or f"person{next(_sequence)}@example.org",
        "language": language,
        "status": status,
        "whole_series": whole_series,
        "consent_at": now,
        "hold_expires_at": now + settings.hold_duration if status == "pending" else None,
        "waitlisted_at": now if status == "waitlisted" else None,
        "confirmed_at": now if status == "confirmed" else None,
        "cancelled_at": now if status == "cancelled" else None,
    }
    values.update(columns)
    names = list(values)
    row = await conn.fetchrow(
        f"INSERT INTO registrations ({', '.join(names)}) "
        f"VALUES ({', '.join(f'${i + 1}' for i in range(len(names)))}) RETURNING *",
        *values.values(),
    )
    return row, token


# `count` registrations ($2..$5 per person) with status $6 for the event with slug $1, in the
# order given; the timestamps their status implies filled in as insert_registration does
QUEUE_PEOPLE = """
INSERT INTO registrations (event_id, token_nonce, token_hash, name, email, language, status, whole_series, consent_at,
                           hold_expires_at, waitlisted_at, confirmed_at, cancelled_at)
SELECT e.id, p.nonce, p.hash, 'Ana Ferreira', p.email, p.language, $6, false, now(),
       CASE WHEN $6 = 'pending' THEN now() + $7::interval END, CASE WHEN $6 = 'waitlisted' THEN now() END,
       CASE WHEN $6 = 'confirmed' THEN now() END, CASE WHEN $6 = 'cancelled' THEN now() END
FROM events e,
     unnest($2::bytea[], $3::bytea[], $4::text[], $5::text[]) WITH ORDINALITY AS p(nonce, hash, email, language, n)
WHERE e.slug = $1
ORDER BY p.n
RETURNING id
"""

# one mail of kind $1 for each registration of $2, as outbox.enqueue writes it
QUEUE_MAIL = """
INSERT INTO outbox (kind, event_id, registration_id, recipient, language)
SELECT $1, r.event_id, r.id, r.email, r.language FROM registrations r WHERE r.id = ANY($2::bigint[]) ORDER BY r.id
RETURNING id
"""


async def queue_messages(
    conn: asyncpg.Connection,
    settings: Settings,
    count: int = 1,
    *,
    kind: str = "registration_confirmed",
    status: str = "confirmed",
    event_slug: str | None = None,
    **event_overrides: Any,
) -> list[int]:
    """`count` people of one event (a new one unless `event_slug`), each with a `kind` mail queued; returns outbox ids.

    Two statements whatever the count, so that a test can queue thousands in a moment.
    """
    from server.outbox import KINDS
    from server.registrations.tokens import new_token

    assert kind in KINDS, kind
    slug = event_slug or (await create_event(conn, settings, **event_overrides)).slug
    tokens = [new_token(settings.secret_key) for _ in range(count)]
    languages = ("fr", "de", "lb", "en", "pt")
    async with conn.transaction():
        people = await conn.fetch(
            QUEUE_PEOPLE,
            slug,
            [nonce for nonce, _, _ in tokens],
            [digest for _, _, digest in tokens],
            [f"person{next(_sequence)}@example.org" for _ in range(count)],
            [languages[n % 5] for n in range(count)],
            status,
            settings.hold_duration,
        )
        mail = await conn.fetch(QUEUE_MAIL, kind, [p["id"] for p in people])
    return sorted(m["id"] for m in mail)


def auth(token: str) -> dict[str, str]:
    """The header of an organiser's API token."""
    return {"Authorization": f"Bearer {token}"}


async def register(client: httpx.AsyncClient, slug: str, **overrides: Any) -> httpx.Response:
    """A public registration through the API; the answer carries the address used as `.email`."""
    body = registration_body(**overrides)
    response = await client.post(f"/api/events/{slug}/registrations", json=body)
    response.email = body["email"]  # type: ignore[attr-defined]
    return response
