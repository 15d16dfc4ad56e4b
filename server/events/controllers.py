"""Thin handlers for the public event API and the organiser event API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import asyncpg
from litestar import Controller, MediaType, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import Body, Parameter, QueryParameter

from server.errors import Invalid
from server.events import listing, reading, service
from server.events.queries import PUBLIC_PAGE_MOST
from server.events.schemas import (
    EVENT_IN_EXAMPLES,
    EVENT_PATCH_EXAMPLES,
    EventFilters,
    EventIn,
    EventOut,
    EventPage,
    EventPatch,
    Kind,
    OrganiserEventOut,
    OrganiserEventPage,
)
from server.i18n import Language, LanguageQuery, negotiate_language
from server.organisers.schemas import Organiser
from server.settings import Settings
from server.validation import INSTANT_OR_DATE, INSTANT_WORDS, ONE_LINE, Refused, instant_or_day

SlugPath = Annotated[str, Parameter(max_length=140, pattern=ONE_LINE, description="The event's slug")]
Limit = Annotated[int, Parameter(ge=1, le=PUBLIC_PAGE_MOST, description="Page size")]
Cursor = Annotated[
    str | None, Parameter(pattern=listing.CURSOR_PATTERN, description="`next_cursor` of the previous page")
]
Text = Annotated[str | None, Parameter(max_length=200, pattern=ONE_LINE)]


def parse_instant(name: str, text: str | None) -> datetime | None:
    """A query's date-time with offset, or a plain date (the start of that day in Luxembourg), or 422."""
    try:
        return instant_or_day(name, text)
    except Refused as exc:
        raise Invalid.field(name, exc.message) from None


# query values are not JSON: they are matched here rather than coerced from any number
FromQuery = Annotated[
    str | None,
    QueryParameter(
        name="from",
        pattern=INSTANT_OR_DATE,
        description=f"Events ending after this instant (default: now): {INSTANT_WORDS}; a date means the start of "
        "that day in Europe/Luxembourg",
    ),
]
ToQuery = Annotated[
    str | None, Parameter(pattern=INSTANT_OR_DATE, description=f"Events starting before this instant: {INSTANT_WORDS}")
]
SearchQuery = Annotated[
    str | None,
    Parameter(
        max_length=100,
        pattern=ONE_LINE,
        description="Words that begin words of the title or summary, in any language (bient finds Bientôt)",
    ),
]
SpokenQuery = Annotated[Language | None, Parameter(description="A language spoken at the event")]
OrganisationQuery = Annotated[str | None, Parameter(max_length=63, pattern=ONE_LINE, description="Organisation slug")]


def provide_filters(
    kind: Kind | None = None,
    spoken: SpokenQuery = None,
    commune: Text = None,
    organisation: OrganisationQuery = None,
    from_: FromQuery = None,
    to: ToQuery = None,
    q: SearchQuery = None,
) -> EventFilters:
    """The public list's filters from the query string (a dependency of the feeds; the list calls it)."""
    return EventFilters(
        kind=kind,
        spoken=spoken,
        commune=commune,
        organisation=organisation,
        from_=parse_instant("from", from_),
        to=parse_instant("to", to),
        q=q,
    )


class PublicEventController(Controller):
    """Published events, localised."""

    path = "/api/events"
    tags = ["events"]

    # The busiest endpoint asks Litestar for one dependency only (`conn`): two or more are resolved
    # in an anyio task group, a cost this handler feels (litestar#4563); the rest comes from the
    # app's state and the functions behind those dependencies.
    @get("/")
    async def list_events(
        self,
        conn: asyncpg.Connection,
        state: State,
        request: Request,
        lang: LanguageQuery = None,
        kind: Kind | None = None,
        spoken: SpokenQuery = None,
        commune: Text = None,
        organisation: OrganisationQuery = None,
        from_: FromQuery = None,
        to: ToQuery = None,
        q: SearchQuery = None,
        limit: Limit = 20,
        cursor: Cursor = None,
    ) -> EventPage:
        """Upcoming published events in start order, a page at a time."""
        filters = provide_filters(kind, spoken, commune, organisation, from_, to, q)
        language = negotiate_language(lang, request.headers.get("accept-language"))
        body = await listing.list_public_json(conn, filters, language, state.settings, limit=limit, cursor=cursor)
        return Response(body, media_type=MediaType.JSON)  # type: ignore[return-value]  # EventPage, encoded

    @get("/{slug:str}")
    async def get_event(self, slug: SlugPath, conn: asyncpg.Connection, settings: Settings, language: str) -> EventOut:
        """One published event."""
        return await listing.get_public(conn, slug, language, settings)


class OrganiserEventController(Controller):
    """Create, change, publish and cancel events of one's organisations."""

    path = "/api/organiser/events"
    tags = ["organiser"]
    security = [{"bearer": []}]

    @post("/")
    async def create_event(
        self,
        data: Annotated[EventIn, Body(examples=EVENT_IN_EXAMPLES)],
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> OrganiserEventOut:
        """Create a draft (or a draft series when `recurrence` is given)."""
        return await service.create_event(conn, organiser, data, settings)

    @get("/")
    async def list_events(
        self,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
        status: Literal["draft", "published", "cancelled"] | None = None,
        organisation: OrganisationQuery = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> OrganiserEventPage:
        """The events of one's organisations, drafts included."""
        return await reading.list_for_organiser(
            conn, organiser, settings, status=status, organisation=organisation, limit=limit, cursor=cursor
        )

    @get("/{slug:str}")
    async def get_event(
        self, slug: SlugPath, conn: asyncpg.Connection, organiser: Organiser, settings: Settings
    ) -> OrganiserEventOut:
        """One event of one's organisations."""
        return await reading.get_for_organiser(conn, organiser, slug, settings)

    @patch("/{slug:str}")
    async def update_event(
        self,
        slug: SlugPath,
        data: Annotated[EventPatch, Body(examples=EVENT_PATCH_EXAMPLES)],
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
    ) -> OrganiserEventOut:
        """Change an event; a new time or place of a published event notifies registrants."""
        return await service.update_event(conn, organiser, slug, data, settings)

    @post("/{slug:str}/publish", status_code=200)
    async def publish_event(
        self, slug: SlugPath, conn: asyncpg.Connection, organiser: Organiser, settings: Settings
    ) -> OrganiserEventOut:
        """Publish a draft (a whole series at once)."""
        return await service.publish_event(conn, organiser, slug, settings)

    @post("/{slug:str}/cancel", status_code=200)
    async def cancel_event(
        self,
        slug: SlugPath,
        conn: asyncpg.Connection,
        organiser: Organiser,
        settings: Settings,
        whole_series: Annotated[bool, Parameter(description="Cancel every upcoming occurrence of the series")] = False,
    ) -> OrganiserEventOut:
        """Cancel an event and notify its registrants."""
        return await service.cancel_event(conn, organiser, slug, settings, whole_series=whole_series)
