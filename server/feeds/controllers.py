"""Thin handlers of the iCal feeds: every published event, one organisation's, one event's, a person's own."""

from __future__ import annotations

import asyncio
import contextlib
import copy
from typing import Annotated

import asyncpg
from litestar import Controller, HttpMethod, Litestar, Request, Response, route
from litestar.di import Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter, QueryParameter

from server.errors import DATABASE_DOWN, DomainError, database_unavailable_handler, domain_error_handler
from server.events.controllers import provide_filters
from server.events.schemas import EventFilters
from server.feeds import service
from server.feeds.http import MEDIA_TYPE, PUBLIC_VARY, AnswerFromMemory, Ask, answer, compressed, request_key
from server.feeds.service import Feed
from server.i18n import LANGUAGES, LanguageQuery, negotiate_language
from server.openapi import problem_response
from server.validation import ONE_LINE

GET_AND_HEAD = [HttpMethod.GET, HttpMethod.HEAD]
SlugPath = Annotated[str, Parameter(max_length=140, pattern=ONE_LINE, description="The organisation's slug")]
TokenPath = Annotated[
    str, Parameter(max_length=200, pattern=ONE_LINE, description="The manage token from the registration's email")
]
PublicLanguage = LanguageQuery
PersonalLanguage = Annotated[
    str | None,
    QueryParameter(
        name="lang",
        max_length=35,
        pattern=ONE_LINE,
        description="fr, de, lb, en or pt (default: the language the person registered in)",
    ),
]

FEED_RESPONSES = {
    200: ResponseSpec(
        bytes,
        media_type="text/calendar",
        generate_examples=False,
        description="An iCalendar feed (RFC 5545) with an ETag and, for most feeds, Last-Modified; "
        "gzip when Accept-Encoding takes it",
    ),
    304: ResponseSpec(
        None,
        generate_examples=False,
        description="Not modified since the ETag in If-None-Match (or the date in If-Modified-Since)",
    ),
    503: problem_response(503),
}


def provide_public_feed(request: Request, filters: EventFilters, lang: PublicLanguage = None) -> Feed:
    """/calendar.ics as asked: the filters of /api/events, in ?lang=, else Accept-Language, else French."""
    # one dependency (with one of its own) rather than three side by side: Litestar resolves
    # dependencies of one level in a task group, a cost that a poll answered from memory notices
    language = negotiate_language(lang, request.headers.get("accept-language"))
    return service.public_feed(filters, language, request.app.state.settings)


def provide_organisation_feed(request: Request, slug: SlugPath, lang: PublicLanguage = None) -> Feed:
    """/organisations/{slug}/calendar.ics as asked."""
    language = negotiate_language(lang, request.headers.get("accept-language"))
    return service.organisation_feed(slug, language, request.app.state.settings)


async def feed_response(request: Request, feed: Feed, connect: service.Connect, *, vary: str) -> Response[bytes]:
    """The feed, or 304 when the client has it; the body is built only when no process has built it yet."""
    cache = service.feed_cache(request.app.state)
    ask = Ask.from_headers(request.headers.get)
    known = await service.current(cache, feed, connect, request.app.state.settings, needs_body=ask.needs_body)
    found = answer(known, ask, personal=feed.kind == "personal", vary=vary)
    if found is None:  # gzip asked for and not made yet in this process
        known = known._replace(gzip=await asyncio.to_thread(compressed, known.body or b""))
        stored = cache.get(feed.key)
        if stored is not None and stored.version == known.version:  # not overtaken meanwhile
            cache.remember(feed.key, stored._replace(gzip=known.gzip))
        found = answer(known, ask, personal=feed.kind == "personal", vary=vary)
    if feed.trust_memo and vary == PUBLIC_VARY:
        cache.remember_request(request_key(request.scope), feed.key)
    return Response(found.body, status_code=found.status, headers=found.headers, media_type=MEDIA_TYPE)


