"""Registration rules: seats decided under the event lock, the waiting list, double opt-in,
self-service through the manage token, abuse limits and the privacy jobs.

Every change of a seat happens in one transaction holding the event row's lock: end the holds that
ran out, give free seats to the oldest waitlisted people, then decide the new request. The trigger
of migration 0003 counts the seats again in the database and refuses an increment past capacity.
"""

from __future__ import annotations

import hmac
import logging
import re
import uuid
from collections.abc import AsyncIterator, Hashable, Iterable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, NoReturn

import asyncpg
import msgspec

from server.db import Connect, lending
from server.errors import Conflict, DomainError, Invalid, NotFound, ServiceUnavailable, TooManyRequests
from server.events import hooks
from server.events import queries as event_q
from server.events.views import registration_open, to_public
from server.i18n import format_when
from server.limits import client_key as _client_key
from server.limits import count_attempts
from server.limits import digest as _digest
from server.outbox import enqueue
from server.registrations import queries as q
from server.registrations.group_commit import GroupCommit
from server.registrations.joins import may_join, waiting_position
from server.registrations.schemas import (
    AcceptedDate,
    RegistrationAccepted,
    RegistrationIn,
    RegistrationOut,
    SeriesDate,
)
from server.registrations.texts import ACCEPTED
from server.registrations.tokens import checkin_url, hash_token, join_url, manage_url, new_token, token_from_nonce
from server.settings import Settings

log = logging.getLogger(__name__)

HELD = ("pending", "confirmed")
LIVE = ("pending", "confirmed", "waitlisted")
# tokens are 32 bytes in unpadded base64url; anything else is not worth a database round trip
TOKEN_RE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")
SLUG_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,120}\Z")
# mails a stranger can cause by typing someone's address: they count against the daily cap, and the
# ones queued for a public request (and expired holds) are skipped once it is reached
CAPPED_KINDS = (
    "registration_received", "registration_confirmed", "registration_waitlisted", "registration_exists",
    "series_registration_received", "hold_expired",
)
ANONYMISE_BATCH = 500


# ---------------------------------------------------------------------------- refusals

class EventNotFound(NotFound):
    code = "event_not_found"


class EventCancelled(Conflict):
    code = "event_cancelled"


class RegistrationNotOpen(Conflict):
    code = "registration_not_open"


class RegistrationClosed(Conflict):
    code = "registration_closed"


class ConsentRequired(Invalid):
    code = "consent_required"


class CommuneUnknown(Invalid):
    code = "commune_unknown"


class RateLimited(TooManyRequests):
    code = "rate_limited"


class TokenUnknown(NotFound):
    code = "token_unknown"


class HoldExpired(Conflict):
    code = "hold_expired"


class RegistrationCancelled(Conflict):
    code = "registration_cancelled"


class EventFull(Conflict):
    code = "event_full"


class EventBusy(ServiceUnavailable):
    code = "busy"


# ---------------------------------------------------------------------------- the event lock

@asynccontextmanager
async def refusing_lock_trouble() -> AsyncIterator[None]:
    """A lock not granted within `lock_timeout` is a clean 503; the backstop's refusal a clean 409."""
    try:
        yield
    except (asyncpg.LockNotAvailableError, asyncpg.DeadlockDetectedError) as exc:
        log.warning("seat lock not granted: %r", exc)
        raise EventBusy("Many people are registering right now; please try again in a moment.",
                        headers={"Retry-After": "2"}) from None
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
    rows = await conn.fetch(q.EVENTS_BY_ID_FOR_SEATS, sorted(set(event_ids)), lock_timeout(settings))
    return [dict(r) for r in rows]


def free_seats(event: dict[str, Any]) -> int | None:
    """Seats left (negative after a forced capacity decrease); None when the capacity is unlimited."""
    return None if event["capacity"] is None else event["capacity"] - event["seats_taken"]


def seat_for_newcomer(event: dict[str, Any]) -> str:
    """What a new public registration gets now (queries.TAKE_SEATS applies the same rule)."""
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
    conn: asyncpg.Connection, slug: str, people: list[tuple[Person, Attempt]], settings: Settings, *,
    source: str = "public", mail: bool = True, may_wait: bool = True, whole_series: bool = False,
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
        q.TAKE_SEATS, slug, [nonce for nonce, _, _ in tokens], [token_hash for _, _, token_hash in tokens],
        [p.name for p in persons], [p.email for p in persons], [p.language for p in persons],
        [p.commune for p in persons], [p.interpretation for p in persons], [p.accessibility for p in persons],
        whole_series, request_id, source, settings.hold_duration, [p.attendance for p in persons], mail,
        settings.mail_cap_per_day if source == "public" else None, list(CAPPED_KINDS), may_wait,
        lock_timeout(settings), keys, limits, settings.rate_limit_window, owners,
    )
    return list(rows) if rows else [None] * len(people)


