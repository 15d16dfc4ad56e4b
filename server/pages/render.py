"""Rendering a page: the language it is in, its jinja2 templates, its headers and its stylesheet."""

from __future__ import annotations

import hashlib
import re
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from litestar import MediaType, Request, Response
from litestar.datastructures import Cookie

from server.i18n import LANGUAGES, negotiate_language
from server.pages.translations import LANGUAGE_NAMES, PACKAGE_DIR, translations

TEMPLATES_DIR = PACKAGE_DIR / "templates"
STATIC_DIR = PACKAGE_DIR / "static"
SITE_NAME = "Zesummen"
LANG_COOKIE = "lang"
ONE_YEAR = 365 * 24 * 3600

# No script may run, styles come only from our own stylesheet, forms post only to us, and no
# other site may frame the pages (clickjacking of the cancel and erase buttons).
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    # manage links carry a token in the path: no Referer may take it to another site (the join
    # link's); within the site it is sent, and so is a real Origin on our own form posts
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}


class Asset:
    """A file of `static/`, served under a name that changes with its content, so it may be kept a year."""

    def __init__(self, file: str, media_type: str) -> None:
        self.body = (STATIC_DIR / file).read_bytes()
        stem, _, suffix = file.rpartition(".")
        self.name = f"{stem}-{hashlib.sha256(self.body).hexdigest()[:12]}.{suffix}"
        self.url = f"/static/{self.name}"
        self.media_type = media_type


@cache
def stylesheet() -> Asset:
    """The one hand-written stylesheet, read once."""
    return Asset("pages.css", "text/css")


@cache
def htmx() -> Asset:
    """htmx (BSD-0, vendored unchanged from npm `htmx.org`): the back-office's progressive enhancement only."""
    return Asset("htmx-2.0.11.min.js", "text/javascript")


def asset(name: str) -> Asset | None:
    """The static file served under `name`, if any."""
    return next((each for each in (stylesheet(), htmx()) if each.name == name), None)


# "12 h 15", "13:45 Uhr": a phone's narrow column must not break a time in two
_TIME_SPACES = re.compile(r"(?<=\d) (?=h \d)|(?<=\d h) (?=\d)|(?<=\d) (?=Uhr|Auer)")


def unbroken_times(text: str) -> str:
    """The text with the spaces inside each time made no-break."""
    return _TIME_SPACES.sub("\u00a0", text)


@cache
def environment(lang: str) -> Environment:
    """The templates with `lang`'s translations; one environment per language, built once."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # new-style gettext: _("... %(n)s", n=x) formats after translating and escapes the values
    env.install_gettext_translations(translations(lang), newstyle=True)
    env.filters["unbroken_times"] = unbroken_times
    env.globals.update(lang=lang, site_name=SITE_NAME, css_url=stylesheet().url, language_names=LANGUAGE_NAMES)
    return env


def page_language(request: Request) -> tuple[str, bool]:
    """(language, chosen): ?lang=, else the remembered choice, else Accept-Language, else French."""
    asked = (request.query_params.get("lang") or "").lower()[:2]
    if asked in LANGUAGES:
        return asked, True
    remembered = request.cookies.get(LANG_COOKIE, "")
    if remembered in LANGUAGES:
        return remembered, True
    return negotiate_language(None, request.headers.get("accept-language")), False


def with_query(path: str, params: dict[str, Any]) -> str:
    """A path with the given query parameters (empty ones left out)."""
    clean = {key: value for key, value in params.items() if value not in (None, "", False)}
    return f"{path}?{urlencode(clean)}" if clean else path


def local_path(path: str) -> str:
    """A path on this site whatever the request held: `//evil.example/x`, `/\\evil.example` or a decoded
    `/%2F%2Fevil.example` would be another site's address in a link (protocol-relative)."""
    single = re.sub(r"[/\\]+", "/", "/" + path)
    return quote(single, safe="/-._~!$&'()*+,;=:@")


def language_links(request: Request, page_path: str) -> list[tuple[str, str, str]]:
    """(code, own name, link) for the switcher: the same page, the same filters, another language."""
    query = {key: value for key, value in request.query_params.items() if key not in ("lang", "done")}
    path = local_path(page_path)
    return [(code, LANGUAGE_NAMES[code], with_query(path, {**query, "lang": code})) for code in LANGUAGES]


def render(
    request: Request,
    template: str,
    context: dict[str, Any],
    *,
    lang: str,
    page_path: str | None = None,
    status_code: int = 200,
    cookies: list[Cookie] | None = None,
    private: bool = False,
) -> Response[str]:
    """A page as an HTML response with the security headers; remembers a language chosen by ?lang=."""
    page_path = page_path or request.url.path
    html = (
        environment(lang)
        .get_template(template)
        .render(**context, switcher=language_links(request, page_path), page_path=page_path)
    )
    headers = dict(SECURITY_HEADERS)
    headers["Vary"] = "Accept-Language, Cookie"
    # pages with a person's data or a form token are never stored by a cache
    headers["Cache-Control"] = "no-store" if private else "no-cache"
    jar = list(cookies or [])
    asked = (request.query_params.get("lang") or "").lower()[:2]
    if asked in LANGUAGES and request.cookies.get(LANG_COOKIE) != asked:
        secure = request.app.state.settings.base.startswith("https://")
        jar.append(
            Cookie(
                key=LANG_COOKIE, value=asked, max_age=ONE_YEAR, path="/", samesite="lax", httponly=True, secure=secure
            )
        )
    return Response(html, media_type=MediaType.HTML, status_code=status_code, headers=headers, cookies=jar)
