"""The report page of the back-office (issue 25): the form, the report with its charts and their tables,
errors next to their field, the domains' form for admins, and other organisations' staff kept out."""

from __future__ import annotations

import io
from contextlib import asynccontextmanager

import openpyxl
import pytest

from tests.apps import app_on
from tests.factories import create_organiser
from tests.report_data import build_year
from tests.test_backoffice_signin import browser, sign_in, with_password
from tests.test_pages import csrf_token, text_of


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


@pytest.fixture
async def year(conn, settings):
    return await build_year(conn, settings)


async def person(conn, roles):
    who, _ = await create_organiser(conn, roles)
    await with_password(conn, who.email)
    return who


@asynccontextmanager
async def signed_in(app, who, lang: str = "en"):
    async with browser(app) as http:
        assert (await sign_in(http, who.email, lang=lang)).status_code == 303
        yield http


async def test_the_page_shows_the_report_with_charts_and_their_tables(app, conn, year) -> None:
    viewer = await person(conn, {year.organisation: "viewer"})
    async with signed_in(app, viewer) as http:
        page = await http.get("/organiser/reports", params={"organisation": year.organisation, "year": "2025"})
    assert page.status_code == 200
    html, text = page.text, text_of(page)
    assert "Guichet Info-Migrants" in text and "All domains" in text and "Not tagged with a domain" in text
    assert html.count('<svg class="report-chart"') == 5 and html.count('role="img"') == 5
    assert html.count("Data of the chart:") == 5  # each chart's table beside it
    assert "< 3" in text  # the small breakdown cells
    assert "62 %" in text  # the guichet's attendance rate, 5 of 8
    assert "/organiser/reports/export.xlsx?organisation=" in html
    assert "Add a domain" not in text  # a viewer reads the domains, only admins edit them
    assert html.count("<script") == 1 and "<script>" not in html  # htmx alone, from the site; the charts need none


async def test_the_page_exports_the_workbook_with_the_session(app, conn, year) -> None:
    viewer = await person(conn, {year.organisation: "viewer"})
    async with signed_in(app, viewer, lang="fr") as http:
        answer = await http.get(
            "/organiser/reports/export.xlsx", params={"organisation": year.organisation, "year": "2025"}
        )
    assert answer.status_code == 200
    book = openpyxl.load_workbook(io.BytesIO(answer.content))
    assert book.sheetnames[0] == "Chiffres"


@pytest.mark.parametrize(
    ("params", "field", "message"),
    [
        ({"from": "2025-03-01", "to": "2025-02-01", "year": ""}, "to", "The last day comes before the first."),
        ({"from": "2019-01-01", "to": "2025-01-01", "year": ""}, "to", "A report covers at most five years."),
        ({"year": "20x5"}, "year", "Please give a year such as 2026."),
        ({"from": "1 March", "to": "2025-02-01", "year": ""}, "from", "Please give a date such as 2026-01-31."),
    ],
)
async def test_a_bad_period_is_said_next_to_its_field(app, conn, year, params, field, message) -> None:
    viewer = await person(conn, {year.organisation: "viewer"})
    async with signed_in(app, viewer) as http:
        page = await http.get("/organiser/reports", params={"organisation": year.organisation, **params})
    assert page.status_code == 422
    assert f'id="f-{field}-error"' in page.text and message in page.text
    assert 'aria-invalid="true"' in page.text


async def test_another_organisations_staff_see_it_like_a_missing_one(app, conn, year) -> None:
    outsider = await person(conn, {"elsewhere-org": "admin"})
    async with signed_in(app, outsider) as http:
        theirs = await http.get("/organiser/reports", params={"organisation": year.organisation, "year": "2025"})
        missing = await http.get("/organiser/reports", params={"organisation": "no-such-org", "year": "2025"})
        export = await http.get(
            "/organiser/reports/export.xlsx", params={"organisation": year.organisation, "year": "2025"}
        )
    assert theirs.status_code == missing.status_code == 404
    assert year.organisation not in theirs.text.replace(f"organisation={year.organisation}", "")
    assert "Guichet Info-Migrants" not in theirs.text
    assert export.status_code == 404


async def test_an_admin_adds_and_renames_a_domain_with_errors_next_to_the_field(app, conn, year) -> None:
    admin = await person(conn, {year.organisation: "admin"})
    async with signed_in(app, admin) as http:
        page = await http.get("/organiser/reports", params={"organisation": year.organisation})
        token = csrf_token(page)
        bad = await http.post(
            "/organiser/reports/domains",
            data={
                "csrf_token": token,
                "organisation": year.organisation,
                "domain_name": "Centre Oasis",
                "domain_slug": "Centre Oasis",
            },
        )
        assert bad.status_code == 422 and 'id="f-domain_slug-error"' in bad.text
        assert 'value="Centre Oasis"' in bad.text  # nothing typed is lost
        added = await http.post(
            "/organiser/reports/domains",
            data={
                "csrf_token": token,
                "organisation": year.organisation,
                "domain_name": "Centre Oasis",
                "domain_slug": "oasis",
            },
        )
        assert added.status_code == 303
        renamed = await http.post(
            "/organiser/reports/domains/oasis",
            data={"csrf_token": token, "organisation": year.organisation, "name": "Centre Oasis (Caritas)"},
        )
        assert renamed.status_code == 303
        page = await http.get("/organiser/reports", params={"organisation": year.organisation})
    assert 'value="Centre Oasis (Caritas)"' in page.text
