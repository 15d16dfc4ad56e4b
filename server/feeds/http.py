"""A feed over HTTP: conditional requests (ETag, Last-Modified), gzip, and polls answered from memory.

Calendar apps poll each feed every hour for years and nearly always get "304 Not Modified". Those
answers cost almost nothing here: a poll whose answer this process already holds (a version it
may trust, see feeds/cache.py, and the body if one is needed) is answered by `AnswerFromMemory`,
before Litestar parses parameters and resolves dependencies; any other goes to the handler, which
reads the version from the database and builds the feed only if nobody has yet.
"""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from typing import Literal, NamedTuple

from litestar.types import ASGIApp, Receive, Scope, Send

from server.feeds.cache import FeedCache, Known

MEDIA_TYPE = "text/calendar"  # Litestar adds "; charset=utf-8"
CONTENT_TYPE = b"text/calendar; charset=utf-8"
# Proxies may keep a public feed a few minutes; calendar apps poll hourly (REFRESH-INTERVAL) and
# revalidate with If-None-Match or If-Modified-Since, which costs nearly nothing.
PUBLIC_CACHE = "public, max-age=300"
# A personal feed holds join links and names the person's events: no cache may keep it.
PRIVATE_CACHE = "no-store"
PUBLIC_VARY = "Accept-Language, Accept-Encoding"

Encoding = Literal["identity", "gzip"]


class Ask(NamedTuple):
    """What a poll says it has and takes: the conditional headers and whether gzip is welcome."""

    if_none_match: str | None
    if_modified_since: str | None
    encoding: Encoding

    @classmethod
    def from_headers(cls, get) -> Ask:
        """From a mapping of lower-case header names (Litestar's headers, or an ASGI scope's)."""
        return cls(
            get("if-none-match"), get("if-modified-since"), "gzip" if takes_gzip(get("accept-encoding")) else "identity"
        )

    def is_current(self, known: Known) -> bool:
        """Whether the client's copy is current: If-None-Match, else If-Modified-Since (RFC 9110 13.2.2)."""
        if self.if_none_match is not None:
            if self.if_none_match.strip() == "*":
                return True
            # the weak comparison If-None-Match asks for (W/"x" matches "x"); the tag of either
            # coding matches, as both are the same feed
            tags = {tag.strip().removeprefix("W/") for tag in self.if_none_match.split(",")}
            return known.etag in tags or gzip_etag(known.etag) in tags
        if self.if_modified_since and known.last_modified is not None:
            try:
                since = parsedate_to_datetime(self.if_modified_since)
            except (TypeError, ValueError, IndexError):
                return False  # not an HTTP-date: ignored, as RFC 9110 says
            if since.tzinfo is None:
                since = since.replace(tzinfo=UTC)
            return known.last_modified <= since
        return False

    def needs_body(self, known: Known) -> bool:
        return not self.is_current(known)


class Answer(NamedTuple):
    """Status, headers and body of a feed's answer; None from `answer` when the body is not at hand."""

    status: int
    headers: dict[str, str]
    body: bytes


def takes_gzip(accept_encoding: str | None) -> bool:
    """Whether Accept-Encoding welcomes gzip (calendar apps' fetchers do)."""
    for part in (accept_encoding or "").lower().split(","):
        coding, _, params = part.strip().partition(";")
        if coding.strip() == "gzip":
            return params.replace(" ", "") not in ("q=0", "q=0.0", "q=0.00", "q=0.000")
    return False


def gzip_etag(etag: str) -> str:
    """The ETag of the gzip coding: another representation, so another strong tag (RFC 9110 8.8.3)."""
    return etag[:-1] + '-gz"'


def compressed(body: bytes) -> bytes:
    """The gzip coding of a feed; mtime 0 so that equal feeds give equal bytes."""
    return gzip.compress(body, compresslevel=6, mtime=0)


def answer(known: Known, ask: Ask, *, personal: bool, vary: str) -> Answer | None:
    """The answer to `ask` from what is known: 304, or the feed in the coding asked for."""
    use_gzip = ask.encoding == "gzip"
    headers = {
        # a 304 carries the tag the 200 would: that of the coding the client takes
        "ETag": gzip_etag(known.etag) if use_gzip else known.etag,
        "Cache-Control": PRIVATE_CACHE if personal else PUBLIC_CACHE,
        "Vary": vary,
        "X-Content-Type-Options": "nosniff",
    }
    if known.last_modified is not None:
        headers["Last-Modified"] = http_date(known.last_modified)
    if personal:
        # the token is in the URL: no Referer may carry it anywhere, no search engine may list it
        headers |= {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    if ask.is_current(known):
        return Answer(304, headers, b"")
    body = known.gzip if use_gzip else known.body
    if body is None or known.body is None:
        return None
    if use_gzip:
        headers["Content-Encoding"] = "gzip"
    return Answer(200, headers, body)


def http_date(moment: datetime) -> str:
    return format_datetime(moment.astimezone(UTC), usegmt=True)


def request_key(scope: Scope) -> tuple[str, bytes, bytes | None]:
    """What decides which feed a public poll asks for: path, query string and Accept-Language."""
    return scope["path"], scope["query_string"], _header(scope, b"accept-language")


def _header(scope: Scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _text_header(scope: Scope, name: str) -> str | None:
    value = _header(scope, name.encode())
    return None if value is None else value.decode("latin-1")


class AnswerFromMemory:
    """ASGI middleware of the public feeds' routes: answers from memory the polls it can, passes on the rest."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] in ("GET", "HEAD"):
            cache: FeedCache | None = scope["litestar_app"].state.get("feed_cache")
            known = cache.known_for_request(request_key(scope), datetime.now(UTC).date()) if cache else None
            if known is not None:
                ask = Ask.from_headers(lambda name: _text_header(scope, name))
                found = answer(known, ask, personal=False, vary=PUBLIC_VARY)
                if found is not None:
                    await _send(send, found, head=scope["method"] == "HEAD")
                    return
        await self.app(scope, receive, send)


async def _send(send: Send, found: Answer, *, head: bool) -> None:
    headers = [(name.lower().encode(), value.encode("latin-1")) for name, value in found.headers.items()]
    if found.status == 200:
        headers += [(b"content-type", CONTENT_TYPE), (b"content-length", str(len(found.body)).encode())]
    await send({"type": "http.response.start", "status": found.status, "headers": headers})
    await send({"type": "http.response.body", "body": b"" if head else found.body})
