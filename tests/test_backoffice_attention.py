"""What needs attention on the back-office dashboard (issue 22), found from the indexes of migration 0040:
each code appears when its condition holds and goes when it is fixed, the capacity's copy included."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from server.backoffice import dashboard
from server.events.schemas import EventPatch
from server.events.service import update_event
from tests.apps import app_on
from tests.factories import ADMIN, create_event, create_organiser, insert_registration
from tests.test_backoffice_signin import browser, sign_in, with_password
from tests.test_pages import text_of


def soon(hours: float) -> str:
    return (datetime.now(UTC) + timedelta(hours=hours)).replace(microsecond=0).isoformat()


@pytest.fixture
async def staff(conn):
    """An organiser of ASTI."""
    person, _ = await create_organiser(conn, {"asti": "organiser"})
    return person


def attention_of(page) -> str:
    """The text of a dashboard page's attention section."""
    return text_of(page).split("Needs attention", 1)[1].split("Coming events", 1)[0]


async def needs(conn, person) -> dict[str, list[str]]:
    """The dashboard's attention list as slug → codes."""
    return {e["slug"]: e["attention"] for e in (await dashboard.dashboard(conn, person))["attention"]}


async def test_a_link_or_a_venue_added_takes_the_event_off_the_list(conn, settings, staff) -> None:
    conference = await create_event(conn, settings, organisation="asti", publish=False)
    session = await create_event(conn, settings, organisation="asti")
    await conn.execute("UPDATE events SET join_url = '' WHERE slug = $1", conference.slug)
    await conn.execute(
        "UPDATE events SET kind = 'info_session', join_url = NULL, platform = NULL, venue = NULL, online = false "
        "WHERE slug = $1",
        session.slug,
    )
    assert await needs(conn, staff) == {conference.slug: ["no_join_link"], session.slug: ["no_venue"]}
    await conn.execute("UPDATE events SET join_url = 'https://meet.example.org/a' WHERE slug = $1", conference.slug)
    await conn.execute("UPDATE events SET venue = 'Maison de quartier' WHERE slug = $1", session.slug)
    assert await needs(conn, staff) == {}
    await conn.execute("UPDATE events SET venue = NULL, online = true WHERE slug = $1", session.slug)
    assert await needs(conn, staff) == {}


async def test_failed_mails_show_until_none_is_left_failed(conn, settings, staff) -> None:
    event = await create_event(conn, settings, organisation="asti")
    failed = (
        "INSERT INTO outbox (kind, event_id, recipient, status, last_error) "
        "SELECT 'reminder', id, 'x@example.org', $2, '550 no such user' FROM events WHERE slug = $1 RETURNING id"
    )
    first = await conn.fetchval(failed, event.slug, "failed")
    second = await conn.fetchval(failed, event.slug, "failed")
    await conn.fetchval(failed, event.slug, "sent")
    assert await needs(conn, staff) == {event.slug: ["failed_mails"]}
    await conn.execute("UPDATE outbox SET status = 'sent', last_error = NULL WHERE id = $1", first)
    assert await needs(conn, staff) == {event.slug: ["failed_mails"]}
    await conn.execute("DELETE FROM outbox WHERE id = $1", second)
    assert await needs(conn, staff) == {}


async def test_a_waiting_list_while_seats_are_free_follows_the_counters(conn, settings, staff) -> None:
    event = await create_event(conn, settings, organisation="asti", capacity=2)
    confirmed, _ = await insert_registration(conn, settings, event.slug, status="confirmed")
    await insert_registration(conn, settings, event.slug, status="confirmed")
    waiting, _ = await insert_registration(conn, settings, event.slug, status="waitlisted")
    assert await needs(conn, staff) == {}  # full: the waiting list waits for a seat
    await conn.execute("UPDATE registrations SET status = 'cancelled' WHERE id = $1", confirmed["id"])
    assert await needs(conn, staff) == {event.slug: ["waiting_while_free"]}
    await conn.execute("UPDATE registrations SET status = 'confirmed' WHERE id = $1", waiting["id"])
    assert await needs(conn, staff) == {}
    unlimited = await create_event(conn, settings, organisation="asti", capacity=None)
    await insert_registration(conn, settings, unlimited.slug, status="waitlisted")
    assert await needs(conn, staff) == {unlimited.slug: ["waiting_while_free"]}


