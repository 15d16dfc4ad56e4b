"""Activity reports (issue 25): a known year gives every figure, as JSON and XLSX alike; only members read it."""

from __future__ import annotations

import io

import openpyxl
import pytest

from tests.factories import auth, create_organiser
from tests.report_data import DOMAINS, build_year

YEAR_2025 = {"year": "2025"}

GUICHET = {
    "events": {
        "held": 3,
        "webconference": 1,
        "conversation_table": 2,
        "info_session": 0,
        "cancelled": 1,
        "series_sessions": 2,
        "series": 1,
    },
    "registrations": 8,
    "cancelled_registrations": 1,
    "waitlist_never_seated": 1,
    "attendance": {"present": 5, "absent": 2, "excused": 1, "unmarked": 0, "rate": 0.625, "no_show_rate": 0.25},
    "people_reached": 6,
    "languages": [{"language": "pt", "people": 5}, {"language": "fr", "people": "<3"}],
    "communes": {
        "count": 3,
        "list": [
            {"commune": "Esch-sur-Alzette", "people": 4, "events": 0},
            {"commune": "Differdange", "people": "<3", "events": 0},
            {"commune": "Luxembourg", "people": "<3", "events": 0},
        ],
    },
    "webconference_joins": 2,
    "interpretation": {"missions": 0, "done": 0, "cancelled": 0, "hours": 0.0, "by_language": []},
    "commune_requests": {"total": 0, "new": 0, "in_discussion": 0, "scheduled": 0, "done": 0, "declined": 0},
}
NOTHING = {
    "events": {
        "held": 0,
        "webconference": 0,
        "conversation_table": 0,
        "info_session": 0,
        "cancelled": 0,
        "series_sessions": 0,
        "series": 0,
    },
    "registrations": 0,
    "cancelled_registrations": 0,
    "waitlist_never_seated": 0,
    "attendance": {"present": 0, "absent": 0, "excused": 0, "unmarked": 0, "rate": None, "no_show_rate": None},
    "people_reached": 0,
    "languages": [],
    "communes": {"count": 0, "list": []},
    "webconference_joins": 0,
    "interpretation": {"missions": 0, "done": 0, "cancelled": 0, "hours": 0.0, "by_language": []},
    "commune_requests": {"total": 0, "new": 0, "in_discussion": 0, "scheduled": 0, "done": 0, "declined": 0},
}
GUICHET_2024 = {
    **NOTHING,
    "events": {**NOTHING["events"], "held": 1, "webconference": 1},
    "registrations": 2,
    "attendance": {**NOTHING["attendance"], "present": 2, "rate": 1.0, "no_show_rate": 0.0},
    "people_reached": 2,
    "languages": [{"language": "pt", "people": "<3"}],
}
COMMUNES = {
    **NOTHING,
    "events": {**NOTHING["events"], "held": 1, "info_session": 1},
    "registrations": 3,
    "attendance": {"present": 2, "absent": 0, "excused": 0, "unmarked": 1, "rate": 1.0, "no_show_rate": 0.0},
    "people_reached": 3,
    "languages": [{"language": "lb", "people": 3}],
    "communes": {"count": 1, "list": [{"commune": "Differdange", "people": 3, "events": 1}]},
    "commune_requests": {"total": 2, "new": 1, "in_discussion": 0, "scheduled": 1, "done": 0, "declined": 0},
}
COMMUNES_2024 = {**NOTHING, "commune_requests": {**NOTHING["commune_requests"], "total": 1, "declined": 1}}
INTERPRETATION = {
    **NOTHING,
    "interpretation": {
        "missions": 4,
        "done": 3,
        "cancelled": 1,
        "hours": 3.0,
        "by_language": [
            {"language": "ti", "missions": 3, "hours": 3.0},
            {"language": "uk", "missions": "<3", "hours": None},
        ],
    },
}
INTERPRETATION_2024 = {
    **NOTHING,
    "interpretation": {
        "missions": 1,
        "done": 1,
        "cancelled": 0,
        "hours": 1.0,
        "by_language": [{"language": "ti", "missions": "<3", "hours": None}],
    },
}
UNTAGGED = {
    **NOTHING,
    "events": {**NOTHING["events"], "held": 1, "webconference": 1},
    "registrations": 1,
    "attendance": {**NOTHING["attendance"], "unmarked": 1},
    "people_reached": 1,
    "languages": [{"language": "en", "people": "<3"}],
}
TOTALS = {
    "events": {
        "held": 5,
        "webconference": 2,
        "conversation_table": 2,
        "info_session": 1,
        "cancelled": 1,
        "series_sessions": 2,
        "series": 1,
    },
    "registrations": 12,
    "cancelled_registrations": 1,
    "waitlist_never_seated": 1,
    "attendance": {"present": 7, "absent": 2, "excused": 1, "unmarked": 2, "rate": 0.7, "no_show_rate": 0.2},
    "people_reached": 10,
    "languages": [
        {"language": "pt", "people": 5},
        {"language": "lb", "people": 3},
        {"language": "en", "people": "<3"},
        {"language": "fr", "people": "<3"},
    ],
    "communes": {
        "count": 3,
        "list": [
            {"commune": "Differdange", "people": 4, "events": 1},
            {"commune": "Esch-sur-Alzette", "people": 4, "events": 0},
            {"commune": "Luxembourg", "people": "<3", "events": 0},
        ],
    },
    "webconference_joins": 2,
    "interpretation": INTERPRETATION["interpretation"],
    "commune_requests": COMMUNES["commune_requests"],
}
TOTALS_2024 = {
    **GUICHET_2024,
    "interpretation": INTERPRETATION_2024["interpretation"],
    "commune_requests": COMMUNES_2024["commune_requests"],
}
INSIGHTS = {
    "lead_time": [
        {"days": "0", "registrations": 1},
        {"days": "1", "registrations": 1},
        {"days": "2-3", "registrations": 3},
        {"days": "4-7", "registrations": 7},
        {"days": "8-14", "registrations": 1},
        {"days": "15-30", "registrations": 0},
        {"days": "31+", "registrations": 1},
    ],
    "attendance_by_kind": [
        {"kind": "webconference", "marked": 5, "present": 3, "rate": 0.6},
        {"kind": "conversation_table", "marked": 3, "present": 2, "rate": 0.667},
        {"kind": "info_session", "marked": 2, "present": 2, "rate": 1.0},
    ],
    "attendance_by_language": [
        {"language": "fr", "marked": "<3", "rate": None},
        {"language": "lb", "marked": "<3", "rate": None},
        {"language": "pt", "marked": 6, "rate": 0.667},
    ],
    "interpretation_by_month": [
        {"month": "2025-02-01", "language": "ti", "missions": 3},
        {"month": "2025-06-01", "language": "uk", "missions": "<3"},
    ],
}


