"""Thin handlers for the public event API and the organiser event API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import asyncpg
from litestar import Controller, MediaType, Request, Response, get, patch, post
from litestar.datastructures import State
from litestar.params import Body, Parameter, QueryParameter

from server.errors import Invalid
from server.events import service
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

SlugPath = Annotated[str, Parameter(max_length=140, description="The event's slug")]
Limit = Annotated[int, Parameter(ge=1, le=PUBLIC_PAGE_MOST, description="Page size")]
Cursor = Annotated[str | None, Parameter(pattern=service.CURSOR_PATTERN, description="`next_cursor` of the previous page")]
Text = Annotated[str | None, Parameter(max_length=200)]
# RFC 3339 instants with an offset, as Python reads them (no leap second, offsets under 24 hours);
# query values are not JSON, so they are matched here rather than coerced from any number
INSTANT_PATTERN = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](\.[0-9]{1,6})?(Z|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"


def parse_instant(name: str, text: str | None) -> datetime | None:
    """A query instant; its pattern was checked, so only an impossible date (30 February) fails."""
    if text is None:
        return None
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise Invalid.field(name, f"'{text}' is not a date that exists.") from None


FromQuery = Annotated[str | None, QueryParameter(
    name="from", pattern=INSTANT_PATTERN, schema_extra={"format": "date-time"},
    description="Events ending after this instant (default: now), e.g. 2027-01-12T18:30:00+01:00")]
ToQuery = Annotated[str | None, Parameter(pattern=INSTANT_PATTERN, schema_extra={"format": "date-time"},
                                          description="Events starting before this instant")]
SearchQuery = Annotated[str | None, Parameter(max_length=100, description="Words that begin words of the title or summary, in any language (bient finds Bientôt)")]
SpokenQuery = Annotated[Language | None, Parameter(description="A language spoken at the event")]
OrganisationQuery = Annotated[str | None, Parameter(max_length=63, description="Organisation slug")]


def provide_filters(
    kind: Kind | None = None, spoken: SpokenQuery = None, commune: Text = None, organisation: OrganisationQuery = None,
    from_: FromQuery = None, to: ToQuery = None, q: SearchQuery = None,
) -> EventFilters:
    """The public list's filters from the query string (a dependency of the feeds; the list calls it)."""
    return EventFilters(kind=kind, spoken=spoken, commune=commune, organisation=organisation,
                        from_=parse_instant("from", from_), to=parse_instant("to", to), q=q)


class PublicEventController(Controller):
    """Published events, localised."""

    path = "/api/events"
    tags = ["events"]

    # The busiest endpoint asks Litestar for one dependency only (`conn`): two or more independent
    # ones are resolved in an anyio task group, which cost about a third of this handler's time
    # (litestar#4563). So the settings come from the app's state, the language and the filters from
    # the functions behind those dependencies, and the service encodes the body from cached parts.
    @get("/")
    async def list_events(
        self, conn: asyncpg.Connection, state: State, request: Request, lang: LanguageQuery = None,
        kind: Kind | None = None, spoken: SpokenQuery = None, commune: Text = None, organisation: OrganisationQuery = None,
        from_: FromQuery = None, to: ToQuery = None, q: SearchQuery = None, limit: Limit = 20, cursor: Cursor = None,
    ) -> EventPage:
        """Upcoming published events in start order, a page at a time."""
        filters = provide_filters(kind, spoken, commune, organisation, from_, to, q)
        language = negotiate_language(lang, request.headers.get("accept-language"))
        body = await service.list_public_json(conn, filters, language, state.settings, limit=limit, cursor=cursor)
        return Response(body, media_type=MediaType.JSON)  # type: ignore[return-value]  # EventPage, encoded

    @get("/{slug:str}")
    async def get_event(self, slug: SlugPath, conn: asyncpg.Connection, settings: Settings, language: str) -> EventOut:
        """One published event."""
        return await service.get_public(conn, slug, language, settings)


class OrganiserEventController(Controller):
    """Create, change, publish and cancel events of one's organisations."""

    path = "/api/organiser/events"
    tags = ["organiser"]
    security = [{"bearer": []}]

    @post("/")
    async def create_event(
        self, data: Annotated[EventIn, Body(examples=EVENT_IN_EXAMPLES)], conn: asyncpg.Connection, organiser: Organiser, settings: Settings
    ) -> OrganiserEventOut:
        """Create a draft (or a draft series when `recurrence` is given)."""
        return await service.create_event(conn, organiser, data, settings)

    @get("/")
    async def list_events(
        self, conn: asyncpg.Connection, organiser: Organiser, settings: Settings,
        status: Literal["draft", "published", "cancelled"] | None = None,
        organisation: Annotated[str | None, Parameter(max_length=63)] = None,
        limit: Limit = 50, cursor: Cursor = None,
    ) -> OrganiserEventPage:
        """The events of one's organisations, drafts included."""
        return await service.list_for_organiser(
            conn, organiser, settings, status=status, organisation=organisation, limit=limit, cursor=cursor
        )

    @get("/{slug:str}")
    async def get_event(self, slug: SlugPath, conn: asyncpg.Connection, organiser: Organiser, settings: Settings) -> OrganiserEventOut:
        """One event of one's organisations."""
        return await service.get_for_organiser(conn, organiser, slug, settings)

    @patch("/{slug:str}")
    async def update_event(
        self, slug: SlugPath, data: Annotated[EventPatch, Body(examples=EVENT_PATCH_EXAMPLES)], conn: asyncpg.Connection, organiser: Organiser, settings: Settings
    ) -> OrganiserEventOut:
        """Change an event; a new time or place of a published event notifies registrants."""
        return await service.update_event(conn, organiser, slug, data, settings)

    @post("/{slug:str}/publish", status_code=200)
    async def publish_event(self, slug: SlugPath, conn: asyncpg.Connection, organiser: Organiser, settings: Settings) -> OrganiserEventOut:
        """Publish a draft (a whole series at once)."""
        return await service.publish_event(conn, organiser, slug, settings)

    @post("/{slug:str}/cancel", status_code=200)
    async def cancel_event(
        self, slug: SlugPath, conn: asyncpg.Connection, organiser: Organiser, settings: Settings,
        whole_series: Annotated[bool, Parameter(description="Cancel every upcoming occurrence of the series")] = False,
    ) -> OrganiserEventOut:
        """Cancel an event and notify its registrants."""
        return await service.cancel_event(conn, organiser, slug, settings, whole_series=whole_series)
