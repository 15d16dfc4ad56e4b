"""Issue 20, the request's transport, as an attacker sends it: authentication before the body (7), JSON
only where JSON is taken (8), invalid UTF-8 anywhere (6), and the headers and logs that leak (10).

Every check runs over the app's own routes, so that a new endpoint is covered without a new test.
The slow bodies (2) need a real server process: tests/test_hardening_slow_bodies.py.
"""

from __future__ import annotations

import logging
import re

import asyncpg
import httpx
import pytest
from litestar import get
from litestar.routes import HTTPRoute

from server.app import create_app
from server.security import REDACTED, redact
from server.settings import Settings
from server.transport import dependency_names
from tests.apps import app_on
from tests.factories import create_event, create_organiser, insert_registration

BIG = 300 * 1024  # past the 256 KiB the service takes
# bodies an organiser endpoint must not look at before it knows who sends them
UNREAD_BODIES = {
    "malformed": (b"{,", "application/json"),
    "invalid": (b'{"no_such_field": [1, 2, 3]}', "application/json"),
    "oversized": (b'{"x": "' + b"a" * BIG + b'"}', "application/json"),
    "not UTF-8": (b'{"name": "\xff\xfe"}', "application/json"),
    "not JSON": (b"name=x", "application/x-www-form-urlencoded"),
}
OTHER_MEDIA_TYPES = [
    "text/plain",
    "text/plain; charset=utf-8",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json; charset=latin-1",
    "application/xml",
    None,
]


def operations(app, select) -> list[tuple[str, str, object]]:
    """(method, path with sample values, handler) of every operation whose handler `select` accepts."""
    found = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS", "HEAD"}):
                if select(handler):
                    path = re.sub(r"\{(\w+):int\}", "1", route.path)
                    found.append((method, re.sub(r"\{(\w+):\w+\}", r"sample-\1", path), handler))
    return found


def takes_json(handler) -> bool:
    return "data" in handler.parsed_fn_signature.parameters


def needs_organiser(handler) -> bool:
    return "organiser" in dependency_names(handler)


@pytest.fixture
def app(settings: Settings, conn: asyncpg.Connection):
    return app_on(settings, conn)


@pytest.fixture
async def http(app):
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        yield client


async def expired_token(conn: asyncpg.Connection) -> str:
    organiser, token = await create_organiser(conn, is_admin=True)
    await conn.execute(
        "UPDATE api_tokens SET expires_at = now() - interval '1 minute' WHERE organiser_id = $1", organiser.id
    )
    return token


# ------------------------------------------------------------------------ 7: 401 before the body


async def test_every_organiser_operation_answers_401_before_it_reads_the_body(app, http, conn) -> None:
    guarded = operations(app, needs_organiser)
    assert len(guarded) >= 15, guarded  # every /api/organiser/* operation but login
    assert all(path.startswith("/api/organiser/") for _, path, _ in guarded)
    credentials = {
        "no token": {},
        "not bearer": {"Authorization": "Basic eDp5"},
        "wrong token": {"Authorization": "Bearer not-a-token"},
        "expired token": {"Authorization": f"Bearer {await expired_token(conn)}"},
    }
    for method, path, _ in guarded:
        for who, headers in credentials.items():
            for what, (body, media_type) in UNREAD_BODIES.items():
                answer = await http.request(method, path, content=body, headers={**headers, "Content-Type": media_type})
                assert answer.status_code == 401, (method, path, who, what, answer.status_code, answer.text[:200])
                assert answer.headers["www-authenticate"] == "Bearer"
                assert answer.headers["content-type"] == "application/problem+json"


async def test_with_a_valid_token_the_same_bodies_are_judged(app, http, conn) -> None:
    """The control: past authentication, the bodies the test above sends are read and refused."""
    _, token = await create_organiser(conn, is_admin=True)
    expected = {"malformed": {400}, "invalid": {422}, "oversized": {413}, "not UTF-8": {400}, "not JSON": {415}}
    for method, path, _ in operations(app, lambda h: needs_organiser(h) and takes_json(h)):
        for what, (body, media_type) in UNREAD_BODIES.items():
            answer = await http.request(
                method, path, content=body, headers={"Authorization": f"Bearer {token}", "Content-Type": media_type}
            )
            assert answer.status_code in expected[what], (method, path, what, answer.status_code, answer.text[:200])