def without_previous(domain_report: dict) -> dict:
    return {k: v for k, v in domain_report.items() if k not in ("domain", "previous_year")}


@pytest.fixture
async def year(conn, settings):
    return await build_year(conn, settings)


@pytest.fixture
async def member(conn, year):
    return (await create_organiser(conn, {year.organisation: "viewer"}))[1]


async def report(client, token, **params):
    return await client.get("/api/organiser/reports", params=params, headers=auth(token))


async def test_the_report_of_a_known_year_gives_every_figure_by_domain(client, year, member) -> None:
    response = await report(client, member, organisation=year.organisation, **YEAR_2025)
    assert response.status_code == 200, response.text
    body = response.json()
    assert (body["organisation"]["slug"], body["from"], body["to"]) == (year.organisation, "2025-01-01", "2025-12-31")
    assert (body["previous_year_from"], body["previous_year_to"]) == ("2024-01-01", "2024-12-31")
    by_domain = {(d["domain"] or {}).get("slug"): d for d in body["domains"]}
    assert list(by_domain) == ["guichet", "communes", "interpretation", "formula", None]
    assert by_domain["guichet"]["domain"] == {"slug": "guichet", "name": "Guichet Info-Migrants", "position": 0}
    assert without_previous(by_domain["guichet"]) == GUICHET
    assert by_domain["guichet"]["previous_year"] == GUICHET_2024
    assert without_previous(by_domain["communes"]) == COMMUNES
    assert by_domain["communes"]["previous_year"] == COMMUNES_2024
    assert without_previous(by_domain["interpretation"]) == INTERPRETATION
    assert by_domain["interpretation"]["previous_year"] == INTERPRETATION_2024
    assert without_previous(by_domain["formula"]) == NOTHING
    assert without_previous(by_domain[None]) == UNTAGGED
    assert by_domain[None]["previous_year"] == NOTHING
    assert body["totals"]["domain"] is None
    assert without_previous(body["totals"]) == TOTALS
    assert body["totals"]["previous_year"] == TOTALS_2024
    assert body["insights"] == INSIGHTS


