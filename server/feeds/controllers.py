"""Thin handlers of the iCal feeds, and their HTTP: ETag, Last-Modified, 304, HEAD, Cache-Control."""

from __future__ import annotations

import contextlib
from datetime import UTC
from email.utils import format_datetime, parsedate_to_datetime
from typing import Annotated

import asyncpg
from litestar import Controller, HttpMethod, Request, Response, route
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter, QueryParameter

from server.errors import DATABASE_DOWN, DomainError, domain_error_handler, database_unavailable_handler
from server.events.controllers import provide_filters
from server.events.schemas import EventFilters
from server.feeds import service
from server.feeds.cache import Known
from server.feeds.service import Feed
from server.i18n import LANGUAGES
from server.openapi import problem_response
from server.settings import Settings

CALENDAR = "text/calendar"  # Litestar adds "; charset=utf-8"
GET_AND_HEAD = [HttpMethod.GET, HttpMethod.HEAD]
# Proxies may keep a public feed a few minutes; calendar apps poll hourly (REFRESH-INTERVAL) and
# revalidate with If-None-Match or If-Modified-Since, which costs nearly nothing.
PUBLIC_CACHE = "public, max-age=300"
# A personal feed holds join links: only the person's own client may keep it, and it asks each time.
PRIVATE_CACHE = "private, no-cache"

SlugPath = Annotated[str, Parameter(max_length=140, description="The organisation's slug")]
TokenPath = Annotated[str, Parameter(max_length=200, description="The manage token from the registration's email")]
FeedLanguage = Annotated[str | None, QueryParameter(
    name="lang", max_length=35, description="fr, de, lb, en or pt (default: the language the person registered in)")]

FEED_RESPONSES = {
    200: ResponseSpec(bytes, media_type=CALENDAR, generate_examples=False,
                      description="An iCalendar feed (RFC 5545), with ETag and, for most feeds, Last-Modified"),
    304: ResponseSpec(None, generate_examples=False,
                      description="Not modified since the ETag in If-None-Match (or the date in If-Modified-Since)"),
    503: problem_response(503),
}


def not_modified(request: Request, known: Known) -> bool:
    """Whether the client's copy is current: If-None-Match, else If-Modified-Since (RFC 9110 13.2.2)."""
    if_none_match = request.headers.get("if-none-match")
    if if_none_match is not None:
        if if_none_match.strip() == "*":
            return True
        # the weak comparison, as If-None-Match asks: W/"x" matches "x"
        return known.etag in (tag.strip().removeprefix("W/") for tag in if_none_match.split(","))
    if_modified_since = request.headers.get("if-modified-since")
    if if_modified_since and known.last_modified is not None:
        try:
            since = parsedate_to_datetime(if_modified_since)
        except (TypeError, ValueError, IndexError):
            return False  # not an HTTP-date: ignored, as RFC 9110 says
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
        return known.last_modified <= since
    return False


async def feed_response(
    request: Request, feed: Feed, settings: Settings, connect: service.Connect, *, vary: str = "Accept-Language"
) -> Response[bytes]:
    """The feed, or 304 when the client has it; the body is built only when a client lacks it."""
    known = await service.current(service.feed_cache(request.app.state), feed, connect, settings,
                                  needs_body=lambda k: not not_modified(request, k))
    headers = {
        "ETag": known.etag,
        "Cache-Control": PRIVATE_CACHE if feed.kind == "personal" else PUBLIC_CACHE,
        "Vary": vary,
        "X-Content-Type-Options": "nosniff",
    }
    if known.last_modified is not None:
        headers["Last-Modified"] = format_datetime(known.last_modified.astimezone(UTC), usegmt=True)
    if feed.kind == "personal":
        # the token is in the URL: no Referer may carry it anywhere, no search engine may list it
        headers |= {"Referrer-Policy": "no-referrer", "X-Robots-Tag": "noindex"}
    if not_modified(request, known):
        return Response(b"", status_code=304, headers=headers, media_type=CALENDAR)
    return Response(known.body or b"", headers=headers, media_type=CALENDAR)


async def event_feed_response(
    request: Request, slug: str, lang: str, settings: Settings, conn: asyncpg.Connection
) -> Response:
    """`/events/{slug}.ics`, answered from the pages' route (Litestar gives both paths one route).

    Errors are problem details, as for every feed: a calendar app is not a browser.
    """
    try:
        return await feed_response(request, service.event_feed(slug, lang, settings), settings,
                                   lambda: contextlib.nullcontext(conn), vary="Accept-Language, Cookie")
    except DomainError as exc:
        return domain_error_handler(request, exc)
    except DATABASE_DOWN as exc:
        return database_unavailable_handler(request, exc)


class FeedController(Controller):
    """Calendar feeds: every published event, one organisation's, and a person's own."""

    tags = ["feeds"]

    @route("/calendar.ics", http_method=GET_AND_HEAD, responses=FEED_RESPONSES,
           dependencies={"filters": Provide(provide_filters, sync_to_thread=False)})
    async def all_events(self, request: Request, settings: Settings, language: str, filters: EventFilters) -> Response[bytes]:
        """Published events (and cancelled ones, marked so) from 90 days back on, with the filters of /api/events.

        A series is one item with its rule; an occurrence moved or cancelled on its own is an override.
        """
        feed = service.public_feed(filters, language, settings)
        return await feed_response(request, feed, settings, service.connector(request.app.state))

    @route("/organisations/{slug:str}/calendar.ics", http_method=GET_AND_HEAD, responses=FEED_RESPONSES)
    async def organisation(self, slug: SlugPath, request: Request, settings: Settings, language: str) -> Response[bytes]:
        """One organisation's published events, as /calendar.ics."""
        feed = service.organisation_feed(slug, language, settings)
        return await feed_response(request, feed, settings, service.connector(request.app.state))

    @route("/api/registrations/{token:str}/calendar.ics", http_method=GET_AND_HEAD, responses=FEED_RESPONSES)
    async def personal(
        self, token: TokenPath, request: Request, settings: Settings, lang: FeedLanguage = None
    ) -> Response[bytes]:
        """The events the token's holder is confirmed for (every registration with the same email), with join links.

        404 `token_unknown` for an unknown, anonymised or erased token. Never kept by shared caches.
        """
        chosen = lang.lower()[:2] if lang and lang.lower()[:2] in LANGUAGES else None
        async with service.connector(request.app.state)() as conn:
            feed = await service.personal_feed(conn, token, chosen, settings)
            return await feed_response(request, feed, settings, lambda: contextlib.nullcontext(conn))
