"""A known year of activity (2025, and 2024 before it) for the report tests: events, registrations,
attendance, joins, commune requests and interpretation missions, with the figures they must give."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from server.convention_domains import DOMAIN_ID
from server.reports import queries as rq
from server.settings import Settings
from tests.factories import create_event, create_organisation, insert_registration

LUX = ZoneInfo("Europe/Luxembourg")
DOMAINS = [
    ("guichet", "Guichet Info-Migrants"),
    ("communes", "Accompagnement des communes"),
    ("interpretation", "Traduction orale directe"),
    ("formula", '=HYPERLINK("http://x")'),
]


def lux(year: int, month: int, day: int, hour: int = 18) -> datetime:
    return datetime(year, month, day, hour, tzinfo=LUX)


@dataclass
class Year:
    """What build_year made: the organisation's slug and the slugs of its events."""

    organisation: str
    first_event: str
    series: list[str]


async def _person(conn: asyncpg.Connection, settings: Settings, slug: str, email: str, **columns) -> int:
    starts = await conn.fetchval("SELECT starts_at FROM events WHERE slug = $1", slug)
    columns.setdefault("created_at", starts - timedelta(days=5))
    row, _ = await insert_registration(conn, settings, slug, email=email, **columns)
    return row["id"]


async def _request(conn: asyncpg.Connection, org_id: int, created: datetime, status: str, domain: int | None) -> int:
    return await conn.fetchval(
        """INSERT INTO commune_requests (organisation_id, commune, requester_type, contact_name, email, language,
                                         subject, status, reason, token_nonce, token_hash, created_at, domain_id)
           VALUES ($1, 'Differdange', 'administration', 'Claude Weis', 'gemeng@example.lu', 'fr', 'testimonies', $2,
                   CASE WHEN $2 = 'declined' THEN 'Pas de date possible' END, $3, $4, $5, $6) RETURNING id""",
        org_id,
        status,
        secrets.token_bytes(16),
        secrets.token_bytes(32),
        created,
        domain,
    )


async def _mission(
    conn: asyncpg.Connection,
    org_id: int,
    interpreter: int,
    starts: datetime,
    minutes: int,
    languages: tuple[str, str],
    status: str,
    domain: int | None,
) -> int:
    held = status in ("assigned", "done")
    return await conn.fetchval(
        """INSERT INTO interpretation_missions (organisation_id, starts_at, ends_at, mode, from_language, to_language,
               field, requester_organisation, requester_contact, requester_email, requester_type, status,
               interpreter_id, minutes_spent, status_nonce, status_hash, domain_id)
           VALUES ($1, $2, $3, 'phone', $4, $5, 'social', 'Office social', 'Marie Weber', 'office@example.lu',
                   'social_office', $6, $7, $8, $9, $10, $11) RETURNING id""",
        org_id,
        starts,
        starts + timedelta(minutes=max(minutes, 30)),
        languages[0],
        languages[1],
        status,
        interpreter if held else None,
        minutes if status == "done" else None,
        secrets.token_bytes(16),
        secrets.token_bytes(32),
        domain,
    )


