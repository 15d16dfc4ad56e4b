"""The back-office's whole journey in a real browser (issue 22's proof), at 360 px and on a desktop, with axe:
invite → choose a password → create a web conference in three languages → preview → publish → a public
registration → its QR check-in URL opened by the signed-in organiser → attendance shown → the personal join
link followed → the XLSX export read back with openpyxl; then a second organisation's organiser tries every
back-office URL of the first (the app's own /organiser routes) and learns and changes nothing."""

from __future__ import annotations

import email
import email.policy
import io
import re
import secrets
import time
from datetime import datetime

import asyncpg
import openpyxl
import pytest
import zxingcpp
from PIL import Image

from server.app import create_app
from server.db import init_connection
from server.organisers import service as accounts
from server.settings import load_settings
from tests.factories import create_organisation, create_organiser
from tests.test_backoffice_browser import DESKTOP, PASSWORD, PHONE, axe_violations
from tests.test_pages_browser import (  # noqa: F401  (module fixtures: the service and the browser)
    ARTIFACTS,
    LOCALES,
    MAIL_DIR,
    MAIL_WAIT,
    SECRET,
    browser,
    fill_registration,
    plain,
    service,
)

ROOM = "https://meet.example.org/journey-room"
NEW_PASSWORD = "three quiet rivers under the bridge"


async def two_organisations(service) -> dict[str, object]:
    """Organisation A with an admin, organisation B with an organiser; both with a password (committed)."""
    conn = await asyncpg.connect(service.database_url)
    await init_connection(conn)
    try:
        suffix = secrets.token_hex(3)
        a = await create_organisation(conn, f"journey-a-{suffix}", "Association A")
        b = await create_organisation(conn, f"journey-b-{suffix}", "Association B")
        admin, _ = await create_organiser(conn, {a["slug"]: "admin"})
        other, _ = await create_organiser(conn, {b["slug"]: "organiser"})
        for person, name in ((admin, "Maria Schmit"), (other, "Paul Weber")):
            await conn.execute(
                "UPDATE organisers SET name = $2, password_hash = $3 WHERE id = $1",
                person.id,
                name,
                accounts._hasher.hash(PASSWORD),
            )
    finally:
        await conn.close()
    return {"a": a, "b": b, "admin": admin, "other": other}


def invitation_link(base: str, recipient: str, since: float) -> str:
    """The link to choose a password, from the invitation mail the service's mail catcher wrote."""
    pattern = re.compile(re.escape(base) + r"/organiser/invitations/[A-Za-z0-9_-]+\?lang=[a-z]{2}")
    deadline = time.monotonic() + MAIL_WAIT
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
                if part.get_content_type() == "text/plain" and (found := pattern.search(part.get_content())):
                    return found.group(0)
        time.sleep(0.3)
    pytest.fail(f"no invitation mail to {recipient} under {MAIL_DIR} within {MAIL_WAIT:.0f} s")


async def sign_in(page, base: str, address: str, password: str) -> None:
    await page.goto(f"{base}/organiser/login")
    await page.fill("#f-email", address)
    await page.fill("#f-password", password)
    async with page.expect_navigation():
        await page.click("form[action^='/organiser/login'] button[type=submit]")
    assert page.url.startswith(f"{base}/organiser/") and "/login" not in page.url


async def submit(page, selector: str = "form.bo-editor button[type=submit]") -> None:
    async with page.expect_navigation():
        await page.click(selector)


async def publish(page, slug: str) -> None:
    """Publish from the event's page, through the confirmation."""
    base = page.url.split("/organiser/", 1)[0]
    await page.goto(f"{base}/organiser/events/{slug}")
    await page.click(f"a[href='/organiser/events/{slug}/publish']")
    await page.wait_for_url(f"**/organiser/events/{slug}/publish")
    await submit(page, f"form[action='/organiser/events/{slug}/publish'] button[type=submit]")
    assert "done=published" in page.url


def organiser_routes(settings) -> list[tuple[str, str]]:
    """(method, path template) of every back-office route the app serves."""
    app = create_app(settings)
    found = set()
    for route in app.routes:
        if route.path.startswith("/organiser"):
            for method in getattr(route, "methods", set()) - {"HEAD", "OPTIONS"}:
                found.add((method, route.path))
    return sorted(found)