# ------------------------------------------------------------------------ 8: JSON only


async def test_every_json_operation_refuses_other_media_types_with_415(app, http, conn) -> None:
    _, token = await create_organiser(conn, is_admin=True)
    json_operations = operations(app, takes_json)
    assert len(json_operations) >= 8
    assert any(not path.startswith("/api/organiser/") for _, path, _ in json_operations)  # the public ones too
    for method, path, _ in json_operations:
        for media_type in OTHER_MEDIA_TYPES:
            headers = {"Authorization": f"Bearer {token}", "Origin": "https://evil.example"}
            if media_type:
                headers["Content-Type"] = media_type
            answer = await http.request(method, path, content=b'{"name": "x"}', headers=headers)
            assert answer.status_code == 415, (method, path, media_type, answer.status_code, answer.text[:200])
            assert answer.headers["content-type"] == "application/problem+json"
            assert answer.json()["status"] == 415


async def test_a_cross_site_simple_post_registers_nobody(http, conn, settings) -> None:
    event = await create_event(conn, settings)
    body = b'{"name": "Victim", "email": "victim@example.org", "language": "fr", "consent": true}'
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x"):
        answer = await http.post(
            f"/api/events/{event.slug}/registrations",
            content=body,
            headers={"Content-Type": media_type, "Origin": "https://evil.example"},
        )
        assert answer.status_code == 415
    assert await conn.fetchval("SELECT count(*) FROM registrations WHERE email = 'victim@example.org'") == 0
    accepted = await http.post(
        f"/api/events/{event.slug}/registrations",
        content=body,
        headers={"Content-Type": "application/json; charset=UTF-8"},
    )
    assert accepted.status_code == 202, accepted.text


# ------------------------------------------------------------------------ 6: invalid UTF-8


async def test_invalid_utf8_in_any_json_body_is_a_400_problem(app, http, conn) -> None:
    _, token = await create_organiser(conn, is_admin=True)
    for method, path, _ in operations(app, takes_json):
        for body in (b'{"name": "\xff"}', b"\xc3\x28", b'{"title": {"fr": "\xed\xa0\x80"}}', b'"\xf8\x88\x80\x80\x80"'):
            answer = await http.request(
                method,
                path,
                content=body,
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
            )
            assert answer.status_code == 400, (method, path, body, answer.status_code, answer.text[:200])
            assert answer.headers["content-type"] == "application/problem+json"
            assert "UTF-8" in answer.json()["detail"]


async def test_invalid_utf8_in_paths_and_queries_is_a_400(http, conn, settings) -> None:
    event = await create_event(conn, settings)
    _, token = await create_organiser(conn, is_admin=True)
    auth = {"Authorization": f"Bearer {token}"}
    for url in (
        "/api/events/%ff%fe",
        "/api/registrations/%ed%a0%80",
        "/api/events?q=%ff",
        "/api/events?kind=%c3%28",
        f"/api/organiser/events/{event.slug}/registrations?cursor=%80",
        "/calendar.ics?lang=%ff",
    ):
        answer = await http.get(url, headers=auth)
        assert answer.status_code == 400, (url, answer.status_code, answer.text[:200])
        assert answer.headers["content-type"] == "application/problem+json"
    assert (await http.get(f"/events/{event.slug}.ics?lang=%fe")).status_code == 400
    for url in ("/events/%ff", "/r/%c0%af", "/?commune=%ff", f"/events/{event.slug}?lang=%e9"):
        answer = await http.get(url, headers={"Accept": "text/html"})
        assert answer.status_code == 400, (url, answer.status_code)
        assert answer.headers["content-type"].startswith("text/html")


