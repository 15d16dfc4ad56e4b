"""A commune's calendar: its page, its iCal feed and the list a commune frames on its own website."""

from __future__ import annotations

import html
import re
from typing import Annotated

import asyncpg
from litestar import Controller, HttpMethod, Request, Response, get, route
from litestar.params import Parameter

from server.communes import directory
from server.feeds import service as feeds
from server.feeds.controllers import FEED_RESPONSES, feed_response
from server.feeds.http import PUBLIC_VARY
from server.i18n import LanguageQuery, negotiate_language
from server.openapi import problem_response
from server.pages.errors import page_exception_handlers
from server.pages.render import CONTENT_SECURITY_POLICY, page_language, render
from server.pages.translations import N_, gettext
from server.settings import Settings
from server.validation import ONE_LINE

CommuneSlug = Annotated[
    str, Parameter(max_length=100, pattern=ONE_LINE, description="The commune's slug, such as esch-sur-alzette")
]


def framable(response: Response, settings: Settings) -> Response:
    """The embeddable list alone may be framed, by the sites EMBED_FRAME_ANCESTORS names (any, by default)."""
    response.headers["Content-Security-Policy"] = CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", f"frame-ancestors {settings.embed_frame_ancestors}"
    )
    response.headers.pop("X-Frame-Options", None)
    return response


def embed_code(url: str, title: str) -> str:
    """The <iframe> a commune copies into its website (shown as text, escaped by the template)."""
    return f'<iframe src="{url}" title="{html.escape(title)}" width="100%" height="600"></iframe>'


class CommuneCalendarPages(Controller):
    """The coming events of one commune, held there or aimed at it."""

    path = "/communes"
    include_in_schema = False
    exception_handlers = page_exception_handlers
    opt = {"html": True}

    @get("/{slug:str}")
    async def page(
        self,
        slug: CommuneSlug,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
    ) -> Response[str]:
        """The commune's page: its coming events, its feed, and how to put the list on its own website."""
        lang, _ = page_language(request)
        name, events = await directory.coming_events(conn, slug, lang, settings)
        feed = f"{settings.base}/communes/{slug}/calendar.ics"
        context = {
            "commune": name,
            "slug": slug,
            "events": events,
            "feed_url": feed,
            "webcal_url": re.sub(r"^https?://", "webcal://", feed),
            "embed_code": embed_code(
                f"{settings.base}/communes/{slug}/embed?lang={lang}",
                gettext(lang, N_("Events in %(commune)s")) % {"commune": name},
            ),
        }
        return render(request, "commune.html", context, lang=lang, page_path=f"/communes/{slug}")

    @get("/{slug:str}/embed")
    async def embed(
        self,
        slug: CommuneSlug,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
    ) -> Response[str]:
        """The list a commune puts in an <iframe>, in the language of ?lang=."""
        lang, _ = page_language(request)
        name, events = await directory.coming_events(conn, slug, lang, settings, limit=50)
        context = {"commune": name, "slug": slug, "events": events, "base": settings.base}
        return framable(
            render(request, "commune_embed.html", context, lang=lang, page_path=f"/communes/{slug}/embed"), settings
        )


class CommuneFeedController(Controller):
    """A commune's iCal feed."""

    tags = ["feeds"]

    @route(
        "/communes/{slug:str}/calendar.ics",
        http_method=[HttpMethod.GET, HttpMethod.HEAD],
        responses={**FEED_RESPONSES, 404: problem_response(404, "No commune of Luxembourg has this slug")},
    )
    async def commune(self, slug: CommuneSlug, request: Request, lang: LanguageQuery = None) -> Response[bytes]:
        """The published events held in the commune or aimed at it, as /calendar.ics?commune=."""
        language = negotiate_language(lang, request.headers.get("accept-language"))
        connect = feeds.connector(request.app.state)
        async with connect() as conn:
            name = (await directory.communes_by_slug(conn)).get(slug)
        if name is None or directory.commune_slug(name) != slug:
            from server.errors import NotFound

            raise NotFound("No commune of Luxembourg has this slug.")
        feed = feeds.commune_feed(name, language, request.app.state.settings)
        return await feed_response(request, feed, connect, vary=PUBLIC_VARY)
