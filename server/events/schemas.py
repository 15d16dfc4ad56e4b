"""Structs in and out of the event endpoints."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Literal

import msgspec
from litestar.openapi.spec import Example
from msgspec import UNSET, Meta, UnsetType

from server.i18n import I18nText, Language
from server.organisers.schemas import OrganisationOut
from server.validation import HttpUrl, Instant, Slug, Timezone, line, lines

Kind = Literal["webconference", "conversation_table", "info_session"]
Level = Literal["A1", "A2", "B1", "B2", "C1", "C2", "all"]
AwareDatetime = Instant
# one line each: a venue, an audience or a partner's name is printed in mails, pages and feeds
LongLine = line(2000)
Url = HttpUrl
Languages = Annotated[list[Language], Meta(min_length=1, max_length=5)]
Topics = Annotated[list[line(100, min_length=1)], Meta(max_length=20)]
Reminders = Annotated[list[timedelta], Meta(max_length=5)]
Capacity = Annotated[int, Meta(ge=0, le=100_000)]
Platform = line(100)
CommuneLine = line(100)
# communes an event (an online one, typically) is aimed at, for the communes' own calendars
AimedAt = Annotated[list[CommuneLine], Meta(max_length=100)]
Partner = line(200)
# the parts of an RRULE (RFC 5545 3.3.10) in ASCII; the service reads the values
RRule = Annotated[
    str, Meta(min_length=1, max_length=200, pattern=r"\A[A-Za-z0-9=;:,+-]+\Z", examples=["FREQ=WEEKLY;COUNT=12"])
]
LineText = line(20_000)
MultiLineText = lines(20_000)


class I18nLine(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A one-line text (a title) in up to five languages."""

    fr: LineText | None = None
    de: LineText | None = None
    lb: LineText | None = None
    en: LineText | None = None
    pt: LineText | None = None