async def take_seat(
    conn: asyncpg.Connection, slug: str, person: Person, settings: Settings, *, source: str = "public",
    mail: bool = True, may_wait: bool = True, whole_series: bool = False, request_id: uuid.UUID | None = None,
    attempt: Attempt = NOT_COUNTED,
) -> asyncpg.Record | None:
    """take_seats for one person; None if there is no such event."""
    [seat] = await take_seats(conn, slug, [(person, attempt)], settings, source=source, mail=mail, may_wait=may_wait,
                              whole_series=whole_series, request_id=request_id)
    return seat


async def _take_public_seats(conn: asyncpg.Connection, key: Hashable, people: list[tuple[Person, Attempt]]) -> list[asyncpg.Record | None]:
    slug, settings, _ = key  # type: ignore[misc]
    return await take_seats(conn, slug, people, settings)


# Public registrations for one event (and settings) that come while its seat statement runs share
# the next one: on a busy event, handing its lock from one statement to the next cost as much as the
# work done under it. See group_commit.py.
PUBLIC_SEATS: GroupCommit[tuple[Person, Attempt], asyncpg.Record | None] = GroupCommit(_take_public_seats)


async def take_public_seat(connect: Connect, slug: str, person: Person, settings: Settings,
                           attempt: Attempt) -> asyncpg.Record | None:
    """take_seat for a public request to one event, in one statement with others that came meanwhile
    through the same `connect` (one per app; a lent connection is never shared)."""
    return await PUBLIC_SEATS.submit(connect, (slug, settings, connect), (person, attempt))


async def tell_registrant(
    conn: asyncpg.Connection, kind: str, event_id: int, registration_id: int, recipient: str | None,
    language: str, settings: Settings, payload: dict[str, Any] | None = None, *, capped: bool = False,
) -> None:
    """Queue a mail to a registrant (nothing for a registration without an address)."""
    if recipient is None:
        return
    await enqueue(
        conn, kind, event_id=event_id, registration_id=registration_id, recipient=recipient,
        language=language, payload=payload or {},
        daily_cap=settings.mail_cap_per_day if capped else None, capped_kinds=CAPPED_KINDS,
    )


async def settle(conn: asyncpg.Connection, event: dict[str, Any], settings: Settings) -> int:
    """Under the event lock: end the holds that ran out and give every free seat to the oldest
    waitlisted people; keeps the counts of `event` current. Returns the number of holds ended."""
    expired: list[asyncpg.Record] = []
    if event["has_stale_holds"]:
        expired = await conn.fetch(q.EXPIRE_STALE_HOLDS, event["id"])
        for row in expired:
            await tell_registrant(conn, "hold_expired", event["id"], row["id"], row["email"], row["language"], settings, capped=True)
        # the trigger counted the same in the row; mirroring it saves a round trip
        event["seats_taken"] -= len(expired)
        event["has_stale_holds"] = False
    now = datetime.now(UTC)
    free = free_seats(event)
    if event["waitlist_length"] and (free is None or free > 0) and event["status"] == "published" and event["starts_at"] > now:
        promoted = await conn.fetch(q.PROMOTE_WAITLISTED, event["id"], free, settings.hold_duration)
        for row in sorted(promoted, key=lambda r: (r["waitlisted_at"], r["id"])):
            await tell_registrant(conn, "registration_promoted", event["id"], row["id"], row["email"], row["language"],
                                  settings, {"status": row["status"]})
        event["seats_taken"] += len(promoted)
        event["waitlist_length"] -= len(promoted)
    return len(expired)


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


def _check_open(event: dict[str, Any], now: datetime) -> None:
    """Refuse a registration outside the event's window, or for a cancelled event."""
    if not registration_open(event, now):
        refuse_closed(event, now)


# ---------------------------------------------------------------------------- abuse

