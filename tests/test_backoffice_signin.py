"""Signing in to the back-office (issue 22): sessions in PostgreSQL, cookie flags, CSRF, limits, sign-out
everywhere, the interface language, and a forgotten password reset by mail through a real SMTP server."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import asyncpg
import httpx
import msgspec
import pytest

from server.organisers import service as accounts
from tests.apps import app_on
from tests.factories import create_organisation, create_organiser
from tests.test_pages import HTML, csrf_token, text_of

PASSWORD = "a long and good password"


def browser(app, client_ip: str = "203.0.113.9", base: str = "https://testserver") -> httpx.AsyncClient:
    """A browser-like client: keeps cookies, asks for HTML."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=(client_ip, 5000)), base_url=base, headers=HTML
    )


async def with_password(conn: asyncpg.Connection, email: str, password: str = PASSWORD) -> None:
    await conn.execute(
        "UPDATE organisers SET password_hash = $2 WHERE email = $1", email, accounts._hasher.hash(password)
    )


async def sign_in(
    http: httpx.AsyncClient, email: str, password: str = PASSWORD, *, next_: str = "", lang: str = ""
) -> httpx.Response:
    """GET the form (cookie and token), POST it."""
    page = await http.get("/organiser/login", params={k: v for k, v in (("next", next_), ("lang", lang)) if v})
    return await http.post(
        f"/organiser/login{'?lang=' + lang if lang else ''}",
        data={
            "csrf_token": csrf_token(page),
            "email": email,
            "password": password,
            "next": re.search(r'name="next" value="([^"]*)"', page.text).group(1),
        },
    )


async def form_token(http: httpx.AsyncClient, path: str = "/organiser/") -> str:
    return csrf_token(await http.get(path))


@pytest.fixture
async def staff(conn):
    """ASTI's admin with a password."""
    await create_organisation(conn, "asti", "ASTI")
    person, token = await create_organiser(conn, {"asti": "admin"})
    await with_password(conn, person.email)
    return {"person": person, "token": token}


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


# ---------------------------------------------------------------------------- sign-in and the cookie


async def test_signing_in_opens_a_session_whose_cookie_is_httponly_lax_and_secure(app, conn, staff) -> None:
    async with browser(app) as http:
        answer = await sign_in(http, staff["person"].email.upper(), lang="fr")
        assert answer.status_code == 303 and answer.headers["location"] == "/organiser/"
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("zs_session="))
        flags = [part.strip().lower() for part in cookie.split(";")]
        assert {"httponly", "secure", "samesite=lax", "path=/organiser"} <= set(flags)
        token = cookie.split(";")[0].split("=", 1)[1]
        row = await conn.fetchrow("SELECT * FROM sessions WHERE organiser_id = $1", staff["person"].id)
        # only the hash is stored, with its expiry and the browser's name
        assert bytes(row["token_hash"]) == accounts.hash_token(token) and token.encode() not in bytes(row["token_hash"])
        assert row["expires_at"] > row["created_at"] and row["user_agent"].startswith("python-httpx")
        dashboard = await http.get("/organiser/")
        assert dashboard.status_code == 200 and staff["person"].email in text_of(dashboard)
        assert dashboard.headers["cache-control"] == "no-store"


async def test_the_session_cookie_is_not_secure_under_an_http_base_url(conn, settings, staff) -> None:
    plain = msgspec.structs.replace(settings, base_url="http://zesummen.test")
    async with browser(app_on(plain, conn), base="http://testserver") as http:
        answer = await sign_in(http, staff["person"].email)
        cookie = next(c for c in answer.headers.get_list("set-cookie") if c.startswith("zs_session="))
        assert "secure" not in cookie.lower() and "httponly" in cookie.lower()


async def test_a_wrong_password_is_said_next_to_the_field_keeping_the_email(app, conn, staff) -> None:
    async with browser(app) as http:
        answer = await sign_in(http, staff["person"].email, "wrong password", lang="de")
        assert answer.status_code == 401 and "zs_session" not in answer.headers.get("set-cookie", "")
        assert re.search(r'id="f-password-error">.*Die E-Mail-Adresse oder das Passwort ist falsch\.', answer.text)
        assert f'value="{staff["person"].email}"' in answer.text and "wrong password" not in answer.text
    rows = await conn.fetch("SELECT action, detail FROM audit_log WHERE actor_id = $1", staff["person"].id)
    assert [r["action"] for r in rows] == ["sign_in_failed"] and "password" not in str(rows[0]["detail"])