async def test_invalid_utf8_in_a_form_is_a_400_page(http, conn, settings) -> None:
    event = await create_event(conn, settings)
    _, manage = await insert_registration(conn, settings, event.slug)
    page = await http.get(f"/events/{event.slug}")
    form_token = re.search(r'name="csrf_token" value="([0-9a-f]{64})"', page.text).group(1)
    fields = b"csrf_token=" + form_token.encode() + b"&email=ana%40example.org&language=fr&consent=yes&name="
    bodies = {
        "raw byte": (fields + b"Ana\xff", "application/x-www-form-urlencoded"),
        "escaped byte": (fields + b"Ana%ff", "application/x-www-form-urlencoded"),
        "multipart": (
            b'--x\r\nContent-Disposition: form-data; name="csrf_token"\r\n\r\n'
            + form_token.encode()
            + b'\r\n--x\r\nContent-Disposition: form-data; name="name"\r\n\r\n\xff\xfe\r\n--x--\r\n',
            "multipart/form-data; boundary=x",
        ),
    }
    for action in (f"/events/{event.slug}/register", f"/r/{manage}/cancel", f"/r/{manage}/erase"):
        for what, (body, media_type) in bodies.items():
            answer = await http.post(action, content=body, headers={"Content-Type": media_type, "Accept": "text/html"})
            assert answer.status_code == 400, (action, what, answer.status_code)
            assert answer.headers["content-type"].startswith("text/html")
            assert "<h1" in answer.text
    rows = await conn.fetch(
        "SELECT r.status FROM registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = $1", event.slug
    )
    assert [row["status"] for row in rows] == ["confirmed"]  # nobody added, nothing cancelled or erased


# ------------------------------------------------------------------------ 10: headers


async def test_every_answer_says_nosniff_and_personal_ones_no_store(http, conn, settings) -> None:
    event = await create_event(conn, settings)
    registration, manage = await insert_registration(conn, settings, event.slug)
    _, token = await create_organiser(conn, is_admin=True)
    auth = {"Authorization": f"Bearer {token}"}
    personal = [
        (f"/api/registrations/{manage}", {}),
        (f"/api/registrations/{manage}/calendar.ics", {}),
        (f"/r/{manage}", {}),
        (f"/api/organiser/events/{event.slug}/registrations", auth),
        (f"/api/organiser/events/{event.slug}/registrations.csv", auth),
        (f"/api/organiser/registrations/{registration['id']}", auth),
        (f"/api/organiser/events/{event.slug}/stats", auth),
        ("/api/organiser/me", auth),
        ("/api/organiser/events", auth),
        ("/api/organiser/me", {}),
        ("/api/registrations/unknown-token-0123456789", {}),
    ]
    for url, headers in personal:
        answer = await http.get(url, headers=headers)
        assert answer.headers["cache-control"] == "no-store", (url, answer.status_code, answer.headers)
        assert answer.headers["x-content-type-options"] == "nosniff", url
    for url in (
        "/api/events",
        f"/api/events/{event.slug}",
        "/api/events/nope",
        "/healthz",
        "/calendar.ics",
        "/schema/openapi.json",
        "/no/such/path",
        "/",
        f"/events/{event.slug}",
    ):
        answer = await http.get(url)
        assert answer.headers["x-content-type-options"] == "nosniff", (url, answer.status_code)
    bad = await http.post(f"/api/events/{event.slug}/registrations", json={"name": 1})
    assert (bad.status_code, bad.headers["x-content-type-options"]) == (422, "nosniff")


