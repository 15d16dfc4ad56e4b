"""A commune's request in a real browser (Debian's Chromium against `python -m server serve`): the form
filled in German, its errors, the status link from the mail the catcher wrote, an answer on the status
page; axe-core finds no serious or critical problem on the form, the form with errors and the status page."""

from __future__ import annotations

import email
import email.policy
import http.server
import re
import secrets
import threading
import time
from datetime import timedelta

import asyncpg
import pytest

from server.validation import local_today
from tests.test_pages_browser import (  # noqa: F401 (fixtures)
    ARTIFACTS,
    AXE,
    MAIL_DIR,
    MAIL_WAIT,
    PHONE,
    browser,
    new_page,
    require_notifier,
    service,
)


def status_link_from_mail(base: str, recipient: str, since: float, timeout: float = MAIL_WAIT) -> str:
    """The status link in the newest .eml the mail catcher wrote for `recipient`."""
    require_notifier()
    deadline = time.monotonic() + timeout
    pattern = re.compile(re.escape(base) + r"/requests/[A-Za-z0-9_-]{43}")
    while time.monotonic() < deadline:
        for path in (
            sorted(MAIL_DIR.glob("**/*.eml"), key=lambda p: p.stat().st_mtime, reverse=True)
            if MAIL_DIR.exists()
            else []
        ):
            if path.stat().st_mtime < since - 1:
                continue
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if recipient.lower() not in str(message.get("To", "")).lower():
                continue
            found = pattern.search(message.get_body(("plain",)).get_content())
            if found:
                return found.group(0)
        time.sleep(0.3)
    pytest.fail(f"no mail to {recipient} with a status link appeared under {MAIL_DIR} within {timeout:.0f} s")


async def axe_problems(page) -> list:
    await page.add_script_tag(path=str(AXE))
    violations = await page.evaluate(
        """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
             .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"""
    )
    return [v for v in violations if v["impact"] in ("serious", "critical")]


async def test_a_commune_asks_in_german_and_answers_on_its_status_page(browser, service) -> None:  # noqa: F811
    conn = await asyncpg.connect(service.database_url)
    try:
        await conn.execute("INSERT INTO organisations (slug, name) VALUES ('asti', 'ASTI') ON CONFLICT DO NOTHING")
    finally:
        await conn.close()
    page = await new_page(browser, "de")
    await page.goto(f"{service.base}/communes/request")
    assert await page.get_attribute("html", "lang") == "de"
    address = f"gemeinde-{secrets.token_hex(3)}@example.lu"
    await page.select_option("#f-commune", "esch-sur-alzette")
    await page.select_option("#f-requester_type", "administration")
    await page.fill("#f-contact_name", "Jos Schmit")
    await page.fill("#f-email", address)
    await page.select_option("#f-subject", "volunteering")
    await page.fill("#f-preferred_from_1", (local_today() + timedelta(days=3)).isoformat())
    await page.fill("#f-venue", "Gemeindesaal")
    await page.check("#f-interpretation-ar")
    await page.check("#f-consent")
    async with page.expect_navigation():
        await page.click("form button[type=submit]")
    # too soon: said next to the dates, in German, with what was typed kept
    assert "Bitte geben Sie Termine ab dem" in await page.inner_text("#f-preferred-error")
    assert await page.input_value("#f-venue") == "Gemeindesaal" and await page.is_checked("#f-interpretation-ar")
    assert await page.locator(".error-summary a[href='#f-preferred']").count() == 1
    await page.fill("#f-preferred_from_1", (local_today() + timedelta(days=30)).isoformat())
    since = time.time()
    async with page.expect_navigation():
        await page.click("form button[type=submit]")
    assert "Vielen Dank für Ihre Anfrage" in await page.inner_text("h1")
    link = status_link_from_mail(service.base, address, since)
    await page.goto(link)
    assert await page.get_attribute("html", "lang") == "de"
    assert "eingegangen, noch nicht gelesen" in await page.inner_text("main")
    await page.fill("#f-body", "Wir hätten auch einen Beamer.")
    async with page.expect_navigation():
        await page.click("form button[type=submit]")
    assert "Wir hätten auch einen Beamer." in await page.inner_text(".thread")
    assert page.csp_problems == []
    status_url = page.url.split("?")[0]
    await page.context.close()

    # axe-core is injected as a script, which the pages' own policy rightly forbids: only here it is bypassed
    checker = await new_page(browser, "de", bypass_csp=True)
    problems = {}
    for name in ("request-form", "request-form-errors", "request-status"):
        if name == "request-form-errors":
            await checker.goto(f"{service.base}/communes/request?lang=de")
            async with checker.expect_navigation():
                await checker.click("form button[type=submit]")
            assert await checker.locator(".field-error").count() >= 4
        else:
            await checker.goto(f"{service.base}/communes/request" if name == "request-form" else status_url)
        assert await checker.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], name
        await checker.screenshot(path=str(ARTIFACTS / f"{name}-360px.png"), full_page=True)
        problems[name] = await axe_problems(checker)
    await checker.context.close()
    assert problems == {"request-form": [], "request-form-errors": [], "request-status": []}


async def test_the_embed_is_framed_by_another_origin_and_other_pages_refuse(browser, service) -> None:  # noqa: F811
    await service.create(
        "embed",
        kind="info_session",
        commune="Esch-sur-Alzette",
        venue="Maison du Peuple",
        join_url=None,
        platform=None,
        title={"fr": "Séance à Esch", "de": "Infoabend in Esch"},
    )
    page = await new_page(browser, "de")
    refusals: list[str] = []
    page.on("console", lambda message: refusals.append(message.text))
    embed, other = (
        f"{service.base}/communes/esch-sur-alzette/embed?lang=de",
        f"{service.base}/communes/esch-sur-alzette?lang=de",
    )
    host = (
        f'<!doctype html><html lang="de"><head><title>Gemeinde</title></head><body>'
        f'<iframe id="embed" title="embed" src="{embed}" width="400" height="400"></iframe>'
        f'<iframe id="other" title="other" src="{other}" width="400" height="400"></iframe></body></html>'
    ).encode()

    class CommuneWebsite(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 (the standard library's name)
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(host)))
            self.end_headers()
            self.wfile.write(host)

        def log_message(self, *args) -> None:
            pass

    # another origin than the service's: a real server of its own on another port (Chromium treats a
    # page answered by the test's route as public, and a public page may not frame a loopback address)
    website = http.server.ThreadingHTTPServer(("127.0.0.1", 0), CommuneWebsite)
    threading.Thread(target=website.serve_forever, daemon=True).start()
    try:
        await page.goto(f"http://127.0.0.1:{website.server_address[1]}/veranstaltungen")
        await page.wait_for_timeout(1500)
        frames = {frame.url: frame for frame in page.frames if frame.url != "chrome-error://chromewebdata/"}
        assert embed in frames, ([f.url for f in page.frames], refusals)
        assert "Infoabend in Esch" in await frames[embed].inner_text("main")
        assert "Veranstaltungen in Esch-sur-Alzette" in await frames[embed].inner_text("h1")
        # the commune's full page is refused: no frame shows its content
        assert (
            not any(url == other for url in frames)
            or await frames[other].evaluate("document.body ? document.body.innerText : ''") == ""
        )
        assert any("frame-ancestors 'none'" in text for text in refusals), refusals
        await page.screenshot(path=str(ARTIFACTS / "commune-embed-framed.png"))
        await page.context.close()
    finally:
        website.shutdown()