async def test_failures_share_the_api_logins_counters_and_end_in_a_429_page(conn, settings, staff) -> None:
    limited = msgspec.structs.replace(settings, sign_in_failures_per_account=3)
    app = app_on(limited, conn)
    email = staff["person"].email
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app, client=("203.0.113.9", 5000)), base_url="https://testserver"
    ) as api:
        for _ in range(2):
            assert (
                await api.post("/api/organiser/login", json={"email": email, "password": "nope"})
            ).status_code == 401
    async with browser(app) as http:
        assert (await sign_in(http, email, "still wrong")).status_code == 401
        # the fourth failure of the account, through either door: even the right password waits
        answer = await sign_in(http, email, PASSWORD, lang="pt")
        assert answer.status_code == 429 and int(answer.headers["retry-after"]) > 0
        assert "Demasiadas tentativas falhadas" in text_of(answer)
        assert (await http.get("/organiser/")).status_code == 303
    assert await conn.fetchval("SELECT count(*) FROM sessions WHERE organiser_id = $1", staff["person"].id) == 0


# ---------------------------------------------------------------------------- the gate and `next`


async def test_a_page_without_session_redirects_to_sign_in_and_back(app, staff) -> None:
    async with browser(app) as http:
        answer = await http.get("/organiser/people", params={"organisation": "asti"})
        assert answer.status_code == 303
        location = urlsplit(answer.headers["location"])
        assert location.path == "/organiser/login"
        assert parse_qs(location.query)["next"] == ["/organiser/people?organisation=asti"]
        signed = await sign_in(http, staff["person"].email, next_="/organiser/people?organisation=asti")
        assert signed.headers["location"] == "/organiser/people?organisation=asti"


@pytest.mark.parametrize(
    "target",
    [
        "https://evil.example/organiser/",
        "//evil.example/organiser/",
        "/\\evil.example",
        "javascript:alert(1)",
        "/organiser//evil.example",
        "/events/x",
    ],
)
async def test_next_only_leads_to_a_local_back_office_path(app, staff, target) -> None:
    async with browser(app) as http:
        page = await http.get("/organiser/login")
        answer = await http.post(
            "/organiser/login",
            data={"csrf_token": csrf_token(page), "next": target, "email": staff["person"].email, "password": PASSWORD},
        )
        location = answer.headers["location"]
        assert answer.status_code == 303 and urlsplit(location).netloc == "" and not urlsplit(location).scheme
        assert location.startswith("/organiser/") and not location.startswith("//")
        # what the browser would open: this site, whatever was asked for
        assert httpx.URL("https://zesummen.test/x").join(location).host == "zesummen.test"


async def test_a_post_without_session_is_turned_away_before_its_body_is_read(app, conn, staff) -> None:
    async with browser(app) as http:
        answer = await http.post(
            "/organiser/people", data={"organisation": "asti", "email": "x@example.org", "name": "X", "role": "admin"}
        )
        assert answer.status_code == 303 and answer.headers["location"].startswith("/organiser/login")

        # an endless body is not waited for either: the gate answers first
        async def endless():
            yield b"email=a"
            raise AssertionError("the body was read")

        answer = await http.post(
            "/organiser/people", content=endless(), headers={"content-type": "application/x-www-form-urlencoded"}
        )
        assert answer.status_code == 303
    assert await conn.fetchval("SELECT count(*) FROM organisers WHERE email = 'x@example.org'") == 0


async def test_the_api_does_not_accept_the_session_cookie(app, staff) -> None:
    async with browser(app) as http:
        await sign_in(http, staff["person"].email)
        session = http.cookies.get("zs_session")
        answer = await http.get(
            "/api/organiser/me", headers={"cookie": f"zs_session={session}", "accept": "application/json"}
        )
        assert answer.status_code == 401


# ---------------------------------------------------------------------------- CSRF, sign-out


async def test_forms_without_their_token_are_refused(app, conn, staff) -> None:
    async with browser(app) as http:
        assert (
            await http.post("/organiser/login", data={"email": staff["person"].email, "password": PASSWORD})
        ).status_code == 403
        await sign_in(http, staff["person"].email)
        for path in ("/organiser/logout", "/organiser/sign-out-everywhere", "/organiser/language"):
            assert (await http.post(path, data={"csrf_token": "0" * 64, "language": "de"})).status_code == 403
        forged = await http.post(
            "/organiser/logout", data={"csrf_token": await form_token(http)}, headers={"origin": "https://evil.example"}
        )
        assert forged.status_code == 403
        assert (await http.get("/organiser/")).status_code == 200  # still signed in
    assert await conn.fetchval("SELECT language FROM organisers WHERE id = $1", staff["person"].id) != "de"


