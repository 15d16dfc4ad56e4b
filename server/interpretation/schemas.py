"""Structs in and out of the interpretation endpoints."""

from __future__ import annotations

from datetime import date, datetime, time
from functools import cache
from typing import Annotated, Literal

import msgspec
from babel import Locale
from msgspec import UNSET, Meta, UnsetType

from server import validation
from server.i18n import Language
from server.validation import Email, Instant, Rule, line, lines

Level = Literal["B1", "B2", "C1", "C2", "native"]
Field = Literal["social", "school", "health", "administrative", "legal"]
Mode = Literal["on_site", "phone", "video"]
RequesterType = Literal["social_office", "school", "commune", "hospital", "other"]
Urgency = Literal["normal", "urgent"]
MissionStatus = Literal["requested", "offered", "assigned", "done", "cancelled"]
OfferStatus = Literal["offered", "accepted", "declined", "taken", "expired"]


# ISO 639-3 codes CLDR names under another code: Dari is `fa_AF` there
ALIASES = {"prs": "fa_AF"}
# where CLDR has no name in an interface language (Luxembourgish has fewer), the name readers know next
NAME_FALLBACK = {"lb": "de", "fr": "en", "de": "en", "en": "en", "pt": "en"}


@cache
def known_languages() -> frozenset[str]:
    """ISO 639 codes CLDR names in English (ti, fa, ar, uk, kea among them), and Dari as prs."""
    codes = {code for code in Locale.parse("en").languages if code.isalpha() and code.islower() and len(code) <= 3}
    return frozenset(codes | set(ALIASES))


def language_name(code: str, lang: str) -> str:
    """A language's name in an interface language, through CLDR."""
    key = ALIASES.get(code, code)
    return (
        Locale.parse(lang).languages.get(key)
        or Locale.parse(NAME_FALLBACK[lang]).languages.get(key)
        or Locale.parse("en").languages.get(key, code)
    )


def _language(code: str) -> str:
    if code not in known_languages():
        raise ValueError("Expected an ISO 639 language code that CLDR knows, such as ti, prs, fa, ar, uk or kea")
    return code


LanguageCode = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=3,
        pattern=r"\A[a-z]{2,3}\Z",
        examples=["ti"],
        description="An ISO 639 language code known to CLDR (ti, prs, fa, ar, uk, kea...)",
    ),
    Rule(_language),
]
Name = line(200, min_length=1, blank=False)
Phone = Annotated[
    str, Meta(min_length=1, max_length=40, pattern=r"\A\+?[0-9][0-9 ./()-]{2,38}\Z", examples=["+352 621 123 456"])
]
OptionalPhone = Annotated[
    str, Meta(max_length=40, pattern=r"\A(\+?[0-9][0-9 ./()-]{2,38})?\Z", examples=["+352 4796 1"])
]
Commune = line(100, min_length=1, blank=False)
Initials = Annotated[
    str,
    Meta(
        max_length=8,
        pattern=r"\A(\w\.? ?){0,4}\Z",
        examples=["A.B."],
        description="The beneficiary's initials only (data minimisation)",
    ),
]


class Spoken(msgspec.Struct, forbid_unknown_fields=True):
    """A language an interpreter speaks, and how well."""

    code: LanguageCode
    level: Level


class Slot(msgspec.Struct, forbid_unknown_fields=True):
    """A weekly slot in Luxembourg's local time: ISO weekday (1 = Monday), from and to."""

    weekday: Annotated[int, Meta(ge=1, le=7)]
    starts: Annotated[time, Meta(tz=False)]
    ends: Annotated[time, Meta(tz=False)]


class Absence(msgspec.Struct, forbid_unknown_fields=True):
    """Days off (both included)."""

    first_day: date
    last_day: date


class InterpreterIn(msgspec.Struct, forbid_unknown_fields=True):
    """A new interpreter of an organisation's pool."""

    organisation: validation.Slug
    name: Name
    email: Email
    phone: Phone
    languages: Annotated[list[Spoken], Meta(min_length=1, max_length=20)]
    communes: Annotated[list[Commune], Meta(max_length=100)] = []
    cantons: Annotated[list[Commune], Meta(max_length=12)] = []
    availability: Annotated[list[Slot], Meta(max_length=50)] = []
    absences: Annotated[list[Absence], Meta(max_length=50)] = []
    monthly_cap: Annotated[int, Meta(ge=0, le=1000)] = 20
    language: Language = "fr"


class InterpreterOut(msgspec.Struct):
    """An interpreter as staff see them."""

    id: int
    organisation: str
    name: str
    email: str
    phone: str
    languages: list[Spoken]
    communes: list[str]
    cantons: list[str]
    availability: list[Slot]
    absences: list[Absence]
    monthly_cap: int
    language: str
    # taken out of the pool: keeps their missions, gets no new offer
    active: bool = True


class InterpreterPatch(msgspec.Struct, forbid_unknown_fields=True):
    """What staff change of an interpreter; lists replace the whole list; `active: false` takes them out of the pool."""

    name: Name | UnsetType = UNSET
    email: Email | UnsetType = UNSET
    phone: Phone | UnsetType = UNSET
    languages: Annotated[list[Spoken], Meta(min_length=1, max_length=20)] | UnsetType = UNSET
    communes: Annotated[list[Commune], Meta(max_length=100)] | UnsetType = UNSET
    cantons: Annotated[list[Commune], Meta(max_length=12)] | UnsetType = UNSET
    availability: Annotated[list[Slot], Meta(max_length=50)] | UnsetType = UNSET
    absences: Annotated[list[Absence], Meta(max_length=50)] | UnsetType = UNSET
    monthly_cap: Annotated[int, Meta(ge=0, le=1000)] | UnsetType = UNSET
    language: Language | UnsetType = UNSET
    active: bool | UnsetType = UNSET


