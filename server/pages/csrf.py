"""CSRF protection of the pages' forms: a signed double-submit cookie (OWASP), no server state.

The browser holds a random value in a cookie; each form carries HMAC(SECRET_KEY, that value).
Another site can make a browser post, but it can neither read the cookie nor forge its signature,
so its post carries no valid token. The JSON API sets and needs no cookie and is not concerned.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from litestar import Request
from litestar.datastructures import Cookie

from server.errors import Forbidden
from server.settings import Settings

COOKIE = "zs_csrf"
FIELD = "csrf_token"
_COOKIE_SHAPE = re.compile(r"\A[A-Za-z0-9_-]{43}\Z")


class CsrfRefused(Forbidden):
    """A form post without a valid token: from another site, or a form older than the cookie."""

    title = "Form token missing or invalid"
    code = "csrf"


def form_token(settings: Settings, cookie_value: str) -> str:
    """The token a form carries for this cookie value."""
    return hmac.new(settings.secret_key.encode(), b"csrf:" + cookie_value.encode(), hashlib.sha256).hexdigest()


def issue(request: Request, settings: Settings) -> tuple[str, list[Cookie]]:
    """(form token, cookies to set): reuses the browser's cookie, or makes one."""
    value = request.cookies.get(COOKIE, "")
    if _COOKIE_SHAPE.match(value):
        return form_token(settings, value), []
    value = secrets.token_urlsafe(32)
    cookie = Cookie(
        key=COOKIE,
        value=value,
        path="/",
        httponly=True,
        samesite="lax",
        secure=settings.base.startswith("https://"),
    )
    return form_token(settings, value), [cookie]


def _allowed_origins(request: Request, settings: Settings) -> set[str]:
    base = re.match(r"^(https?://[^/]+)", settings.base)
    own = f"{request.url.scheme}://{request.headers.get('host', '')}"
    return {origin for origin in (base.group(1) if base else None, own) if origin}


def check(request: Request, form: dict[str, str], settings: Settings) -> None:
    """Raise CsrfRefused unless the form's token matches the cookie and the post comes from us."""
    origin = request.headers.get("origin")
    # "null" comes from privacy settings and sandboxed frames: it proves nothing either way, the token decides
    if origin not in (None, "null") and origin not in _allowed_origins(request, settings):
        raise CsrfRefused("The form was sent from another site.")
    value = request.cookies.get(COOKIE, "")
    sent = form.get(FIELD, "")
    # compared as bytes: compare_digest refuses str with non-ASCII characters (a 500, found by fuzzing)
    if not _COOKIE_SHAPE.match(value) or not hmac.compare_digest(
        form_token(settings, value).encode(), str(sent).encode()
    ):
        raise CsrfRefused("The form token is missing or does not match.")