async def test_a_quarter_and_dates_give_the_same_period(client, year, member) -> None:
    by_quarter = (await report(client, member, organisation=year.organisation, year="2025", quarter="1")).json()
    dates = {"from": "2025-01-01", "to": "2025-03-31"}
    by_dates = (await report(client, member, organisation=year.organisation, **dates)).json()
    assert by_quarter == by_dates
    assert (by_quarter["from"], by_quarter["to"], by_quarter["previous_year_from"]) == (
        "2025-01-01",
        "2025-03-31",
        "2024-01-01",
    )
    # the web conference of 10 March and February's missions; the May series lies outside
    assert by_quarter["totals"]["events"]["held"] == 1
    assert by_quarter["totals"]["interpretation"]["done"] == 3


async def test_the_workbook_holds_the_same_figures_one_sheet_per_table(client, year, member) -> None:
    response = await client.get(
        "/api/organiser/reports.xlsx",
        params={"organisation": year.organisation, "lang": "en", **YEAR_2025},
        headers=auth(member),
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "Figures",
        "Languages",
        "Communes",
        "Interpretation",
        "Commune requests",
        "When people register",
        "Attendance by kind",
        "Attendance by language",
        "Reach by commune",
        "Interpretation by month",
    ]
    figures = {(row[0], row[1]): (row[2], row[3]) for row in book["Figures"].iter_rows(min_row=2, values_only=True)}
    json_body = (await report(client, member, organisation=year.organisation, **YEAR_2025)).json()
    for section, name in ((json_body["domains"][0], "Guichet Info-Migrants"), (json_body["totals"], "All domains")):
        assert figures[(name, "Events held")] == (section["events"]["held"], section["previous_year"]["events"]["held"])
        assert figures[(name, "Registrations (confirmed)")] == (
            section["registrations"],
            section["previous_year"]["registrations"],
        )
        assert figures[(name, "People reached")] == (
            section["people_reached"],
            section["previous_year"]["people_reached"],
        )
        assert figures[(name, "Attendance rate")][0] == section["attendance"]["rate"]
        assert figures[(name, "Interpretation hours")][0] == section["interpretation"]["hours"]
        assert figures[(name, "Web conference joins")][0] == section["webconference_joins"]
    assert figures[("All domains", "On the waiting list, never got a place")] == (1, 0)
    assert figures[("Not tagged with a domain", "Events held")] == (1, 0)
    # a domain named like a formula stays text
    cell = next(c for c in book["Figures"]["A"] if str(c.value).startswith("=HYPERLINK"))
    assert cell.data_type == "s" and cell.value == DOMAINS[3][1]
    languages = [row for row in book["Languages"].iter_rows(min_row=2, values_only=True) if row[0] == "All domains"]
    assert languages == [
        ("All domains", "Portuguese", 5, "< 3"),
        ("All domains", "Luxembourgish", 3, 0),
        ("All domains", "English", "< 3", 0),
        ("All domains", "French", "< 3", 0),
    ]
    communes = [row for row in book["Communes"].iter_rows(min_row=2, values_only=True) if row[0] == "All domains"]
    assert communes == [
        ("All domains", "Differdange", 4, 1),
        ("All domains", "Esch-sur-Alzette", 4, 0),
        ("All domains", "Luxembourg", "< 3", 0),
    ]
    missions = [row for row in book["Interpretation"].iter_rows(min_row=2, values_only=True) if row[0] == "All domains"]
    assert missions == [("All domains", "Tigrinya", 3, 3), ("All domains", "Ukrainian", "< 3", None)]
    requests = {
        row[1]: row[2:]
        for row in book["Commune requests"].iter_rows(min_row=2, values_only=True)
        if row[0] == "All domains"
    }
    assert requests == {
        "New": (1, 0),
        "Under discussion": (0, 0),
        "Scheduled": (1, 0),
        "Done": (0, 0),
        "Declined": (0, 1),
    }
    lead = list(book["When people register"].iter_rows(min_row=2, values_only=True))
    assert lead == [(item["days"], item["registrations"]) for item in INSIGHTS["lead_time"]]
    by_kind = list(book["Attendance by kind"].iter_rows(min_row=2, values_only=True))
    assert by_kind == [
        ("Web conference", 5, 3, 0.6),
        ("Conversation table", 3, 2, 0.667),
        ("Information session", 2, 2, 1),
    ]


