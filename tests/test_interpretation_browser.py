"""The interpreter's private page in a real browser on a phone (issue 24): Debian's Chromium through
Playwright against the real service at 360 px; the offer and the missions, accepting by the page's
plain form, no axe-core violation; staff offer a mission and type a request on a phone."""

from __future__ import annotations

import asyncpg
import msgspec

from server.db import init_connection
from server.interpretation import service as interpretation
from server.interpretation.schemas import InterpreterIn, MissionIn, MissionPatch, OffersIn
from server.organisers import service as accounts
from server.settings import load_settings
from tests.factories import ADMIN, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday
from tests.test_backoffice_browser import PASSWORD, PHONE, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    SECRET,
    browser,
    service,
)


async def interpreter_with_an_offer(service, staff: bool = False) -> str | tuple[str, int]:
    """Ana, of a fresh pool, holds a mission by phone and is offered another on site; returns her token
    (with `staff`: an organiser's email and a third mission, open, instead)."""
    conn = await asyncpg.connect(service.database_url)
    await init_connection(conn)
    try:
        org = (await create_organisation(conn))["slug"]
        settings = load_settings(database_url=service.database_url, secret_key=SECRET, base_url=service.base)
        body = interpreter_body(organisation=org, name="Ana Tesfay", language="fr")
        ana = await interpretation.create_interpreter(conn, ADMIN, msgspec.convert(body, InterpreterIn), settings)
        day = monday()
        held = await interpretation.create_mission(
            conn,
            ADMIN,
            msgspec.convert(mission_body(at(day, 14), organisation=org, remote="phone", place=None), MissionIn),
            settings,
        )
        await interpretation.update_mission(conn, ADMIN, held.id, MissionPatch(interpreter=ana.id), settings)
        offered = await interpretation.create_mission(
            conn, ADMIN, msgspec.convert(mission_body(at(day, 10), organisation=org), MissionIn), settings
        )
        await interpretation.offer(conn, ADMIN, offered.id, OffersIn(interpreters=[ana.id]))
        if staff:
            person, _ = await create_organiser(conn, {org: "organiser"})
            await conn.execute(
                "UPDATE organisers SET name = 'Paulo Reis', password_hash = $2 WHERE id = $1",
                person.id,
                accounts._hasher.hash(PASSWORD),
            )
            open_one = await interpretation.create_mission(
                conn, ADMIN, msgspec.convert(mission_body(at(day, 16), organisation=org), MissionIn), settings
            )
            return person.email, open_one.id
    finally:
        await conn.close()
    return ana.link.rsplit("/", 1)[1]


def words(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").replace("\u202f", " ").split())


async def test_the_interpreter_accepts_an_offer_on_a_phone(browser, service) -> None:  # noqa: F811
    token = await interpreter_with_an_offer(service)
    context = await browser.new_context(
        viewport=PHONE, locale=LOCALES["fr"], bypass_csp=True, has_touch=True, is_mobile=True
    )
    page = await context.new_page()
    problems: dict[str, list] = {}
    mine = f"{service.base}/i/{token}"
    await page.goto(mine)
    assert await page.get_attribute("html", "lang") == "fr"
    assert words(await page.inner_text("h1")) == "Bonjour Ana Tesfay,"
    offers = page.locator("section[aria-labelledby=offers-title] article.offer")
    missions = page.locator("section[aria-labelledby=missions-title] article.mission")
    assert await offers.count() == 1 and await missions.count() == 1
    offer = words(await offers.first.inner_text())
    assert "tigrigna – français" in offer and "3, rue du Commerce, Luxembourg" in offer
    assert "Répondre avant le" in offer
    assert "Par téléphone" in words(await missions.first.inner_text())
    accept = offers.first.get_by_role("button", name="Accepter")
    box = await accept.bounding_box()
    assert box["height"] >= 40  # a thumb finds it
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    problems["offered"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "interpreter-offer-phone.png"), full_page=True)

    # the page's plain form, tapped: back to the page, the mission now hers
    async with page.expect_navigation():
        await accept.tap()
    assert page.url.startswith(mine) and "done=accepted" in page.url
    notice = words(await page.inner_text("[role=status]"))
    assert notice == "La mission est à vous. Elle figure désormais dans vos missions et dans votre agenda."
    assert await offers.count() == 0
    assert "Aucune mission ne vous est proposée pour le moment." in words(await page.inner_text("main"))
    assert await missions.count() == 2
    held = [words(t) for t in await missions.all_inner_texts()]
    assert "3, rue du Commerce, Luxembourg" in held[0] and "Par téléphone" in held[1]  # soonest first
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    problems["accepted"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "interpreter-accepted-phone.png"), full_page=True)
    await context.close()
    assert problems == {name: [] for name in problems}, problems