def document_event_feed(app: Litestar) -> None:
    """Describe `/events/{slug}.ics` in the OpenAPI schema, though the pages' route is the one answering it.

    Its operations are the organisation feed's (same answers, same headers), renamed.
    """
    schema = app.openapi_schema
    item = copy.deepcopy(schema.paths["/organisations/{slug}/calendar.ics"])
    for method, operation in (("Get", item.get), ("Head", item.head)):
        if operation is None:
            continue
        operation.operation_id = f"EventsSlugIcs{method}Event"
        operation.summary = "Event"
        operation.description = (
            "One event as a calendar: one date of a series alone (the UID of its invitation mail), or, "
            "for a series' own slug, the whole series as one rule. 404 for an unknown or draft event."
        )
        # the pages' route reads the language from ?lang=, its cookie or Accept-Language, unchecked
        operation.parameters = [p for p in operation.parameters or [] if p.name != "lang"]
        for parameter in operation.parameters:
            if parameter.name == "slug":
                parameter.description = parameter.schema.description = "The event's slug"
    schema.paths["/events/{slug}.ics"] = item


async def event_feed_response(request: Request, slug: str, lang: str, conn: asyncpg.Connection) -> Response:
    """`/events/{slug}.ics`, answered from the pages' route (Litestar gives both paths one route).

    Errors are problem details, as for every feed: a calendar app is not a browser.
    """
    feed = service.event_feed(slug, lang, request.app.state.settings)
    try:
        # the page's language may come from its cookie (server/pages/render.py page_language)
        return await feed_response(
            request, feed, lambda: contextlib.nullcontext(conn), vary="Accept-Language, Accept-Encoding, Cookie"
        )
    except DomainError as exc:
        return domain_error_handler(request, exc)
    except DATABASE_DOWN as exc:
        return database_unavailable_handler(request, exc)


class FeedController(Controller):
    """Calendar feeds: every published event, one organisation's, and a person's own."""

    tags = ["feeds"]
    middleware = [AnswerFromMemory]

    @route(
        "/calendar.ics",
        http_method=GET_AND_HEAD,
        responses=FEED_RESPONSES,
        dependencies={
            "filters": Provide(provide_filters, sync_to_thread=False),
            "feed": Provide(provide_public_feed, sync_to_thread=False),
        },
    )
    async def all_events(self, request: Request, feed: Feed) -> Response[bytes]:
        """Published events (and cancelled ones, marked so) from 90 days back to two years ahead.

        The filters of /api/events; `from` and `to` narrow the window. A series is one item with its
        rule; a date moved, retitled or cancelled on its own is an override of it.
        """
        return await feed_response(request, feed, service.connector(request.app.state), vary=PUBLIC_VARY)

    @route(
        "/organisations/{slug:str}/calendar.ics",
        http_method=GET_AND_HEAD,
        responses=FEED_RESPONSES,
        dependencies={"feed": Provide(provide_organisation_feed, sync_to_thread=False)},
    )
    async def organisation(self, request: Request, feed: Feed) -> Response[bytes]:
        """One organisation's published events, as /calendar.ics; 404 for an unknown organisation."""
        return await feed_response(request, feed, service.connector(request.app.state), vary=PUBLIC_VARY)

    @route("/api/registrations/{token:str}/calendar.ics", http_method=GET_AND_HEAD, responses=FEED_RESPONSES)
    async def personal(self, token: TokenPath, request: Request, lang: PersonalLanguage = None) -> Response[bytes]:
        """The events the token's holder is confirmed for (every registration with the same email), with join links.

        404 `token_unknown` for an unknown, anonymised or erased token. Never kept by shared caches.
        """
        chosen = lang.lower()[:2] if lang and lang.lower()[:2] in LANGUAGES else None
        async with service.connector(request.app.state)() as conn:
            feed = await service.personal_feed(conn, token, chosen, request.app.state.settings)
            return await feed_response(request, feed, lambda: contextlib.nullcontext(conn), vary="Accept-Encoding")
