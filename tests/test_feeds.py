"""The iCal feeds through HTTP: what three parsers read equals the database; 304s; the personal feed."""

from __future__ import annotations

import asyncio
import email.utils
from datetime import UTC, datetime, timedelta
from urllib.parse import quote
from zoneinfo import ZoneInfo

import icalendar
import msgspec
import pytest

from server.events.queries import EVENT_BY_SLUG
from server.events.schemas import EventPatch
from server.events.service import cancel_event, update_event
from server.feeds import service as feeds
from server.feeds.events import event_uid, occurrence_feed_event, series_uid
from server.feeds.ical import build_event_invitation
from server.registrations import manage
from server.registrations import service as registrations
from server.registrations.schemas import RegistrationIn
from server.registrations.tokens import join_url
from server.validation import local_today
from tests.factories import ADMIN, create_event, create_organisation, insert_registration
from tests.ical_readers import (
    Occurrence,
    assert_well_formed,
    epoch,
    occurrences_from,
    parse_with_icalendar,
    parse_with_icaljs,
    parse_with_vobject,
    with_private_tzids,
)

LUX = ZoneInfo("Europe/Luxembourg")
NEXT_YEAR = local_today().year + 1


def lux(month: int, day: int, hour: int, minute: int = 0, year: int = NEXT_YEAR) -> str:
    """An ISO instant of a wall time in Luxembourg next year (its offset as zoneinfo says)."""
    return datetime(year, month, day, hour, minute, tzinfo=LUX).isoformat()


async def patch(conn, settings, slug: str, **changes) -> None:
    """Change an event through the service, as the organiser API does."""
    await update_event(conn, ADMIN, slug, msgspec.convert(changes, EventPatch), settings)


def vevents(data: bytes) -> list[icalendar.Event]:
    return icalendar.Calendar.from_ical(data).walk("VEVENT")


# ---------------------------------------------------------------------------- calendar items


async def test_occurrence_item_is_localised_and_keeps_the_join_link_for_the_confirmed_only(conn, settings) -> None:
    event = await create_event(
        conn, settings, title={"fr": "Les Portugais", "pt": "Os Portugueses"}, languages=["fr", "pt"]
    )
    row = await conn.fetchrow(EVENT_BY_SLUG, event.slug)
    public = occurrence_feed_event(row, "pt", settings)
    assert public.summary == "Os Portugueses" and public.lang is None
    assert public.uid == event_uid(row["id"], settings) == f"event-{row['id']}@zesummen.test"
    assert public.join_url is None and public.categories == ["Webconferência"]
    assert public.description.endswith(f"https://zesummen.test/events/{event.slug}")
    confirmed = occurrence_feed_event(row, "de", settings, with_join_url=True)
    assert confirmed.lang == "fr"  # no German title: the French one, tagged as French
    invitation = icalendar.Calendar.from_ical(
        build_event_invitation(
            confirmed,
            method="REQUEST",
            lang="de",
            organizer_email="noreply@zesummen.lu",
            attendee_email="ana@example.org",
            attendee_name="Ana",
        )
    )
    vevent = invitation.walk("VEVENT")[0]
    assert str(vevent["CONFERENCE"]) == "https://meet.example.org/room"
    assert vevent["DTSTART"].dt == event.starts_at


# ---------------------------------------------------------------------------- the database, read three ways