async def test_signing_out_ends_the_session(app, conn, staff) -> None:
    async with browser(app) as http:
        await sign_in(http, staff["person"].email)
        token = http.cookies.get("zs_session")
        answer = await http.post("/organiser/logout", data={"csrf_token": await form_token(http)})
        assert answer.status_code == 303 and answer.headers["location"] == "/organiser/login"
        assert (await http.get("/organiser/")).status_code == 303
    async with browser(app) as thief:  # the old cookie, replayed
        thief.cookies.set("zs_session", token, path="/organiser")
        assert (await thief.get("/organiser/")).status_code == 303
    assert await conn.fetchval(
        "SELECT revoked_at IS NOT NULL FROM sessions WHERE organiser_id = $1", staff["person"].id
    )


async def test_signing_out_everywhere_ends_the_other_sessions_and_api_tokens(app, conn, staff) -> None:
    async with browser(app) as laptop, browser(app, "198.51.100.20") as phone:
        await sign_in(laptop, staff["person"].email)
        await sign_in(phone, staff["person"].email)
        assert (await phone.get("/organiser/")).status_code == 200
        answer = await laptop.post("/organiser/sign-out-everywhere", data={"csrf_token": await form_token(laptop)})
        assert answer.status_code == 303
        assert (await phone.get("/organiser/")).status_code == 303
        assert (await laptop.get("/organiser/")).status_code == 303
        me = await laptop.get(
            "/api/organiser/me", headers={"authorization": f"Bearer {staff['token']}", "accept": "application/json"}
        )
        assert me.status_code == 401
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM sessions WHERE organiser_id = $1 AND revoked_at IS NULL", staff["person"].id
        )
        == 0
    )


async def test_an_idle_session_ends(app, conn, staff) -> None:
    async with browser(app) as http:
        await sign_in(http, staff["person"].email)
        await conn.execute(
            "UPDATE sessions SET expires_at = now() - interval '1 second' WHERE organiser_id = $1", staff["person"].id
        )
        assert (await http.get("/organiser/")).status_code == 303


# ---------------------------------------------------------------------------- the interface language


async def test_the_interface_language_is_stored_on_the_account_and_used(app, conn, staff) -> None:
    async with browser(app) as http:
        await sign_in(http, staff["person"].email, lang="de")
        assert await conn.fetchval("SELECT language FROM organisers WHERE id = $1", staff["person"].id) == "de"
        page = await http.get("/organiser/", headers={"accept-language": "pt"})
        assert '<html lang="de">' in page.text and "Übersicht" in text_of(page)
        answer = await http.post(
            "/organiser/language", data={"csrf_token": csrf_token(page), "language": "lb", "next": "/organiser/"}
        )
        assert answer.status_code == 303 and answer.headers["location"] == "/organiser/"
        page = await http.get("/organiser/")
        assert '<html lang="lb">' in page.text and "Iwwersiicht" in text_of(page) and "Ofmellen" in text_of(page)
    assert await conn.fetchval("SELECT language FROM organisers WHERE id = $1", staff["person"].id) == "lb"
    # another device, another browser language: the account's choice still wins
    async with browser(app) as other:
        await sign_in(other, staff["person"].email, lang="fr")
        assert '<html lang="lb">' in (await other.get("/organiser/")).text


# ---------------------------------------------------------------------------- a forgotten password, by mail


