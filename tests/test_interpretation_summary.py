"""The monthly and yearly summary through HTTP, as JSON and as a workbook read back with openpyxl."""

from __future__ import annotations

import io
from datetime import datetime

import openpyxl
import pytest

from tests.factories import auth, create_organisation, create_organiser
from tests.interpretation_helpers import LUX, at, interpreter_body, mission_body, monday

MISSIONS = "/api/organiser/interpretation-missions"
SUMMARY = "/api/organiser/interpretation-summary"


@pytest.fixture
async def staff(conn) -> str:
    """An organiser of ASTI, the agency."""
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


async def held(
    client, conn, staff, interpreter: int, starts: datetime, minutes: int | None, *, status: str = "done", **overrides
) -> int:
    """A mission entered through the API, then moved into the past as held (and done with its minutes)."""
    made = await client.post(MISSIONS, json=mission_body(at(monday(), 8), **overrides), headers=auth(staff))
    assert made.status_code == 201, made.text
    await conn.execute(
        "UPDATE interpretation_missions SET starts_at = $2::timestamptz, "
        "ends_at = $2::timestamptz + interval '1 hour', status = $3, "
        "interpreter_id = CASE WHEN $3 IN ('assigned', 'done') THEN $4::bigint END, minutes_spent = $5 WHERE id = $1",
        made.json()["id"],
        starts,
        status,
        interpreter,
        minutes,
    )
    return made.json()["id"]


def requester(kind: str) -> dict:
    return {"organisation": "Service", "contact": "Marie Weber", "email": "office@example.lu", "type": kind}


@pytest.fixture
async def year(client, conn, staff) -> None:
    """Missions of 2025 and 2026: the first of 2026 begins before midnight UTC, on New Year's Day in Luxembourg."""
    interpreter = (
        await client.post("/api/organiser/interpreters", json=interpreter_body(), headers=auth(staff))
    ).json()["id"]
    local = lambda *parts: datetime(*parts, tzinfo=LUX)  # noqa: E731
    await held(client, conn, staff, interpreter, local(2026, 1, 1, 0, 30), 90)
    await held(
        client,
        conn,
        staff,
        interpreter,
        local(2026, 1, 20, 10),
        None,
        status="assigned",
        from_language="fr",
        to_language="ti",
        field="health",
        requester=requester("hospital"),
    )
    await held(
        client, conn, staff, interpreter, local(2026, 3, 5, 10), 60, field="school", requester=requester("school")
    )
    await held(client, conn, staff, interpreter, local(2025, 12, 31, 23), 45)  # the year before
    await held(client, conn, staff, interpreter, local(2026, 2, 10, 10), None, status="cancelled")
    # another organisation's missions are not in ASTI's summary
    await create_organisation(conn, "other")
    _, other = await create_organiser(conn, {"other": "organiser"})
    other_interpreter = (
        await client.post(
            "/api/organiser/interpreters", json=interpreter_body(organisation="other"), headers=auth(other)
        )
    ).json()["id"]
    await held(client, conn, other, other_interpreter, local(2026, 1, 10, 10), 30, organisation="other")


def tally(key: str, missions: int, with_hours: int, hours: float) -> dict:
    return {"key": key, "missions": missions, "missions_with_hours": with_hours, "hours": hours}