class InterpreterCreated(InterpreterOut):
    """A new interpreter and their private link (shown once; they get it by mail too)."""

    link: str = ""


class Place(msgspec.Struct, forbid_unknown_fields=True):
    """Where an on-site mission takes place."""

    commune: Commune
    address: line(300) = ""


class Requester(msgspec.Struct, forbid_unknown_fields=True):
    """The partner service asking."""

    organisation: Name
    contact: Name
    email: Email
    type: RequesterType
    phone: OptionalPhone = ""
    language: Language = "fr"


class StaffRequester(msgspec.Struct, forbid_unknown_fields=True):
    """The partner service asking, as staff take it down; a request phoned in may come without an email."""

    organisation: Name
    contact: Name
    type: RequesterType
    # none: the requester gets no mail, staff tell them by phone
    email: Email | None = None
    phone: OptionalPhone = ""
    language: Language = "fr"


class RequestIn(msgspec.Struct, forbid_unknown_fields=True):
    """A request for an interpreter; `place` for on site, or `remote` (phone or video)."""

    starts_at: Instant
    ends_at: Instant
    from_language: LanguageCode
    to_language: LanguageCode
    field: Field
    requester: Requester
    place: Place | None = None
    remote: Literal["phone", "video"] | None = None
    beneficiary_initials: Initials = ""
    urgency: Urgency = "normal"
    notes: lines(2000) = ""


class MissionIn(RequestIn, forbid_unknown_fields=True):
    """A mission entered by staff: a request, for the agency unless `organisation` names another of theirs."""

    requester: StaffRequester  # type: ignore[assignment]
    organisation: validation.Slug | None = None
    # one of the organisation's convention domains (GET /api/organiser/organisations/{slug}/domains)
    domain: validation.Slug | None = None


class MissionPatch(msgspec.Struct, forbid_unknown_fields=True):
    """What staff change of a mission: its time, place, status, or the interpreter assigned."""

    starts_at: Instant | UnsetType = UNSET
    ends_at: Instant | UnsetType = UNSET
    place: Place | None | UnsetType = UNSET
    remote: Literal["phone", "video"] | None | UnsetType = UNSET
    notes: lines(2000) | UnsetType = UNSET
    urgency: Urgency | UnsetType = UNSET
    interpreter: Annotated[int, Meta(ge=1, le=2**63 - 1)] | None | UnsetType = UNSET
    status: Literal["cancelled", "done"] | UnsetType = UNSET
    domain: validation.Slug | None | UnsetType = UNSET


class MissionOut(msgspec.Struct):
    """A mission as staff see it."""

    id: int
    organisation: str
    starts_at: datetime
    ends_at: datetime
    mode: Mode
    place: Place | None
    from_language: str
    to_language: str
    field: str
    requester: StaffRequester
    beneficiary_initials: str
    urgency: str
    notes: str
    status: MissionStatus
    interpreter: int | None
    sequence: int
    minutes_spent: int | None
    domain: str | None = None
    # every offer went unanswered past its deadline (or was declined), and staff were alerted
    unanswered: bool = False


class Candidate(msgspec.Struct):
    """An interpreter who could take a mission, with what ranks them."""

    id: int
    name: str
    from_level: str
    to_level: str
    missions_this_month: int
    monthly_cap: int


class CandidatePage(msgspec.Struct):
    """A page of a mission's ranked candidates; `next_cursor` asks for the next page, null after the last."""

    items: list[Candidate]
    next_cursor: str | None


class OffersIn(msgspec.Struct, forbid_unknown_fields=True):
    """Offer a mission to these interpreters (ids of the pool)."""

    interpreters: Annotated[list[Annotated[int, Meta(ge=1, le=2**63 - 1)]], Meta(min_length=1, max_length=50)]
    answer_by: Annotated[
        Instant | None, Meta(description="Until when they may accept: a day by default, never after the mission starts")
    ] = None


class OfferOut(msgspec.Struct):
    """An offer of a mission to an interpreter."""

    id: int
    mission: int
    interpreter: int
    status: OfferStatus
    answer_by: datetime | None = None


class HoursIn(msgspec.Struct, forbid_unknown_fields=True):
    """The time an interpreter actually spent on a mission, in minutes."""

    minutes: Annotated[int, Meta(ge=0, le=24 * 60)]


class RequestOut(msgspec.Struct):
    """A request stored: its id, state and the link where the requester follows it."""

    id: int
    status: MissionStatus
    status_url: str


class AssignedInterpreter(msgspec.Struct):
    """Who comes, as the requester learns it once assigned: first name and phone."""

    first_name: str
    phone: str


class RequestStatus(msgspec.Struct):
    """A request as its requester sees it."""

    id: int
    status: MissionStatus
    starts_at: datetime
    ends_at: datetime
    from_language: str
    to_language: str
    interpreter: AssignedInterpreter | None


class Tally(msgspec.Struct):
    """Missions of a period with one language pair (`ti-fr`, codes in order), field or requester type."""

    key: str
    missions: int
    missions_with_hours: int
    hours: float


class Period(msgspec.Struct):
    """A month (`2026-03`) or a year (`2026`): held missions, how many have their hours recorded, and those hours."""

    period: str
    missions: int
    missions_with_hours: int
    hours: float
    languages: list[Tally]
    field: list[Tally]
    requester_type: list[Tally]


class Summary(msgspec.Struct):
    """An organisation's missions and hours by month and year, between two days (both included)."""

    organisation: str
    first: date = msgspec.field(name="from")
    last: date = msgspec.field(name="to")
    months: list[Period] = []
    years: list[Period] = []