async def programme(conn, settings, organisation: str) -> dict[str, str]:
    """Events in winter and summer, single and in series, with a moved, a retitled and a cancelled date."""
    made = {}
    made["winter"] = (
        await create_event(
            conn, settings, organisation=organisation, starts_at=lux(1, 14, 12, 15), ends_at=lux(1, 14, 13, 45)
        )
    ).slug
    made["summer"] = (
        await create_event(
            conn,
            settings,
            organisation=organisation,
            kind="info_session",
            commune="Esch-sur-Alzette",
            venue="Biergerzentrum",
            join_url=None,
            platform=None,
            starts_at=lux(7, 8, 18),
            ends_at=lux(7, 8, 19, 30),
        )
    ).slug
    made["cancelled"] = (
        await create_event(conn, settings, organisation=organisation, starts_at=lux(3, 18, 10), ends_at=lux(3, 18, 11))
    ).slug
    await cancel_event(conn, ADMIN, made["cancelled"], settings)
    # weekly from winter into summer time (29 March), one date left out when it was created
    spring = await create_event(
        conn,
        settings,
        organisation=organisation,
        kind="conversation_table",
        practised_language="lb",
        join_url=None,
        platform=None,
        venue="ASTI, 10-12, rue Auguste Laval, Luxembourg",
        title={"fr": "Table de conversation", "lb": "Konversatiounsdësch"},
        starts_at=lux(3, 3, 18, 30),
        ends_at=lux(3, 3, 20),
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=8", "exdates": [lux(3, 17, 18, 30)]},
    )
    made["spring"] = spring.series
    dates = spring.occurrences
    made["moved"], made["retitled"], made["dropped"] = dates[2], dates[4], dates[5]
    # moved across the change to summer time, to another day and hour
    await patch(conn, settings, dates[2], starts_at=lux(3, 30, 17), ends_at=lux(3, 30, 18, 15))
    await patch(
        conn, settings, dates[4], title={"fr": "Table de conversation (salle 2)", "lb": "Konversatiounsdësch (Sall 2)"}
    )
    await cancel_event(conn, ADMIN, dates[5], settings)
    # every other week across the return to winter time, the first date moved later that day
    autumn = await create_event(
        conn,
        settings,
        organisation=organisation,
        kind="conversation_table",
        practised_language="fr",
        join_url=None,
        platform=None,
        venue="CLAE, Luxembourg",
        starts_at=lux(10, 7, 12, 15),
        ends_at=lux(10, 7, 13, 45),
        recurrence={"rrule": "FREQ=WEEKLY;INTERVAL=2;UNTIL=" + f"{NEXT_YEAR}1202", "exdates": []},
    )
    made["autumn"] = autumn.series
    await patch(conn, settings, autumn.occurrences[0], starts_at=lux(10, 7, 14), ends_at=lux(10, 7, 15, 30))
    # neither a draft nor an event long past is in the feed
    await create_event(
        conn, settings, organisation=organisation, publish=False, starts_at=lux(5, 5, 10), ends_at=lux(5, 5, 11)
    )
    past = datetime.now(UTC) - timedelta(days=200)
    await create_event(
        conn,
        settings,
        organisation=organisation,
        starts_at=past.isoformat(),
        ends_at=(past + timedelta(hours=1)).isoformat(),
    )
    return made


async def occurrences_in_database(conn, settings, organisation: str) -> list[Occurrence]:
    """Every date the feed must show, straight from the event rows."""
    start, _ = feeds.window(feeds.today())
    rows = await conn.fetch(
        "SELECT e.* FROM events e JOIN organisations o ON o.id = e.organisation_id "
        "WHERE o.slug = $1 AND e.status <> 'draft' AND e.ends_at > $2",
        organisation,
        start,
    )
    return sorted(
        Occurrence(
            series_uid(row["series_id"], settings) if row["series_id"] else event_uid(row["id"], settings),
            epoch(row["recurrence_id"] or row["starts_at"]),
            epoch(row["starts_at"]),
            epoch(row["ends_at"]),
            row["status"] == "cancelled",
        )
        for row in rows
    )


async def test_three_parsers_agree_with_the_database_on_every_date(client, conn, settings, icaljs) -> None:
    """icalendar, vobject and ical.js read from /calendar.ics every start and end, the count and the cancelled dates."""
    organisation = (await create_organisation(conn))["slug"]
    made = await programme(conn, settings, organisation)
    expected = await occurrences_in_database(conn, settings, organisation)
    # 3 single events, 8 - 1 spring dates and 5 autumn ones (UNTIL=<date> takes in that whole day,
    # so 2 December is the last; the feed's rule ends at the last row)
    assert len(expected) == 3 + 7 + 5

    response = await client.get(f"/calendar.ics?organisation={organisation}&lang=lb")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/calendar; charset=utf-8"
    data = response.content
    assert_well_formed(data)

    readers = {
        "icalendar": occurrences_from(parse_with_icalendar(data)),
        "icalendar, the file's VTIMEZONE": occurrences_from(parse_with_icalendar(with_private_tzids(data))),
        "vobject": occurrences_from(parse_with_vobject(data)),
        "ical.js": parse_with_icaljs(icaljs, data),
    }
    for reader, found in readers.items():
        assert len(found) == len(expected), reader
        assert [o for o in found if o.cancelled] == [o for o in expected if o.cancelled], reader
        assert found == expected, reader
    cancelled = {o.uid for o in expected if o.cancelled}
    assert cancelled == {
        event_uid((await conn.fetchrow(EVENT_BY_SLUG, made["cancelled"]))["id"], settings),
        series_uid((await conn.fetchrow(EVENT_BY_SLUG, made["dropped"]))["series_id"], settings),
    }

    # each series is one VEVENT with its rule, and one override per date changed on its own
    items = vevents(data)
    spring_uid = series_uid((await conn.fetchrow(EVENT_BY_SLUG, made["moved"]))["series_id"], settings)
    spring = [v for v in items if str(v["UID"]) == spring_uid]
    (master,) = [v for v in spring if "RECURRENCE-ID" not in v]
    assert "RRULE" in master and master["SUMMARY"] == "Konversatiounsdësch"
    exdates = [
        d.dt
        for prop in (master["EXDATE"] if isinstance(master["EXDATE"], list) else [master["EXDATE"]])
        for d in prop.dts
    ]
    assert [d.astimezone(UTC) for d in exdates] == [datetime.fromisoformat(lux(3, 17, 18, 30)).astimezone(UTC)]
    overrides = sorted((str(v["STATUS"]), str(v["SUMMARY"])) for v in spring if "RECURRENCE-ID" in v)
    assert overrides == [
        ("CANCELLED", "Konversatiounsdësch"),
        ("CONFIRMED", "Konversatiounsdësch"),
        ("CONFIRMED", "Konversatiounsdësch (Sall 2)"),
    ]
    assert master["CATEGORIES"].cats == ["Konversatiounsdësch"]
    assert str(master["LOCATION"]) == "ASTI, 10-12, rue Auguste Laval, Luxembourg"