def attempt_keys(settings: Settings, client_ip: str, email: str) -> tuple[list[str], list[int]]:
    """The rate-limit counters a registration request counts against, and their limits."""
    keys = [f"address:{_digest(settings, _client_key(client_ip))}", f"email:{_digest(settings, email.lower())}"]
    return keys, [settings.rate_limit_per_address, settings.rate_limit_per_email]


def _refuse_too_many(retry_after: int) -> NoReturn:
    raise RateLimited(f"Too many registrations from here; try again in {retry_after} seconds.",
                      headers={"Retry-After": str(retry_after)})


async def count_attempt(conn: asyncpg.Connection, settings: Settings, client_ip: str, email: str) -> None:
    """Count a registration request per client address and per email; 429 past either limit."""
    keys, limits = attempt_keys(settings, client_ip, email)
    if retry_after := await count_attempts(conn, keys, limits, settings.rate_limit_window):
        _refuse_too_many(retry_after)


# Luxembourg's communes by lower-case name. They change only with a migration, which a deploy applies
# before the processes start, so each process reads them once.
_COMMUNES: dict[str, str] = {}


async def canonical_commune(conn: asyncpg.Connection, commune: str | None, field: str = "commune") -> str | None:
    """The commune as the law spells it, or 422."""
    if commune is not None and not _COMMUNES:
        _COMMUNES.update({r["name"].lower(): r["name"] for r in await conn.fetch(q.ALL_COMMUNES)})
    return known_commune(commune, field)


def known_commune(commune: str | None, field: str = "commune") -> str | None:
    """canonical_commune once the names are read."""
    if commune is None:
        return None
    name = _COMMUNES.get(commune.strip().lower())
    if name is None:
        raise CommuneUnknown.field(field, f"'{commune[:100]}' is not a commune of Luxembourg.")
    return name


# ---------------------------------------------------------------------------- registering

async def register(
    conn: asyncpg.Connection | Connect, slug: str, data: RegistrationIn, settings: Settings, *, client_ip: str
) -> RegistrationAccepted:
    """Register for one event or every open date of its series; the answer does not tell a known address from a new one.

    Given a Connect (db.connections) rather than a connection, the request holds one only while it
    needs it: not while it waits for the statement that decides its seat along with others'.
    """
    connect = conn if callable(conn) else lending(conn)  # (a pooled connection is a proxy, not a Connection)
    if not data.consent:
        raise ConsentRequired.field("consent", "Registering needs your consent to the use of your data.")
    if not SLUG_RE.match(slug):
        raise EventNotFound(f"No published event '{slug[:140]}'.")
    if data.commune is not None and not _COMMUNES:
        async with connect() as first:
            await canonical_commune(first, data.commune)  # reads the names once per process
    # the address is already in its one canonical form (server/validation.py canonical_email)
    person = Person(name=data.name.strip(), email=data.email, language=data.language,
                    commune=known_commune(data.commune), interpretation=data.interpretation,
                    accessibility=data.accessibility)
    if not data.whole_series:
        # the common case in one statement, its own transaction: the event's lock is held for
        # the database's work only, and the attempt is counted on the way
        async with refusing_lock_trouble():
            seat = await take_public_seat(connect, slug, person, settings, attempt_keys(settings, client_ip, person.email))
        if seat is None:  # the attempt counted all the same
            raise EventNotFound(f"No published event '{slug}'.")
        if seat["retry_after"]:
            _refuse_too_many(seat["retry_after"])
        if seat["registration_id"] is not None:
            return _accepted([seat], series_request=False, language=person.language)
        if seat["status"] == "cancelled" or not seat["is_open"]:
            refuse_closed(seat, datetime.now(UTC))
        if not seat["has_stale_holds"]:
            async with connect() as conn:
                await _tell_known(conn, [seat], person, settings)
            return _accepted([seat], series_request=False, language=person.language)
    async with connect() as conn:
        if data.whole_series:
            await count_attempt(conn, settings, client_ip, person.email)
        # a whole series, or holds to end first: everything in one transaction under the events' locks
        async with seat_transaction(conn):
            events, series_request = await _lock_targets(conn, slug, data.whole_series, settings)
            request_id = uuid.uuid4() if series_request else None
            seats = []
            for event in events:
                await settle(conn, event, settings)
                seat = await take_seat(conn, event["slug"], person, settings, mail=not series_request,
                                       whole_series=series_request, request_id=request_id)
                if seat["registration_id"] is not None or seat["is_open"]:
                    seats.append(seat)
            if not seats:
                raise RegistrationClosed("Registration for this event is closed.")
            created = [s for s in seats if s["registration_id"] is not None]
            if series_request and created:
                await _tell_series(conn, seats, person, settings)
            else:
                await _tell_known(conn, [s for s in seats if s["registration_id"] is None], person, settings)
    return _accepted(seats, series_request=series_request, language=person.language)


