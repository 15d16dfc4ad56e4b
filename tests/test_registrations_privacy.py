"""Registrations: abuse limits (per client address, per email, daily mails) and privacy (anonymisation, erasure)."""

from __future__ import annotations

import secrets
from datetime import UTC, timedelta

import httpx
import msgspec
import pytest

from server.registrations import jobs, refusals, service
from server.settings import Settings
from tests.apps import app_on
from tests.factories import auth, create_event, create_organiser, manage_token, register, registration_body


@pytest.fixture
def client_with(conn):
    """A client on the test's transaction with some settings changed."""

    def make(settings: Settings, client_ip: str = "203.0.113.7") -> httpx.AsyncClient:
        app = app_on(settings, conn)
        return httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app, client=(client_ip, 5000)), base_url="http://testserver"
        )

    return make


async def row_of(conn, email: str):
    return await conn.fetchrow("SELECT * FROM registrations WHERE email = $1 ORDER BY id DESC LIMIT 1", email)


# ---------------------------------------------------------------- abuse


async def test_rate_limit_per_client_address_answers_429_with_retry_after(client_with, conn, settings) -> None:
    event = await create_event(conn, settings)
    http = client_with(msgspec.structs.replace(settings, rate_limit_per_address=2))
    assert [(await register(http, event.slug)).status_code for _ in range(2)] == [202, 202]
    refused = await register(http, event.slug)
    assert refused.status_code == 429
    assert refused.json()["code"] == "rate_limited"
    assert 0 < int(refused.headers["retry-after"]) <= 600
    other_address = client_with(msgspec.structs.replace(settings, rate_limit_per_address=2), client_ip="198.51.100.9")
    assert (await register(other_address, event.slug)).status_code == 202


async def test_rate_limit_per_email_address(client_with, conn, settings) -> None:
    events = [await create_event(conn, settings) for _ in range(3)]
    limited = msgspec.structs.replace(settings, rate_limit_per_email=2)
    email = registration_body()["email"]
    answers = [
        await register(client_with(limited, client_ip=f"192.0.2.{n}"), e.slug, email=email)
        for n, e in enumerate(events)
    ]
    assert [a.status_code for a in answers] == [202, 202, 429]
    assert await conn.fetchval("SELECT count(*) FROM registrations WHERE email = $1", email) == 2


async def test_ipv6_clients_share_a_limit_per_64_prefix(client_with, conn, settings) -> None:
    event = await create_event(conn, settings)
    limited = msgspec.structs.replace(settings, rate_limit_per_address=1)
    assert (await register(client_with(limited, "2001:db8:1:2::10"), event.slug)).status_code == 202
    assert (await register(client_with(limited, "2001:db8:1:2:aaaa::1"), event.slug)).status_code == 429


async def test_rate_limits_hold_across_processes(pool, settings) -> None:
    # two connections stand for two app processes: the count lives in PostgreSQL, not in memory
    limited = msgspec.structs.replace(settings, rate_limit_per_address=2, rate_limit_per_email=100)
    address = f"192.0.2.{secrets.randbelow(200) + 1}-{secrets.token_hex(4)}"
    try:
        async with pool.acquire() as one, pool.acquire() as two:
            await service.count_attempt(one, limited, address, "a@example.org")
            await service.count_attempt(two, limited, address, "b@example.org")
            with pytest.raises(refusals.RateLimited):
                await service.count_attempt(one, limited, address, "c@example.org")
    finally:
        async with pool.acquire() as cleanup:
            keys = [
                f"address:{service._digest(limited, address)}",
                *(f"email:{service._digest(limited, f'{x}@example.org')}" for x in "abc"),
            ]
            await cleanup.execute("DELETE FROM rate_limits WHERE key = ANY($1)", keys)


