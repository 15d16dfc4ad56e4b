"""The interpreter's private page in a real browser on a phone (issue 24): Debian's Chromium through
Playwright against the real service at 360 px; the offer and the missions, accepting by the page's
plain form, no axe-core violation."""

from __future__ import annotations

import asyncpg
import msgspec

from server.db import init_connection
from server.interpretation import service as interpretation
from server.interpretation.schemas import InterpreterIn, MissionIn, MissionPatch, OffersIn
from server.settings import load_settings
from tests.factories import ADMIN, create_organisation
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday
from tests.test_backoffice_browser import PHONE, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    SECRET,
    browser,
    service,
)


async def interpreter_with_an_offer(service) -> str:
    """Ana, of a fresh pool, holds a mission by phone and is offered another on site; returns her token."""
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
