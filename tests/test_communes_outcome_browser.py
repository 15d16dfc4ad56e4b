"""Closing a commune's request in a real browser (issue 23, point 4): Chromium against the real service, no
axe-core violation on the outcome form, its errors, the commune's page and the printable practices."""

from __future__ import annotations

import asyncpg

from server.db import init_connection
from server.organisers import service as accounts
from tests.factories import create_organisation, create_organiser
from tests.test_backoffice_browser import DESKTOP, PASSWORD, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    browser,
    service,
)


async def committed_request(service) -> tuple[str, int]:  # noqa: F811
    """An organiser of a fresh organisation with a password, and a scheduled request with no session linked."""
    conn = await asyncpg.connect(service.database_url)
    await init_connection(conn)
    try:
        org = await create_organisation(conn)
        person, _ = await create_organiser(conn, {org["slug"]: "organiser"})
        await conn.execute(
            "UPDATE organisers SET password_hash = $2, language = 'de' WHERE id = $1",
            person.id,
            accounts._hasher.hash(PASSWORD),
        )
        request_id = await conn.fetchval(
            """INSERT INTO commune_requests (organisation_id, commune, requester_type, contact_name, email, language,
                                             subject, status, token_nonce, token_hash)
               VALUES ($1, 'Wiltz', 'ccci', 'Lena Weber', 'lena@example.lu', 'de', 'volunteering', 'scheduled',
                       $2, $3) RETURNING id""",
            org["id"],
            b"browser-nonce-00",
            f"browser-{org['id']}".encode(),
        )
    finally:
        await conn.close()
    return person.email, request_id


async def test_a_request_is_closed_in_the_browser_and_its_practice_printed(browser, service) -> None:  # noqa: F811
    email, request_id = await committed_request(service)
    context = await browser.new_context(viewport=DESKTOP, locale=LOCALES["de"], bypass_csp=True)
    page = await context.new_page()
    problems: dict[str, list] = {}
    await page.goto(f"{service.base}/organiser/requests/{request_id}/outcome")
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url == f"{service.base}/organiser/requests/{request_id}/outcome"
    problems["form"] = await axe_violations(page)
    await page.fill("#p-title-0", "Sprachcafé")
    await page.fill("#p-tags-0", "Sprachen, Jugend")
    await page.check("#f-follow_up-yes")
    async with page.expect_navigation():
        await page.click("button[name=action][value=save]")
    # no attendance, nothing discussed, no follow-up said: each error next to its field, nothing lost
    assert "Zahl der anwesenden Personen" in await page.inner_text("#f-attendance-error")
    assert await page.is_visible("#f-discussed-error") and await page.is_visible("#f-follow_up_text-error")
    assert await page.input_value("#p-title-0") == "Sprachcafé"
    problems["errors"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "commune-outcome-errors.png"), full_page=True)
    await page.fill("#f-attendance", "18")
    await page.fill("#f-discussed", "Ehrenamt in der Gemeinde.")
    await page.fill("#f-follow_up_text", "Eine Schulung für Ehrenamtliche.")
    async with page.expect_navigation():
        await page.click("button[name=action][value=save]")
    assert "Die Bilanz ist erfasst" in await page.inner_text("main")
    await page.goto(f"{service.base}/organiser/communes/wiltz")
    assert "Sprachcafé" in await page.inner_text("main")
    problems["commune"] = await axe_violations(page)
    await page.goto(f"{service.base}/organiser/practices?commune=wiltz")
    await page.emulate_media(media="print")
    assert not await page.is_visible("form.no-print") and await page.is_visible("article.practice")
    await page.emulate_media(media="screen")
    problems["practices"] = await axe_violations(page)
    await context.close()
    assert problems == {"form": [], "errors": [], "commune": [], "practices": []}
