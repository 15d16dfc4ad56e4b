"""The door page in a real browser on a phone (issue 22 point 5): Debian's Chromium through Playwright
against the real service at 360 px; find a name, one tap marks present, undo, a walk-in, no axe-core violation."""

from __future__ import annotations

import asyncpg
from playwright.async_api import expect

from server.db import init_connection
from server.organisers import service as accounts
from server.settings import load_settings
from tests.factories import create_organisation, create_organiser, insert_registration
from tests.test_backoffice_browser import PASSWORD, PHONE, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    SECRET,
    browser,
    service,
)


async def door_staff(service) -> tuple[str, str]:
    """An organiser with a password and an event with three people with a place and one waiting; (email, slug)."""
    conn = await asyncpg.connect(service.database_url)
    await init_connection(conn)
    try:
        org = await create_organisation(conn)
        person, _ = await create_organiser(conn, {org["slug"]: "organiser"})
        await conn.execute(
            "UPDATE organisers SET name = 'Paulo Reis', password_hash = $2 WHERE id = $1",
            person.id,
            accounts._hasher.hash(PASSWORD),
        )
        slug = await service.create(
            f"door-{org['slug']}",
            organisation=org["slug"],
            capacity=5,
            title={"fr": "Séance d'information sur la nationalité"},
        )
        settings = load_settings(database_url=service.database_url, secret_key=SECRET, base_url=service.base)
        for name, status in (
            ("Ana Silva", "confirmed"),
            ("Bruno Weber", "confirmed"),
            ("Chloé Martin", "pending"),
            ("Dara Nguyen", "waitlisted"),
        ):
            await insert_registration(conn, settings, slug, status=status, name=name)
    finally:
        await conn.close()
    return person.email, slug


def counts(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


async def test_at_the_door_on_a_phone_find_tap_undo_and_a_walk_in(browser, service) -> None:  # noqa: F811
    email, slug = await door_staff(service)
    context = await browser.new_context(
        viewport=PHONE, locale=LOCALES["fr"], bypass_csp=True, has_touch=True, is_mobile=True
    )
    page = await context.new_page()
    problems: dict[str, list] = {}
    door = f"{service.base}/organiser/events/{slug}/checkin"
    await page.goto(door)
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url == door
    assert counts(await page.inner_text(".door-counts")) == "Présents : 0 sur 3 attendus"
    problems["door"] = await axe_violations(page)

    # find a name
    await page.fill("#f-q", "silv")
    async with page.expect_navigation():
        await page.click("form.door-search button")
    assert [counts(n) for n in await page.locator(".door-name").all_inner_texts()] == ["Ana Silva"]
    # one tap, and back to the same search
    button = page.get_by_role("button", name="Ana Silva est là")
    box = await button.bounding_box()
    assert box["height"] >= 48 and box["width"] >= 300  # a thumb cannot miss it
    async with page.expect_navigation():
        await button.tap()
    assert "q=silv" in page.url and await page.input_value("#f-q") == "silv"
    assert counts(await page.inner_text(".door-counts")) == "Présents : 1 sur 3 attendus"
    assert "Présence enregistrée." in await page.inner_text("main")
    problems["present"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "backoffice-door-present-phone.png"), full_page=True)
    # undo
    async with page.expect_navigation():
        await page.get_by_role("button", name="Annuler : Ana Silva n'est pas là").tap()
    assert counts(await page.inner_text(".door-counts")) == "Présents : 0 sur 3 attendus"
    assert await page.get_by_role("button", name="Ana Silva est là").count() == 1

    # a walk-in: an empty name is refused next to the field, then a name is enough
    async with page.expect_navigation():
        await page.click("form[action$='/checkin/walk-in'] button")
    assert "Veuillez indiquer le nom de la personne" in await page.inner_text("#f-name-error")
    assert await page.get_attribute("#f-name", "aria-invalid") == "true"
    problems["walk-in-error"] = await axe_violations(page)
    await page.fill("#f-name", "Zoé Walk-in")
    async with page.expect_navigation():
        await page.click("form[action$='/checkin/walk-in'] button")
    assert counts(await page.inner_text(".door-counts")) == "Présents : 1 sur 5 attendus"
    assert await page.get_by_role("button", name="Annuler : Zoé Walk-in n'est pas là").count() == 1
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    problems["walk-in"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "backoffice-door-walk-in-phone.png"), full_page=True)

    # the table on the same phone: Bruno did not come; the row's form keeps the filter
    await page.goto(f"{service.base}/organiser/events/{slug}/registrations?status=confirmed")
    problems["table"] = await axe_violations(page)
    bruno = page.get_by_label("Présence de Bruno Weber")
    await bruno.select_option("absent")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Enregistrer la présence de Bruno Weber").click()
    assert "status=confirmed" in page.url and "La présence est enregistrée." in await page.inner_text("main")
    assert await page.get_by_label("Présence de Bruno Weber").input_value() == "absent"
    await page.goto(f"{service.base}/organiser/events/{slug}/sheet")
    assert "Ana Silva" in await page.inner_text("table") and "Signature" in await page.inner_text("thead")
    problems["sheet"] = await axe_violations(page)
    await context.close()
    assert problems == {"door": [], "present": [], "walk-in-error": [], "walk-in": [], "table": [], "sheet": []}


async def test_typing_a_name_narrows_the_door_list_without_submitting(browser, service) -> None:  # noqa: F811
    """With htmx (under the site's CSP: no bypass here) the list narrows as a name is typed, in place."""
    email, slug = await door_staff(service)
    context = await browser.new_context(viewport=PHONE, locale=LOCALES["fr"], has_touch=True, is_mobile=True)
    page = await context.new_page()
    refused: list[str] = []
    page.on("console", lambda message: refused.append(message.text) if message.type == "error" else None)
    door = f"{service.base}/organiser/events/{slug}/checkin"
    await page.goto(door)
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    names = page.locator("#door-list .door-name")
    assert await names.count() == 3
    navigations: list[str] = []
    page.on("framenavigated", lambda frame: navigations.append(frame.url))
    await page.locator("#f-q").press_sequentially("wEb", delay=60)
    await expect(names).to_have_count(1)  # (polling from here: the page's CSP allows no evaluated script)
    assert [counts(n) for n in await names.all_inner_texts()] == ["Bruno Weber"]
    assert navigations == [] and page.url == door  # nothing was submitted: the list alone was swapped
    assert await page.locator(".door-counts").count() == 1 and await page.locator("#f-q").input_value() == "wEb"
    # the swapped-in list's tap keeps the search typed
    async with page.expect_navigation():
        await page.get_by_role("button", name="Bruno Weber est là").tap()
    assert "q=wEb" in page.url and counts(await page.inner_text(".door-counts")) == "Présents : 1 sur 3 attendus"
    await page.locator("#f-q").fill("")
    await page.locator("#f-q").press_sequentially("zzz", delay=60)
    await expect(names).to_have_count(0)
    assert "zzz" in await page.inner_text("#door-list")
    await context.close()
    assert refused == []
