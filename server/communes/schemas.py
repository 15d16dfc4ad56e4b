"""Structs in and out of the commune request endpoints."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

from server.i18n import Language
from server.validation import Email, Instant, Slug, line, lines

RequesterType = Literal["administration", "ccci", "social_office", "association", "other"]
Subject = Literal[
    "statuses_statistics",
    "testimonies",
    "volunteering",
    "good_practices",
    "other",
    "accompaniment_pci",
    "accompaniment_project",
    "accompaniment_welcome",
]
Status = Literal["new", "in_discussion", "scheduled", "done", "declined"]
REQUESTER_TYPES: tuple[str, ...] = RequesterType.__args__  # type: ignore[attr-defined]
SUBJECTS: tuple[str, ...] = Subject.__args__  # type: ignore[attr-defined]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
# an ISO 639 code (two or three letters), or a sign language's three-letter code
LanguageCode = Annotated[str, Meta(pattern=r"\A[a-z]{2,3}\Z", examples=["ar"])]
LanguageCodes = Annotated[list[LanguageCode], Meta(max_length=20)]
Phone = Annotated[str, Meta(max_length=40, pattern=r"\A[0-9+() ./-]*\Z", examples=["+352 26 00 00 00"])]
Text = lines(5000)


class Period(msgspec.Struct, forbid_unknown_fields=True):
    """A preferred date (`from` = `to`) or period, both days included."""

    from_: date = msgspec.field(name="from")
    to: date


class CommuneRequestIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A commune's request for an information session or accompaniment."""

    commune: line(100, min_length=1, examples=["esch-sur-alzette"])
    requester_type: RequesterType
    contact_name: line(200, min_length=1, blank=False)
    email: Email
    subject: Subject
    consent: bool
    organisation: Slug | None = None
    phone: Phone = ""
    language: Language = "fr"
    preferred: Annotated[list[Period], Meta(max_length=3)] = []
    audience_size: Annotated[int, Meta(ge=1, le=100_000)] | None = None
    audience_languages: LanguageCodes = []
    interpretation: LanguageCodes = []
    venue: line(500) = ""
    step_free: bool | None = None
    message: Text = ""


class CommuneRequestAccepted(msgspec.Struct):
    """The answer to a request: the same whatever the commune."""

    status_url: str


class MessageOut(msgspec.Struct):
    """One message of a request's thread."""

    author: Literal["staff", "requester"]
    body: str
    created_at: datetime


class NoteOut(msgspec.Struct):
    """An internal note on a request, for staff only."""

    author: str | None
    body: str
    created_at: datetime


class LinkedEventOut(msgspec.Struct):
    """An event a request led to."""

    slug: str
    status: str
    starts_at: datetime
    url: str


# a good practice's tag: a word or a few, lower-cased when stored
Tag = Annotated[str, Meta(min_length=1, max_length=40, pattern=r"\A\w[\w' .&+/-]*\Z", examples=["youth"])]


class PracticeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A good practice noted at a session, for the ministry and the CCCI network."""

    title: line(200, min_length=1, blank=False)
    description: Text = ""
    tags: Annotated[list[Tag], Meta(max_length=10)] = []


class OutcomeIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """What came of a request, recorded when it is marked done."""

    discussed: lines(5000, min_length=1, blank=False)
    follow_up: bool
    # what follow-up the commune wants; required when `follow_up` is true
    follow_up_text: lines(2000) = ""
    # people present; null takes the linked events' present count (required when no event is linked)
    attendance: Annotated[int, Meta(ge=0, le=100_000)] | None = None
    practices: Annotated[list[PracticeIn], Meta(max_length=20)] = []


class PracticeOut(msgspec.Struct):
    """A good practice as kept: with its commune and the day of the session."""

    id: int
    title: str
    description: str
    tags: list[str]
    commune: str
    held_on: date


class OutcomeOut(msgspec.Struct):
    """A request's outcome."""

    attendance: int
    # true when `attendance` is the linked events' present count, false when staff stated it
    attendance_counted: bool
    discussed: str
    follow_up: bool
    follow_up_text: str
    held_on: date
    practices: list[PracticeOut]
    updated_at: datetime


class CommuneRequestOut(msgspec.Struct):
    """A request as the agency's staff see it."""

    id: int
    organisation: str
    commune: str
    commune_slug: str
    requester_type: str
    contact_name: str
    email: str
    phone: str
    language: str
    subject: str
    preferred: list[Period]
    audience_size: int | None
    audience_languages: list[str]
    interpretation: list[str]
    venue: str
    step_free: bool | None
    message: str
    status: str
    reason: str | None
    assignee: int | None
    note: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut] = []
    events: list[LinkedEventOut] = []
    domain: str | None = None
    notes: list[NoteOut] = []
    outcome: OutcomeOut | None = None


class CommuneRequestPage(msgspec.Struct):
    """Requests of the organisations the staff member belongs to, newest first."""

    items: list[CommuneRequestOut]


class CommuneRequestPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes to a request; absent fields stay as they are."""

    status: Status | UnsetType = UNSET
    reason: line(1000, min_length=1, blank=False) | None | UnsetType = UNSET
    assignee: Annotated[int, Meta(ge=1, le=2**63 - 1)] | None | UnsetType = UNSET
    note: Text | UnsetType = UNSET
    # one of the organisation's convention domains (GET /api/organiser/organisations/{slug}/domains)
    domain: Slug | None | UnsetType = UNSET
    # required with `status: done`; on a request already done, replaces its outcome
    outcome: OutcomeIn | UnsetType = UNSET


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    """A message to the requester, sent by mail and kept in the thread."""

    body: lines(5000, min_length=1, blank=False)


class ScheduleIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """When the session the request leads to takes place (the rest comes from the request)."""

    starts_at: Instant
    ends_at: Instant