async def test_a_german_workbook_speaks_german(client, year, member) -> None:
    response = await client.get(
        "/api/organiser/reports.xlsx",
        params={"organisation": year.organisation, "lang": "de", **YEAR_2025},
        headers=auth(member),
    )
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    rows = list(book.worksheets[0].iter_rows(max_row=1, values_only=True))
    assert rows[0][0] != "Domain" and "Figures" not in book.sheetnames


async def test_another_organisations_member_gets_404_like_an_unknown_organisation(client, conn, year) -> None:
    _, outsider = await create_organiser(conn, {"somewhere-else": "admin"})
    theirs = await report(client, outsider, organisation=year.organisation, **YEAR_2025)
    unknown = await report(client, outsider, organisation="no-such-organisation", **YEAR_2025)
    assert theirs.status_code == unknown.status_code == 404
    assert theirs.headers["content-type"].startswith("application/problem+json")
    xlsx = await client.get(
        "/api/organiser/reports.xlsx", params={"organisation": year.organisation, **YEAR_2025}, headers=auth(outsider)
    )
    assert xlsx.status_code == 404
    domains = await client.get(f"/api/organiser/organisations/{year.organisation}/domains", headers=auth(outsider))
    assert domains.status_code == 404


async def test_an_administrator_reads_every_organisation_and_no_token_reads_none(client, conn, year) -> None:
    _, admin = await create_organiser(conn, is_admin=True)
    assert (await report(client, admin, organisation=year.organisation, **YEAR_2025)).status_code == 200
    anonymous = await client.get("/api/organiser/reports", params={"organisation": year.organisation, **YEAR_2025})
    assert anonymous.status_code == 401


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2025-03-01", "to": "2025-02-01"}, "to"),
        ({"from": "2019-01-01", "to": "2025-01-01"}, "to"),
        ({"from": "2025-01-01"}, "to"),
        ({"to": "2025-01-01"}, "from"),
        ({}, "from"),
        ({"year": "2025", "from": "2025-01-01"}, "year"),
        ({"quarter": "2"}, "quarter"),
    ],
)
async def test_a_bad_period_is_a_422_naming_the_field(client, year, member, params, field) -> None:
    response = await report(client, member, organisation=year.organisation, **params)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == [field]


@pytest.mark.parametrize(
    "params", [{"year": "1900"}, {"year": "2025", "quarter": "5"}, {"from": "2025-13-01", "to": "2025-12-31"}]
)
async def test_a_malformed_period_is_a_4xx(client, year, member, params) -> None:
    response = await report(client, member, organisation=year.organisation, **params)
    assert 400 <= response.status_code < 500 and response.status_code != 404