async def test_a_changed_capacity_reaches_the_attention_list(conn, settings, staff) -> None:
    event = await create_event(conn, settings, organisation="asti", capacity=2)
    for status in ("confirmed", "confirmed", "waitlisted", "waitlisted"):
        await insert_registration(conn, settings, event.slug, status=status)
    assert await needs(conn, staff) == {}
    # raised by hand (no one promoted): two seats free, two people waiting
    await conn.execute("UPDATE events SET capacity = 4 WHERE slug = $1", event.slug)
    assert await needs(conn, staff) == {event.slug: ["waiting_while_free"]}
    await conn.execute("UPDATE events SET capacity = 2 WHERE slug = $1", event.slug)
    assert await needs(conn, staff) == {}
    await conn.execute("UPDATE events SET capacity = NULL WHERE slug = $1", event.slug)
    assert await needs(conn, staff) == {event.slug: ["waiting_while_free"]}
    await conn.execute("UPDATE events SET capacity = 1 WHERE slug = $1", event.slug)
    assert await needs(conn, staff) == {}
    # raised in the editor: the oldest waiting people are seated in the same transaction
    await update_event(conn, ADMIN, event.slug, EventPatch(capacity=3), settings)
    assert await needs(conn, staff) == {}
    counters = await conn.fetchrow(
        "SELECT s.seats_offered, s.seats_taken, s.waitlist_length "
        "FROM event_seats s JOIN events e ON e.id = s.event_id WHERE e.slug = $1",
        event.slug,
    )
    assert tuple(counters) == (3, 3, 1)
    copy = await create_event(conn, settings, organisation="asti", capacity=7, publish=False)
    assert (
        await conn.fetchval(
            "SELECT s.seats_offered FROM event_seats s JOIN events e ON e.id = s.event_id WHERE e.slug = $1", copy.slug
        )
        == 7
    )


async def test_pending_holds_need_attention_only_within_24_hours(conn, settings, staff) -> None:
    tomorrow = await create_event(conn, settings, organisation="asti", starts_at=soon(5), ends_at=soon(6))
    later = await create_event(conn, settings, organisation="asti", starts_at=soon(30), ends_at=soon(31))
    running = await create_event(conn, settings, organisation="asti", starts_at=soon(-50), ends_at=soon(2))
    draft = await create_event(conn, settings, organisation="asti", starts_at=soon(5), ends_at=soon(6), publish=False)
    holds = {}
    for event in (tomorrow, later, running, draft):
        holds[event.slug], _ = await insert_registration(conn, settings, event.slug, status="pending")
    assert await needs(conn, staff) == {tomorrow.slug: ["pending_soon"], running.slug: ["pending_soon"]}
    await conn.execute("UPDATE registrations SET status = 'confirmed' WHERE id = $1", holds[tomorrow.slug]["id"])
    await conn.execute("UPDATE registrations SET status = 'expired' WHERE id = $1", holds[running.slug]["id"])
    assert await needs(conn, staff) == {}


async def test_other_organisations_and_ended_events_are_left_out(conn, settings, staff) -> None:
    other = await create_event(conn, settings, organisation="caritas")
    ended = await create_event(conn, settings, organisation="asti", starts_at=soon(-3), ends_at=soon(-2))
    await conn.execute("UPDATE events SET join_url = NULL WHERE slug = ANY($1)", [other.slug, ended.slug])
    await conn.execute(
        "INSERT INTO outbox (kind, event_id, recipient, status) "
        "SELECT 'reminder', id, 'x@example.org', 'failed' FROM events WHERE slug = ANY($1)",
        [other.slug, ended.slug],
    )
    assert await needs(conn, staff) == {}
    caritas, _ = await create_organiser(conn, {"caritas": "viewer"})
    assert await needs(conn, caritas) == {other.slug: ["no_join_link", "failed_mails"]}


