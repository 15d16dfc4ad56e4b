"""The report page in a real browser (issue 25): Debian's Chromium through Playwright against the real
service; pick the organisation and year, read the report and its charts, no axe-core violation, and the
print layout that is sent to the ministry, saved as screenshots and a PDF."""

from __future__ import annotations

import asyncpg

from server.db import init_connection
from server.organisers import service as accounts
from server.settings import load_settings
from tests.factories import create_organiser
from tests.report_data import build_year
from tests.test_backoffice_browser import DESKTOP, PASSWORD, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    SECRET,
    browser,
    service,
)


async def committed_year(running) -> tuple[str, str]:
    """A viewer of an organisation with the known year; returns (email, organisation slug)."""
    conn = await asyncpg.connect(running.database_url)
    await init_connection(conn)
    try:
        settings = load_settings(database_url=running.database_url, secret_key=SECRET, base_url=running.base)
        year = await build_year(conn, settings)
        person, _ = await create_organiser(conn, {year.organisation: "viewer"})
        await conn.execute(
            "UPDATE organisers SET name = 'Lucie Weber', password_hash = $2 WHERE id = $1",
            person.id,
            accounts._hasher.hash(PASSWORD),
        )
    finally:
        await conn.close()
    return person.email, year.organisation


async def test_the_report_page_reads_prints_and_has_no_axe_violation(browser, service) -> None:  # noqa: F811
    email, organisation = await committed_year(service)
    context = await browser.new_context(viewport=DESKTOP, locale=LOCALES["fr"], bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{service.base}/organiser/reports")
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url.startswith(f"{service.base}/organiser/reports")
    problems = {"form": await axe_violations(page)}
    # a bad period: the error next to its field, nothing typed lost
    await page.fill("#f-year", "")
    await page.fill("#f-from", "2025-03-01")
    await page.fill("#f-to", "2025-02-01")
    async with page.expect_navigation():
        await page.click("form.report-filters button[type=submit]")
    assert "Le dernier jour précède le premier." in await page.inner_text("#f-to-error")
    assert await page.input_value("#f-from") == "2025-03-01"
    problems["error"] = await axe_violations(page)
    await page.fill("#f-from", "")
    await page.fill("#f-to", "")
    await page.fill("#f-year", "2025")
    await page.select_option("#f-organisation", organisation)
    async with page.expect_navigation():
        await page.click("form.report-filters button[type=submit]")
    main = (await page.inner_text("main")).replace("\u00a0", " ").replace("\u202f", " ")
    assert "Rapport d'activité : ASTI (rapport)" in main
    assert "Guichet Info-Migrants" in main and "Tous les domaines" in main
    assert "Personnes touchées" in main and "< 3" in main
    assert await page.locator("svg.report-chart[role=img]").count() == 5
    for name in await page.locator("svg.report-chart title").all_text_contents():
        assert name.strip()
    problems["report"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "report-desktop.png"), full_page=True)
    await page.emulate_media(media="print")
    assert not await page.locator("form.report-filters").is_visible()
    assert not await page.locator("header.site").is_visible()
    await page.screenshot(path=str(ARTIFACTS / "report-print.png"), full_page=True)
    await page.pdf(path=str(ARTIFACTS / "report.pdf"), format="A4")
    await context.close()
    assert problems == {"form": [], "error": [], "report": []}