@pytest.mark.parametrize(("base_url", "secure"), [("https://zesummen.test", True), ("http://127.0.0.1:8000", False)])
async def test_the_language_cookie_is_secure_when_the_site_is_https(settings, conn, base_url, secure) -> None:
    from msgspec import structs

    app = app_on(structs.replace(settings, base_url=base_url), conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
        answer = await client.get("/privacy?lang=de")
    cookie = next(
        value for name, value in answer.headers.multi_items() if name == "set-cookie" and value.startswith("lang=")
    )
    assert ("; Secure" in cookie) is secure, cookie


async def test_the_api_page_loads_nothing_from_elsewhere_and_has_the_csp(http) -> None:
    page = await http.get("/schema")
    assert page.status_code == 200
    policy = page.headers["content-security-policy"]
    assert "script-src 'self';" in policy and "default-src 'none'" in policy and "unsafe" not in policy
    assert "frame-ancestors 'none'" in policy
    loaded = re.findall(r'(?:src|href)="([^"]+)"', page.text)
    assert loaded and all(url.startswith("/schema/") for url in loaded), loaded
    assert "<script>" not in page.text  # nothing inline for the CSP to refuse
    for url in loaded:
        asset = await http.get(url)
        assert asset.status_code == 200, url
        assert asset.headers["content-type"].startswith(("text/javascript", "text/css")), url
        assert len(asset.content) > 100
    assert (await http.get("/schema/swagger/../../etc/passwd")).status_code == 404
    assert (await http.get("/schema/swagger/index.html")).status_code == 404


# ------------------------------------------------------------------------ 10: tokens in logs

TOKEN_PATHS = {
    "/r/Qm9hcmRfX2lzX2Fsd2F5cy1hLXRva2VuXzEyMzQ1Njc4": "/r/[token]",
    "/r/Qm9hcmRfX2lzX2Fsd2F5cy1hLXRva2VuXzEyMzQ1Njc4/cancel?lang=fr": "/r/[token]/cancel?lang=fr",
    "/api/registrations/ab-cd_EF0123456789abcdefXYZ/calendar.ics": "/api/registrations/[token]/calendar.ics",
    "/j/zzzzzzzzzzzzzzzzzzzzzzzzzz": "/j/[token]",
    "/i/0123456789abcdef0123": "/i/[token]",
    "/requests/tok3n-w1th-l0wer-case-only": "/requests/[token]",
    "/organiser/invitations/0a1b2c3d4e5f60718293a4b5c6d7e8f9/accept": "/organiser/invitations/[token]/accept",
    "/some/future/Xy_9aQ2LmN8pK3rT7vW1zB4": "/some/future/[token]",
    "/some/future/0a1b2c3d4e5f60718293a4b5c6d7e8f9": "/some/future/[token]",
}
KEPT_PATHS = [
    "/events/table-de-conversation-francais-2026-12-08/register",
    "/api/organiser/registrations/12345",
    "/api/organiser/events/webconference-2026-12-10/registrations.csv",
    "/organisations/asti/calendar.ics",
]


def test_redaction_rewrites_token_segments_and_keeps_slugs_and_ids() -> None:
    for path, expected in TOKEN_PATHS.items():
        assert redact(f'GET {path} HTTP/1.1" 500') == f'GET {expected} HTTP/1.1" 500'
    for path in KEPT_PATHS:
        assert redact(path) == path


async def test_a_request_that_raises_logs_no_token(settings, conn, caplog) -> None:
    event = await create_event(conn, settings)
    _, manage = await insert_registration(conn, settings, event.slug)

    @get(["/r/{token:str}/explode", "/api/registrations/{token:str}/explode"], sync_to_thread=False)
    def explode(token: str) -> None:
        raise RuntimeError(f"broken while serving /r/{token}")

    app = app_on(settings, conn, fresh=True)
    app.register(explode)
    root = logging.getLogger()
    root.addHandler(caplog.handler)  # the app's logging set-up replaced the root's handlers
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            logging.getLogger("zesummen.test").warning("a person opened /r/%s", manage)
            for url in (f"/r/{manage}/explode", f"/api/registrations/{manage}/explode"):
                assert (await client.get(url)).status_code == 500
    finally:
        root.removeHandler(caplog.handler)
    errors = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert len(errors) >= 3
    written = "\n".join(caplog.handler.format(record) for record in errors)
    assert "RuntimeError" in written and REDACTED in written
    assert manage not in written, written


def test_redaction_is_installed_once(settings) -> None:
    create_app(settings)
    factory = logging.getLogRecordFactory()
    create_app(settings)
    assert logging.getLogRecordFactory() is factory
    assert factory.redacts_tokens
    record = logging.getLogger("x").makeRecord(
        "x", logging.INFO, __file__, 1, "GET /r/%s", ("AbCdEfGhIjKlMnOpQrStUvWxYz",), None
    )
    assert record.getMessage() == "GET /r/[token]"