async def build_year(conn: asyncpg.Connection, settings: Settings, organisation: str | None = None) -> Year:
    """The known year; every figure the tests check follows from what is written here."""
    org = await create_organisation(conn, organisation or f"rep-{secrets.token_hex(3)}", "ASTI (rapport)")
    slug = org["slug"]
    ids = {}
    for position, (domain, name) in enumerate(DOMAINS):
        await conn.fetchrow(rq.INSERT_DOMAIN, org["id"], domain, name, position)
        ids[domain] = await conn.fetchval(DOMAIN_ID, org["id"], domain)
    p = [f"p{n}-{slug}@example.org" for n in range(13)]

    # guichet: a web conference in March
    e1 = (
        await create_event(
            conn,
            settings,
            organisation=slug,
            domain="guichet",
            starts_at=lux(2025, 3, 10).isoformat(),
            ends_at=lux(2025, 3, 10, 20).isoformat(),
        )
    ).slug
    start = lux(2025, 3, 10)
    registered = {1: (True, 10), 2: (True, 0.5), 3: (True, 3), 4: (True, 3), 5: (True, 3)}
    attendance = {1: "present", 2: "present", 3: "present", 4: "absent", 5: "excused"}
    for n, (_, days) in registered.items():
        rid = await _person(
            conn,
            settings,
            e1,
            p[n],
            language="pt",
            attendance=attendance[n],
            commune="Luxembourg" if n == 5 else "Esch-sur-Alzette",
            created_at=start - timedelta(days=days),
        )
        if n in (1, 2):
            await conn.execute(
                "INSERT INTO registration_joins (registration_id, first_joined_at, last_joined_at) VALUES ($1, $2, $2)",
                rid,
                start,
            )
    await _person(conn, settings, e1, p[6], status="cancelled", created_at=start - timedelta(days=40))
    await _person(conn, settings, e1, p[7], status="waitlisted", created_at=start - timedelta(days=1.5))

    # guichet: a series of three conversation tables in May, the third cancelled
    series = await create_event(
        conn,
        settings,
        organisation=slug,
        domain="guichet",
        kind="conversation_table",
        join_url=None,
        platform=None,
        venue="Maison ASTI",
        practised_language="lb",
        level="A2",
        starts_at=lux(2025, 5, 5).isoformat(),
        ends_at=lux(2025, 5, 5, 20).isoformat(),
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=3", "exdates": []},
    )
    dates = list(series.occurrences or [])
    await conn.execute("UPDATE events SET status = 'cancelled', cancelled_at = now() WHERE slug = $1", dates[2])
    await _person(conn, settings, dates[0], p[1], language="pt", commune="Esch-sur-Alzette", attendance="present")
    await _person(conn, settings, dates[0], p[8], language="fr", commune="Differdange", attendance="present")
    await _person(conn, settings, dates[1], p[8], language="fr", commune="Differdange", attendance="absent")

    # communes: an information session in Differdange
    e3 = (
        await create_event(
            conn,
            settings,
            organisation=slug,
            domain="communes",
            kind="info_session",
            join_url=None,
            platform=None,
            commune="Differdange",
            venue="Aalt Stadhaus",
            starts_at=lux(2025, 9, 15).isoformat(),
            ends_at=lux(2025, 9, 15, 20).isoformat(),
        )
    ).slug
    for n, mark in ((9, "present"), (10, "present"), (11, None)):
        await _person(conn, settings, e3, p[n], language="lb", commune="Differdange", attendance=mark)

    # untagged: a web conference in November; a draft, an event of 2026 and another organisation's do not count
    e4 = (
        await create_event(
            conn,
            settings,
            organisation=slug,
            starts_at=lux(2025, 11, 20).isoformat(),
            ends_at=lux(2025, 11, 20, 20).isoformat(),
        )
    ).slug
    await _person(conn, settings, e4, p[12], language="en")
    draft = (
        await create_event(
            conn,
            settings,
            organisation=slug,
            publish=False,
            starts_at=lux(2025, 6, 1).isoformat(),
            ends_at=lux(2025, 6, 1, 20).isoformat(),
        )
    ).slug
    await _person(conn, settings, draft, p[0], language="de")
    later = (
        await create_event(
            conn,
            settings,
            organisation=slug,
            starts_at=lux(2026, 1, 5).isoformat(),
            ends_at=lux(2026, 1, 5, 20).isoformat(),
        )
    ).slug
    await _person(conn, settings, later, p[0], language="de")
    other = await create_organisation(conn, f"other-{slug}"[:63])
    elsewhere = (
        await create_event(
            conn,
            settings,
            organisation=other["slug"],
            starts_at=lux(2025, 3, 12).isoformat(),
            ends_at=lux(2025, 3, 12, 20).isoformat(),
        )
    ).slug
    await _person(conn, settings, elsewhere, p[0], language="de")

    # the year before: one web conference with two people present
    before = (
        await create_event(
            conn,
            settings,
            organisation=slug,
            domain="guichet",
            starts_at=lux(2024, 3, 11).isoformat(),
            ends_at=lux(2024, 3, 11, 20).isoformat(),
        )
    ).slug
    for n in (1, 2):
        await _person(conn, settings, before, f"q{n}-{slug}@example.org", language="pt", attendance="present")

    # commune requests: two in 2025 (new, scheduled), one declined in 2024
    await _request(conn, org["id"], lux(2025, 4, 1), "scheduled", ids["communes"])
    await _request(conn, org["id"], lux(2025, 6, 1), "new", ids["communes"])
    await _request(conn, org["id"], lux(2024, 5, 1), "declined", ids["communes"])

    # interpretation: three Tigrinya missions done in February (3 hours), one Ukrainian requested in June,
    # one Arabic cancelled in July; one done in 2024
    interpreter = await conn.fetchval(
        "INSERT INTO interpreters (organisation_id, name, email, phone, token_nonce, token_hash) "
        "VALUES ($1, 'Senait', $2, '+352 1', $3, $4) RETURNING id",
        org["id"],
        f"senait-{slug}@example.org",
        secrets.token_bytes(16),
        secrets.token_bytes(32),
    )
    dom = ids["interpretation"]
    await _mission(conn, org["id"], interpreter, lux(2025, 2, 3, 9), 90, ("ti", "fr"), "done", dom)
    await _mission(conn, org["id"], interpreter, lux(2025, 2, 4, 9), 30, ("ti", "fr"), "done", dom)
    await _mission(conn, org["id"], interpreter, lux(2025, 2, 5, 9), 60, ("fr", "ti"), "done", dom)
    await _mission(conn, org["id"], interpreter, lux(2025, 6, 5, 9), 60, ("fr", "uk"), "requested", dom)
    await _mission(conn, org["id"], interpreter, lux(2025, 7, 5, 9), 60, ("ar", "fr"), "cancelled", dom)
    await _mission(conn, org["id"], interpreter, lux(2024, 2, 5, 9), 60, ("ti", "fr"), "done", dom)
    return Year(slug, e1, dates)