async def test_the_organisation_feed_is_the_same_events_under_its_name(client, conn, settings) -> None:
    """/organisations/{slug}/calendar.ics lists what /calendar.ics?organisation= lists, named after it."""
    organisation = (await create_organisation(conn, name="ASTI asbl"))["slug"]
    await programme(conn, settings, organisation)
    own = await client.get(f"/organisations/{organisation}/calendar.ics?lang=de")
    listed = await client.get(f"/calendar.ics?organisation={organisation}&lang=de")
    assert own.status_code == listed.status_code == 200
    calendar = icalendar.Calendar.from_ical(own.content)
    assert str(calendar["X-WR-CALNAME"]) == "ASTI asbl – Zesummen"
    assert "der Organisation ASTI asbl" in str(calendar["X-WR-CALDESC"])
    assert own.content.split(b"BEGIN:VTIMEZONE", 1)[1] == listed.content.split(b"BEGIN:VTIMEZONE", 1)[1]
    assert own.headers["etag"] != listed.headers["etag"]
    await create_organisation(conn, organisation, name="ASTI – Association de soutien aux travailleurs immigrés")
    renamed = await client.get(
        f"/organisations/{organisation}/calendar.ics?lang=de", headers={"If-None-Match": own.headers["etag"]}
    )
    assert renamed.status_code == 200
    assert str(icalendar.Calendar.from_ical(renamed.content)["X-WR-CALNAME"]).startswith("ASTI – Association")
    missing = await client.get("/organisations/no-such-organisation/calendar.ics")
    assert missing.status_code == 404 and missing.headers["content-type"] == "application/problem+json"


# ---------------------------------------------------------------------------- HTTP


async def test_etag_gives_304_and_a_change_gives_the_new_feed(client, conn, settings) -> None:
    organisation = (await create_organisation(conn))["slug"]
    event = await create_event(conn, settings, organisation=organisation)
    url = f"/calendar.ics?organisation={organisation}&lang=en"
    first = await client.get(url)
    etag = first.headers["etag"]
    assert etag.startswith('"') and not etag.startswith("W/")
    assert first.headers["cache-control"] == "public, max-age=300"
    again = await client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b"" and again.headers["etag"] == etag
    assert (await client.get(url, headers={"If-None-Match": f'"other", W/{etag}'})).status_code == 304
    assert (await client.get(url, headers={"If-None-Match": '"other"'})).status_code == 200
    for odd in ("", " , ", "*, W/", '"unterminated'):
        assert (await client.get(url, headers={"If-None-Match": odd})).status_code == 200  # only a lone * is any tag
    await patch(conn, settings, event.slug, title={"fr": "Nouveau titre", "en": "New title"})
    changed = await client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag
    assert b"SUMMARY;LANGUAGE=en:New title" in changed.content