async def test_admins_edit_domains_and_viewers_only_read_them(client, conn, year, member) -> None:
    _, admin = await create_organiser(conn, {year.organisation: "admin"})
    url = f"/api/organiser/organisations/{year.organisation}/domains"
    listed = await client.get(url, headers=auth(member))
    assert [d["slug"] for d in listed.json()] == [slug for slug, _ in DOMAINS]
    refused = await client.post(url, json={"slug": "oasis", "name": "Centre Oasis"}, headers=auth(member))
    assert refused.status_code == 403
    added = await client.post(
        url, json={"slug": "oasis", "name": "  Centre   Oasis ", "position": 9}, headers=auth(admin)
    )
    assert added.status_code == 201 and added.json() == {"slug": "oasis", "name": "Centre Oasis", "position": 9}
    again = await client.post(url, json={"slug": "oasis", "name": "Oasis"}, headers=auth(admin))
    assert again.status_code == 409
    renamed = await client.patch(f"{url}/oasis", json={"name": "Centre Oasis (Caritas)"}, headers=auth(admin))
    assert renamed.json()["name"] == "Centre Oasis (Caritas)"
    in_use = await client.delete(f"{url}/guichet", headers=auth(admin))
    assert in_use.status_code == 409
    assert (await client.delete(f"{url}/oasis", headers=auth(admin))).status_code == 204
    assert (await client.delete(f"{url}/oasis", headers=auth(admin))).status_code == 404


async def test_events_requests_and_missions_take_a_domain_of_their_own_organisation(client, conn, year) -> None:
    from tests.interpretation_helpers import at, mission_body, monday

    _, staff = await create_organiser(conn, {year.organisation: "organiser", "elsewhere-org": "admin"})
    await conn.execute(
        "INSERT INTO organisation_domains (organisation_id, slug, name) "
        "SELECT id, 'theirs', 'Theirs' FROM organisations WHERE slug = 'elsewhere-org'"
    )
    event = f"/api/organiser/events/{year.first_event}"
    assert (await client.patch(event, json={"domain": "communes"}, headers=auth(staff))).json()["domain"] == "communes"
    refused = await client.patch(event, json={"domain": "theirs"}, headers=auth(staff))
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "domain"
    assert (await client.patch(event, json={"domain": None}, headers=auth(staff))).json()["domain"] is None
    created = await client.post(
        "/api/organiser/events",
        headers=auth(staff),
        json={
            "kind": "webconference",
            "organisation": year.organisation,
            "title": {"fr": "Permanence"},
            "languages": ["fr"],
            "starts_at": "2027-02-01T10:00:00+01:00",
            "ends_at": "2027-02-01T11:00:00+01:00",
            "domain": "guichet",
        },
    )
    assert created.status_code == 201 and created.json()["domain"] == "guichet"
    request_id = await conn.fetchval(
        "SELECT id FROM commune_requests WHERE organisation_id = "
        "(SELECT id FROM organisations WHERE slug = $1) ORDER BY id LIMIT 1",
        year.organisation,
    )
    patched = await client.patch(
        f"/api/organiser/commune-requests/{request_id}", json={"domain": "guichet"}, headers=auth(staff)
    )
    assert patched.status_code == 200 and patched.json()["domain"] == "guichet"
    wrong = await client.patch(
        f"/api/organiser/commune-requests/{request_id}", json={"domain": "theirs"}, headers=auth(staff)
    )
    assert wrong.status_code == 422
    mission = await client.post(
        "/api/organiser/interpretation-missions",
        headers=auth(staff),
        json=mission_body(at(monday(3), 10), organisation=year.organisation, domain="interpretation"),
    )
    assert mission.status_code == 201, mission.text
    assert mission.json()["domain"] == "interpretation"
    moved = await client.patch(
        f"/api/organiser/interpretation-missions/{mission.json()['id']}", json={"domain": "nope"}, headers=auth(staff)
    )
    assert moved.status_code == 422 and moved.json()["errors"][0]["field"] == "domain"


