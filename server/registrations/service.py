"""Registering: a public or organiser request decided under the event lock, abuse limits, communes.

The seats themselves are in seats.py, the refusals in refusals.py, what a person does with their
own link in manage.py, the periodic jobs in jobs.py.

Every change of a seat happens in one transaction holding the event row's lock: end the holds that
ran out, give free seats to the oldest waitlisted people, then decide the new request. The trigger
of migration 0003 counts the seats again in the database and refuses an increment past capacity.
"""

from __future__ import annotations

import logging
import re
import uuid
from datetime import UTC, datetime
from typing import Any, NoReturn

import asyncpg

from server.db import Connect, lending
from server.events.views import registration_open
from server.i18n import format_when
from server.limits import client_key as _client_key
from server.limits import count_attempts
from server.limits import digest as _digest
from server.registrations import queries as q
from server.registrations import seat_queries as sq
from server.registrations.refusals import (
    CommuneUnknown,
    ConsentRequired,
    EventNotFound,
    RateLimited,
    RegistrationClosed,
)
from server.registrations.schemas import AcceptedDate, RegistrationAccepted, RegistrationIn
from server.registrations.seats import (
    Person,
    check_open,
    lock_events,
    lock_timeout,
    refuse_closed,
    refusing_lock_trouble,
    seat_transaction,
    settle,
    take_public_seat,
    take_seat,
    tell_registrant,
)
from server.registrations.texts import ACCEPTED
from server.settings import Settings

log = logging.getLogger(__name__)

SLUG_RE = re.compile(r"\A[a-z0-9][a-z0-9-]{0,120}\Z")


# ---------------------------------------------------------------------------- abuse


def attempt_keys(settings: Settings, client_ip: str, email: str) -> tuple[list[str], list[int]]:
    """The rate-limit counters a registration request counts against, and their limits."""
    keys = [f"address:{_digest(settings, _client_key(client_ip))}", f"email:{_digest(settings, email.lower())}"]
    return keys, [settings.rate_limit_per_address, settings.rate_limit_per_email]


def _refuse_too_many(retry_after: int) -> NoReturn:
    raise RateLimited(
        f"Too many registrations from here; try again in {retry_after} seconds.",
        headers={"Retry-After": str(retry_after)},
    )


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
    person = Person(
        name=data.name.strip(),
        email=data.email,
        language=data.language,
        commune=known_commune(data.commune),
        interpretation=data.interpretation,
        accessibility=data.accessibility,
    )
    if not data.whole_series:
        # the common case in one statement, its own transaction: the event's lock is held for
        # the database's work only, and the attempt is counted on the way
        async with refusing_lock_trouble():
            seat = await take_public_seat(
                connect, slug, person, settings, attempt_keys(settings, client_ip, person.email)
            )
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
                seat = await take_seat(
                    conn,
                    event["slug"],
                    person,
                    settings,
                    mail=not series_request,
                    whole_series=series_request,
                    request_id=request_id,
                )
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


async def _lock_targets(
    conn: asyncpg.Connection, slug: str, whole_series: bool, settings: Settings
) -> tuple[list[dict[str, Any]], bool]:
    """The events a request registers for, locked in id order; and whether it is a series request."""
    now = datetime.now(UTC)
    if whole_series:
        target = await conn.fetchrow(sq.EVENT_FOR_REQUEST, slug)
        if target is None:
            raise EventNotFound(f"No published event '{slug}'.")
        if target["series_id"] is not None:
            ids = [r["id"] for r in await conn.fetch(sq.SERIES_OPEN_IDS, target["series_id"])]
            open_events = [e for e in await lock_events(conn, ids, settings) if registration_open(e, now)]
            if open_events:
                return open_events, True
    row = await conn.fetchrow(sq.EVENT_BY_SLUG_FOR_SEATS, slug, lock_timeout(settings))
    if row is None:
        raise EventNotFound(f"No published event '{slug}'.")
    event = dict(row)
    check_open(event, now)
    return [event], False


def _accepted(seats: list[asyncpg.Record], *, series_request: bool, language: str) -> RegistrationAccepted:
    """The 202 body: each date with what the request got there (for a known address, what a new one would get)."""
    dates = sorted(
        (
            AcceptedDate(
                slug=s["slug"],
                starts_at=s["starts_at"],
                status=s["seat"],
                when=format_when(s["starts_at"], s["ends_at"], s["timezone"], language),
            )
            for s in seats
        ),
        key=lambda d: d.starts_at,
    )
    message = ACCEPTED["series" if series_request else dates[0].status][language]
    return RegistrationAccepted(
        message=message, dates=dates, waitlisted=[d.slug for d in dates if d.status == "waitlisted"]
    )


async def _tell_known(
    conn: asyncpg.Connection, seats: list[asyncpg.Record], person: Person, settings: Settings
) -> None:
    """A known address registered again: resend its link with the truth (the first date's, for a series)."""
    for seat in sorted(seats, key=lambda s: s["starts_at"]):
        existing = await conn.fetchrow(q.LIVE_REGISTRATION_FOR_EMAIL, seat["id"], person.email)
        if existing is not None:
            await tell_registrant(
                conn,
                "registration_exists",
                seat["id"],
                existing["id"],
                person.email,
                person.language,
                settings,
                {"status": existing["status"]},
                capped=True,
            )
            return


async def _tell_series(
    conn: asyncpg.Connection, seats: list[asyncpg.Record], person: Person, settings: Settings
) -> None:
    """One mail for a whole-series request, on its first new registration, listing every date in order."""
    listed: list[tuple[datetime, int]] = []
    for seat in seats:
        if seat["registration_id"] is not None:
            listed.append((seat["starts_at"], seat["registration_id"]))
        elif (existing := await conn.fetchrow(q.LIVE_REGISTRATION_FOR_EMAIL, seat["id"], person.email)) is not None:
            listed.append((seat["starts_at"], existing["id"]))
    first = min((s for s in seats if s["registration_id"] is not None), key=lambda s: s["starts_at"])
    await tell_registrant(
        conn,
        "series_registration_received",
        first["id"],
        first["registration_id"],
        person.email,
        person.language,
        settings,
        {"registrations": [rid for _, rid in sorted(listed)]},
        capped=True,
    )