async def test_the_attention_list_pages_on_past_its_first_events(conn, settings, staff) -> None:
    count = dashboard.ATTENTION_MOST + 3
    for i in range(count):
        event = await create_event(
            conn,
            settings,
            organisation="asti",
            title={"en": f"No link {i:02}"},
            starts_at=soon(48 + i),
            ends_at=soon(49 + i),
        )
        await conn.execute("UPDATE events SET join_url = NULL WHERE slug = $1", event.slug)
    first = await dashboard.dashboard(conn, staff)
    last = first["attention"][-1]
    assert (len(first["attention"]), first["attention_more"]) == (dashboard.ATTENTION_MOST, 3)
    second = await dashboard.dashboard(conn, staff, attention_after=(last["starts_at"], last["id"]))
    assert [e["title"]["en"] for e in second["attention"]] == [f"No link {i:02}" for i in range(25, count)]
    assert (second["attention_more"], second["more_attention_href"]) == (0, None)
    await with_password(conn, staff.email)
    async with browser(app_on(settings, conn)) as http:
        assert (await sign_in(http, staff.email, lang="en")).status_code == 303
        page = await http.get("/organiser/")
        assert "No link 24" in attention_of(page) and "No link 25" not in attention_of(page)
        more = re.search(r'<a href="([^"]+)">and 3 more', page.text).group(1).replace("&amp;", "&")
        assert "attention_after=" in more
        rest = attention_of(await http.get(more))
        assert "No link 25" in rest and "No link 27" in rest and "No link 24" not in rest and "more" not in rest
        bad = await http.get("/organiser/", params={"attention_after": "2026-12-01T10:00:00,1"})
        assert bad.status_code == 400


async def test_the_pages_of_several_organisations_merge_in_order_of_time(conn, settings) -> None:
    person, _ = await create_organiser(conn, {"asti": "viewer", "caritas": "organiser"})
    made = []
    for i in range(dashboard.COMING_PAGE + 5):
        organisation = "asti" if i % 3 else "caritas"
        event = await create_event(
            conn, settings, organisation=organisation, starts_at=soon(30 + 2 * i), ends_at=soon(31 + 2 * i)
        )
        made.append(event.slug)
    drafts = [
        (await create_event(conn, settings, organisation=o, publish=False, starts_at=soon(h), ends_at=soon(h + 1))).slug
        for o, h in (("caritas", 40), ("asti", 41), ("caritas", 42))
    ]
    first = await dashboard.dashboard(conn, person)
    assert [e["slug"] for e in first["coming"]] == made[: dashboard.COMING_PAGE]
    assert [e["slug"] for e in first["drafts"]] == drafts
    after = (first["coming"][-1]["starts_at"], first["coming"][-1]["id"])
    second = await dashboard.dashboard(conn, person, after=after)
    assert [e["slug"] for e in second["coming"]] == made[dashboard.COMING_PAGE :]


async def test_registrations_that_leave_the_flag_as_it_was_update_the_counters_in_place(conn, settings) -> None:
    # only the flag is indexed (migration 0040): filling an event and its waiting list stays HOT
    event = await create_event(conn, settings, organisation="asti", capacity=2)
    counts = "SELECT n_tup_upd, n_tup_hot_upd FROM pg_stat_xact_user_tables WHERE relname = 'event_seats'"
    before = await conn.fetchrow(counts)
    for status in ("pending", "confirmed", "waitlisted", "waitlisted"):
        await insert_registration(conn, settings, event.slug, status=status)
    after = await conn.fetchrow(counts)
    updates, hot = (after[0] - before[0], after[1] - before[1])
    assert (updates, hot) == (4, 4)