async def test_the_schema_documents_the_masked_cells(client) -> None:
    schema = (await client.get("/schema/openapi.json")).json()
    text = str(schema["components"]["schemas"])
    assert '"<3"' in text or "<3" in text
    assert "/api/organiser/reports" in schema["paths"] and "/api/organiser/reports.xlsx" in schema["paths"]


async def kept_version(conn, slug: str) -> int:
    return await conn.fetchval(
        "SELECT coalesce((SELECT v.version FROM report_versions v JOIN organisations o "
        "ON o.id = v.organisation_id WHERE o.slug = $1), 0)",
        slug,
    )


async def test_a_kept_report_is_served_until_something_it_counts_changes(client, conn, year, member) -> None:
    first = (await report(client, member, organisation=year.organisation, **YEAR_2025)).json()
    # the kept body is what a second request answers (the figure tampered with here shows it)
    await conn.execute(
        "UPDATE report_cache SET body = convert_to(replace(convert_from(body, 'UTF8'), "
        "'\"held\":5,', '\"held\":55,'), 'UTF8')"
    )
    served = (await report(client, member, organisation=year.organisation, **YEAR_2025)).json()
    assert served["totals"]["events"]["held"] == 55
    # attendance marked at an event that took place: the report is computed again
    session = await conn.fetchval(
        "SELECT e.id FROM events e JOIN organisations o ON o.id = e.organisation_id "
        "WHERE o.slug = $1 AND e.kind = 'info_session'",
        year.organisation,
    )
    await conn.execute(
        "UPDATE registrations SET attendance = 'present' WHERE event_id = $1 "
        "AND attendance IS NULL AND status = 'confirmed'",
        session,
    )
    again = (await report(client, member, organisation=year.organisation, **YEAR_2025)).json()
    assert again["totals"]["events"]["held"] == 5
    assert again["totals"]["attendance"]["present"] == first["totals"]["attendance"]["present"] + 1


async def test_renaming_a_domain_shows_in_the_next_report(client, conn, year, member) -> None:
    await report(client, member, organisation=year.organisation, **YEAR_2025)
    await conn.execute("UPDATE organisation_domains SET name = 'Guichet' WHERE slug = 'guichet'")
    body = (await report(client, member, organisation=year.organisation, **YEAR_2025)).json()
    assert body["domains"][0]["domain"]["name"] == "Guichet"


async def test_an_event_that_started_since_the_report_was_kept_makes_it_stale(client, conn, year, member) -> None:
    await report(client, member, organisation=year.organisation, **YEAR_2025)
    await conn.execute(
        "UPDATE report_cache SET body = convert_to(replace(convert_from(body, 'UTF8'), "
        "'\"held\":5,', '\"held\":55,'), 'UTF8')"
    )
    # as if it had been computed before the events of 2025 took place, with nothing written since
    await conn.execute("UPDATE report_cache SET as_of = '2025-01-01T00:00:00Z'")
    body = (await report(client, member, organisation=year.organisation, **YEAR_2025)).json()
    assert body["totals"]["events"]["held"] == 5


async def test_registrations_for_events_to_come_leave_the_reports_alone(conn, settings, year) -> None:
    from tests.factories import create_event, insert_registration

    coming = await create_event(conn, settings, organisation=year.organisation)
    before = await kept_version(conn, year.organisation)
    await insert_registration(conn, settings, coming.slug)
    await conn.execute(
        "UPDATE registrations SET attendance = NULL WHERE event_id = (SELECT id FROM events WHERE slug = $1)",
        coming.slug,
    )
    assert await kept_version(conn, year.organisation) == before
    await conn.execute(
        "UPDATE registrations SET attendance = 'absent' WHERE event_id = (SELECT id FROM events WHERE slug = $1)",
        year.first_event,
    )
    assert await kept_version(conn, year.organisation) == before + 1