async def test_daily_mail_cap_writes_the_mail_as_skipped_with_the_reason(client_with, conn, settings) -> None:
    events = [await create_event(conn, settings) for _ in range(3)]
    capped = msgspec.structs.replace(settings, mail_cap_per_day=2)
    email = registration_body()["email"]
    for n, event in enumerate(events):
        assert (await register(client_with(capped, f"192.0.2.{n}"), event.slug, email=email)).status_code == 202
    rows = await conn.fetch("SELECT status, last_error FROM outbox WHERE recipient = $1 ORDER BY id", email)
    assert [r["status"] for r in rows] == ["queued", "queued", "skipped"]
    assert "daily mail cap" in rows[2]["last_error"]
    # the registration itself still stands: only the mail is held back
    assert await conn.fetchval("SELECT count(*) FROM registrations WHERE email = $1", email) == 3


# ---------------------------------------------------------------- privacy


async def _ended_days_ago(conn, slug: str, days: int) -> None:
    await conn.execute(
        "UPDATE events SET starts_at = now() - make_interval(days => $2) - interval '2 hours', "
        "ends_at = now() - make_interval(days => $2) WHERE slug = $1",
        slug,
        days,
    )


async def test_personal_data_is_anonymised_after_the_event_keeping_counts_and_attendance(
    client, conn, settings
) -> None:
    _, staff = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, confirmation_required=False)
    answer = await register(client, event.slug, commune="Mersch", interpretation="ar", accessibility="hearing loop")
    row = await row_of(conn, answer.email)
    token = await manage_token(conn, settings, row["id"])
    await client.patch(f"/api/organiser/registrations/{row['id']}", json={"attendance": "present"}, headers=auth(staff))
    await _ended_days_ago(conn, event.slug, 91)
    assert await jobs.anonymise_due(conn, settings) >= 1
    after = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", row["id"])
    assert (after["name"], after["email"], after["token_hash"], after["token_nonce"], after["accessibility"]) == (
        None,
    ) * 5
    assert (after["status"], after["attendance"], after["commune"], after["language"]) == (
        "confirmed",
        "present",
        "Mersch",
        "pt",
    )
    assert after["anonymised_at"] is not None
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE registration_id = $1 AND recipient IS NOT NULL", row["id"]
        )
        == 0
    )
    stats = (await client.get(f"/api/organiser/events/{event.slug}/stats", headers=auth(staff))).json()
    assert stats["by_status"]["confirmed"] == 1 and stats["by_attendance"]["present"] == 1
    gone = await client.get(f"/api/registrations/{token}")
    assert gone.status_code == 404 and gone.json()["code"] == "token_unknown"
    assert await jobs.anonymise_due(conn, settings) == 0


async def test_anonymisation_waits_for_the_configured_time(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    answer = await register(client, event.slug)
    await _ended_days_ago(conn, event.slug, 40)
    await jobs.anonymise_due(conn, settings)
    assert (await row_of(conn, answer.email)) is not None  # 90 days by default: not yet
    await jobs.anonymise_due(conn, msgspec.structs.replace(settings, anonymise_after=timedelta(days=30)))
    assert (await row_of(conn, answer.email)) is None


async def test_an_event_done_is_passed_by_until_someone_is_added_to_it(client, conn, settings) -> None:
    # the job marks an event done once its registrations are anonymised (migration 0012); a person an
    # organiser adds to it afterwards is anonymised on the next run all the same
    _, staff = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, confirmation_required=False)
    await register(client, event.slug)
    await _ended_days_ago(conn, event.slug, 100)
    done_at = "SELECT registrations_anonymised_at FROM events WHERE slug = $1"
    before = await conn.fetchrow("SELECT updated_at FROM events WHERE slug = $1", event.slug)
    assert await jobs.anonymise_due(conn, settings) >= 1
    assert await conn.fetchval(done_at, event.slug) is not None
    # the mark is no change of the event for the feeds
    assert await conn.fetchval("SELECT updated_at FROM events WHERE slug = $1", event.slug) == before["updated_at"]
    assert await jobs.anonymise_due(conn, settings) == 0

    added = await client.post(
        f"/api/organiser/events/{event.slug}/registrations",
        headers=auth(staff),
        json={"name": "Ana Late", "email": "ana.late@example.lu", "attendance": "present", "notify": False},
    )
    assert added.status_code == 201, added.text
    assert await conn.fetchval(done_at, event.slug) is None
    assert await jobs.anonymise_due(conn, settings) == 1
    assert await row_of(conn, "ana.late@example.lu") is None
    assert await conn.fetchval(done_at, event.slug) is not None


