"""The back-office in a real browser (issue 22): Debian's Chromium through Playwright against the real
service; sign in, land on the dashboard, at 360 px and on a desktop, with no axe-core violation at all."""

from __future__ import annotations

import asyncpg
import pytest

from server.db import init_connection
from server.organisers import service as accounts
from server.settings import load_settings
from tests.factories import create_organisation, create_organiser, insert_registration
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    AXE,
    LOCALES,
    SECRET,
    browser,
    service,
)

PASSWORD = "a long and good password for the door"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 780}


async def committed_staff(service) -> str:
    """An admin of a fresh organisation with a password and an event with known figures; returns the email."""
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
        slug = await service.create(
            f"bo-{org['slug']}",
            organisation=org["slug"],
            capacity=12,
            title={"fr": "Table ronde sur l'accueil", "en": "Round table on welcoming"},
        )
        settings = load_settings(database_url=service.database_url, secret_key=SECRET, base_url=service.base)
        for status in ("confirmed", "confirmed", "pending", "waitlisted"):
            await insert_registration(conn, settings, slug, status=status)
    finally:
        await conn.close()
    return person.email


async def axe_violations(page) -> list[dict]:
    await page.add_script_tag(path=str(AXE))
    return await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_sign_in_to_the_dashboard_with_no_axe_violation(browser, service, size) -> None:  # noqa: F811
    email = await committed_staff(service)
    viewport = PHONE if size == "phone" else DESKTOP
    # axe-core is injected as a script, which the pages' own policy rightly forbids: only here it is bypassed
    context = await browser.new_context(viewport=viewport, locale=LOCALES["fr"], bypass_csp=True)
    page = await context.new_page()
    problems: dict[str, list] = {}
    await page.goto(f"{service.base}/organiser/people")
    assert page.url.startswith(f"{service.base}/organiser/login?next=")  # no session: the form, then back
    assert await page.get_attribute("html", "lang") == "fr"
    problems["login"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / f"backoffice-login-{size}.png"), full_page=True)
    await page.fill("#f-email", email)
    await page.fill("#f-password", "not the password")
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert "L'adresse e-mail ou le mot de passe est incorrect." in await page.inner_text("#f-password-error")
    assert await page.input_value("#f-email") == email  # nothing typed is lost
    problems["login-error"] = await axe_violations(page)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url == f"{service.base}/organiser/people"
    problems["people"] = await axe_violations(page)
    await page.goto(f"{service.base}/organiser/audit")
    assert "Connexion réussie" in await page.inner_text("main")
    problems["audit"] = await axe_violations(page)
    await page.goto(f"{service.base}/organiser/")
    assert "Tableau de bord" in await page.inner_text("h1")
    text = (await page.inner_text("main")).replace("\u00a0", " ").replace("\u202f", " ")
    assert "Table ronde sur l'accueil" in text and "2 confirmées sur 12 places" in text
    assert "1 en attente de confirmation" in text and "1 en liste d'attente" in text
    if size == "phone":
        assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await page.screenshot(path=str(ARTIFACTS / f"backoffice-dashboard-{size}.png"), full_page=True)
    problems["dashboard"] = await axe_violations(page)
    # the language switcher stores the choice on the account
    await page.select_option("#bo-language", "de")
    async with page.expect_navigation():
        await page.click("form.bo-language button")
    assert await page.get_attribute("html", "lang") == "de" and "Übersicht" in await page.inner_text("h1")
    async with page.expect_navigation():
        await page.click("form.bo-signout button")
    assert page.url.startswith(f"{service.base}/organiser/login")
    await context.close()
    assert problems == {"login": [], "login-error": [], "people": [], "audit": [], "dashboard": []}
