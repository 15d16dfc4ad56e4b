"""After a commune's session (issue 23, point 4): a request is done with its outcome, attendance from the
linked events or stated, good practices kept with the request and its commune, audited."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest

from tests.factories import auth, insert_registration
from tests.test_communes import agency, make_request  # noqa: F401  (the fixture)

OUTCOME = {
    "discussed": "Statuts des DPI, logement.\nQuestions sur le bénévolat.",
    "follow_up": True,
    "follow_up_text": "Une seconde soirée au printemps.",
    "practices": [
        {"title": "Café des langues", "description": "Chaque mardi à la bibliothèque.", "tags": ["Langues", "jeunes"]},
        {"title": "Parrainage", "tags": []},
    ],
}


async def scheduled_request(client: httpx.AsyncClient, conn: asyncpg.Connection, token: str, present: int = 0) -> int:
    """A request whose session was held (published, in the past) with `present` people marked present."""
    request_id, _ = await make_request(client, conn)
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=35)
    made = await client.post(
        f"/api/organiser/commune-requests/{request_id}/schedule",
        headers=auth(token),
        json={"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=2)).isoformat()},
    )
    slug = made.json()["slug"]
    assert (await client.post(f"/api/organiser/events/{slug}/publish", headers=auth(token))).status_code == 200
    await conn.execute(
        "UPDATE events SET starts_at = $2::timestamptz, ends_at = $2::timestamptz + interval '2 hours' WHERE slug = $1",
        slug,
        datetime(2026, 3, 12, 18, tzinfo=UTC),
    )
    settings = client._transport.app.state.settings  # type: ignore[attr-defined]
    for n in range(present):
        await insert_registration(conn, settings, slug, attendance="present", email=f"p{n}@example.lu")
    await insert_registration(conn, settings, slug, attendance="absent", email="away@example.lu")
    return request_id


async def test_done_without_an_outcome_is_refused_naming_it(client, conn, agency) -> None:  # noqa: F811
    request_id = await scheduled_request(client, conn, agency["staff"][1])
    path = f"/api/organiser/commune-requests/{request_id}"
    refused = await client.patch(path, json={"status": "done"}, headers=auth(agency["staff"][1]))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "outcome"
    early = await client.patch(path, json={"outcome": OUTCOME}, headers=auth(agency["staff"][1]))
    assert early.status_code == 422 and early.json()["errors"][0]["field"] == "outcome"
    assert await conn.fetchval("SELECT status FROM commune_requests WHERE id = $1", request_id) == "scheduled"
    assert await conn.fetchval("SELECT count(*) FROM commune_request_outcomes") == 0


async def test_the_outcome_takes_attendance_from_the_linked_events_and_keeps_practices(client, conn, agency) -> None:  # noqa: F811
    request_id = await scheduled_request(client, conn, agency["staff"][1], present=3)
    path = f"/api/organiser/commune-requests/{request_id}"
    done = await client.patch(path, json={"status": "done", "outcome": OUTCOME}, headers=auth(agency["staff"][1]))
    assert done.status_code == 200, done.text
    body = done.json()
    assert body["status"] == "done"
    outcome = body["outcome"]
    assert (outcome["attendance"], outcome["attendance_counted"], outcome["held_on"]) == (3, True, "2026-03-12")
    assert outcome["follow_up_text"] == "Une seconde soirée au printemps."
    assert [(p["title"], p["tags"], p["commune"]) for p in outcome["practices"]] == [
        ("Café des langues", ["langues", "jeunes"], "Esch-sur-Alzette"),
        ("Parrainage", [], "Esch-sur-Alzette"),
    ]
    assert (await client.get(path, headers=auth(agency["viewer"][1]))).json()["outcome"] == outcome
    audited = await conn.fetchrow(
        "SELECT actor_id, action, detail FROM audit_log WHERE action = 'commune_request_outcome'"
    )
    assert audited["actor_id"] == agency["staff"][0].id
    assert audited["detail"] == {
        "request": request_id,
        "closed": True,
        "replaced": False,
        "attendance": 3,
        "practices": 2,
    }
    # a done request's outcome may be corrected: the figure stated wins, the practices are replaced
    fixed = await client.patch(
        path,
        json={"outcome": {**OUTCOME, "attendance": 41, "follow_up": False, "practices": OUTCOME["practices"][:1]}},
        headers=auth(agency["admin"][1]),
    )
    assert fixed.status_code == 200, fixed.text
    outcome = fixed.json()["outcome"]
    assert (outcome["attendance"], outcome["attendance_counted"], outcome["follow_up_text"]) == (41, False, "")
    assert await conn.fetchval("SELECT count(*) FROM good_practices WHERE request_id = $1", request_id) == 1


async def test_attendance_is_stated_when_no_session_is_linked(client, conn, agency) -> None:  # noqa: F811
    request_id, _ = await make_request(client, conn)
    await conn.execute("UPDATE commune_requests SET status = 'scheduled' WHERE id = $1", request_id)
    path = f"/api/organiser/commune-requests/{request_id}"
    missing = await client.patch(path, json={"status": "done", "outcome": OUTCOME}, headers=auth(agency["staff"][1]))
    assert missing.status_code == 422
    assert [e["field"] for e in missing.json()["errors"]] == ["outcome.attendance"]
    no_text = await client.patch(
        path,
        json={"status": "done", "outcome": {**OUTCOME, "attendance": 25, "follow_up_text": " "}},
        headers=auth(agency["staff"][1]),
    )
    assert [e["field"] for e in no_text.json()["errors"]] == ["outcome.follow_up_text"]
    stated = await client.patch(
        path, json={"status": "done", "outcome": {**OUTCOME, "attendance": 25}}, headers=auth(agency["staff"][1])
    )
    assert stated.status_code == 200
    assert (stated.json()["outcome"]["attendance"], stated.json()["outcome"]["attendance_counted"]) == (25, False)


async def test_only_the_organisations_writers_record_an_outcome(client, conn, agency) -> None:  # noqa: F811
    request_id = await scheduled_request(client, conn, agency["staff"][1], present=1)
    path = f"/api/organiser/commune-requests/{request_id}"
    body = {"status": "done", "outcome": OUTCOME}
    assert (await client.patch(path, json=body, headers=auth(agency["other"][1]))).status_code == 404
    assert (await client.patch(path, json=body, headers=auth(agency["viewer"][1]))).status_code == 403
    bad_tag = {"status": "done", "outcome": {**OUTCOME, "practices": [{"title": "x", "tags": ["=cmd"]}]}}
    assert (await client.patch(path, json=bad_tag, headers=auth(agency["staff"][1]))).status_code == 422
    assert await conn.fetchval("SELECT count(*) FROM good_practices") == 0
    assert await conn.fetchval("SELECT status FROM commune_requests WHERE id = $1", request_id) == "scheduled"


async def test_a_request_with_practices_cannot_be_deleted(client, conn, agency) -> None:  # noqa: F811
    request_id = await scheduled_request(client, conn, agency["staff"][1], present=1)
    path = f"/api/organiser/commune-requests/{request_id}"
    await client.patch(path, json={"status": "done", "outcome": OUTCOME}, headers=auth(agency["staff"][1]))
    # a request whose practices are kept over the years cannot be deleted with them
    with pytest.raises(asyncpg.ForeignKeyViolationError):
        async with conn.transaction():
            await conn.execute("DELETE FROM commune_requests WHERE id = $1", request_id)
    assert await conn.fetchval("SELECT count(*) FROM good_practices WHERE request_id = $1", request_id) == 2