async def _lock_targets(conn: asyncpg.Connection, slug: str, whole_series: bool, settings: Settings) -> tuple[list[dict[str, Any]], bool]:
    """The events a request registers for, locked in id order; and whether it is a series request."""
    now = datetime.now(UTC)
    if whole_series:
        target = await conn.fetchrow(q.EVENT_FOR_REQUEST, slug)
        if target is None:
            raise EventNotFound(f"No published event '{slug}'.")
        if target["series_id"] is not None:
            ids = [r["id"] for r in await conn.fetch(q.SERIES_OPEN_IDS, target["series_id"])]
            open_events = [e for e in await lock_events(conn, ids, settings) if registration_open(e, now)]
            if open_events:
                return open_events, True
    row = await conn.fetchrow(q.EVENT_BY_SLUG_FOR_SEATS, slug, lock_timeout(settings))
    if row is None:
        raise EventNotFound(f"No published event '{slug}'.")
    event = dict(row)
    _check_open(event, now)
    return [event], False


def _accepted(seats: list[asyncpg.Record], *, series_request: bool, language: str) -> RegistrationAccepted:
    """The 202 body: each date with what the request got there (for a known address, what a new one would get)."""
    dates = sorted((
        AcceptedDate(slug=s["slug"], starts_at=s["starts_at"], status=s["seat"],
                     when=format_when(s["starts_at"], s["ends_at"], s["timezone"], language))
        for s in seats), key=lambda d: d.starts_at)
    message = ACCEPTED["series" if series_request else dates[0].status][language]
    return RegistrationAccepted(message=message, dates=dates, waitlisted=[d.slug for d in dates if d.status == "waitlisted"])


async def _tell_known(conn: asyncpg.Connection, seats: list[asyncpg.Record], person: Person, settings: Settings) -> None:
    """A known address registered again: resend its link with the truth (the first date's, for a series)."""
    for seat in sorted(seats, key=lambda s: s["starts_at"]):
        existing = await conn.fetchrow(q.LIVE_REGISTRATION_FOR_EMAIL, seat["id"], person.email)
        if existing is not None:
            await tell_registrant(conn, "registration_exists", seat["id"], existing["id"], person.email, person.language,
                                  settings, {"status": existing["status"]}, capped=True)
            return


async def _tell_series(conn: asyncpg.Connection, seats: list[asyncpg.Record], person: Person, settings: Settings) -> None:
    """One mail for a whole-series request, on its first new registration, listing every date in order."""
    listed: list[tuple[datetime, int]] = []
    for seat in seats:
        if seat["registration_id"] is not None:
            listed.append((seat["starts_at"], seat["registration_id"]))
        elif (existing := await conn.fetchrow(q.LIVE_REGISTRATION_FOR_EMAIL, seat["id"], person.email)) is not None:
            listed.append((seat["starts_at"], existing["id"]))
    first = min((s for s in seats if s["registration_id"] is not None), key=lambda s: s["starts_at"])
    await tell_registrant(conn, "series_registration_received", first["id"], first["registration_id"], person.email,
                          person.language, settings, {"registrations": [rid for _, rid in sorted(listed)]}, capped=True)


# ---------------------------------------------------------------------------- the manage token

async def _by_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record:
    """The registration behind a manage token, or 404 (also once anonymised: the hash is gone)."""
    if not TOKEN_RE.match(token):
        raise TokenUnknown("This link is not valid (any more).")
    wanted = hash_token(token)
    row = await conn.fetchrow(q.REGISTRATION_BY_TOKEN_HASH, wanted)
    # the index finds the row; the comparison that decides is constant-time all the same
    if row is None or not hmac.compare_digest(bytes(row["token_hash"]), wanted):
        raise TokenUnknown("This link is not valid (any more).")
    return row


async def registration_for_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record:
    """The registration row behind a manage token, or 404 `token_unknown` (for the personal feed)."""
    return await _by_token(conn, token)