async def test_if_modified_since_gives_304_until_the_feed_changes(client, conn, settings) -> None:
    organisation = (await create_organisation(conn))["slug"]
    event = await create_event(conn, settings, organisation=organisation)
    url = f"/organisations/{organisation}/calendar.ics"
    first = await client.get(url)
    last_modified = first.headers["last-modified"]
    assert email.utils.parsedate_to_datetime(last_modified) <= datetime.now(UTC)
    assert (await client.get(url, headers={"If-Modified-Since": last_modified})).status_code == 304
    earlier = email.utils.format_datetime(
        email.utils.parsedate_to_datetime(last_modified) - timedelta(seconds=1), usegmt=True
    )
    assert (await client.get(url, headers={"If-Modified-Since": earlier})).status_code == 200
    assert (await client.get(url, headers={"If-Modified-Since": "not a date"})).status_code == 200
    # If-None-Match decides when both are sent (RFC 9110 13.2.2)
    both = {"If-Modified-Since": last_modified, "If-None-Match": '"other"'}
    assert (await client.get(url, headers=both)).status_code == 200
    await patch(conn, settings, event.slug, venue="Salle des fêtes")
    changed = await client.get(url, headers={"If-Modified-Since": last_modified})
    assert changed.status_code == 200
    # the new version is at least a second later, even within the same second
    assert email.utils.parsedate_to_datetime(changed.headers["last-modified"]) > email.utils.parsedate_to_datetime(
        last_modified
    )


async def test_the_window_is_bounded_and_filters_narrow_it(client, conn, settings) -> None:
    """90 days back to two years ahead; from, to and q narrow it, never widen it."""
    organisation = (await create_organisation(conn))["slug"]
    past = datetime.now(UTC) - timedelta(days=120)
    recent = datetime.now(UTC) - timedelta(days=30)
    for start, title in ((past, "Trop ancien"), (recent, "Le mois dernier")):
        await create_event(
            conn,
            settings,
            organisation=organisation,
            title={"fr": title},
            starts_at=start.isoformat(),
            ends_at=(start + timedelta(hours=1)).isoformat(),
        )
    await create_event(conn, settings, organisation=organisation, title={"fr": "Bientôt"})

    async def titles(query: str) -> list[str]:
        answer = await client.get(f"/calendar.ics?organisation={organisation}{query}")
        assert answer.status_code == 200, answer.text
        return sorted(str(v["SUMMARY"]) for v in vevents(answer.content))

    assert await titles("") == ["Bientôt", "Le mois dernier"]
    assert await titles("&from=2000-01-01T00:00:00Z") == ["Bientôt", "Le mois dernier"]
    now = quote(datetime.now(UTC).isoformat())
    assert await titles(f"&from={now}") == ["Bientôt"]
    assert await titles(f"&to={now}") == ["Le mois dernier"]
    assert await titles("&q=bient") == ["Bientôt"]
    # free text makes endless addresses: such feeds get an ETag but are not recorded for Last-Modified
    searched = await client.get(f"/calendar.ics?organisation={organisation}&q=bient")
    assert "etag" in searched.headers and "last-modified" not in searched.headers
    assert (await client.get("/calendar.ics?from=2026-02-30T00:00:00Z")).status_code == 422


async def test_head_gives_the_headers_of_get_without_the_body(client, conn, settings) -> None:
    organisation = (await create_organisation(conn))["slug"]
    event = await create_event(conn, settings, organisation=organisation)
    for url in (
        f"/calendar.ics?organisation={organisation}",
        f"/organisations/{organisation}/calendar.ics",
        f"/events/{event.slug}.ics",
    ):
        for coding in ("identity", "gzip"):
            asked = {"Accept-Encoding": coding}
            got, head = await client.get(url, headers=asked), await client.head(url, headers=asked)
            assert head.status_code == 200 and head.content == b"", url
            for name in ("etag", "last-modified", "content-type", "cache-control", "content-length", "vary"):
                assert head.headers[name] == got.headers[name], (url, name)
            assert head.headers.get("content-encoding") == got.headers.get("content-encoding")
            assert (await client.head(url, headers={"If-None-Match": got.headers["etag"]})).status_code == 304
        assert int(head.headers["content-length"]) < len(got.content)  # gzip, smaller than the feed it decodes to


async def test_gzip_is_the_same_feed_under_its_own_etag(client, conn, settings) -> None:
    organisation = (await create_organisation(conn))["slug"]
    await create_event(conn, settings, organisation=organisation)
    url = f"/organisations/{organisation}/calendar.ics"
    plain = await client.get(url, headers={"Accept-Encoding": "identity"})
    packed = await client.get(url, headers={"Accept-Encoding": "gzip, deflate"})
    refused = await client.get(url, headers={"Accept-Encoding": "gzip;q=0, br"})
    assert "content-encoding" not in plain.headers and "content-encoding" not in refused.headers
    assert packed.headers["content-encoding"] == "gzip" and packed.content == plain.content
    assert packed.headers["etag"] == plain.headers["etag"][:-1] + '-gz"'
    assert "Accept-Encoding" in packed.headers["vary"]
    for etag in (plain.headers["etag"], packed.headers["etag"]):  # either copy is current
        assert (await client.get(url, headers={"If-None-Match": etag, "Accept-Encoding": "gzip"})).status_code == 304