async def test_password_reset_by_mail_end_to_end_revokes_sessions_and_tokens(
    notifier_conn,
    notifier_pool,
    notifier_settings,
    smtp_server,
) -> None:
    from server.notifications.worker import Notifier

    conn = notifier_conn
    await create_organisation(conn, "asti", "ASTI")
    person, api_token = await create_organiser(conn, {"asti": "organiser"})
    await conn.execute("UPDATE organisers SET name = 'Rita Lopes', language = 'pt' WHERE id = $1", person.id)
    await with_password(conn, person.email)
    app = app_on(notifier_settings, conn)
    async with browser(app) as laptop, browser(app, "198.51.100.30") as http:
        await sign_in(laptop, person.email)
        assert (await laptop.get("/organiser/")).status_code == 200

        page = await http.get("/organiser/password-reset", params={"lang": "fr"})
        asked = await http.post(
            "/organiser/password-reset?lang=fr", data={"csrf_token": csrf_token(page), "email": person.email.upper()}
        )
        unknown = await http.post(
            "/organiser/password-reset?lang=fr", data={"csrf_token": csrf_token(page), "email": "nobody@example.org"}
        )
        # the same answer whether or not the account exists
        assert asked.status_code == unknown.status_code == 200 and text_of(asked) == text_of(unknown)
        assert "Si un compte existe pour cette adresse" in text_of(asked)
        rows = await conn.fetch("SELECT recipient, language FROM outbox WHERE kind = 'organiser_password_reset'")
        assert [tuple(r) for r in rows] == [(person.email, "pt")]  # in the account's language

        assert await Notifier(notifier_settings).drain(notifier_pool) == 1
        (item,) = await smtp_server.wait_for(1)
        assert item.rcpt_tos == [person.email]
        message = item.message
        text = message.get_body(("plain",)).get_content()
        assert message["Subject"] == "A sua conta Zesummen: escolha uma nova palavra-passe"
        assert "Olá, Rita Lopes," in text
        assert "60 minutos" in text and "por si" in text
        link = re.search(r"https://zesummen\.test(/organiser/password-reset/[A-Za-z0-9_-]{43})\?lang=pt", text)
        assert link and link.group(0) in message.get_body(("html",)).get_content().replace("&amp;", "&")
        path = link.group(1)

        form = await http.get(path, params={"lang": "pt"})
        assert form.status_code == 200 and person.email in text_of(form)
        token = csrf_token(form)
        short = await http.post(
            f"{path}?lang=pt", data={"csrf_token": token, "password": "curta", "password_confirm": "curta"}
        )
        assert short.status_code == 422 and 'id="f-password-error"' in short.text
        new = "another long good password"
        saved = await http.post(f"{path}?lang=pt", data={"csrf_token": token, "password": new, "password_confirm": new})
        assert saved.status_code == 303 and saved.headers["location"].startswith("/organiser/login?done=reset")

        # every session and token of the account died; the link works once
        assert (await laptop.get("/organiser/")).status_code == 303
        me = await http.get(
            "/api/organiser/me", headers={"authorization": f"Bearer {api_token}", "accept": "application/json"}
        )
        assert me.status_code == 401
        assert (await http.get(path)).status_code == 410
        again = await http.post(path, data={"csrf_token": token, "password": "x" * 20, "password_confirm": "x" * 20})
        assert again.status_code == 410
        assert (await sign_in(http, person.email, PASSWORD)).status_code == 401
        assert (await sign_in(http, person.email, new)).status_code == 303
    actions = [
        r["action"] for r in await conn.fetch("SELECT action FROM audit_log WHERE actor_id = $1 ORDER BY id", person.id)
    ]
    assert actions == ["sign_in", "password_reset_asked", "password_set", "sign_in_failed", "sign_in"]


async def test_a_newer_reset_link_replaces_the_older_and_a_password_set_spends_it(conn, settings, staff) -> None:
    from server.backoffice import service

    await service.ask_reset(conn, settings, staff["person"].email, "fr", "203.0.113.1")
    await service.ask_reset(conn, settings, staff["person"].email, "fr", "203.0.113.1")
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM password_resets WHERE organiser_id = $1 AND spent_at IS NULL", staff["person"].id
        )
        == 1
    )
    await accounts.store_password(conn, staff["person"].id, "yet another password", keep_token=None)
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM password_resets WHERE organiser_id = $1 AND spent_at IS NULL", staff["person"].id
        )
        == 0
    )


async def test_signing_in_again_in_the_same_browser_ends_its_previous_session(app, conn, staff) -> None:
    async with browser(app) as http:
        await sign_in(http, staff["person"].email)
        first = http.cookies.get("zs_session")
        assert (await http.get("/organiser/login")).status_code == 303  # signed in: the form is skipped
        answer = await http.post(
            "/organiser/login",
            data={
                "csrf_token": await form_token(http),
                "next": "",
                "email": staff["person"].email,
                "password": PASSWORD,
            },
        )
        assert answer.status_code == 303 and http.cookies.get("zs_session") != first
    live = await conn.fetch(
        "SELECT token_hash FROM sessions WHERE organiser_id = $1 AND revoked_at IS NULL", staff["person"].id
    )
    assert [bytes(r["token_hash"]) for r in live] != [accounts.hash_token(first)] and len(live) == 1
