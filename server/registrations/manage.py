"""What a person does with their own link: view, confirm, cancel, erase a registration."""

from __future__ import annotations

import hmac
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

import asyncpg

from server.errors import DomainError
from server.events import queries as event_q
from server.events.views import registration_open, to_public
from server.i18n import format_when
from server.registrations import queries as q
from server.registrations.joins import may_join
from server.registrations.refusals import EventCancelled, HoldExpired, RegistrationCancelled, TokenUnknown
from server.registrations.schemas import RegistrationOut, SeriesDate
from server.registrations.seats import (
    HELD,
    lock_events,
    seat_for_newcomer,
    seat_transaction,
    settle,
    tell_registrant,
    waiting_position,
)
from server.registrations.tokens import checkin_url, hash_token, join_url, manage_url, token_from_nonce
from server.settings import Settings

# tokens are 32 bytes in unpadded base64url; anything else is not worth a database round trip
TOKEN_RE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")


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


async def _out(
    conn: asyncpg.Connection, registration: asyncpg.Record, lang: str, settings: Settings
) -> RegistrationOut:
    """A registration as its manage page shows it."""
    event_row = await conn.fetchrow(event_q.EVENT_BY_ID, registration["event_id"])
    now = datetime.now(UTC)
    position = await waiting_position(conn, registration)
    series = [
        SeriesDate(
            slug=s["slug"],
            starts_at=s["starts_at"],
            status=s["status"],
            when=format_when(s["starts_at"], s["ends_at"], s["timezone"], lang),
            manage_url=manage_url(settings.base, token_from_nonce(settings.secret_key, bytes(s["token_nonce"]))),
        )
        for s in await _siblings(conn, registration)
        if s["id"] != registration["id"] and s["token_nonce"] is not None
    ]
    token = token_from_nonce(settings.secret_key, bytes(registration["token_nonce"]))
    confirmed_online = may_join(registration["status"], event_row["status"], event_row["kind"])
    return RegistrationOut(
        status=registration["status"],
        waitlist_position=position,
        event=to_public(event_row, lang, settings, now),
        # the person's own link (/j/), which records the join; never the conference's link itself
        join_url=join_url(settings.base, settings.secret_key, registration["id"], bytes(registration["token_nonce"]))
        if confirmed_online
        else None,
        name=registration["name"],
        email=registration["email"],
        language=registration["language"],
        commune=registration["commune"],
        interpretation=registration["interpretation"],
        accessibility=registration["accessibility"],
        whole_series=registration["whole_series"],
        email_confirmed=registration["email_confirmed_at"] is not None,
        hold_expires_at=registration["hold_expires_at"],
        registered_at=registration["created_at"],
        manage_url=manage_url(settings.base, token),
        calendar_url=f"{settings.base}/api/registrations/{token}/calendar.ics",
        series=series,
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
            await tell_registrant(
                conn, "registration_confirmed", row["event_id"], row["id"], row["email"], row["language"], settings
            )
        if current != "cancelled":
            await conn.execute(q.MARK_EMAIL_CONFIRMED, [s["id"] for s in siblings])
    # raised only now: the holds ended and seats given on the way are kept
    if refusal is not None:
        raise refusal
    return await view(conn, token, lang, settings)


async def _revive(
    conn: asyncpg.Connection, registration: asyncpg.Record, event: dict[str, Any], settings: Settings
) -> DomainError | None:
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
    await tell_registrant(
        conn, "registration_confirmed", row["event_id"], row["id"], row["email"], row["language"], settings
    )
    return None


async def cancel(
    conn: asyncpg.Connection, token: str, lang: str, settings: Settings, *, whole_series: bool = False
) -> RegistrationOut:
    """Cancel (every date of the request with `whole_series`); the freed seats go to the waiting list."""
    registration = await _by_token(conn, token)
    targets = (await _siblings(conn, registration) if whole_series else []) or [registration]
    async with seat_transaction(conn):
        await cancel_registrations(
            conn, [t["id"] for t in targets], {t["event_id"] for t in targets}, settings, by="person"
        )
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
            await tell_registrant(
                conn,
                "cancellation_acknowledged",
                row["event_id"],
                row["id"],
                row["email"],
                row["language"],
                settings,
                {"by": by},
            )
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
        await cancel_registrations(
            conn, [r["id"] for r in upcoming], {r["event_id"] for r in upcoming}, settings, by=None
        )
        await conn.execute(q.ANONYMISE, ids, True)
        await conn.execute(q.FORGET_RECIPIENTS, ids, "erased at the person's request")
