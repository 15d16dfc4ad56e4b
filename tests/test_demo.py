"""The demo programme: the agency's real events, dated from today, in the languages a real site has."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from server.dev.demo import demo_events, load_programme, public_holidays
from tests.factories import create_organiser

LUX = ZoneInfo("Europe/Luxembourg")
TODAY = dt.date(2026, 12, 1)


def test_demo_is_deterministic_and_entirely_in_the_future() -> None:
    events = demo_events(TODAY)
    assert events == demo_events(TODAY)
    midnight = dt.datetime.combine(TODAY + dt.timedelta(days=1), dt.time(), tzinfo=LUX)
    assert all(dt.datetime.fromisoformat(e["starts_at"]) >= midnight for e in events)


@pytest.mark.parametrize("today", [dt.date(2026, 12, 20), dt.date(2027, 4, 20), dt.date(2027, 6, 15)])
def test_demo_avoids_public_holidays_and_the_christmas_break(today: dt.date) -> None:
    for event in demo_events(today):
        day = dt.datetime.fromisoformat(event["starts_at"]).astimezone(LUX).date()
        assert day not in public_holidays(day.year), event["slug"]
        assert not (day.month == 12 and day.day >= 24), event["slug"]


async def test_demo_loads_the_real_programme(client, conn, settings) -> None:
    created = await load_programme(conn, settings, TODAY)
    bodies = demo_events(TODAY)
    series = [b["recurrence"] for b in bodies if "recurrence" in b]
    # seven single events and two series of twelve weeks, less the weeks off (Christmas here)
    assert len(bodies) - len(series) == 7 and all(s["exdates"] for s in series)
    assert created == 7 + sum(12 - len(s["exdates"]) for s in series)
    listed = (await client.get("/api/events", params={"limit": 100, "from": "2026-12-01T00:00:00Z"})).json()["items"]
    by_slug = {item["slug"]: item for item in listed}
    portuguese = by_slug["portugais-seconde-generation"]
    assert portuguese["title"].startswith("Les Portugais de « seconde génération » au Luxembourg")
    assert portuguese["when"].endswith("12 h 15 – 13 h 45") and portuguese["location"].startswith("Web-conférence")
    press, public = by_slug["mipex-2020-conference-de-presse"], by_slug["mipex-2020-luxembourg"]
    assert press["starts_at"][:10] == public["starts_at"][:10] and press["ends_at"] <= public["starts_at"]
    german, french = by_slug["fluechtlinge-arbeitsmarkt"], by_slug["refugies-marche-de-l-emploi"]
    assert german["title"].startswith("Die Integration von Flüchtlingen in den Arbeitsmarkt")
    assert (german["starts_at"], german["languages"]) == (french["starts_at"], ["de"])
    tables = [item for item in listed if item["kind"] == "conversation_table"]
    assert {t["practised_language"] for t in tables} == {"fr", "lb"} and len(tables) == created - 7
    days = [dt.datetime.fromisoformat(t["starts_at"]).astimezone(LUX).date() for t in tables]
    assert not [d for d in days if d.month == 12 and d.day >= 24]  # no table in the Christmas break
    assert by_slug["benevolat-dpi-mersch"]["commune"] == "Mersch"
    assert "benevolat-dpi-differdange" not in by_slug  # the one draft stays out of public lists
    portuguese_view = (await client.get("/api/events/portugais-seconde-generation", params={"lang": "pt"})).json()
    assert portuguese_view["lang"] == "pt" and portuguese_view["title"].startswith("Os portugueses")


async def test_every_openapi_request_example_is_accepted(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser", "cefis": "organiser"})
    schema = (await client.get("/schema/openapi.json")).json()
    examples = schema["paths"]["/api/organiser/events"]["post"]["requestBody"]["content"]["application/json"]["schema"][
        "examples"
    ]
    assert len(examples) == 3
    for example in examples:
        response = await client.post(
            "/api/organiser/events", json=example, headers={"Authorization": f"Bearer {token}"}
        )
        assert response.status_code == 201, (example["kind"], response.text)
