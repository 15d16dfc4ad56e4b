"""Registrations, public side: the answer, double opt-in, holds, the waiting list, the window,
manage tokens, whole series, the outbox and the database's backstop."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

import asyncpg
import msgspec
import pytest

from server.events.service import cancel_event
from server.registrations import jobs, service
from server.registrations.schemas import RegistrationIn
from tests.factories import ADMIN, auth, create_event, create_organiser, manage_token, register, registration_body

UTC = UTC


async def row_of(conn, email: str, slug: str | None = None) -> asyncpg.Record:
    """The newest registration of an address (at one event)."""
    return await conn.fetchrow(
        "SELECT r.* FROM registrations r JOIN events e ON e.id = r.event_id "
        "WHERE r.email = $1 AND ($2::text IS NULL OR e.slug = $2) ORDER BY r.id DESC LIMIT 1",
        email,
        slug,
    )


async def token_of(conn, settings, email: str, slug: str | None = None) -> str:
    return await manage_token(conn, settings, (await row_of(conn, email, slug))["id"])


async def mails(conn, registration_id: int) -> list[tuple[str, dict]]:
    rows = await conn.fetch("SELECT kind, payload FROM outbox WHERE registration_id = $1 ORDER BY id", registration_id)
    return [(r["kind"], r["payload"]) for r in rows]


async def seats_left(client, slug: str) -> int:
    return (await client.get(f"/api/events/{slug}")).json()["seats_left"]


# ---------------------------------------------------------------- the answer


async def test_new_and_known_address_get_the_same_answer(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=5)
    body = registration_body()
    first = await client.post(f"/api/events/{event.slug}/registrations", json=body)
    again = await client.post(f"/api/events/{event.slug}/registrations", json=body)
    assert first.status_code == again.status_code == 202
    assert first.json() == again.json()
    assert first.json()["dates"][0]["status"] == "pending"
    row = await row_of(conn, body["email"])
    assert await conn.fetchval("SELECT count(*) FROM registrations WHERE email = $1", body["email"]) == 1
    # the email tells the truth: the known address gets its link again, with its status
    assert await mails(conn, row["id"]) == [
        ("registration_received", {}),
        ("registration_exists", {"status": "pending"}),
    ]


async def test_answer_is_in_the_persons_language(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=5)
    answer = (await register(client, event.slug, language="lb")).json()
    assert answer["message"].startswith("Merci! Mir hunn Iech eng E-Mail geschéckt")
    assert answer["dates"][0]["when"].startswith(
        ("Méindeg", "Dënschdeg", "Mëttwoch", "Donneschdeg", "Freideg", "Samschdeg", "Sonndeg")
    )


# ---------------------------------------------------------------- double opt-in and holds


async def test_confirmation_required_holds_a_seat_as_pending(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=3)
    response = await register(client, event.slug)
    row = await row_of(conn, response.email)
    assert row["status"] == "pending"
    assert abs(row["hold_expires_at"] - (datetime.now(UTC) + settings.hold_duration)) < timedelta(minutes=1)
    assert await seats_left(client, event.slug) == 2


async def test_confirm_link_confirms_a_pending_seat(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=3)
    response = await register(client, event.slug)
    token = await token_of(conn, settings, response.email)
    confirmed = await client.post(f"/api/registrations/{token}/confirm")
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["status"] == "confirmed" and confirmed.json()["email_confirmed"] is True
    row = await row_of(conn, response.email)
    assert [k for k, _ in await mails(conn, row["id"])] == ["registration_received", "registration_confirmed"]
    again = await client.post(f"/api/registrations/{token}/confirm")
    assert again.json()["status"] == "confirmed"
    assert len(await mails(conn, row["id"])) == 2


async def test_without_confirmation_a_registration_is_confirmed_at_once(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=3, confirmation_required=False)
    response = await register(client, event.slug)
    assert response.json()["dates"][0]["status"] == "confirmed"
    row = await row_of(conn, response.email)
    assert row["status"] == "confirmed" and row["hold_expires_at"] is None
    assert await mails(conn, row["id"]) == [("registration_confirmed", {})]


async def test_unconfirmed_hold_expires_and_frees_the_seat(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    response = await register(client, event.slug)
    row = await row_of(conn, response.email)
    await conn.execute(
        "UPDATE registrations SET hold_expires_at = now() - interval '1 minute' WHERE id = $1", row["id"]
    )
    assert await jobs.expire_holds(conn, settings) == 1
    assert await conn.fetchval("SELECT status FROM registrations WHERE id = $1", row["id"]) == "expired"
    assert (await mails(conn, row["id"]))[-1] == ("hold_expired", {})
    assert await seats_left(client, event.slug) == 1
    assert await jobs.expire_holds(conn, settings) == 0


async def test_hold_duration_is_configurable(conn, settings) -> None:
    event = await create_event(conn, settings, capacity=3)
    short = msgspec.structs.replace(settings, hold_duration=timedelta(minutes=30))
    data = msgspec.convert(registration_body(), RegistrationIn)
    await service.register(conn, event.slug, data, short, client_ip="192.0.2.1")
    row = await row_of(conn, data.email)
    assert abs(row["hold_expires_at"] - (datetime.now(UTC) + timedelta(minutes=30))) < timedelta(minutes=1)


async def test_hold_never_lasts_past_the_event_start(client, conn, settings) -> None:
    start = datetime.now(UTC) + timedelta(minutes=40)
    event = await create_event(
        conn, settings, capacity=3, starts_at=start.isoformat(), ends_at=(start + timedelta(hours=1)).isoformat()
    )
    response = await register(client, event.slug)
    assert (await row_of(conn, response.email))["hold_expires_at"] == event.starts_at


async def test_a_stale_hold_is_ended_by_the_next_registration_without_waiting_for_the_job(
    client, conn, settings
) -> None:
    event = await create_event(conn, settings, capacity=1)
    first = await register(client, event.slug)
    await conn.execute(
        "UPDATE registrations SET hold_expires_at = now() - interval '1 second' WHERE email = $1", first.email
    )
    second = await register(client, event.slug)
    assert second.json()["dates"][0]["status"] == "pending"
    assert (await row_of(conn, first.email))["status"] == "expired"


# ---------------------------------------------------------------- waiting list


async def test_full_event_puts_people_on_the_waiting_list_with_a_position(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    answers = [await register(client, event.slug) for _ in range(3)]
    assert [a.json()["dates"][0]["status"] for a in answers] == ["pending", "waitlisted", "waitlisted"]
    assert answers[2].json()["waitlisted"] == [event.slug]
    last = await row_of(conn, answers[2].email)
    assert await mails(conn, last["id"]) == [("registration_waitlisted", {"position": 2})]
    view = (await client.get(f"/api/registrations/{await token_of(conn, settings, answers[2].email)}")).json()
    assert (view["status"], view["waitlist_position"]) == ("waitlisted", 2)


async def test_cancellation_promotes_oldest_waitlisted(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    holder, oldest, younger = [await register(client, event.slug) for _ in range(3)]
    cancelled = await client.delete(f"/api/registrations/{await token_of(conn, settings, holder.email)}")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    promoted = await row_of(conn, oldest.email)
    assert promoted["status"] == "pending" and promoted["hold_expires_at"] is not None
    assert (await mails(conn, promoted["id"]))[-1] == ("registration_promoted", {"status": "pending"})
    assert (await row_of(conn, younger.email))["status"] == "waitlisted"
    view = (await client.get(f"/api/registrations/{await token_of(conn, settings, younger.email)}")).json()
    assert view["waitlist_position"] == 1
    holder_row = await row_of(conn, holder.email)
    assert (await mails(conn, holder_row["id"]))[-1] == ("cancellation_acknowledged", {"by": "person"})


async def test_cancelling_twice_changes_nothing(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    holder = await register(client, event.slug)
    token = await token_of(conn, settings, holder.email)
    await client.delete(f"/api/registrations/{token}")
    again = await client.delete(f"/api/registrations/{token}")
    assert again.status_code == 200 and again.json()["status"] == "cancelled"
    row = await row_of(conn, holder.email)
    assert [k for k, _ in await mails(conn, row["id"])].count("cancellation_acknowledged") == 1


async def test_expired_hold_promotes_oldest_waitlisted(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    holder, waiting = [await register(client, event.slug) for _ in range(2)]
    await conn.execute(
        "UPDATE registrations SET hold_expires_at = now() - interval '1 minute' WHERE email = $1", holder.email
    )
    await jobs.expire_holds(conn, settings)
    assert (await row_of(conn, waiting.email))["status"] == "pending"


async def test_waitlisted_person_who_confirmed_the_address_is_promoted_straight_to_confirmed(
    client, conn, settings
) -> None:
    event = await create_event(conn, settings, capacity=1)
    holder, waiting = [await register(client, event.slug) for _ in range(2)]
    answer = await client.post(f"/api/registrations/{await token_of(conn, settings, waiting.email)}/confirm")
    assert answer.json()["status"] == "waitlisted" and answer.json()["email_confirmed"] is True
    await client.delete(f"/api/registrations/{await token_of(conn, settings, holder.email)}")
    row = await row_of(conn, waiting.email)
    assert row["status"] == "confirmed"
    assert (await mails(conn, row["id"]))[-1] == ("registration_promoted", {"status": "confirmed"})


async def test_raised_capacity_seats_the_waiting_list_in_order(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, capacity=1, confirmation_required=False)
    people = [await register(client, event.slug) for _ in range(4)]
    raised = await client.patch(f"/api/organiser/events/{event.slug}", json={"capacity": 3}, headers=auth(token))
    assert raised.status_code == 200, raised.text
    statuses = [(await row_of(conn, p.email))["status"] for p in people]
    assert statuses == ["confirmed", "confirmed", "confirmed", "waitlisted"]
    assert raised.json()["seats_taken"] == 3


async def test_lowering_capacity_below_the_confirmed_count_needs_force(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings, capacity=2, confirmation_required=False)
    for _ in range(2):
        await register(client, event.slug)
    refused = await client.patch(f"/api/organiser/events/{event.slug}", json={"capacity": 1}, headers=auth(token))
    assert refused.status_code == 409
    forced = await client.patch(
        f"/api/organiser/events/{event.slug}", json={"capacity": 1, "force": True}, headers=auth(token)
    )
    assert forced.status_code == 200 and forced.json()["seats_taken"] == 2
    assert await seats_left(client, event.slug) == 0
    assert (await register(client, event.slug)).json()["dates"][0]["status"] == "waitlisted"


# ---------------------------------------------------------------- the window


async def test_registration_before_the_window_opens_is_refused(client, conn, settings) -> None:
    opens = datetime.now(UTC) + timedelta(days=1)
    event = await create_event(conn, settings, registration_opens_at=opens.isoformat())
    response = await register(client, event.slug)
    assert response.status_code == 409
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["code"] == "registration_not_open"


async def test_registration_after_the_window_closes_is_refused(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    await conn.execute(
        "UPDATE events SET registration_closes_at = now() - interval '1 minute' WHERE slug = $1", event.slug
    )
    response = await register(client, event.slug)
    assert response.status_code == 409 and response.json()["code"] == "registration_closed"


async def test_registration_closes_at_the_start_by_default(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    await conn.execute("UPDATE events SET starts_at = now() - interval '5 minutes' WHERE slug = $1", event.slug)
    response = await register(client, event.slug)
    assert response.status_code == 409 and response.json()["code"] == "registration_closed"


async def test_cancelled_event_takes_no_registrations(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    await cancel_event(conn, ADMIN, event.slug, settings)
    response = await register(client, event.slug)
    assert response.status_code == 409 and response.json()["code"] == "event_cancelled"


async def test_draft_or_unknown_event_is_a_404_with_a_code(client, conn, settings) -> None:
    draft = await create_event(conn, settings, publish=False)
    for slug in (draft.slug, "no-such-event", "Bad%20Slug"):
        response = await register(client, slug)
        assert response.status_code == 404 and response.json()["code"] == "event_not_found", slug


async def test_consent_is_required(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    response = await register(client, event.slug, consent=False)
    assert response.status_code == 422
    assert response.json()["code"] == "consent_required"
    assert response.json()["errors"][0]["field"] == "consent"
    assert await conn.fetchval("SELECT count(*) FROM registrations WHERE email = $1", response.email) == 0


async def test_commune_is_checked_against_luxembourgs_communes(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    unknown = await register(client, event.slug, commune="Atlantis")
    assert unknown.status_code == 422 and unknown.json()["code"] == "commune_unknown"
    known = await register(client, event.slug, commune="esch-sur-alzette")
    assert known.status_code == 202
    assert (await row_of(conn, known.email))["commune"] == "Esch-sur-Alzette"


@pytest.mark.parametrize(
    "change",
    [
        {"name": "Ana\x00Silva"},
        {"name": "   "},
        {"name": "Ana\nBcc: x@example.org"},
        {"email": "not-an-address"},
        {"email": "a@b\x00.lu"},
        {"language": "es"},
        {"consent": "yes"},
        {"whole_series": None},
        {"interpretation": "Arabic!"},
        {"accessibility": "x" * 1001},
        {"surprise": 1},
        {"name": 12},
    ],
)
async def test_bad_registration_fields_are_422_problems_naming_the_field(client, conn, settings, change) -> None:
    event = await create_event(conn, settings)
    response = await register(client, event.slug, **change)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["errors"]


async def test_malformed_body_is_a_4xx_problem(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    for content in (b"{nope", b"[]", b"null", b'"\\ud800"', b"\xff\xfe"):
        response = await client.post(
            f"/api/events/{event.slug}/registrations", content=content, headers={"content-type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (content, response.status_code)
        assert response.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("path", ["/api/events/%00", "/api/events?q=%00"])
async def test_a_value_postgresql_cannot_store_is_a_422_not_a_500(client, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------- the manage token


async def test_manage_token_has_256_random_bits_and_is_stored_only_as_a_hash(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    response = await register(client, event.slug)
    row = await row_of(conn, response.email)
    token = await manage_token(conn, settings, row["id"])
    assert len(token) == 43  # 32 bytes in base64url
    assert bytes(row["token_hash"]) == hashlib.sha256(token.encode()).digest()
    assert all(token not in str(value) for value in dict(row).values())
    other = await register(client, event.slug)
    assert await token_of(conn, settings, other.email) != token


async def test_unknown_or_malformed_token_is_a_404_with_a_code(client) -> None:
    for token in ("x" * 43, "short", "%00" * 5, "a" * 200):
        for method, path in (("GET", ""), ("POST", "/confirm"), ("DELETE", ""), ("POST", "/erase")):
            response = await client.request(method, f"/api/registrations/{token}{path}")
            assert response.status_code in (404, 422), (token, path, response.status_code)
            assert response.headers["content-type"].startswith("application/problem+json")
            if response.status_code == 404:
                assert response.json()["code"] == "token_unknown"


async def test_manage_view_shows_status_position_event_and_links(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=2, title={"fr": "Les Portugais", "de": "Die Portugiesen"})
    response = await register(client, event.slug, commune="Differdange", interpretation="pt")
    token = await token_of(conn, settings, response.email)
    view = (await client.get(f"/api/registrations/{token}", params={"lang": "de"})).json()
    assert view["status"] == "pending" and view["waitlist_position"] is None
    assert view["event"]["slug"] == event.slug and view["event"]["title"] == "Die Portugiesen"
    assert view["manage_url"] == f"https://zesummen.test/r/{token}"
    assert view["calendar_url"] == f"https://zesummen.test/api/registrations/{token}/calendar.ics"
    assert (view["commune"], view["interpretation"], view["name"]) == ("Differdange", "pt", "Ana Silva")
    assert "/api/registrations/" not in str(view["event"])  # no public URL carries a registration


async def test_join_link_only_when_confirmed_for_a_web_conference(client, conn, settings) -> None:
    event = await create_event(conn, settings, join_url="https://meet.example.org/secret-room")
    response = await register(client, event.slug)
    token = await token_of(conn, settings, response.email)
    assert (await client.get(f"/api/registrations/{token}")).json()["join_url"] is None
    confirmed = (await client.post(f"/api/registrations/{token}/confirm")).json()
    # the person's own link, which leads on to the conference's
    assert confirmed["join_url"].startswith(settings.base + "/j/")
    assert "secret-room" not in str(confirmed)
    followed = await client.get(confirmed["join_url"].removeprefix(settings.base))
    assert followed.status_code == 303 and followed.headers["location"] == "https://meet.example.org/secret-room"


async def test_confirming_a_cancelled_registration_is_refused(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    response = await register(client, event.slug)
    token = await token_of(conn, settings, response.email)
    await client.delete(f"/api/registrations/{token}")
    refused = await client.post(f"/api/registrations/{token}/confirm")
    assert refused.status_code == 409 and refused.json()["code"] == "registration_cancelled"


async def test_confirming_for_a_cancelled_event_is_refused(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    response = await register(client, event.slug)
    await cancel_event(conn, ADMIN, event.slug, settings)
    refused = await client.post(f"/api/registrations/{await token_of(conn, settings, response.email)}/confirm")
    assert refused.status_code == 409 and refused.json()["code"] == "event_cancelled"


async def test_late_confirmation_gets_the_seat_back_when_one_is_free(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    response = await register(client, event.slug)
    await conn.execute(
        "UPDATE registrations SET hold_expires_at = now() - interval '1 minute' WHERE email = $1", response.email
    )
    await jobs.expire_holds(conn, settings)
    confirmed = await client.post(f"/api/registrations/{await token_of(conn, settings, response.email)}/confirm")
    assert confirmed.status_code == 200 and confirmed.json()["status"] == "confirmed"
    assert await seats_left(client, event.slug) == 0


async def test_late_confirmation_is_refused_once_the_seat_went_to_the_waiting_list(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    late, waiting = [await register(client, event.slug) for _ in range(2)]
    await conn.execute(
        "UPDATE registrations SET hold_expires_at = now() - interval '1 minute' WHERE email = $1", late.email
    )
    refused = await client.post(f"/api/registrations/{await token_of(conn, settings, late.email)}/confirm")
    assert refused.status_code == 409 and refused.json()["code"] == "hold_expired"
    assert (await row_of(conn, waiting.email))["status"] == "pending"


# ---------------------------------------------------------------- whole series


async def _series(conn, settings, count: int = 3, capacity: int = 1, **overrides):
    start = (datetime.now(UTC) + timedelta(days=2)).replace(hour=17, minute=30, second=0, microsecond=0)
    event = await create_event(
        conn,
        settings,
        kind="conversation_table",
        practised_language="lb",
        venue="ASTI, Luxembourg",
        join_url=None,
        platform=None,
        capacity=capacity,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=1)).isoformat(),
        recurrence={"rrule": f"FREQ=WEEKLY;COUNT={count}"},
        **overrides,
    )
    return event.occurrences


async def test_whole_series_registers_each_open_date_on_its_own(client, conn, settings) -> None:
    first, second, third = await _series(conn, settings)
    await register(client, second)  # the second date is now full
    answer = await register(client, first, whole_series=True)
    assert answer.status_code == 202
    body = answer.json()
    assert [(d["slug"], d["status"]) for d in body["dates"]] == [
        (first, "pending"),
        (second, "waitlisted"),
        (third, "pending"),
    ]
    assert body["waitlisted"] == [second]
    rows = await conn.fetch("SELECT status, request_id, whole_series FROM registrations WHERE email = $1", answer.email)
    assert len(rows) == 3 and len({r["request_id"] for r in rows}) == 1 and all(r["whole_series"] for r in rows)


async def test_whole_series_request_sends_one_mail_listing_every_date(client, conn, settings) -> None:
    first, second, third = await _series(conn, settings)
    email = registration_body()["email"]
    await register(client, third, email=email)  # already registered for the last date
    await register(client, second, whole_series=True, email=email)
    queued = await conn.fetch(
        "SELECT kind, registration_id, payload FROM outbox WHERE recipient = $1 ORDER BY id", email
    )
    assert [r["kind"] for r in queued] == ["registration_received", "series_registration_received"]
    ids_in_date_order = [
        r["id"]
        for r in await conn.fetch(
            "SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id "
            "WHERE r.email = $1 ORDER BY e.starts_at",
            email,
        )
    ]
    assert queued[1]["payload"] == {"registrations": ids_in_date_order}
    assert queued[1]["registration_id"] == ids_in_date_order[0]


async def test_confirming_one_date_confirms_the_whole_request(client, conn, settings) -> None:
    first, second, third = await _series(conn, settings, capacity=5)
    answer = await register(client, first, whole_series=True)
    token = await token_of(conn, settings, answer.email, second)
    view = (await client.post(f"/api/registrations/{token}/confirm")).json()
    assert view["status"] == "confirmed"
    assert [(d["slug"], d["status"]) for d in view["series"]] == [(first, "confirmed"), (third, "confirmed")]
    other = (
        await client.get(view["series"][0]["manage_url"].replace("https://zesummen.test/r/", "/api/registrations/"))
    ).json()
    assert other["status"] == "confirmed"


async def test_whole_series_cancel_cancels_every_date_of_the_request(client, conn, settings) -> None:
    occurrences = await _series(conn, settings, capacity=5)
    answer = await register(client, occurrences[0], whole_series=True)
    token = await token_of(conn, settings, answer.email, occurrences[0])
    await client.delete(f"/api/registrations/{token}", params={"whole_series": "true"})
    statuses = {
        r["status"] for r in await conn.fetch("SELECT status FROM registrations WHERE email = $1", answer.email)
    }
    assert statuses == {"cancelled"}


# ---------------------------------------------------------------- outbox and database


async def test_every_change_is_queued_in_the_persons_language(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    holder = await register(client, event.slug, language="lb")
    waiting = await register(client, event.slug, language="de")
    token = await token_of(conn, settings, holder.email)
    await client.post(f"/api/registrations/{token}/confirm")
    await client.delete(f"/api/registrations/{token}")
    rows = await conn.fetch(
        "SELECT kind, language, recipient FROM outbox "
        "WHERE event_id = (SELECT id FROM events WHERE slug = $1) ORDER BY id",
        event.slug,
    )
    assert [tuple(r) for r in rows] == [
        ("registration_received", "lb", holder.email),
        ("registration_waitlisted", "de", waiting.email),
        ("registration_confirmed", "lb", holder.email),
        ("cancellation_acknowledged", "lb", holder.email),
        ("registration_promoted", "de", waiting.email),
    ]


async def test_a_refused_registration_leaves_no_row_and_no_mail(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    await conn.execute(
        "UPDATE events SET registration_closes_at = now() - interval '1 minute' WHERE slug = $1", event.slug
    )
    response = await register(client, event.slug)
    assert response.status_code == 409
    assert await conn.fetchval("SELECT count(*) FROM outbox WHERE recipient = $1", response.email) == 0


async def test_seat_counters_match_the_rows(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=2)
    people = [await register(client, event.slug) for _ in range(4)]
    await client.delete(f"/api/registrations/{await token_of(conn, settings, people[0].email)}")
    await client.post(f"/api/registrations/{await token_of(conn, settings, people[1].email)}/confirm")
    counts = await conn.fetchrow(
        "SELECT s.seats_taken, s.waitlist_length, "
        "(SELECT count(*) FROM registrations r "
        "WHERE r.event_id = e.id AND r.status IN ('pending', 'confirmed')) AS held, "
        "(SELECT count(*) FROM registrations r WHERE r.event_id = e.id AND r.status = 'waitlisted') AS waiting "
        "FROM events e JOIN event_seats s ON s.event_id = e.id WHERE e.slug = $1",
        event.slug,
    )
    assert (counts["seats_taken"], counts["waitlist_length"]) == (counts["held"], counts["waiting"]) == (2, 1)


async def test_database_refuses_a_seat_past_the_capacity(conn, settings) -> None:
    event = await create_event(conn, settings, capacity=1)
    insert = (
        "INSERT INTO registrations (event_id, email, language, status, confirmed_at) "
        "SELECT id, $2, 'fr', 'confirmed', now() FROM events WHERE slug = $1"
    )
    await conn.execute(insert, event.slug, "one@example.org")
    with pytest.raises(asyncpg.CheckViolationError, match="overbooked"):
        async with conn.transaction():
            await conn.execute(insert, event.slug, "two@example.org")


async def test_database_still_allows_a_forced_capacity_decrease(conn, settings) -> None:
    event = await create_event(conn, settings, capacity=2, confirmation_required=False)
    for n in range(2):
        await conn.execute(
            "INSERT INTO registrations (event_id, email, language, status, confirmed_at) "
            "SELECT id, $2, 'fr', 'confirmed', now() FROM events WHERE slug = $1",
            event.slug,
            f"p{n}@example.org",
        )
    await conn.execute("UPDATE events SET capacity = 1 WHERE slug = $1", event.slug)
    assert (
        await conn.fetchval(
            "SELECT seats_taken FROM event_seats JOIN events ON id = event_id WHERE slug = $1", event.slug
        )
        == 2
    )


async def test_openapi_documents_the_registration_endpoints(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    paths = schema["paths"]
    for path in (
        "/api/events/{slug}/registrations",
        "/api/registrations/{token}",
        "/api/registrations/{token}/confirm",
        "/api/registrations/{token}/erase",
        "/api/organiser/events/{slug}/registrations",
        "/api/organiser/events/{slug}/registrations.csv",
        "/api/organiser/events/{slug}/stats",
        "/api/organiser/events/{slug}/attendance",
        "/api/organiser/registrations/{registration_id}",
    ):
        assert path in paths, path
    post = paths["/api/events/{slug}/registrations"]["post"]
    assert "202" in post["responses"] and "application/problem+json" in post["responses"]["429"]["content"]
    assert post["requestBody"]["content"]["application/json"]["schema"]["examples"]
