"""Seat mechanics under the event lock: taking seats, settling holds and the waiting list, refilling freed seats."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Hashable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import asyncpg
import msgspec

from server.db import Connect
from server.events import hooks
from server.events.views import registration_open
from server.outbox import enqueue
from server.registrations import queries as q
from server.registrations import seat_queries as sq
from server.registrations.group_commit import GroupCommit
from server.registrations.refusals import EventBusy, EventCancelled, EventFull, RegistrationClosed, RegistrationNotOpen
from server.registrations.tokens import new_token
from server.settings import Settings

log = logging.getLogger(__name__)

HELD = ("pending", "confirmed")
LIVE = ("pending", "confirmed", "waitlisted")
# mails a stranger can cause by typing someone's address: they count against the daily cap, and the
# ones queued for a public request (and expired holds) are skipped once it is reached
CAPPED_KINDS = (
    "registration_received",
    "registration_confirmed",
    "registration_waitlisted",
    "registration_exists",
    "series_registration_received",
    "hold_expired",
)


@asynccontextmanager
async def refusing_lock_trouble() -> AsyncIterator[None]:
    """A lock not granted within `lock_timeout` is a clean 503; the backstop's refusal a clean 409."""
    try:
        yield
    except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as exc:
        log.warning("seat lock not granted: %r", exc)
        raise EventBusy(
            "Many people are registering right now; please try again in a moment.", headers={"Retry-After": "2"}
        ) from None
    except asyncpg.CheckViolationError as exc:
        if exc.constraint_name != "events_never_overbooked":
            raise
        # the database's backstop caught what the lock should have prevented: refuse, loudly
        log.error("overbooking refused by the database: %s", exc)
        raise EventFull("No place is free.") from None


@asynccontextmanager
async def seat_transaction(conn: asyncpg.Connection) -> AsyncIterator[None]:
    """A transaction for seat decisions (the lock statements carry their own lock_timeout)."""
    async with refusing_lock_trouble(), conn.transaction():
        yield


def lock_timeout(settings: Settings) -> str:
    """`lock_timeout` as PostgreSQL reads it."""
    return f"{int(settings.lock_timeout.total_seconds() * 1000)}ms"


async def lock_events(conn: asyncpg.Connection, event_ids: Iterable[int], settings: Settings) -> list[dict[str, Any]]:
    """Lock events for seat decisions, in id order; returns their seat columns."""
    rows = await conn.fetch(sq.EVENTS_BY_ID_FOR_SEATS, sorted(set(event_ids)), lock_timeout(settings))
    return [dict(r) for r in rows]


def free_seats(event: dict[str, Any]) -> int | None:
    """Seats left (negative after a forced capacity decrease); None when the capacity is unlimited."""
    return None if event["capacity"] is None else event["capacity"] - event["seats_taken"]


def seat_for_newcomer(event: dict[str, Any]) -> str:
    """What a new public registration gets now (seat_queries.TAKE_SEATS applies the same rule)."""
    free = free_seats(event)
    if (free is None or free > 0) and not event["waitlist_length"]:
        return "pending" if event["confirmation_required"] else "confirmed"
    return "waitlisted"


class Person(msgspec.Struct, kw_only=True):
    """Who takes a seat, as TAKE_SEATS writes them."""

    name: str
    email: str | None
    language: str
    commune: str | None = None
    interpretation: str | None = None
    accessibility: str | None = None
    attendance: str | None = None


# the rate-limit counters a request counts against and their limits (attempt_keys); empty: counted already
Attempt = tuple[list[str], list[int]]

NOT_COUNTED: Attempt = ([], [])


async def take_seats(
    conn: asyncpg.Connection,
    slug: str,
    people: list[tuple[Person, Attempt]],
    settings: Settings,
    *,
    source: str = "public",
    mail: bool = True,
    may_wait: bool = True,
    whole_series: bool = False,
    request_id: uuid.UUID | None = None,
) -> list[asyncpg.Record | None]:
    """Run TAKE_SEATS: a seat or the waiting list for each person at one event, decided in order, as if
    one after the other; each one's attempt counts against the rate limits in the same statement
    (over a limit, nothing is written for them and `retry_after` says when to come back).
    One row per person, or None for each when there is no such event."""
    if not may_wait and len(people) > 1:
        raise ValueError("waiting positions assume that a waitlisted person gets a row: one person at a time")
    tokens = [new_token(settings.secret_key) for _ in people]
    keys: list[str] = []
    limits: list[int] = []
    owners: list[int] = []
    for n, (_, (person_keys, person_limits)) in enumerate(people, start=1):
        keys += person_keys
        limits += person_limits
        owners += [n] * len(person_keys)
    persons = [person for person, _ in people]
    rows = await conn.fetch(
        sq.TAKE_SEATS,
        slug,
        [nonce for nonce, _, _ in tokens],
        [token_hash for _, _, token_hash in tokens],
        [p.name for p in persons],
        [p.email for p in persons],
        [p.language for p in persons],
        [p.commune for p in persons],
        [p.interpretation for p in persons],
        [p.accessibility for p in persons],
        whole_series,
        request_id,
        source,
        settings.hold_duration,
        [p.attendance for p in persons],
        mail,
        settings.mail_cap_per_day if source == "public" else None,
        list(CAPPED_KINDS),
        may_wait,
        lock_timeout(settings),
        keys,
        limits,
        settings.rate_limit_window,
        owners,
    )
    return list(rows) if rows else [None] * len(people)