async def test_sequence_grows_on_a_move_and_not_on_a_typo_fix(client, conn, settings) -> None:
    event = await create_event(conn, settings, description={"fr": "Une descriptoin."})

    async def sequence_and_description() -> tuple[int, str, str]:
        answer = await client.get(f"/events/{event.slug}.ics?lang=fr")
        (vevent,) = vevents(answer.content)
        return int(vevent["SEQUENCE"]), str(vevent["DESCRIPTION"]), answer.headers["etag"]

    sequence, description, etag = await sequence_and_description()
    assert sequence == 0 and description.startswith("Une descriptoin.")
    await patch(conn, settings, event.slug, description={"fr": "Une description."})
    sequence, description, fixed_etag = await sequence_and_description()
    assert sequence == 0 and description.startswith("Une description.") and fixed_etag != etag
    moved = event.starts_at + timedelta(days=1)
    await patch(
        conn, settings, event.slug, starts_at=moved.isoformat(), ends_at=(moved + timedelta(hours=1)).isoformat()
    )
    sequence, _, _ = await sequence_and_description()
    assert sequence == 1


async def test_a_registration_changes_neither_the_feed_nor_its_etag(client, conn, settings) -> None:
    organisation = (await create_organisation(conn))["slug"]
    event = await create_event(conn, settings, organisation=organisation, capacity=10, confirmation_required=False)
    url = f"/calendar.ics?organisation={organisation}"
    first = await client.get(url)
    before = await conn.fetchrow("SELECT row_version, updated_at FROM events WHERE slug = $1", event.slug)
    person = RegistrationIn(name="Ana Silva", email="ana.silva@example.org", language="pt", consent=True)
    await registrations.register(conn, event.slug, person, settings, client_ip="192.0.2.7")
    after = await conn.fetchrow(
        "SELECT row_version, updated_at, seats_taken FROM events JOIN event_seats ON event_id = id WHERE slug = $1",
        event.slug,
    )
    # the seat is counted apart (migration 0024): the event's row is not written at all
    assert after["seats_taken"] == 1 and after["row_version"] == before["row_version"]
    assert after["updated_at"] == before["updated_at"]
    again = await client.get(url, headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.headers["etag"] == first.headers["etag"]
    assert (await client.get(url)).content == first.content


async def test_every_change_of_content_moves_updated_at_even_from_code_that_forgets(conn, settings) -> None:
    """Migration 0005: an UPDATE without updated_at still moves it; the privacy job's mark does not."""
    event = await create_event(conn, settings)
    read = "SELECT updated_at FROM events WHERE slug = $1"
    before = await conn.fetchval(read, event.slug)
    await conn.execute("UPDATE events SET venue = 'Salle 2' WHERE slug = $1", event.slug)
    moved = await conn.fetchval(read, event.slug)
    assert moved > before
    await conn.execute("UPDATE events SET venue = 'Salle 3' WHERE slug = $1", event.slug)  # same transaction
    assert await conn.fetchval(read, event.slug) > moved
    last = await conn.fetchval(read, event.slug)
    # the privacy job's mark does not move it (0012); a new title does, and the words searched follow (0025)
    await conn.execute("UPDATE events SET registrations_anonymised_at = now() WHERE slug = $1", event.slug)
    assert await conn.fetchval(read, event.slug) == last
    await conn.execute("""UPDATE events SET title = '{"fr": "Apéro des voisins"}' WHERE slug = $1""", event.slug)
    assert await conn.fetchval(read, event.slug) > last
    found = "SELECT search @@ event_search_query($2, NULL, NULL) FROM events WHERE slug = $1"
    assert await conn.fetchval(found, event.slug, "apéro voisins")


async def test_a_feed_is_built_once_per_change_not_once_per_poll(client, conn, settings, monkeypatch) -> None:
    builds = []
    real_render = feeds.render
    monkeypatch.setattr(feeds, "render", lambda *args: builds.append(1) or real_render(*args))
    organisation = (await create_organisation(conn))["slug"]
    event = await create_event(conn, settings, organisation=organisation)
    url = f"/organisations/{organisation}/calendar.ics"
    bodies = {(await client.get(url)).content for _ in range(5)}
    assert len(bodies) == 1 and len(builds) == 1
    await patch(conn, settings, event.slug, venue="Salle 2")
    for _ in range(3):
        await client.get(url)
    assert len(builds) == 2


# ---------------------------------------------------------------------------- one event


async def test_an_event_feed_is_its_page_s_ical_url_and_the_page_still_works(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    public = (await client.get(f"/api/events/{event.slug}")).json()
    assert public["ical_url"] == f"https://zesummen.test/events/{event.slug}.ics"
    assert public["webcal_url"] == f"webcal://zesummen.test/events/{event.slug}.ics"
    answer = await client.get(
        public["ical_url"].removeprefix("https://zesummen.test"), headers={"Accept-Language": "de"}
    )
    assert answer.status_code == 200 and answer.headers["content-type"] == "text/calendar; charset=utf-8"
    (vevent,) = vevents(answer.content)
    assert str(vevent["UID"]) == event_uid((await conn.fetchrow(EVENT_BY_SLUG, event.slug))["id"], settings)
    assert str(vevent["SUMMARY"]) == "Konferenz"
    assert "Vary" in answer.headers and "Cookie" in answer.headers["vary"]
    page = await client.get(f"/events/{event.slug}", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert (await client.head(f"/events/{event.slug}")).status_code == 200
    for missing in ("/events/no-such-event.ics", "/events/.ics"):
        answer = await client.get(missing, headers={"Accept": "text/html"})
        assert answer.status_code == 404 and answer.headers["content-type"] == "application/problem+json", missing
    draft = await create_event(conn, settings, publish=False)
    assert (await client.get(f"/events/{draft.slug}.ics")).status_code == 404
    drafts = await create_event(
        conn,
        settings,
        publish=False,
        title={"fr": "Brouillon secret"},
        recurrence={"rrule": "FREQ=WEEKLY;COUNT=2", "exdates": []},
    )
    for slug in (drafts.series, drafts.occurrences[0]):
        assert (await client.get(f"/events/{slug}.ics")).status_code == 404
    assert b"Brouillon" not in (await client.get("/calendar.ics")).content


async def test_a_date_of_a_series_is_that_date_and_the_series_slug_the_whole_rule(
    client, conn, settings, icaljs
) -> None:
    """The date's feed carries the UID its invitation mail carries; the series' slug gives the rule."""
    series = await create_event(conn, settings, recurrence={"rrule": "FREQ=WEEKLY;COUNT=4", "exdates": []})
    second = series.occurrences[1]
    row = await conn.fetchrow(EVENT_BY_SLUG, second)
    one = (await client.get(f"/events/{second}.ics")).content
    (vevent,) = vevents(one)
    assert "RRULE" not in vevent and vevent["DTSTART"].dt == row["starts_at"]
    invitation = build_event_invitation(
        occurrence_feed_event(row, "fr", settings),
        method="REQUEST",
        lang="fr",
        organizer_email="noreply@zesummen.lu",
        attendee_email="a@example.org",
        attendee_name="A",
    )
    assert str(vevent["UID"]) == str(vevents(invitation)[0]["UID"]) == event_uid(row["id"], settings)
    whole = (await client.get(f"/events/{series.series}.ics")).content
    (master,) = vevents(whole)
    assert str(master["UID"]) == series_uid(row["series_id"], settings) and "RRULE" in master
    assert len(parse_with_icaljs(icaljs, whole)) == 4


# ---------------------------------------------------------------------------- the person's own feed


async def test_the_personal_feed_shows_the_holder_s_confirmed_events_and_nobody_else_s(client, conn, settings) -> None:
    mine_online = await create_event(conn, settings, title={"fr": "Ma web-conférence"})
    mine_elsewhere = await create_event(
        conn,
        settings,
        kind="info_session",
        commune="Mersch",
        venue="Mairie",
        join_url=None,
        platform=None,
        title={"fr": "Ma séance"},
    )
    pending = await create_event(conn, settings, title={"fr": "Pas encore confirmé"})
    theirs = await create_event(conn, settings, title={"fr": "La conférence de Bruno"})
    shared = await create_event(conn, settings, title={"fr": "Conférence commune"})
    _, token = await insert_registration(conn, settings, mine_online.slug, email="ana@example.org", language="pt")
    await insert_registration(conn, settings, mine_elsewhere.slug, email="ana@example.org")
    await insert_registration(conn, settings, pending.slug, email="ana@example.org", status="pending")
    await insert_registration(conn, settings, shared.slug, email="ana@example.org", status="cancelled")
    _, bruno_token = await insert_registration(conn, settings, theirs.slug, email="bruno@example.org")
    await insert_registration(conn, settings, shared.slug, email="bruno@example.org")

    answer = await client.get(f"/api/registrations/{token}/calendar.ics")
    assert answer.status_code == 200
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["referrer-policy"] == "no-referrer"
    calendar = icalendar.Calendar.from_ical(answer.content)
    assert str(calendar["X-WR-CALNAME"]) == "As minhas inscrições – Zesummen"  # the language she registered in
    summaries = sorted(str(v["SUMMARY"]) for v in calendar.walk("VEVENT"))
    assert summaries == ["Ma séance", "Ma web-conférence"]
    by_summary = {str(v["SUMMARY"]): v for v in calendar.walk("VEVENT")}
    # her own join link (/j/), never the conference's link itself
    mine_id = await conn.fetchval(
        "SELECT id FROM registrations WHERE email = 'ana@example.org' AND event_id = "
        "(SELECT id FROM events WHERE slug = $1)",
        mine_online.slug,
    )
    nonce = await conn.fetchval("SELECT token_nonce FROM registrations WHERE id = $1", mine_id)
    personal = join_url(settings.base, settings.secret_key, mine_id, bytes(nonce))
    assert str(by_summary["Ma web-conférence"]["CONFERENCE"]) == personal
    assert personal in str(by_summary["Ma web-conférence"]["DESCRIPTION"])
    assert b"meet.example.org" not in answer.content
    assert "CONFERENCE" not in by_summary["Ma séance"]
    assert b"Bruno" not in answer.content

    bruno = icalendar.Calendar.from_ical(
        (await client.get(f"/api/registrations/{bruno_token}/calendar.ics?lang=en")).content
    )
    assert sorted(str(v["SUMMARY"]) for v in bruno.walk("VEVENT")) == ["Conférence commune", "La conférence de Bruno"]
    # the public feed never carries a join link
    assert b"meet.example.org" not in (await client.get("/calendar.ics")).content

    # a confirmation adds a date, a cancellation takes one away: the ETag follows
    etag = answer.headers["etag"]
    await conn.execute(
        "UPDATE registrations SET status = 'confirmed', confirmed_at = now(), hold_expires_at = NULL, "
        "updated_at = clock_timestamp() WHERE email = 'ana@example.org' AND status = 'pending'"
    )
    grown = await client.get(f"/api/registrations/{token}/calendar.ics", headers={"If-None-Match": etag})
    assert grown.status_code == 200 and b"Pas encore confirm" in grown.content


async def test_the_personal_feed_of_an_unknown_or_erased_token_is_404(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    _, token = await insert_registration(conn, settings, event.slug, email="carla@example.org")
    assert (await client.get(f"/api/registrations/{token}/calendar.ics")).status_code == 200
    await manage.erase(conn, token, settings)
    for unknown in (token, "x" * 43, "short"):
        answer = await client.get(f"/api/registrations/{unknown}/calendar.ics")
        assert answer.status_code == 404 and answer.json()["code"] == "token_unknown", unknown


# ---------------------------------------------------------------------------- across processes


async def listening_and_quiet(app_client) -> None:
    """Until the instance listens and no change notice (e.g. of a fixture's commit) is on its way."""
    listener = app_client.app.state.feed_cache.listener
    for _ in range(200):
        seen = listener.generation
        await asyncio.sleep(0.05)
        if listener.live and listener.generation == seen:
            return
    raise AssertionError("the instance does not listen for change notices")


@pytest.fixture
async def two_instances(database_url, settings, pool):
    """Two app instances with their own pools and listeners on the same database (as two processes)."""
    from litestar.testing import AsyncTestClient

    from server.app import create_app

    async with AsyncTestClient(create_app(settings)) as first, AsyncTestClient(create_app(settings)) as second:
        yield first, second
    async with pool.acquire() as conn:
        await conn.execute("DELETE FROM feed_versions")


@pytest.fixture
async def committed_organisation(pool, settings):
    """An organisation with one published event, committed; removed afterwards."""
    async with pool.acquire() as conn:
        organisation = (await create_organisation(conn))["slug"]
        event = await create_event(conn, settings, organisation=organisation, capacity=10, confirmation_required=False)
    yield organisation, event.slug
    async with pool.acquire() as conn, conn.transaction():
        ids = [
            r["id"]
            for r in await conn.fetch(
                "SELECT e.id FROM events e JOIN organisations o ON o.id = e.organisation_id WHERE o.slug = $1",
                organisation,
            )
        ]
        await conn.execute("DELETE FROM outbox WHERE event_id = ANY($1)", ids)
        await conn.execute("DELETE FROM registrations WHERE event_id = ANY($1)", ids)
        await conn.execute("DELETE FROM events WHERE id = ANY($1)", ids)
        await conn.execute("DELETE FROM organisations WHERE slug = $1", organisation)
        await conn.execute("DELETE FROM rate_limits")


async def test_two_instances_agree_build_once_and_see_each_other_s_changes(
    two_instances, committed_organisation, pool, settings, monkeypatch
) -> None:
    first, second = two_instances
    organisation, slug = committed_organisation
    builds = []
    real_render = feeds.render
    monkeypatch.setattr(feeds, "render", lambda *args: builds.append(1) or real_render(*args))
    for app_client in two_instances:
        await listening_and_quiet(app_client)
    url = f"/organisations/{organisation}/calendar.ics"

    answer = await first.get(url)
    etag, last_modified = answer.headers["etag"], answer.headers["last-modified"]
    # the other instance knows the version without building: same ETag, same Last-Modified
    assert (await second.get(url, headers={"If-None-Match": etag})).status_code == 304
    copy = await second.get(url)
    assert (copy.content, copy.headers["etag"], copy.headers["last-modified"]) == (answer.content, etag, last_modified)
    assert len(builds) == 1

    # a registration (committed) changes the seat count only: no notice, no new version
    async with pool.acquire() as conn:
        person = RegistrationIn(name="Ana", email="ana.two@example.org", language="fr", consent=True)
        await registrations.register(conn, slug, person, settings, client_ip="192.0.2.8")
    for app_client in two_instances:
        assert (await app_client.get(url, headers={"If-None-Match": etag})).status_code == 304

    # a change through one instance's API reaches the other within the notice's delay
    async with pool.acquire() as conn:
        await patch(conn, settings, slug, title={"fr": "Titre changé"})
    for _ in range(100):
        changed = await second.get(url, headers={"If-None-Match": etag})
        if changed.status_code == 200:
            break
        await asyncio.sleep(0.02)
    assert changed.status_code == 200 and "Titre changé" in changed.content.decode()
    from_first = await first.get(url, headers={"If-None-Match": etag})
    assert from_first.status_code == 200 and from_first.headers["etag"] == changed.headers["etag"]
    assert from_first.content == changed.content
    assert len(builds) == 2  # built by one instance, read by the other from feed_versions


async def test_a_poll_whose_answer_is_known_needs_no_database(two_instances, committed_organisation) -> None:
    """With the pool closed, known polls still get their 304 and 200 (from memory); others a clean 503."""
    app_client, _ = two_instances
    organisation, _ = committed_organisation
    await listening_and_quiet(app_client)
    url = f"/calendar.ics?organisation={organisation}"
    gzip = {"Accept-Encoding": "gzip"}
    first = await app_client.get(url, headers=gzip)
    # the app runs in the test client's own thread and loop: its pool is closed there
    await asyncio.to_thread(app_client.blocking_portal.call, app_client.app.state.pool.close)
    again = await app_client.get(url, headers=gzip)
    assert again.status_code == 200 and again.content == first.content
    assert {k: v for k, v in again.headers.items() if k != "date"} == {
        k: v for k, v in first.headers.items() if k != "date"
    }
    head = await app_client.head(url, headers=gzip)
    assert head.status_code == 200 and head.headers["content-length"] == first.headers["content-length"]
    assert (await app_client.get(url, headers={"If-None-Match": first.headers["etag"]})).status_code == 304
    assert (await app_client.get(url, headers={"If-Modified-Since": first.headers["last-modified"]})).status_code == 304
    for odd in ("", " , ", '"unterminated'):  # read from the raw headers here, not by Litestar
        assert (await app_client.get(url, headers={"If-None-Match": odd})).status_code == 200
    assert (await app_client.get(url, headers={"If-Modified-Since": "yesterday"})).status_code == 200
    unknown = await app_client.get(f"{url}&lang=pt")
    assert unknown.status_code == 503 and unknown.headers["content-type"] == "application/problem+json"


def test_every_feed_is_named_in_the_five_languages() -> None:
    """X-WR-CALNAME and X-WR-CALDESC of each kind of feed exist in fr, de, lb, en and pt, each its own."""
    from server.feeds import texts
    from server.i18n import LANGUAGES

    for table in (
        texts.ALL_EVENTS_NAME,
        texts.ALL_EVENTS_DESCRIPTION,
        texts.ORGANISATION_NAME,
        texts.ORGANISATION_DESCRIPTION,
        texts.PERSONAL_NAME,
        texts.PERSONAL_DESCRIPTION,
    ):
        assert set(table) == set(LANGUAGES) and all(table[lang].strip() for lang in LANGUAGES)
    for table in (
        texts.ALL_EVENTS_NAME,
        texts.ALL_EVENTS_DESCRIPTION,
        texts.ORGANISATION_DESCRIPTION,
        texts.PERSONAL_NAME,
        texts.PERSONAL_DESCRIPTION,
    ):
        assert len(set(table.values())) == len(LANGUAGES)  # no language left in another's words
    for table in (texts.ORGANISATION_NAME, texts.ORGANISATION_DESCRIPTION):
        assert all("{name}" in text for text in table.values())
