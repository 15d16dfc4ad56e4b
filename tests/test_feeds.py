"""Event rows as calendar items: UIDs, texts and links."""

from __future__ import annotations

from icalendar import Calendar

from server.events.queries import EVENT_BY_SLUG
from server.feeds.events import event_uid, occurrence_feed_event
from server.feeds.ical import build_event_invitation
from tests.factories import create_event


async def test_occurrence_item_is_localised_and_keeps_the_join_link_for_the_confirmed_only(conn, settings) -> None:
    event = await create_event(conn, settings, title={"fr": "Les Portugais", "pt": "Os Portugueses"}, languages=["fr", "pt"])
    row = await conn.fetchrow(EVENT_BY_SLUG, event.slug)
    public = occurrence_feed_event(row, "pt", settings)
    assert public.summary == "Os Portugueses" and public.lang is None
    assert public.uid == event_uid(row["id"], settings) == f"event-{row['id']}@zesummen.test"
    assert public.join_url is None and public.categories == ["Webconferência"]
    assert public.description.endswith(f"https://zesummen.test/events/{event.slug}")
    confirmed = occurrence_feed_event(row, "de", settings, with_join_url=True)
    assert confirmed.lang == "fr"  # no German title: the French one, tagged as French
    invitation = Calendar.from_ical(build_event_invitation(
        confirmed, method="REQUEST", lang="de", organizer_email="noreply@zesummen.lu",
        attendee_email="ana@example.org", attendee_name="Ana"))
    vevent = invitation.walk("VEVENT")[0]
    assert str(vevent["CONFERENCE"]) == "https://meet.example.org/room"
    assert vevent["DTSTART"].dt == event.starts_at