async def test_staff_offer_a_mission_on_a_phone(browser, service) -> None:  # noqa: F811
    email, mission_id = await interpreter_with_an_offer(service, staff=True)
    context = await browser.new_context(
        viewport=PHONE, locale=LOCALES["fr"], bypass_csp=True, has_touch=True, is_mobile=True
    )
    page = await context.new_page()
    problems: dict[str, list] = {}
    target = f"{service.base}/organiser/interpretation/missions/{mission_id}"
    await page.goto(target)
    await page.fill("#f-email", email)
    await page.fill("#f-password", PASSWORD)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url == target
    assert "Ana Tesfay" in await page.inner_text("main")
    problems["mission"] = await axe_violations(page)
    await page.get_by_label("Proposer la mission à Ana Tesfay").check()
    async with page.expect_navigation():
        await page.get_by_role("button", name="Proposer la mission", exact=True).tap()
    assert page.url == f"{target}?done=offered"
    assert "En attente de réponse" in words(await page.inner_text("main"))
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    problems["offered"] = await axe_violations(page)
    await page.screenshot(path=str(ARTIFACTS / "backoffice-interpretation-mission-phone.png"), full_page=True)
    await page.goto(f"{service.base}/organiser/interpretation/")
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    problems["list"] = await axe_violations(page)
    await page.goto(f"{service.base}/organiser/interpretation/interpreters")
    problems["pool"] = await axe_violations(page)
    # a request phoned in, typed by hand: the new mission's page
    await page.goto(f"{service.base}/organiser/interpretation/")
    async with page.expect_navigation():
        await page.get_by_role("link", name="Nouvelle demande").tap()
    problems["new"] = await axe_violations(page)
    await page.fill("#f-date", monday(3).isoformat())
    await page.fill("#f-start", "09:30")
    await page.select_option("#f-commune", "Differdange")
    await page.select_option("#f-from_language", "ti")
    await page.select_option("#f-to_language", "fr")
    await page.fill("#f-organisation", "Office social de Differdange")
    await page.fill("#f-contact", "Claire Hoffmann")
    await page.fill("#f-email", "claire.hoffmann@example.lu")
    async with page.expect_navigation():
        await page.get_by_role("button", name="Enregistrer la demande").tap()
    assert "/organiser/interpretation/missions/" in page.url and page.url.endswith("?done=created")
    assert "Office social de Differdange" in await page.inner_text("main")
    # Ana's mission by phone, moved a month back as time would: its hours are typed on its page
    conn = await asyncpg.connect(service.database_url)
    try:
        held = await conn.fetchval(
            "UPDATE interpretation_missions m SET starts_at = starts_at - interval '30 days', "
            "ends_at = ends_at - interval '30 days' FROM memberships s JOIN organisers o ON o.id = s.organiser_id "
            "WHERE s.organisation_id = m.organisation_id AND o.email = $1 AND m.status = 'assigned' RETURNING m.id",
            email,
        )
    finally:
        await conn.close()
    await page.goto(f"{service.base}/organiser/interpretation/missions/{held}")
    problems["hours"] = await axe_violations(page)
    await page.fill("#f-hours", "1")
    await page.fill("#f-minutes", "30")
    async with page.expect_navigation():
        await page.locator("form[action$='/hours'] button[type=submit]").tap()
    assert page.url.endswith(f"/missions/{held}?done=hours")
    assert "90 minutes" in words(await page.inner_text("main"))
    assert await page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    problems["hours_recorded"] = await axe_violations(page)
    await context.close()
    assert problems == {name: [] for name in problems}, problems