async def test_erasing_wipes_the_persons_data_and_kills_the_token(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    answer = await register(client, event.slug, commune="Mersch", interpretation="ar")
    row = await row_of(conn, answer.email)
    token = await manage_token(conn, settings, row["id"])
    erased = await client.post(f"/api/registrations/{token}/erase")
    assert erased.status_code == 204
    after = await conn.fetchrow("SELECT * FROM registrations WHERE id = $1", row["id"])
    assert (after["name"], after["email"], after["token_hash"], after["commune"], after["interpretation"]) == (
        None,
    ) * 5
    assert after["status"] == "cancelled"
    outbox = await conn.fetch("SELECT status, recipient, last_error FROM outbox WHERE registration_id = $1", row["id"])
    assert outbox and all(r["recipient"] is None and r["status"] == "skipped" for r in outbox)
    for method, path in (("GET", ""), ("POST", "/confirm"), ("DELETE", ""), ("POST", "/erase")):
        response = await client.request(method, f"/api/registrations/{token}{path}")
        assert response.status_code == 404 and response.json()["code"] == "token_unknown"


async def test_erasing_after_the_event_keeps_the_counts(client, conn, settings) -> None:
    event = await create_event(conn, settings, confirmation_required=False)
    answer = await register(client, event.slug)
    row = await row_of(conn, answer.email)
    await _ended_days_ago(conn, event.slug, 3)
    await client.post(f"/api/registrations/{await manage_token(conn, settings, row['id'])}/erase")
    after = await conn.fetchrow("SELECT status, email, anonymised_at FROM registrations WHERE id = $1", row["id"])
    assert (after["status"], after["email"]) == ("confirmed", None) and after["anonymised_at"] is not None


async def test_erasing_frees_the_seat_for_the_waiting_list(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    holder = await register(client, event.slug)
    waiting = await register(client, event.slug)
    token = await manage_token(conn, settings, (await row_of(conn, holder.email))["id"])
    await client.post(f"/api/registrations/{token}/erase")
    assert (await row_of(conn, waiting.email))["status"] == "pending"


async def test_erasing_covers_every_date_of_a_whole_series_request(client, conn, settings) -> None:
    from datetime import datetime

    start = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    event = await create_event(
        conn,
        settings,
        capacity=5,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=1)).isoformat(),
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=3"},
    )
    answer = await register(client, event.slug, whole_series=True)
    ids = [r["id"] for r in await conn.fetch("SELECT id FROM registrations WHERE email = $1", answer.email)]
    assert len(ids) == 3
    await client.post(f"/api/registrations/{await manage_token(conn, settings, ids[1])}/erase")
    rows = await conn.fetch("SELECT email, anonymised_at, status FROM registrations WHERE id = ANY($1)", ids)
    assert all(r["email"] is None and r["anonymised_at"] is not None and r["status"] == "cancelled" for r in rows)


def test_client_address_is_read_through_trusted_proxies_only(settings) -> None:
    from litestar.testing import RequestFactory

    from server.registrations.controllers import client_address

    behind = msgspec.structs.replace(settings, trusted_proxies=("10.0.0.0/8",))
    request = RequestFactory().get("/", headers={"X-Forwarded-For": "198.51.100.7, 10.1.2.3"})
    request.scope["client"] = ("10.0.0.2", 443)
    assert client_address(request, behind) == "198.51.100.7"
    # without trusting the proxy, a forged header changes nothing
    assert client_address(request, settings) == "10.0.0.2"
    forged = RequestFactory().get("/", headers={"X-Forwarded-For": "1.2.3.4"})
    forged.scope["client"] = ("203.0.113.9", 443)
    assert client_address(forged, behind) == "203.0.113.9"
