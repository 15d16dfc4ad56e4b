"""The pages in a real browser: Debian's Chromium driven by Playwright against the real service
(`python -m server serve`: granian, the notifier and the local mail catcher writing .eml files).

A person registers, opens the confirmation link from the mail the catcher received, sees the join
link and cancels, in French, German and Portuguese; a form with errors; a full event puts the
person on the waiting list; axe-core finds no serious or critical problem; screenshots at 360 px
go to tests/artifacts/. The test installs Chromium (apt-get) and axe-core (npm ci) when missing.
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import httpx
import pytest

from server.db import init_connection, migrate
from server.settings import ROOT, load_settings
from tests.factories import create_event, manage_token
from tests.installs import one_installer

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
JS_DIR = ROOT / "tests" / "js"
AXE = JS_DIR / "node_modules" / "axe-core" / "axe.min.js"
ARTIFACTS = ROOT / "tests" / "artifacts"
MAIL_DIR = ROOT / ".data" / "mail"
PHONE = {"width": 360, "height": 780}
SECRET = "browser-test-secret"
JOIN_URL = "https://meet.example.org/browser-room"
MAIL_WAIT = 60.0
LOCALES = {"fr": "fr-LU", "de": "de-LU", "pt": "pt-PT", "en": "en-GB", "lb": "lb-LU"}

# what the person reads, by language: hard-coded here so that the test checks the words themselves
WORDS = {
    "fr": {
        "registered": "Merci pour votre inscription",
        "pending": "en attente de votre confirmation",
        "confirmed": "confirmée",
        "cancelled": "annulée",
        "join": "Rejoindre la web-conférence",
        "waitlist_button": "M'inscrire sur la liste d'attente",
        "position": "Vous êtes en position 1 sur la liste d'attente.",
        "name_error": "Veuillez indiquer votre nom.",
        "summary": "Veuillez corriger les points suivants :",
    },
    "de": {
        "registered": "Danke für Ihre Anmeldung",
        "pending": "wartet auf Ihre Bestätigung",
        "confirmed": "bestätigt",
        "cancelled": "storniert",
        "join": "An der Webkonferenz teilnehmen",
    },
    "pt": {
        "registered": "Obrigado pela sua inscrição",
        "pending": "a aguardar a sua confirmação",
        "confirmed": "confirmada",
        "cancelled": "cancelada",
        "join": "Entrar na webconferência",
    },
}


# ---------------------------------------------------------------------------- set-up


def ensure_chromium() -> None:
    """Debian's Chromium, installed with apt-get when missing (a fresh machine; CI runs as root)."""
    if CHROMIUM.exists():
        return
    if os.geteuid() != 0:
        pytest.fail(
            "/usr/bin/chromium is missing and only root can apt-get install it: run `apt-get install -y chromium`"
        )
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update"], ["apt-get", "install", "-y", "--no-install-recommends", "chromium"]):
        done = subprocess.run(command, capture_output=True, text=True, env=env, timeout=900)
        if done.returncode != 0:
            pytest.fail(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    assert CHROMIUM.exists(), "apt-get installed chromium but /usr/bin/chromium is not there"


def ensure_axe() -> None:
    """axe-core from tests/js/package-lock.json (npm ci) when missing."""
    if AXE.exists():
        return
    npm = shutil.which("npm")
    if npm is None:
        pytest.fail("npm is required to install axe-core (install Node.js 18 or newer); this test never skips")
    done = subprocess.run(
        [npm, "ci", "--prefix", str(JS_DIR), "--no-audit", "--no-fund"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    if done.returncode != 0 or not AXE.exists():
        pytest.fail(f"npm ci --prefix tests/js failed:\n{done.stdout}\n{done.stderr}")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


class Service:
    """The running service and what the tests created in its database."""

    def __init__(self, base: str, database_url: str, log: Path):
        self.base = base
        self.database_url = database_url
        self.log = log
        self.slugs: dict[str, str] = {}

    async def create(self, key: str, **overrides) -> str:
        """Create and publish an event (committed: the service's processes must see it)."""
        conn = await asyncpg.connect(self.database_url)
        await init_connection(conn)
        try:
            settings = load_settings(database_url=self.database_url, secret_key=SECRET, base_url=self.base)
            event = await create_event(conn, settings, **overrides)
        finally:
            await conn.close()
        self.slugs[key] = event.slug
        return event.slug

    async def manage_link(self, address: str) -> str:
        """The manage link of an address's registration, derived from the database and the secret."""
        conn = await asyncpg.connect(self.database_url)
        try:
            registration_id = await conn.fetchval(
                "SELECT id FROM registrations WHERE email = $1 ORDER BY id DESC LIMIT 1", address
            )
            settings = load_settings(database_url=self.database_url, secret_key=SECRET, base_url=self.base)
            return f"{self.base}/r/{await manage_token(conn, settings, registration_id)}"
        finally:
            await conn.close()


@pytest.fixture(scope="module")
async def service() -> AsyncIterator[Service]:
    """`python -m server serve` on a free port, on a database of its own, with its notifier."""
    base_url = os.environ.get("DATABASE_URL")
    if not base_url:
        pytest.exit("DATABASE_URL is not set: run the suite with `make test`", returncode=2)
    name = f"zesummen_browser_{secrets.token_hex(4)}"
    admin = await asyncpg.connect(base_url)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(base_url, name)
    conn = await asyncpg.connect(url)
    try:
        await migrate(conn)
    finally:
        await conn.close()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    log = ARTIFACTS / "browser-server.log"
    env = {
        **os.environ,
        "DATABASE_URL": url,
        "HOST": "127.0.0.1",
        "PORT": str(port),
        "BASE_URL": base,
        "SECRET_KEY": SECRET,
        "DEMO_DATA": "0",
        "NOTIFIER": "1",
        "WEB_WORKERS": "1",
    }
    env.pop("SMTP_HOST", None)  # no SMTP server: the local mail catcher writes .eml files
    with log.open("wb") as output:
        process = subprocess.Popen(
            [sys.executable, "-m", "server", "serve"],
            cwd=ROOT,
            env=env,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        await _wait_until_ready(base, process, log)
        yield Service(base, url, log)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def _wait_until_ready(base: str, process: subprocess.Popen, log: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient() as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                pytest.fail(f"`python -m server serve` stopped with {process.returncode}:\n{log.read_text()[-3000:]}")
            try:
                if (await http.get(f"{base}/readyz", timeout=2)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    pytest.fail(f"the service did not become ready in {timeout} s:\n{log.read_text()[-3000:]}")


@pytest.fixture(scope="module")
async def browser():
    """Debian's Chromium through Playwright (no browser download)."""
    with one_installer():
        ensure_chromium()
        ensure_axe()
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_FLAGS, headless=True)
        try:
            yield chromium
        finally:
            await chromium.close()


async def new_page(browser, lang: str, *, bypass_csp: bool = False):
    """A phone-sized page whose browser asks for `lang` (Accept-Language), with CSP problems recorded."""
    context = await browser.new_context(viewport=PHONE, locale=LOCALES[lang], bypass_csp=bypass_csp)
    page = await context.new_page()
    page.csp_problems = []  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda message: (
            page.csp_problems.append(message.text)  # type: ignore[attr-defined]
            if "Content Security Policy" in message.text or "Refused to" in message.text
            else None
        ),
    )
    return page


# ---------------------------------------------------------------------------- mail


def require_notifier() -> None:
    """Fail at once, saying what is missing, when the service cannot send mail yet."""
    from importlib.util import find_spec

    missing = [
        name for name in ("server.notifications.worker", "server.notifications.messages") if find_spec(name) is None
    ]
    if missing:
        owners = {
            "server.notifications.worker": "the notifier's worker and local mail catcher (branch `notify`)",
            "server.notifications.messages": "the notifier's messages (branch `mail`)",
        }
        pytest.fail(
            f"missing: {'; '.join(f'{name}, {owners[name]}' for name in missing)}: without it no "
            "confirmation mail reaches the mail catcher, so this flow cannot be shown"
        )


def manage_link_from_mail(base: str, recipient: str, since: float, timeout: float = MAIL_WAIT) -> tuple[str, Path]:
    """The manage link in the newest .eml the mail catcher wrote for `recipient`."""
    require_notifier()
    deadline = time.monotonic() + timeout
    pattern = re.compile(re.escape(base) + r"/r/[A-Za-z0-9_-]{43}")
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
            for part in message.walk():
                if part.get_content_type() in ("text/plain", "text/html"):
                    found = pattern.search(part.get_content())
                    if found:
                        return found.group(0), path
        time.sleep(0.3)
    pytest.fail(
        f"no mail to {recipient} with a manage link appeared under {MAIL_DIR} within {timeout:.0f} s. "
        "The notifier (worker + local mail catcher, branch `notify`) and its messages (branch `mail`) must be "
        "running inside `python -m server serve`. Server log:\n"
        f"{_tail(MAIL_DIR.parent.parent / 'tests/artifacts/browser-server.log')}"
    )


def _tail(path: Path) -> str:
    return path.read_text(errors="replace")[-3000:] if path.exists() else "(no log)"


# ---------------------------------------------------------------------------- steps


def plain(text: str) -> str:
    """Text with French no-break spaces (« : ») read as ordinary spaces."""
    return text.replace("\u00a0", " ").replace("\u202f", " ")


async def fill_registration(page, name: str, address: str) -> None:
    """Fill the form as a keyboard user: type, tab, space on the consent box, Enter on the button."""
    await page.fill("#f-name", name)
    await page.fill("#f-email", address)
    await page.select_option("#f-commune", "Esch-sur-Alzette")
    await page.focus("#f-consent")
    assert await page.evaluate("getComputedStyle(document.activeElement).outlineStyle") != "none"
    await page.keyboard.press("Space")
    assert await page.is_checked("#f-consent")
    await page.focus("form[action*='/register'] button[type=submit]")
    async with page.expect_navigation():
        await page.keyboard.press("Enter")


async def register_confirm_cancel(browser, service: Service, lang: str, slug: str) -> None:
    words = WORDS[lang]
    page = await new_page(browser, lang)
    await page.goto(f"{service.base}/events/{slug}")
    assert await page.get_attribute("html", "lang") == lang  # the first visit follows Accept-Language
    address = f"person-{lang}-{secrets.token_hex(3)}@example.org"
    since = time.time()
    await fill_registration(page, "Ana Silva", address)
    assert words["registered"] in await page.inner_text("h1")
    link, _ = manage_link_from_mail(service.base, address, since)
    await page.goto(link)
    assert await page.get_attribute("html", "lang") == lang  # registered in this language
    assert words["pending"] in await page.inner_text(".status")
    await page.click("form[action*='/confirm'] button")
    assert words["confirmed"] in await page.inner_text(".status h2")
    # the person's own link (/j/), which records the join; the room's link is never on the page
    join = page.locator(f"a[href^='{service.base}/j/']")
    assert await join.is_visible() and words["join"] in await join.inner_text()
    assert await page.locator(f"a[href='{JOIN_URL}']").count() == 0
    await page.click("form[action*='/cancel'] button")
    assert words["cancelled"] in await page.inner_text(".status h2")
    assert await page.locator("a[href*='/j/']").count() == 0
    assert page.csp_problems == []  # the pages need nothing the policy forbids
    await page.context.close()


# ---------------------------------------------------------------------------- tests


async def test_register_confirm_from_the_mail_see_the_join_link_and_cancel_in_french(browser, service) -> None:
    slug = await service.create(
        "fr", capacity=10, join_url=JOIN_URL, title={"fr": "Les Portugais de «seconde génération»"}
    )
    await register_confirm_cancel(browser, service, "fr", slug)


async def test_the_same_in_german(browser, service) -> None:
    slug = await service.create(
        "de",
        capacity=10,
        join_url=JOIN_URL,
        languages=["de"],
        title={"de": "Die Integration von Flüchtlingen in den Arbeitsmarkt"},
    )
    await register_confirm_cancel(browser, service, "de", slug)


async def test_the_same_in_portuguese(browser, service) -> None:
    slug = await service.create(
        "pt",
        capacity=10,
        join_url=JOIN_URL,
        languages=["pt", "fr"],
        title={"pt": "Os portugueses de segunda geração", "fr": "Les Portugais"},
    )
    await register_confirm_cancel(browser, service, "pt", slug)


async def test_a_form_with_errors_says_what_to_fix_and_links_to_the_field(browser, service) -> None:
    slug = await service.create("errors", capacity=10, join_url=JOIN_URL)
    page = await new_page(browser, "fr")
    await page.goto(f"{service.base}/events/{slug}")
    await page.fill("#f-email", "pas-une-adresse")
    async with page.expect_navigation():
        await page.click("form[action*='/register'] button[type=submit]")
    summary = page.locator(".error-summary")
    assert await summary.is_visible() and WORDS["fr"]["summary"] in plain(await summary.inner_text())
    assert WORDS["fr"]["name_error"] in await page.inner_text("#f-name-error")
    assert await page.get_attribute("#f-name", "aria-invalid") == "true"
    assert "f-name-error" in await page.get_attribute("#f-name", "aria-describedby")
    assert await page.input_value("#f-email") == "pas-une-adresse"
    await page.click(".error-summary a[href='#f-name']")
    assert await page.evaluate("document.activeElement.id") == "f-name"
    await page.context.close()


async def test_a_full_event_puts_the_person_on_the_waiting_list(browser, service) -> None:
    slug = await service.create("full", capacity=0, join_url=JOIN_URL)
    page = await new_page(browser, "fr")
    await page.goto(f"{service.base}/events/{slug}")
    button = page.locator("form[action*='/register'] button[type=submit]")
    assert WORDS["fr"]["waitlist_button"] in await button.inner_text()
    address = f"waiting-{secrets.token_hex(3)}@example.org"
    since = time.time()
    await fill_registration(page, "Jean Muller", address)
    link, _ = manage_link_from_mail(service.base, address, since)
    await page.goto(link)
    assert WORDS["fr"]["position"] in await page.inner_text(".status")
    await page.context.close()


async def test_the_three_pages_pass_axe_and_are_photographed_at_phone_width(browser, service) -> None:
    slug = await service.create(
        "axe",
        capacity=10,
        join_url=JOIN_URL,
        title={"fr": "Les Portugais de «seconde génération» au Luxembourg"},
        summary={
            "fr": "Parler de l'intégration des Portugais des « secondes générations » issues de l'immigration "
            "est une question cruciale pour le Luxembourg."
        },
    )
    await service.create(
        "axe-info",
        kind="info_session",
        commune="Esch-sur-Alzette",
        venue="Maison du Peuple",
        join_url=None,
        platform=None,
        title={"fr": "Accueillir des demandeurs de protection internationale"},
    )
    page = await new_page(browser, "fr")
    address = f"axe-{secrets.token_hex(3)}@example.org"
    await page.goto(f"{service.base}/events/{slug}")
    await fill_registration(page, "Ana Silva", address)
    # the mail flow has tests of its own above; here the link comes straight from the database
    await page.goto(await service.manage_link(address))
    await page.click("form[action*='/confirm'] button")  # the manage page with the join link
    manage_url = page.url.split("?")[0]
    await page.context.close()

    # axe-core is injected as a script, which the pages' own policy rightly forbids: only here it is bypassed
    checker = await new_page(browser, "fr", bypass_csp=True)
    problems: dict[str, list] = {}
    for name, url in (("list", f"{service.base}/"), ("event", f"{service.base}/events/{slug}"), ("manage", manage_url)):
        await checker.goto(url)
        assert await checker.evaluate("document.documentElement.scrollWidth") <= PHONE["width"], (
            f"{name} scrolls sideways at 360 px"
        )
        await checker.screenshot(path=str(ARTIFACTS / f"{name}-360px.png"), full_page=True)
        await checker.add_script_tag(path=str(AXE))
        violations = await checker.evaluate(
            """async () => (await axe.run(document, {resultTypes: ['violations']})).violations
                 .map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(' '))}))"""
        )
        problems[name] = [v for v in violations if v["impact"] in ("serious", "critical")]
    await checker.context.close()
    assert problems == {"list": [], "event": [], "manage": []}
    for name in ("list", "event", "manage"):
        assert (ARTIFACTS / f"{name}-360px.png").stat().st_size > 10_000