async def checkin_url_for(conn: asyncpg.Connection, token: str, settings: Settings) -> str:
    """The check-in URL (its QR code is on the manage page) of the registration behind a manage token."""
    row = await _by_token(conn, token)
    return checkin_url(settings.base, settings.secret_key, row["id"], bytes(row["token_nonce"]))


async def _siblings(conn: asyncpg.Connection, registration: asyncpg.Record) -> list[asyncpg.Record]:
    """Every registration of the same whole-series request (itself included), in date order."""
    if registration["request_id"] is None:
        return []
    return await conn.fetch(q.REQUEST_REGISTRATIONS, registration["request_id"])


async def _out(conn: asyncpg.Connection, registration: asyncpg.Record, lang: str, settings: Settings) -> RegistrationOut:
    """A registration as its manage page shows it."""
    event_row = await conn.fetchrow(event_q.EVENT_BY_ID, registration["event_id"])
    now = datetime.now(UTC)
    position = await waiting_position(conn, registration)
    series = [
        SeriesDate(slug=s["slug"], starts_at=s["starts_at"], status=s["status"],
                   when=format_when(s["starts_at"], s["ends_at"], s["timezone"], lang),
                   manage_url=manage_url(settings.base, token_from_nonce(settings.secret_key, bytes(s["token_nonce"]))))
        for s in await _siblings(conn, registration)
        if s["id"] != registration["id"] and s["token_nonce"] is not None
    ]
    token = token_from_nonce(settings.secret_key, bytes(registration["token_nonce"]))
    confirmed_online = may_join(registration["status"], event_row["status"], event_row["kind"])
    return RegistrationOut(
        status=registration["status"], waitlist_position=position, event=to_public(event_row, lang, settings, now),
        # the person's own link (/j/), which records the join; never the conference's link itself
        join_url=join_url(settings.base, settings.secret_key, registration["id"], bytes(registration["token_nonce"]))
        if confirmed_online else None,
        name=registration["name"], email=registration["email"], language=registration["language"],
        commune=registration["commune"], interpretation=registration["interpretation"],
        accessibility=registration["accessibility"], whole_series=registration["whole_series"],
        email_confirmed=registration["email_confirmed_at"] is not None, hold_expires_at=registration["hold_expires_at"],
        registered_at=registration["created_at"], manage_url=manage_url(settings.base, token),
        calendar_url=f"{settings.base}/api/registrations/{token}/calendar.ics", series=series,
    )


async def view(conn: asyncpg.Connection, token: str, lang: str, settings: Settings) -> RegistrationOut:
    """The registration behind a manage token, in `lang`."""
    return await _out(conn, await _by_token(conn, token), lang, settings)


async def confirm(conn: asyncpg.Connection, token: str, lang: str, settings: Settings) -> RegistrationOut:
    """Confirm the address (double opt-in): every pending seat of the request becomes confirmed."""
    registration = await _by_token(conn, token)
    refusal: DomainError | None = None
    async with seat_transaction(conn):
        siblings = await _siblings(conn, registration) or [registration]
        pending = [s for s in siblings if s["status"] == "pending"]
        events = await lock_events(conn, [registration["event_id"], *(s["event_id"] for s in pending)], settings)
        for event in events:
            await settle(conn, event, settings)
        current = await conn.fetchval(q.REGISTRATION_STATUS, registration["id"])
        own = next(e for e in events if e["id"] == registration["event_id"])
        if own["status"] == "cancelled":
            raise EventCancelled("This event is cancelled.")
        if current == "cancelled":
            refusal = RegistrationCancelled("This registration was cancelled; register again if you wish.")
        elif current == "expired":
            refusal = await _revive(conn, registration, own, settings)
        confirmed = await conn.fetch(q.CONFIRM_PENDING, [s["id"] for s in pending], False)
        for row in confirmed:
            await tell_registrant(conn, "registration_confirmed", row["event_id"], row["id"], row["email"], row["language"], settings)
        if current != "cancelled":
            await conn.execute(q.MARK_EMAIL_CONFIRMED, [s["id"] for s in siblings])
    # raised only now: the holds ended and seats given on the way are kept
    if refusal is not None:
        raise refusal
    return await view(conn, token, lang, settings)