class I18nLines(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A text of several lines (a summary, a description) in up to five languages."""

    fr: MultiLineText | None = None
    de: MultiLineText | None = None
    lb: MultiLineText | None = None
    en: MultiLineText | None = None
    pt: MultiLineText | None = None


class RecurrenceIn(msgspec.Struct, forbid_unknown_fields=True):
    """An RRULE (weekly, every n weeks or monthly; COUNT or UNTIL) and dates left out."""

    rrule: RRule
    exdates: Annotated[list[AwareDatetime], Meta(max_length=100)] = []


class EventIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A new event (a draft until published)."""

    kind: Kind
    organisation: Slug
    title: I18nLine
    languages: Languages
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    summary: I18nLines = msgspec.field(default_factory=I18nLines)
    description: I18nLines = msgspec.field(default_factory=I18nLines)
    timezone: Timezone = "Europe/Luxembourg"
    slug: Slug | None = None
    capacity: Capacity | None = None
    registration_opens_at: AwareDatetime | None = None
    registration_closes_at: AwareDatetime | None = None
    confirmation_required: bool = True
    reminders: Reminders = msgspec.field(default_factory=lambda: [timedelta(days=1), timedelta(hours=1)])
    join_url: Url | None = None
    platform: Platform | None = None
    venue: LongLine | None = None
    online: bool = False
    commune: CommuneLine | None = None
    practised_language: Language | None = None
    level: Level | None = None
    topics: Topics = []
    audience: LongLine | None = None
    requesting_partner: Partner | None = None
    recurrence: RecurrenceIn | None = None
    aimed_at_communes: AimedAt = []
    # one of the organisation's convention domains (GET /api/organiser/organisations/{slug}/domains)
    domain: Slug | None = None


class EventPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to an event; absent fields stay as they are."""

    title: I18nLine | UnsetType = UNSET
    summary: I18nLines | UnsetType = UNSET
    description: I18nLines | UnsetType = UNSET
    languages: Languages | UnsetType = UNSET
    starts_at: AwareDatetime | UnsetType = UNSET
    ends_at: AwareDatetime | UnsetType = UNSET
    timezone: Timezone | UnsetType = UNSET
    capacity: Capacity | None | UnsetType = UNSET
    # lowering the capacity below the confirmed count is refused unless forced
    force: bool = False
    registration_opens_at: AwareDatetime | None | UnsetType = UNSET
    registration_closes_at: AwareDatetime | None | UnsetType = UNSET
    confirmation_required: bool | UnsetType = UNSET
    reminders: Reminders | UnsetType = UNSET
    join_url: Url | None | UnsetType = UNSET
    platform: Platform | None | UnsetType = UNSET
    venue: LongLine | None | UnsetType = UNSET
    online: bool | UnsetType = UNSET
    commune: CommuneLine | None | UnsetType = UNSET
    practised_language: Language | None | UnsetType = UNSET
    level: Level | None | UnsetType = UNSET
    topics: Topics | UnsetType = UNSET
    audience: LongLine | None | UnsetType = UNSET
    requesting_partner: Partner | None | UnsetType = UNSET
    aimed_at_communes: AimedAt | UnsetType = UNSET
    domain: Slug | None | UnsetType = UNSET


class EventOut(msgspec.Struct, kw_only=True):
    """A published event as the public sees it, in one language."""

    slug: str
    kind: Kind
    title: str
    summary: str
    description: str
    lang: str
    languages: list[str]
    starts_at: datetime
    ends_at: datetime
    timezone: str
    when: str
    location: str
    commune: str | None
    organisation: OrganisationOut
    capacity: int | None
    seats_left: int | None
    registration_open: bool
    registration_opens_at: datetime | None
    registration_closes_at: datetime
    status: str
    url: str
    ical_url: str
    webcal_url: str
    online: bool
    platform: str | None
    venue: str | None
    practised_language: str | None
    level: str | None
    topics: list[str]
    audience: str | None
    series: str | None
    revision: int


class EventPage(msgspec.Struct):
    """One page of the public list."""

    items: list[EventOut]
    next_cursor: str | None


class OrganiserEventOut(msgspec.Struct, kw_only=True):
    """An event as its organisers see it: every language, the join link, drafts."""

    slug: str
    kind: Kind
    status: str
    organisation: OrganisationOut
    title: I18nText
    summary: I18nText
    description: I18nText
    languages: list[str]
    starts_at: datetime
    ends_at: datetime
    timezone: str
    capacity: int | None
    seats_taken: int
    registration_opens_at: datetime | None
    registration_closes_at: datetime | None
    confirmation_required: bool
    reminders: list[timedelta]
    join_url: str | None
    platform: str | None
    venue: str | None
    online: bool
    commune: str | None
    practised_language: str | None
    level: str | None
    topics: list[str]
    audience: str | None
    requesting_partner: str | None
    series: str | None
    recurrence_id: datetime | None
    revision: int
    created_at: datetime
    updated_at: datetime
    url: str
    occurrences: list[str] | None = None
    aimed_at_communes: list[str] = []
    domain: str | None = None


class OrganiserEventPage(msgspec.Struct):
    """One page of an organiser's events."""

    items: list[OrganiserEventOut]
    next_cursor: str | None


class EventFilters(msgspec.Struct, kw_only=True):
    """The public list's filters, shared by the JSON list and the iCal feed."""

    kind: Kind | None = None
    spoken: Language | None = None
    commune: str | None = None
    organisation: str | None = None
    from_: datetime | None = None
    to: datetime | None = None
    q: str | None = None


# Request examples shown in the OpenAPI schema (and tried by the schema fuzzer); each one is valid.
EVENT_IN_EXAMPLES = [
    Example(
        id="webconference",
        summary="A lunch-time web conference",
        value={
            "kind": "webconference",
            "organisation": "cefis",
            "title": {
                "fr": "Les Portugais de « seconde génération » au Luxembourg",
                "pt": "Os portugueses de « segunda geração » no Luxemburgo",
            },
            "summary": {"fr": "Leurs sentiments d'appartenance au cours de la vie."},
            "languages": ["fr"],
            "starts_at": "2027-03-10T12:15:00+01:00",
            "ends_at": "2027-03-10T13:45:00+01:00",
            "capacity": 100,
            "join_url": "https://meet.example.org/cefis-portugais",
            "platform": "Webex",
        },
    ),
    Example(
        id="conversation_table",
        summary="A weekly conversation table, twelve dates",
        value={
            "kind": "conversation_table",
            "organisation": "asti",
            "title": {"fr": "Table de conversation en français", "lb": "Konversatiounsdësch op Franséisch"},
            "languages": ["fr"],
            "practised_language": "fr",
            "level": "all",
            "venue": "ASTI, 10-12, rue Auguste Laval, Luxembourg",
            "starts_at": "2027-01-12T18:30:00+01:00",
            "ends_at": "2027-01-12T20:00:00+01:00",
            "capacity": 12,
            "confirmation_required": False,
            "recurrence": {"rrule": "FREQ=WEEKLY;COUNT=12", "exdates": []},
        },
    ),
    Example(
        id="info_session",
        summary="An information session in a commune",
        value={
            "kind": "info_session",
            "organisation": "asti",
            "title": {"fr": "Le bénévolat auprès des demandeurs de protection internationale"},
            "languages": ["fr", "lb"],
            "commune": "Esch-sur-Alzette",
            "venue": "Biergerzentrum, Esch-sur-Alzette",
            "topics": ["bénévolat", "DPI"],
            "audience": "Habitants de la commune",
            "requesting_partner": "Commission consultative communale d'intégration",
            "starts_at": "2027-02-04T19:00:00+01:00",
            "ends_at": "2027-02-04T21:00:00+01:00",
            "capacity": 60,
        },
    ),
]

EVENT_PATCH_EXAMPLES = [
    Example(
        id="move",
        summary="Move the event (registrants are told)",
        value={"starts_at": "2027-03-17T12:15:00+01:00", "ends_at": "2027-03-17T13:45:00+01:00"},
    ),
    Example(id="capacity", summary="Raise the capacity (the waiting list moves up)", value={"capacity": 120}),
]