async def take_seat(
    conn: asyncpg.Connection,
    slug: str,
    person: Person,
    settings: Settings,
    *,
    source: str = "public",
    mail: bool = True,
    may_wait: bool = True,
    whole_series: bool = False,
    request_id: uuid.UUID | None = None,
    attempt: Attempt = NOT_COUNTED,
) -> asyncpg.Record | None:
    """take_seats for one person; None if there is no such event."""
    [seat] = await take_seats(
        conn,
        slug,
        [(person, attempt)],
        settings,
        source=source,
        mail=mail,
        may_wait=may_wait,
        whole_series=whole_series,
        request_id=request_id,
    )
    return seat


async def _take_public_seats(
    conn: asyncpg.Connection, key: Hashable, people: list[tuple[Person, Attempt]]
) -> list[asyncpg.Record | None]:
    slug, settings, _ = key  # type: ignore[misc]
    return await take_seats(conn, slug, people, settings)


# Public registrations for one event (and settings) that come while its seat statement runs share
# the next one: on a busy event, handing its lock from one statement to the next cost as much as the
# work done under it. See group_commit.py.
PUBLIC_SEATS: GroupCommit[tuple[Person, Attempt], asyncpg.Record | None] = GroupCommit(_take_public_seats)


async def take_public_seat(
    connect: Connect, slug: str, person: Person, settings: Settings, attempt: Attempt
) -> asyncpg.Record | None:
    """take_seat for a public request to one event, in one statement with others that came meanwhile
    through the same `connect` (one per app; a lent connection is never shared)."""
    return await PUBLIC_SEATS.submit(connect, (slug, settings, connect), (person, attempt))


async def tell_registrant(
    conn: asyncpg.Connection,
    kind: str,
    event_id: int,
    registration_id: int,
    recipient: str | None,
    language: str,
    settings: Settings,
    payload: dict[str, Any] | None = None,
    *,
    capped: bool = False,
) -> None:
    """Queue a mail to a registrant (nothing for a registration without an address)."""
    if recipient is None:
        return
    await enqueue(
        conn,
        kind,
        event_id=event_id,
        registration_id=registration_id,
        recipient=recipient,
        language=language,
        payload=payload or {},
        daily_cap=settings.mail_cap_per_day if capped else None,
        capped_kinds=CAPPED_KINDS,
    )


async def settle(conn: asyncpg.Connection, event: dict[str, Any], settings: Settings) -> int:
    """Under the event lock: end the holds that ran out and give every free seat to the oldest
    waitlisted people; keeps the counts of `event` current. Returns the number of holds ended."""
    expired: list[asyncpg.Record] = []
    if event["has_stale_holds"]:
        expired = await conn.fetch(sq.EXPIRE_STALE_HOLDS, event["id"])
        for row in expired:
            await tell_registrant(
                conn, "hold_expired", event["id"], row["id"], row["email"], row["language"], settings, capped=True
            )
        # the trigger counted the same in the row; mirroring it saves a round trip
        event["seats_taken"] -= len(expired)
        event["has_stale_holds"] = False
    now = datetime.now(UTC)
    free = free_seats(event)
    if (
        event["waitlist_length"]
        and (free is None or free > 0)
        and event["status"] == "published"
        and event["starts_at"] > now
    ):
        promoted = await conn.fetch(sq.PROMOTE_WAITLISTED, event["id"], free, settings.hold_duration)
        for row in sorted(promoted, key=lambda r: (r["waitlisted_at"], r["id"])):
            await tell_registrant(
                conn,
                "registration_promoted",
                event["id"],
                row["id"],
                row["email"],
                row["language"],
                settings,
                {"status": row["status"]},
            )
        event["seats_taken"] += len(promoted)
        event["waitlist_length"] -= len(promoted)
    return len(expired)


async def waiting_position(conn: asyncpg.Connection, registration: Mapping[str, Any]) -> int | None:
    """A waitlisted registration's place on the waiting list (1 = next to get a seat); None for others."""
    if registration["status"] != "waitlisted":
        return None
    return await conn.fetchval(
        q.WAITLIST_POSITION, registration["event_id"], registration["waitlisted_at"], registration["id"]
    )


@hooks.after_capacity_change
async def fill_free_seats(conn: asyncpg.Connection, event_id: int, settings: Settings | None = None) -> None:
    """Promote the oldest waitlisted people into free seats, in the caller's transaction."""
    settings = settings or Settings(database_url="")
    async with conn.transaction():
        for event in await lock_events(conn, [event_id], settings):
            await settle(conn, event, settings)


def refuse_closed(event: dict[str, Any] | asyncpg.Record, now: datetime) -> NoReturn:
    """The refusal for an event that takes no registration now: cancelled, not yet open, or closed."""
    if event["status"] == "cancelled":
        raise EventCancelled("This event is cancelled.")
    if event["registration_opens_at"] and now < event["registration_opens_at"]:
        raise RegistrationNotOpen(f"Registration opens at {event['registration_opens_at'].isoformat()}.")
    raise RegistrationClosed("Registration for this event is closed.")


def check_open(event: dict[str, Any], now: datetime) -> None:
    """Refuse a registration outside the event's window, or for a cancelled event."""
    if not registration_open(event, now):
        refuse_closed(event, now)
