"""A calendar per commune (issue 23): events held in the commune or aimed at it, its feed, and the one
list a commune may frame on its own website."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import msgspec
import pytest

from tests.apps import app_on
from tests.factories import auth, create_event, create_organiser
from tests.test_pages import HTML, text_of


def info_session(commune: str, days: int, title: str) -> dict:
    start = (datetime.now(UTC) + timedelta(days=days)).replace(microsecond=0)
    return {
        "kind": "info_session",
        "commune": commune,
        "venue": "Salle",
        "join_url": None,
        "platform": None,
        "title": {"fr": title, "de": f"{title} (de)"},
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
    }


@pytest.fixture
async def programme(conn, settings):
    """In Esch: a session, a web conference aimed at Esch (and Dudelange), a draft; elsewhere: one session."""
    held = await create_event(conn, settings, **info_session("Esch-sur-Alzette", 10, "Séance à Esch"))
    aimed = await create_event(
        conn,
        settings,
        title={"fr": "Webinaire pour Esch", "de": "Webinar für Esch"},
        aimed_at_communes=["Esch-sur-Alzette", "Dudelange"],
    )
    draft = await create_event(conn, settings, publish=False, **info_session("Esch-sur-Alzette", 12, "Brouillon"))
    elsewhere = await create_event(conn, settings, **info_session("Diekirch", 10, "Séance à Diekirch"))
    return {"held": held, "aimed": aimed, "draft": draft, "elsewhere": elsewhere}


async def test_organisers_aim_an_event_at_communes_through_the_api(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    from tests.factories import event_body

    made = await client.post(
        "/api/organiser/events", headers=auth(token), json=event_body(aimed_at_communes=["Mamer", "Clervaux"])
    )
    assert made.status_code == 201, made.text
    assert made.json()["aimed_at_communes"] == ["Clervaux", "Mamer"]
    slug = made.json()["slug"]
    changed = await client.patch(
        f"/api/organiser/events/{slug}", headers=auth(token), json={"aimed_at_communes": ["Mersch"]}
    )
    assert changed.status_code == 200 and changed.json()["aimed_at_communes"] == ["Mersch"]
    read = await client.get(f"/api/organiser/events/{slug}", headers=auth(token))
    assert read.json()["aimed_at_communes"] == ["Mersch"]
    listed = await client.get("/api/organiser/events", headers=auth(token))
    assert [e["aimed_at_communes"] for e in listed.json()["items"] if e["slug"] == slug] == [["Mersch"]]
    unknown = await client.patch(
        f"/api/organiser/events/{slug}", headers=auth(token), json={"aimed_at_communes": ["Mersch", "Atlantis"]}
    )
    assert unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "aimed_at_communes"
    assert await conn.fetchval("SELECT array_agg(commune) FROM event_communes") == ["Mersch"]


async def test_the_commune_page_shows_events_held_there_or_aimed_at_it(client, programme) -> None:
    page = await client.get("/communes/esch-sur-alzette", params={"lang": "fr"}, headers=HTML)
    assert page.status_code == 200
    text = text_of(page)
    assert "Événements à Esch-sur-Alzette" in text
    assert "Séance à Esch" in text and "Webinaire pour Esch" in text
    assert "Brouillon" not in text and "Diekirch" not in text
    assert "https://zesummen.test/communes/esch-sur-alzette/calendar.ics" in page.text
    assert "/communes/esch-sur-alzette/embed?lang=fr" in page.text
    dudelange = text_of(await client.get("/communes/dudelange", params={"lang": "fr"}, headers=HTML))
    assert "Webinaire pour Esch" in dudelange and "Séance à Esch" not in dudelange
    assert "Aucun événement à venir" in text_of(await client.get("/communes/vianden?lang=fr", headers=HTML))
    for unknown in ("atlantis", "Esch-sur-Alzette"):
        assert (await client.get(f"/communes/{unknown}", headers=HTML)).status_code == 404


async def test_the_commune_feed_holds_the_same_events(client, programme) -> None:
    feed = await client.get("/communes/esch-sur-alzette/calendar.ics", params={"lang": "fr"})
    assert feed.status_code == 200 and feed.headers["content-type"].startswith("text/calendar")
    summaries = sorted(re.findall(r"^SUMMARY[^:]*:(.*?)\r?$", feed.text, re.M))
    assert summaries == ["Séance à Esch", "Webinaire pour Esch"]
    again = await client.get(
        "/communes/esch-sur-alzette/calendar.ics",
        params={"lang": "fr"},
        headers={"If-None-Match": feed.headers["etag"]},
    )
    assert again.status_code == 304
    assert (await client.get("/communes/atlantis/calendar.ics")).status_code == 404
    # the public feed's commune filter takes the aimed-at events too
    public = await client.get("/calendar.ics", params={"commune": "Dudelange", "lang": "fr"})
    assert re.findall(r"^SUMMARY[^:]*:(.*?)\r?$", public.text, re.M) == ["Webinaire pour Esch"]


async def test_only_the_embeddable_list_may_be_framed(client, programme, conn, settings) -> None:
    embed = await client.get("/communes/esch-sur-alzette/embed", params={"lang": "de"}, headers=HTML)
    assert embed.status_code == 200 and '<html lang="de">' in embed.text
    assert "Veranstaltungen in Esch-sur-Alzette" in text_of(embed) and "Séance à Esch (de)" in text_of(embed)
    assert "frame-ancestors *" in embed.headers["content-security-policy"]
    assert "x-frame-options" not in embed.headers
    assert 'target="_blank" rel="noopener"' in embed.text
    for path in ("/communes/esch-sur-alzette", "/communes/request", "/", f"/events/{programme['held'].slug}"):
        page = await client.get(path, headers=HTML)
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"], path
        assert page.headers["x-frame-options"] == "DENY", path
    narrow = msgspec.structs.replace(settings, embed_frame_ancestors="https://www.esch.lu")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app_on(narrow, conn)), base_url="http://testserver"
    ) as http:
        framed = await http.get("/communes/esch-sur-alzette/embed", headers=HTML)
    assert "frame-ancestors https://www.esch.lu" in framed.headers["content-security-policy"]
