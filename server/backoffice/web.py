"""The back-office's HTTP plumbing: its session cookie, the gate's check of it, its templates and language."""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit
from zoneinfo import ZoneInfo

from babel.dates import format_datetime
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie
from litestar.exceptions import NotAuthorizedException
from litestar.response import Redirect

from server.backoffice import service
from server.db import connections
from server.i18n import BABEL_LOCALE, LANGUAGES, format_when, localise
from server.pages.render import (
    CONTENT_SECURITY_POLICY,
    SECURITY_HEADERS,
    SITE_NAME,
    TEMPLATES_DIR,
    htmx,
    local_path,
    page_language,
    stylesheet,
    unbroken_times,
)
from server.pages.translations import LANGUAGE_NAMES, translations
from server.settings import Settings

BACKOFFICE_TEMPLATES = Path(__file__).resolve().parent / "templates"
SESSION_COOKIE = "zs_session"
# where the gate leaves the person it found, for the `staff` dependency of the same request
_STAFF_KEY = "zesummen.staff"
# The back-office alone runs a script: htmx, from this site, as an enhancement of forms that work
# without it. No inline script or style is allowed, so htmx's own indicator style stays off.
# (htmx's requests are fetches of this site: connect-src, or 'none' refuses them)
BACKOFFICE_POLICY = CONTENT_SECURITY_POLICY.replace(
    "default-src 'none';", "default-src 'none'; script-src 'self'; connect-src 'self';"
)
BACKOFFICE_HEADERS = {**SECURITY_HEADERS, "Content-Security-Policy": BACKOFFICE_POLICY}
# the audit log's times are in the agency's time zone
ZONE = ZoneInfo("Europe/Luxembourg")


class SignInRequired(NotAuthorizedException):
    """No live session: a page answers with the sign-in form (see sign_in_redirect)."""


def session_cookie(settings: Settings, token: str, *, clear: bool = False) -> Cookie:
    """The session cookie: HttpOnly, SameSite=Lax, Secure under an https BASE_URL, for /organiser only."""
    return Cookie(
        key=SESSION_COOKIE,
        value="" if clear else token,
        path="/organiser",
        httponly=True,
        samesite="lax",
        secure=settings.base.startswith("https://"),
        max_age=0 if clear else None,
    )


async def authenticate_session(request: Request) -> service.Staff:
    """The person behind the session cookie, or SignInRequired; the gate (server/transport.py) asks before the body."""
    staff = request.scope.get(_STAFF_KEY)
    if staff is None:
        token = request.cookies.get(SESSION_COOKIE, "")
        async with connections(request.app.state)() as conn:
            staff = await service.staff_for_session(conn, token, request.app.state.settings) if token else None
        if staff is None:
            raise SignInRequired("Sign in first.")
        request.scope[_STAFF_KEY] = staff  # type: ignore[typeddict-unknown-key]
    return staff


async def provide_staff(request: Request) -> service.Staff:
    """The `staff` dependency: the person the gate authenticated."""
    return await authenticate_session(request)


def safe_next(value: str | None) -> str:
    """A back-office path to go to after signing in; anything else (another site, a scheme) gives the dashboard."""
    parts = urlsplit(value or "")
    if (
        parts.scheme
        or parts.netloc
        or "\\" in (value or "")
        or not parts.path.startswith("/organiser/")
        or parts.path.startswith("/organiser/login")
    ):
        return "/organiser/"
    path = local_path(parts.path)
    query = quote(parts.query, safe="=&-._~%+")
    return (path + ("?" + query if query else ""))[:1000]


def sign_in_redirect(request: Request, _: Exception) -> Response:
    """An unauthenticated request goes to the sign-in form, which comes back here afterwards."""
    target = request.url.path if request.method == "GET" else "/organiser/"
    if request.method == "GET" and request.url.query:
        target += "?" + request.url.query
    return Redirect(
        path=f"/organiser/login?next={quote(safe_next(target), safe='')}",
        status_code=303,
        headers={"Cache-Control": "no-store"},
    )


def staff_language(request: Request, staff: service.Staff | None) -> str:
    """The interface language: the account's choice, else the pages' rule (?lang=, cookie, Accept-Language)."""
    if staff is not None and staff.language in LANGUAGES:
        return staff.language  # type: ignore[return-value]
    return page_language(request)[0]


@cache
def environment(lang: str) -> Environment:
    """The back-office templates (with the pages' macros) in `lang`, built once per language."""
    env = Environment(
        loader=ChoiceLoader([FileSystemLoader(BACKOFFICE_TEMPLATES), FileSystemLoader(TEMPLATES_DIR)]),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(lang), newstyle=True)
    env.globals.update(
        lang=lang,
        site_name=SITE_NAME,
        css_url=stylesheet().url,
        htmx_url=htmx().url,
        language_names=LANGUAGE_NAMES,
        languages=LANGUAGES,
    )
    env.filters["when"] = lambda row: format_when(row["starts_at"], row["ends_at"], row["timezone"], lang)
    env.filters["moment"] = lambda moment: format_datetime(moment.astimezone(ZONE), "short", locale=BABEL_LOCALE[lang])
    env.filters["unbroken_times"] = unbroken_times
    # the title as the public reads it in `lang`: the same fallback as the public pages
    env.filters["title_in"] = lambda row: localise(row["title"], lang, row["languages"])[0]
    return env


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    lang: str,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
) -> Response[str]:
    """A back-office page: never cached, the pages' security headers."""
    html = environment(lang).get_template(template).render(**context, page_path=request.url.path)
    headers = {**BACKOFFICE_HEADERS, "Cache-Control": "no-store", "Vary": "Cookie"}
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers=headers, cookies=cookies or [])