async def test_the_summary_counts_held_missions_and_hours_by_month_and_year(client, staff, year) -> None:
    answer = await client.get(SUMMARY, params={"from": "2026-01-01", "to": "2026-12-31"}, headers=auth(staff))
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["organisation"], body["from"], body["to"]) == ("asti", "2026-01-01", "2026-12-31")
    assert body["months"] == [
        {
            "period": "2026-01",
            "missions": 2,
            "missions_with_hours": 1,
            "hours": 1.5,
            "languages": [tally("fr-ti", 2, 1, 1.5)],
            "field": [tally("health", 1, 0, 0.0), tally("social", 1, 1, 1.5)],
            "requester_type": [tally("hospital", 1, 0, 0.0), tally("social_office", 1, 1, 1.5)],
        },
        {
            "period": "2026-03",
            "missions": 1,
            "missions_with_hours": 1,
            "hours": 1.0,
            "languages": [tally("fr-ti", 1, 1, 1.0)],
            "field": [tally("school", 1, 1, 1.0)],
            "requester_type": [tally("school", 1, 1, 1.0)],
        },
    ]
    (whole,) = body["years"]
    assert (whole["period"], whole["missions"], whole["missions_with_hours"], whole["hours"]) == ("2026", 3, 2, 2.5)
    assert whole["field"] == [tally("health", 1, 0, 0.0), tally("school", 1, 1, 1.0), tally("social", 1, 1, 1.5)]
    # two years: the December mission of 2025 in its own month and year
    both = (await client.get(SUMMARY, params={"from": "2025-01-01", "to": "2026-12-31"}, headers=auth(staff))).json()
    assert [(p["period"], p["missions"], p["hours"]) for p in both["years"]] == [("2025", 1, 0.75), ("2026", 3, 2.5)]
    assert both["months"][0]["period"] == "2025-12"


async def test_the_summary_as_a_workbook_in_the_staff_members_language(client, staff, year) -> None:
    answer = await client.get(
        f"{SUMMARY}.xlsx", params={"from": "2026-01-01", "to": "2026-12-31", "lang": "de"}, headers=auth(staff)
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-disposition"] == (
        'attachment; filename="interpretation-asti-2026-01-01-2026-12-31.xlsx"'
    )
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames == ["Summen", "Nach Sprachpaar", "Nach Bereich", "Nach Art der Dienststelle"]
    assert [list(r) for r in book["Summen"].iter_rows(values_only=True)] == [
        ["Zeitraum", "Einsätze", "Einsätze mit erfassten Stunden", "Stunden"],
        ["2026-01", 2, 1, 1.5],
        ["2026-03", 1, 1, 1],
        ["2026", 3, 2, 2.5],
    ]
    assert list(book["Nach Sprachpaar"].iter_rows(values_only=True))[1] == (
        "2026-01",
        "Französisch – Tigrinya",
        2,
        1,
        1.5,
    )
    fields = [r[:3] for r in book["Nach Bereich"].iter_rows(min_row=2, values_only=True)]
    assert fields == [
        ("2026-01", "Gesundheit", 1),
        ("2026-01", "Soziales", 1),
        ("2026-03", "Schule", 1),
        ("2026", "Gesundheit", 1),
        ("2026", "Schule", 1),
        ("2026", "Soziales", 1),
    ]
    services = [r[1] for r in book["Nach Art der Dienststelle"].iter_rows(min_row=2, max_row=2, values_only=True)]
    assert services == ["Krankenhaus oder Arztpraxis"]
    french = openpyxl.load_workbook(
        io.BytesIO(
            (
                await client.get(
                    f"{SUMMARY}.xlsx",
                    params={"from": "2026-01-01", "to": "2026-12-31", "lang": "fr"},
                    headers=auth(staff),
                )
            ).content
        )
    )
    assert french.sheetnames[0] == "Totaux" and french["Par domaine"]["B2"].value == "Santé"


@pytest.mark.parametrize(
    ("params", "status", "field"),
    [
        ({"from": "2026-03-01", "to": "2026-01-31"}, 422, "to"),
        ({"from": "2000-01-01", "to": "2026-12-31"}, 422, "to"),
        ({"organisation": "other"}, 404, "organisation"),
        ({"organisation": "nowhere"}, 404, "organisation"),
    ],
)
async def test_bad_summaries_are_refused(client, conn, staff, params, status, field) -> None:
    await create_organisation(conn, "other")
    for path in (SUMMARY, f"{SUMMARY}.xlsx"):
        refused = await client.get(path, params=params, headers=auth(staff))
        assert refused.status_code == status, refused.text
        assert field in [e["field"] for e in refused.json()["errors"]]


async def test_a_date_that_is_not_one_is_refused(client, staff) -> None:
    refused = await client.get(SUMMARY, params={"from": "2026-13-01"}, headers=auth(staff))
    assert 400 <= refused.status_code < 500 and refused.status_code != 404
