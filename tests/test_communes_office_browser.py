"""The back-office pages of communes' requests in a real browser (Debian's Chromium against `python -m
server serve`): sign in, the list, the request's page, a refused then accepted status change; at 360 px
and on a desktop, with no axe-core violation at all."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import httpx
import pytest

from server.db import init_connection
from server.organisers import service as accounts
from server.validation import local_today
from tests.factories import create_organisation, create_organiser
from tests.test_backoffice_browser import DESKTOP, PASSWORD, PHONE, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    browser,
    service,
)


async def staff_and_request(service) -> tuple[str, int]:  # noqa: F811
    """An admin (with a password) of a fresh organisation, and a request a commune addressed to it."""
    conn = await asyncpg.connect(service.database_url)
    await init_connection(conn)
    try:
        org = await create_organisation(conn)
        person, _ = await create_organiser(conn, {org["slug"]: "admin"})
        await conn.execute(
            "UPDATE organisers SET name = 'Maria Schmit', password_hash = $2 WHERE id = $1",
            person.id,
            accounts._hasher.hash(PASSWORD),
        )
        later = (local_today() + timedelta(days=40)).isoformat()
        async with httpx.AsyncClient(base_url=service.base) as http:
            answer = await http.post(
                "/api/commune-requests",
                json={
                    "organisation": org["slug"],
                    "commune": "wiltz",
                    "requester_type": "social_office",
                    "contact_name": "Jos Hoffmann",
                    "email": f"office-{org['slug']}@example.lu",
                    "language": "lb",
                    "subject": "good_practices",
                    "preferred": [{"from": later, "to": later}],
                    "audience_languages": ["lb", "fr", "ti"],
                    "interpretation": ["ti"],
                    "venue": "Centre culturel, Wiltz",
                    "step_free": False,
                    "message": "E Owend fir d'Awunner.\nMerci!",
                    "consent": True,
                },
            )
        assert answer.status_code == 201, answer.text
        request_id = await conn.fetchval("SELECT max(id) FROM commune_requests WHERE commune = 'Wiltz'")
    finally:
        await conn.close()
    return person.email, request_id


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_the_list_and_a_status_change_with_no_axe_violation(browser, service, size) -> None:  # noqa: F811
    email, request_id = await staff_and_request(service)
    viewport = PHONE if size == "phone" else DESKTOP
    # axe-core is injected as a script, which the pages' own policy rightly forbids: only here it is bypassed
    context = await browser.new_context(viewport=viewport, locale=LOCALES["fr"], bypass_csp=True)
    page = await context.new_page()
    problems: dict[str, list] = {}
    await page.goto(f"{service.base}/organiser/requests")
    assert page.url.startswith(f"{service.base}/organiser/login?next=")
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url == f"{service.base}/organiser/requests"
    assert await page.inner_text("h1") == "Demandes de communes"
    row = page.locator("tr", has=page.locator(f"a[href='/organiser/requests/{request_id}']"))
    row_text = await row.inner_text()
    assert "Wiltz" in row_text and "Office social" in row_text and "Nouvelle" in row_text
    if size == "phone":
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(ARTIFACTS / f"office-requests-{size}.png"), full_page=True)
    problems["list"] = await axe_violations(page)

    async with page.expect_navigation():
        await page.click(f"a[href='/organiser/requests/{request_id}']")
    main = await page.inner_text("main")
    assert "Jos Hoffmann" in main and "Centre culturel, Wiltz" in main and "E Owend fir d'Awunner." in main
    problems["request"] = await axe_violations(page)
    # declining without a reason: the error next to the field, focus can reach it, the choice kept
    await page.select_option("#f-status", "declined")
    async with page.expect_navigation():
        await page.click(f"form[action='/organiser/requests/{request_id}/status'] button[type=submit]")
    assert "pourquoi la demande est déclinée" in await page.inner_text("#f-reason-error")
    assert await page.input_value("#f-status") == "declined"
    if size == "phone":
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    problems["refused"] = await axe_violations(page)
    await page.select_option("#f-status", "in_discussion")
    async with page.expect_navigation():
        await page.click(f"form[action='/organiser/requests/{request_id}/status'] button[type=submit]")
    assert "Le statut est modifié." in await page.inner_text("[role=status]")
    assert "En discussion" in await page.text_content("p.kind")
    await page.screenshot(path=str(ARTIFACTS / f"office-request-{size}.png"), full_page=True)
    problems["changed"] = await axe_violations(page)
    await context.close()
    assert problems == {"list": [], "request": [], "refused": [], "changed": []}