@pytest.mark.parametrize("size", ["phone", "desktop"])
async def test_invite_create_preview_publish_register_check_in_join_export(browser, service, size) -> None:  # noqa: F811
    world = await two_organisations(service)
    org_a = world["a"]
    viewport = PHONE if size == "phone" else DESKTOP
    problems: dict[str, list] = {}

    async def context(lang: str = "fr"):
        # axe-core is injected as a script, which the pages' own policy rightly forbids: only here it is bypassed
        made = await browser.new_context(viewport=viewport, locale=LOCALES[lang], bypass_csp=True)
        return made, await made.new_page()

    # the admin of A invites a colleague, who chooses a password from the mail
    admin_context, admin = await context()
    await sign_in(admin, service.base, world["admin"].email, PASSWORD)
    await admin.goto(f"{service.base}/organiser/people?organisation={org_a['slug']}")
    colleague = f"colleague-{secrets.token_hex(3)}@example.org"
    await admin.fill("#f-name", "Sofia Ferreira")
    await admin.fill("#f-email", colleague)
    await admin.select_option("#f-role", "organiser")
    since = time.time()
    await submit(admin, "form[action='/organiser/people'] button[type=submit]")
    assert "/organiser/people?organisation=" in admin.url and "done=invited" in admin.url
    link = invitation_link(service.base, colleague, since)
    await admin_context.close()

    staff_context, staff = await context()
    await staff.goto(link)
    await staff.fill("#f-password", NEW_PASSWORD)
    await staff.fill("#f-password_confirm", NEW_PASSWORD)
    await submit(staff, "form[action^='/organiser/invitations/'] button[type=submit]")
    await sign_in(staff, service.base, colleague, NEW_PASSWORD)

    # a web conference in three languages; a first try with the end before the start comes back with the error
    await staff.goto(f"{service.base}/organiser/")
    await staff.click("a[href='/organiser/events/new']")
    await staff.wait_for_url("**/organiser/events/new")
    problems["editor"] = await axe_violations(staff)
    if size == "phone":  # five languages side by side fold into one column: nothing scrolls sideways
        assert await staff.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    await staff.select_option("#f-kind", "webconference")
    await staff.fill("#f-title_fr", "Vivre au Luxembourg : les démarches")
    await staff.fill("#f-title_de", "Leben in Luxemburg: die Behördengänge")
    await staff.fill("#f-title_pt", "Viver no Luxemburgo: os procedimentos")
    await staff.fill("#f-summary_fr", "Une heure pour poser vos questions.")
    await staff.check("#f-languages-pt")
    await staff.fill("#f-starts_at", "2030-03-12T12:15")
    await staff.fill("#f-ends_at", "2030-03-12T11:00")
    await staff.fill("#f-capacity", "30")
    await staff.uncheck("#f-confirmation_required")
    await staff.fill("#f-join_url", ROOM)
    await staff.fill("#f-platform", "Jitsi")
    await submit(staff)
    assert "La fin doit venir après le début." in await staff.inner_text("#f-ends_at-error")
    assert await staff.input_value("#f-title_de") == "Leben in Luxemburg: die Behördengänge"  # nothing typed lost
    assert await staff.is_checked("#f-languages-pt") and not await staff.is_checked("#f-confirmation_required")
    problems["editor-error"] = await axe_violations(staff)
    await staff.screenshot(path=str(ARTIFACTS / f"backoffice-editor-{size}.png"), full_page=True)
    await staff.fill("#f-ends_at", "2030-03-12T13:45")
    await submit(staff)
    assert "done=created" in staff.url
    slug = staff.url.split("/organiser/events/", 1)[1].split("?", 1)[0]
    assert "Le brouillon est enregistré." in await staff.inner_text("main")
    problems["event"] = await axe_violations(staff)

    # the preview is the public page itself, in German; the English one falls back to French
    await staff.click("a[href$='/preview?lang=de']")
    await staff.wait_for_url("**/preview?lang=de")
    assert await staff.inner_text("h1") == "Leben in Luxemburg: die Behördengänge"
    assert await staff.get_attribute("html", "lang") == "de" and "Anmeldung" in await staff.inner_text("main")
    problems["preview"] = await axe_violations(staff)
    await staff.screenshot(path=str(ARTIFACTS / f"backoffice-preview-{size}.png"), full_page=True)
    await staff.goto(f"{service.base}/organiser/events/{slug}/preview?lang=en")
    assert await staff.get_attribute("h1", "lang") == "fr"

    # publish, behind its confirmation
    await publish(staff, slug)

    # a person registers for the conference on the public page
    public_context, public = await context("pt")
    await public_context.route(
        "https://meet.example.org/**",
        lambda route: route.fulfill(
            status=200, content_type="text/html", body="<!doctype html><title>Sala</title><p>Sala da conferência</p>"
        ),
    )
    await public.goto(f"{service.base}/events/{slug}")
    assert await public.inner_text("h1") == "Viver no Luxemburgo: os procedimentos"
    person = f"ana-{secrets.token_hex(3)}@example.org"
    await fill_registration(public, "Ana Lopes", person)
    conference_link = await service.manage_link(person)

    # a web conference marks its own attendance; the door's QR is for a room: the organiser duplicates the
    # conference as an information session in Esch (a new draft with a free address), and publishes it
    await staff.click(f"a[href='/organiser/events/new?copy={slug}']")
    await staff.wait_for_url("**/organiser/events/new?copy=*")
    assert await staff.input_value("#f-slug") == f"{slug}-2"
    assert await staff.input_value("#f-title_de") == "Leben in Luxemburg: die Behördengänge"
    await staff.select_option("#f-kind", "info_session")
    await staff.fill("#f-join_url", "")
    await staff.fill("#f-platform", "")
    await staff.fill("#f-venue", "Maison du savoir, Esch-sur-Alzette")
    await staff.select_option("#f-commune", "Esch-sur-Alzette")
    await submit(staff)
    assert "done=created" in staff.url
    session = staff.url.split("/organiser/events/", 1)[1].split("?", 1)[0]
    assert session == f"{slug}-2"
    await publish(staff, session)
    await public.goto(f"{service.base}/events/{session}")
    await fill_registration(public, "Ana Lopes", person)
    await public.goto(await service.manage_link(person))
    shot = await public.locator(".checkin svg.qr").screenshot()
    decoded = [result.text for result in zxingcpp.read_barcodes(Image.open(io.BytesIO(shot)))]
    assert len(decoded) == 1 and decoded[0].startswith(f"{service.base}/organiser/checkin/")
    checkin_url = decoded[0]

    # the organiser, signed in on their phone, opens the QR's URL: who, which event, one tap; then it shows
    await staff.goto(checkin_url)
    page_text = plain(await staff.inner_text("main"))
    assert "Ana Lopes" in page_text and "Vivre au Luxembourg : les démarches" in page_text
    problems["checkin"] = await axe_violations(staff)
    await submit(staff, "form[action^='/organiser/checkin/'] button[type=submit]")
    assert "La présence de Ana Lopes" in plain(await staff.inner_text("main"))
    await staff.goto(checkin_url)
    assert "Présence déjà enregistrée." in plain(await staff.inner_text("main"))

    # the person follows their own join link to the conference: recorded, then on to the room
    await public.goto(conference_link)
    await public.click(f"a[href^='{service.base}/j/']")
    await public.wait_for_url(ROOM)
    await public_context.close()

    # the exports, read back: present at the door; present at the conference with the time of joining
    login = await staff_context.request.post(
        f"{service.base}/api/organiser/login", data={"email": colleague, "password": NEW_PASSWORD}
    )
    token = (await login.json())["token"]

    async def export(event_slug: str) -> list[tuple]:
        answer = await staff_context.request.get(
            f"{service.base}/api/organiser/events/{event_slug}/registrations.xlsx?lang=fr",
            headers={"Authorization": f"Bearer {token}"},
        )
        assert answer.status == 200
        return list(openpyxl.load_workbook(io.BytesIO(await answer.body())).active.iter_rows(values_only=True))

    (at_door,) = [r for r in (await export(session))[1:] if person in r]
    assert "Ana Lopes" in at_door and "confirmée" in at_door and "présent" in at_door
    rows = await export(slug)
    assert rows[0][-1] == "Connexion à la web-conférence le"
    (online,) = [r for r in rows[1:] if person in r]
    assert "Ana Lopes" in online and "présent" in online and isinstance(online[-1], datetime)
    await staff_context.close()

    # another organisation's organiser tries every back-office URL of A: the same as a missing thing each time
    snapshot = (
        "SELECT e.slug, e.status, e.capacity, e.title, r.status AS registration, r.attendance FROM events e "
        "JOIN registrations r ON r.event_id = e.id WHERE r.email = $1 ORDER BY e.slug"
    )
    conn = await asyncpg.connect(service.database_url)
    try:
        before = [dict(row) for row in await conn.fetch(snapshot, person)]
        colleague_id = await conn.fetchval("SELECT id FROM organisers WHERE email = $1", colleague)
        registration_id = await conn.fetchval(
            "SELECT r.id FROM registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = $1 AND r.email = $2",
            session,
            person,
        )
    finally:
        await conn.close()
    assert [(r["slug"], r["status"], r["attendance"]) for r in before] == [
        (slug, "published", "present"),
        (session, "published", "present"),
    ]
    settings = load_settings(database_url=service.database_url, secret_key=SECRET, base_url=service.base)
    checkin_token = checkin_url.rsplit("/", 1)[1]
    other_context, other = await context()
    await sign_in(other, service.base, world["other"].email, PASSWORD)
    await other.goto(f"{service.base}/organiser/")
    csrf = await other.get_attribute("input[name=csrf_token]", "value")
    secrets_of_a = ("Vivre au Luxembourg", "Leben in Luxemburg", "Ana Lopes", person, colleague)
    missing = await other_context.request.get(f"{service.base}/organiser/events/no-such-event")
    assert missing.status == 404
    form = {
        "csrf_token": csrf,
        "organisation": org_a["slug"],
        "role": "viewer",
        "capacity": "1",
        "force": "yes",
        "title_fr": "Volé",
        "languages": "fr",
        "starts_at": "2030-03-12T12:15",
        "ends_at": "2030-03-12T13:00",
    }
    tried = set()
    for event_slug in (slug, session):
        # a year in range for the subsidy pages' years: nothing of A's is filed under it
        values = {
            "slug": event_slug,
            "token": checkin_token,
            "person_id": str(colleague_id),
            "action": "cancel",
            "year": "2030",
        }
        for method, template in organiser_routes(settings):
            if template in ("/organiser/logout", "/organiser/sign-out-everywhere"):
                continue  # they end the visitor's own session, nothing of A's
            # A's check-in code in the check-in routes; elsewhere (invitation and reset links) a made-up one
            known = values if "/checkin/" in template else {**values, "token": "x" * 43}
            if template.endswith("/checkin/{registration_id:str}/{action:str}"):
                known = {**known, "registration_id": str(registration_id)}  # and "cancel": a 404 all the same
            # any other number in a path (a registration's, say) is the id of A's registration at the door
            path = re.sub(
                r"\{(\w+)(?::(\w+))?\}",
                lambda m, known=known: known.get(m.group(1), str(registration_id) if m.group(2) == "int" else "x" * 43),
                template,
            )
            for query in ("", f"?organisation={org_a['slug']}&event={event_slug}&copy={event_slug}"):
                if (method, path + query) in tried:
                    continue
                if method == "GET":
                    answer = await other_context.request.get(service.base + path + query, max_redirects=0)
                else:
                    answer = await other_context.request.post(service.base + path + query, form=form, max_redirects=0)
                tried.add((method, path + query))
                body = await answer.text()
                assert answer.status < 500, (method, path + query, answer.status)
                assert not any(secret in body for secret in secrets_of_a), (method, path + query)
                if any(
                    value in path + "/"
                    for value in (event_slug, checkin_token, f"/{colleague_id}/", f"/{registration_id}/")
                ):
                    assert answer.status == 404, (method, path + query, answer.status)
    assert {
        ("GET", f"/organiser/events/{session}"),
        ("POST", f"/organiser/events/{session}/cancel"),
        ("POST", f"/organiser/events/{slug}/edit"),
        ("GET", f"/organiser/events/{slug}/preview"),
        ("GET", f"/organiser/checkin/{checkin_token}"),
        ("POST", f"/organiser/checkin/{checkin_token}"),
    } <= tried
    await other_context.close()
    conn = await asyncpg.connect(service.database_url)
    try:
        after = [dict(row) for row in await conn.fetch(snapshot, person)]
        role = await conn.fetchval("SELECT role FROM memberships WHERE organiser_id = $1", colleague_id)
    finally:
        await conn.close()
    assert after == before and role == "organiser"
    assert problems == {"editor": [], "editor-error": [], "event": [], "preview": [], "checkin": []}
