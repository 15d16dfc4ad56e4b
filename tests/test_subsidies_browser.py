"""Filing a subsidy request in a real browser (issue 26): Chromium through Playwright against the real
service, with no axe-core violation on the list, the form, its errors and the submitted request."""

from __future__ import annotations

from datetime import timedelta

import asyncpg

from server.db import init_connection
from server.organisers import service as accounts
from server.subsidies.deadlines import deadline_for, today_in_luxembourg
from tests.factories import create_organisation, create_organiser
from tests.test_backoffice_browser import DESKTOP, PASSWORD, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    browser,
    service,
)
from tests.test_subsidies import PDF, set_themes


async def committed_association(service) -> tuple[str, str]:  # noqa: F811
    """An admin of a fresh asbl with a password; returns (email, organisation slug)."""
    conn = await asyncpg.connect(service.database_url)
    await init_connection(conn)
    try:
        org = await create_organisation(conn)
        await conn.execute("UPDATE organisations SET kind = 'asbl' WHERE id = $1", org["id"])
        person, _ = await create_organiser(conn, {org["slug"]: "admin"})
        await conn.execute(
            "UPDATE organisers SET password_hash = $2 WHERE id = $1", person.id, accounts._hasher.hash(PASSWORD)
        )
        today = today_in_luxembourg()
        await set_themes(conn, today.year, today.year + 1)
    finally:
        await conn.close()
    return person.email, org["slug"]


async def test_an_association_files_a_request_in_the_browser(browser, service, tmp_path) -> None:  # noqa: F811
    email, _ = await committed_association(service)
    context = await browser.new_context(viewport=DESKTOP, locale=LOCALES["fr"], bypass_csp=True)
    page = await context.new_page()
    problems: dict[str, list] = {}
    await page.goto(f"{service.base}/organiser/subsidies")
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url == f"{service.base}/organiser/subsidies"
    problems["list"] = await axe_violations(page)
    async with page.expect_navigation():
        await page.click("form[action='/organiser/subsidies'] button[type=submit]")
    starts_on = today_in_luxembourg() + timedelta(days=60)
    await page.fill("#f-title-fr", "Café des langues")
    await page.fill("#f-summary-fr", "Des rencontres mensuelles.")
    await page.fill("#f-description-fr", "Un projet pour se rencontrer.")
    await page.fill("#f-aims", "Rencontres")
    await page.fill("#f-target_public", "Nouveaux arrivants")
    await page.select_option("#f-theme", "participation")
    await page.fill("#f-starts_on", starts_on.isoformat())
    await page.fill("#f-ends_on", (starts_on + timedelta(days=5)).isoformat())
    await page.fill("#f-deliverables", "Une brochure")
    for n, (kind, amount) in enumerate((("expense", "1000"), ("own", "200"), ("requested", "900"))):
        await page.select_option(f"#b-kind-{n}", kind)
        await page.fill(f"#b-amount-{n}", amount)
    async with page.expect_navigation():
        await page.click("button[name=action][value=submit]")
    # unbalanced and without documents: the errors are on the page, next to their fields, nothing lost
    assert "Veuillez joindre les statuts et les derniers comptes." in await page.inner_text("#f-documents-error")
    assert "dépenses doivent égaler" in await page.inner_text("#f-budget-error")
    assert await page.input_value("#f-title-fr") == "Café des langues"
    problems["errors"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "subsidy-form-errors.png"), full_page=True)
    await page.fill("#b-amount-2", "800")
    async with page.expect_navigation():
        await page.click("button[name=action][value=save]")
    deadline = deadline_for(starts_on)
    assert str(deadline.year) in await page.inner_text("p.meta")  # the deadline, once the start is saved
    pdf = tmp_path / "statuts.pdf"
    pdf.write_bytes(PDF)
    for kind in ("statutes", "accounts"):
        await page.select_option("#f-kind", kind)
        await page.set_input_files("#f-file", str(pdf))
        async with page.expect_navigation():
            await page.click("form[enctype='multipart/form-data'] button[type=submit]")
    async with page.expect_navigation():
        await page.click("button[name=action][value=submit]")
    assert "La demande est déposée auprès du Département de l'intégration." in await page.inner_text("main")
    problems["submitted"] = await axe_violations(page)
    await context.close()
    assert problems == {"list": [], "errors": [], "submitted": []}


async def test_the_deadline_shows_as_the_start_is_typed(browser, service) -> None:  # noqa: F811
    """htmx under the pages' CSP (not bypassed): the hint changes without the form being sent."""
    email, _ = await committed_association(service)
    context = await browser.new_context(viewport=DESKTOP, locale=LOCALES["en"])
    page = await context.new_page()
    await page.goto(f"{service.base}/organiser/subsidies")
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    async with page.expect_navigation():
        await page.click("form[action='/organiser/subsidies'] button[type=submit]")
    draft_url = page.url
    starts_on = today_in_luxembourg() + timedelta(days=50)
    await page.fill("#f-starts_on", starts_on.isoformat())
    await page.wait_for_function(
        "year => document.querySelector('#f-starts_on-hint').textContent.includes(year)",
        arg=str(deadline_for(starts_on).year),
    )
    hint = await page.inner_text("#f-starts_on-hint")
    assert hint.startswith("Submit by ") and deadline_for(starts_on).strftime("%A") in hint
    await page.fill("#f-starts_on", (today_in_luxembourg() + timedelta(days=20)).isoformat())
    await page.wait_for_function("() => document.querySelector('#f-starts_on-hint').textContent.includes('Too late')")
    assert page.url == draft_url  # nothing was submitted
    await context.close()


async def test_an_administrator_records_a_kind_on_the_setup_page(browser, service) -> None:  # noqa: F811
    """The administrators' page in a browser: no axe-core violation, and a kind saved with its button."""
    conn = await asyncpg.connect(service.database_url)
    await init_connection(conn)
    try:
        org = await create_organisation(conn)
        admin, _ = await create_organiser(conn, {}, is_admin=True)
        await conn.execute(
            "UPDATE organisers SET password_hash = $2 WHERE id = $1", admin.id, accounts._hasher.hash(PASSWORD)
        )
    finally:
        await conn.close()
    context = await browser.new_context(viewport=DESKTOP, locale=LOCALES["de"], bypass_csp=True)
    page = await context.new_page()
    await page.goto(f"{service.base}/organiser/subsidies/setup")
    await page.fill("#f-email", admin.email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url == f"{service.base}/organiser/subsidies/setup"
    before = await axe_violations(page)
    await page.select_option(f"#kind-{org['slug']}", "federation")
    async with page.expect_navigation():
        await page.click(f"form:has(#kind-{org['slug']}) button[type=submit]")
    assert "Die Art der Organisation ist gespeichert." in await page.inner_text("main")
    assert await page.input_value(f"#kind-{org['slug']}") == "federation"
    after = await axe_violations(page)
    await context.close()
    assert (before, after) == ([], [])