async def _revive(conn: asyncpg.Connection, registration: asyncpg.Record, event: dict[str, Any], settings: Settings) -> DomainError | None:
    """A late click on the confirm link still gets the seat if one is free and nobody waits; else the refusal."""
    expired = HoldExpired("The place held for you was given back because it was not confirmed in time; register again.")
    if not registration_open(event, datetime.now(UTC)) or seat_for_newcomer(event) == "waitlisted":
        return expired
    try:
        async with conn.transaction():
            row = await conn.fetchrow(q.REVIVE_EXPIRED, registration["id"])
    except asyncpg.UniqueViolationError:
        return HoldExpired("This address registered again since; use the link of the newer registration.")
    event["seats_taken"] += 1
    await tell_registrant(conn, "registration_confirmed", row["event_id"], row["id"], row["email"], row["language"], settings)
    return None


async def cancel(conn: asyncpg.Connection, token: str, lang: str, settings: Settings, *, whole_series: bool = False) -> RegistrationOut:
    """Cancel (every date of the request with `whole_series`); the freed seats go to the waiting list."""
    registration = await _by_token(conn, token)
    targets = (await _siblings(conn, registration) if whole_series else []) or [registration]
    async with seat_transaction(conn):
        await cancel_registrations(conn, [t["id"] for t in targets], {t["event_id"] for t in targets}, settings, by="person")
    return await view(conn, token, lang, settings)


async def cancel_registrations(
    conn: asyncpg.Connection, ids: list[int], event_ids: Iterable[int], settings: Settings, *, by: str | None
) -> list[asyncpg.Record]:
    """Inside a seat transaction: cancel the live ones of `ids`, tell them (unless `by` is None), refill seats."""
    events = {e["id"]: e for e in await lock_events(conn, event_ids, settings)}
    cancelled = await conn.fetch(q.CANCEL_LIVE, ids)
    for row in cancelled:
        events[row["event_id"]]["seats_taken" if row["previous_status"] in HELD else "waitlist_length"] -= 1
        if by is not None:
            await tell_registrant(conn, "cancellation_acknowledged", row["event_id"], row["id"], row["email"], row["language"],
                        settings, {"by": by})
    for event in events.values():
        await settle(conn, event, settings)
    return cancelled


async def erase(conn: asyncpg.Connection, token: str, settings: Settings) -> None:
    """Wipe the person's data from this registration and its whole-series request; the token dies."""
    registration = await _by_token(conn, token)
    targets = await _siblings(conn, registration) or [registration]
    ids = [t["id"] for t in targets]
    async with seat_transaction(conn):
        # a seat at an event still to come is given up; the past keeps its counts, without the person
        upcoming = await conn.fetch(q.UPCOMING_AMONG, ids)
        await cancel_registrations(conn, [r["id"] for r in upcoming], {r["event_id"] for r in upcoming}, settings, by=None)
        await conn.execute(q.ANONYMISE, ids, True)
        await conn.execute(q.FORGET_RECIPIENTS, ids, "erased at the person's request")


# ---------------------------------------------------------------------------- periodic jobs

async def expire_holds(conn: asyncpg.Connection, settings: Settings) -> int:
    """End every hold that ran out and refill its seats; idempotent, safe from several processes."""
    ended = 0
    for row in await conn.fetch(q.EVENTS_WITH_STALE_HOLDS):
        async with conn.transaction():
            locked = await conn.fetchrow(q.EVENT_BY_ID_FOR_SEATS_SKIP_LOCKED, row["event_id"])
            # a locked event is being changed right now by someone who settles it, or by the next run
            if locked is not None:
                ended += await settle(conn, dict(locked), settings)
    return ended


async def anonymise_due(conn: asyncpg.Connection, settings: Settings) -> int:
    """Wipe personal data `anonymise_after` the event's end (counts and attendance stay); idempotent."""
    done = 0
    while True:
        async with conn.transaction():
            ids = [r["id"] for r in await conn.fetch(q.DUE_FOR_ANONYMISATION, settings.anonymise_after, ANONYMISE_BATCH)]
            if ids:
                await conn.execute(q.ANONYMISE, ids, False)
                await conn.execute(q.FORGET_RECIPIENTS, ids, "anonymised after the event")
        done += len(ids)
        if len(ids) < ANONYMISE_BATCH:
            break
    # the events now done are marked, and later runs pass them by (migration 0012)
    async with conn.transaction():
        ended = [r["id"] for r in await conn.fetch(q.EVENTS_TO_MARK_ANONYMISED, settings.anonymise_after)]
        if ended:
            await conn.execute(q.MARK_EVENTS_ANONYMISED, ended)
    await conn.execute(q.PURGE_RATE_LIMITS)
    return done
