"""Structs in and out of the registration endpoints, public and organiser."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

import msgspec
from litestar.openapi.spec import Example
from msgspec import UNSET, Meta, UnsetType

from server.events.schemas import EventOut
from server.i18n import Language
from server.validation import Email, line, lines

Status = Literal["pending", "confirmed", "waitlisted", "cancelled", "expired"]
SeatStatus = Literal["pending", "confirmed", "waitlisted"]
Attendance = Literal["present", "absent", "excused"]

# Text from the public never carries control characters: PostgreSQL refuses NUL in text, and a
# newline in a name would break a mail header or a CSV row (server/validation.py).
PersonName = line(200, min_length=1, blank=False)
RegistrantEmail = Email
CommuneName = line(100, min_length=1, blank=False, examples=["Esch-sur-Alzette"])
# any language, not only the five of the site: interpretation is asked for in Arabic, Tigrinya, sign languages...
LanguageTag = Annotated[
    str,
    Meta(
        min_length=2,
        max_length=35,
        pattern=r"\A[a-z]{2,3}(-[A-Za-z0-9]{2,8})*\Z",
        description="A language tag such as `ar`, `ti`, `uk` or `fsl`",
        examples=["ar"],
    ),
]
Needs = lines(1000)
RegistrationId = Annotated[int, Meta(ge=1, le=2**63 - 1)]


# ---------------------------------------------------------------------------- public


class RegistrationIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A registration from the public; `consent` must be true."""

    name: PersonName
    email: RegistrantEmail
    language: Language
    consent: bool
    commune: CommuneName | None = None
    interpretation: LanguageTag | None = None
    accessibility: Needs | None = None
    whole_series: bool = False


class AcceptedDate(msgspec.Struct, kw_only=True):
    """One date of an accepted request and where it stands."""

    slug: str
    starts_at: datetime
    when: str
    status: SeatStatus


class RegistrationAccepted(msgspec.Struct, kw_only=True):
    """The 202 answer; the same for a new and a known address (the email tells the truth)."""

    message: str
    dates: list[AcceptedDate]
    # slugs of the dates that went to the waiting list
    waitlisted: list[str]


class SeriesDate(msgspec.Struct, kw_only=True):
    """Another date of the same whole-series request, with its own manage link."""

    slug: str
    starts_at: datetime
    when: str
    status: Status
    manage_url: str


class RegistrationOut(msgspec.Struct, kw_only=True):
    """The registration behind a manage token."""

    status: Status
    waitlist_position: int | None
    event: EventOut
    # only when confirmed for a web conference
    join_url: str | None
    name: str
    # null for a person an organiser added without an address
    email: str | None
    language: Language
    commune: str | None
    interpretation: str | None
    accessibility: str | None
    whole_series: bool
    email_confirmed: bool
    hold_expires_at: datetime | None
    registered_at: datetime
    manage_url: str
    calendar_url: str
    series: list[SeriesDate]


# ---------------------------------------------------------------------------- organiser


class RegistrationByHandIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """A registration an organiser adds (by phone, at the door); confirmed when a seat is free."""

    name: PersonName
    email: RegistrantEmail | None = None
    language: Language = "fr"
    commune: CommuneName | None = None
    interpretation: LanguageTag | None = None
    accessibility: Needs | None = None
    attendance: Attendance | None = None
    # when the event is full: put the person on the waiting list instead of refusing
    waitlist_if_full: bool = False
    # send the person the usual mail (confirmation with the manage link, or waiting list)
    notify: bool = True


class RegistrationPatch(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Changes by an organiser; absent fields stay as they are. `status` may only become `confirmed`."""

    attendance: Attendance | None | UnsetType = UNSET
    status: Literal["confirmed"] | UnsetType = UNSET
    name: PersonName | UnsetType = UNSET
    email: RegistrantEmail | None | UnsetType = UNSET
    language: Language | UnsetType = UNSET
    commune: CommuneName | None | UnsetType = UNSET
    interpretation: LanguageTag | None | UnsetType = UNSET
    accessibility: Needs | None | UnsetType = UNSET


class AttendanceMark(msgspec.Struct, forbid_unknown_fields=True):
    """One person's attendance (null clears it)."""

    id: RegistrationId
    attendance: Attendance | None


class AttendanceIn(msgspec.Struct, forbid_unknown_fields=True):
    """Attendance for many registrations of one event at once."""

    marks: Annotated[list[AttendanceMark], Meta(min_length=1, max_length=2000)]


class AttendanceOut(msgspec.Struct):
    """How many registrations were marked."""

    updated: int


class OrganiserRegistrationOut(msgspec.Struct, kw_only=True):
    """A registration as organisers see it; personal fields are null once anonymised."""

    id: int
    event: str
    name: str | None
    email: str | None
    language: Language
    status: Status
    attendance: Attendance | None
    waitlist_position: int | None
    commune: str | None
    interpretation: str | None
    accessibility: str | None
    whole_series: bool
    source: Literal["public", "organiser"]
    email_confirmed: bool
    hold_expires_at: datetime | None
    registered_at: datetime
    confirmed_at: datetime | None
    cancelled_at: datetime | None
    anonymised: bool
    joined_at: Annotated[
        datetime | None,
        Meta(
            description=(
                "First join of the web conference through the person's own link (/j/), null if never. The first "
                "join also sets `attendance` to `present` unless an organiser had set one; organisers may correct it."
            )
        ),
    ]


class RegistrationPage(msgspec.Struct):
    """One page of an event's registrations, in registration order."""

    items: list[OrganiserRegistrationOut]
    next_cursor: str | None


class RegistrationStats(msgspec.Struct, kw_only=True):
    """Counts for one event. Language, commune and interpretation count live registrations
    (pending, confirmed, waitlisted); attendance counts every mark, `unmarked` the confirmed without one."""

    event: str
    capacity: int | None
    seats_taken: int
    seats_left: int | None
    waitlist_length: int
    total: int
    by_status: dict[str, int]
    by_attendance: dict[str, int]
    by_language: dict[str, int]
    by_commune: dict[str, int]
    by_interpretation: dict[str, int]
    accessibility_requests: int


# Request examples shown in the OpenAPI schema (and tried by the schema fuzzer); each one is valid.
REGISTRATION_IN_EXAMPLES = [
    Example(
        id="one_date",
        summary="One date",
        value={
            "name": "Ana Silva",
            "email": "ana.silva@example.org",
            "language": "pt",
            "consent": True,
            "commune": "Esch-sur-Alzette",
            "interpretation": "pt",
        },
    ),
    Example(
        id="whole_series",
        summary="Every upcoming date of a conversation table",
        value={
            "name": "Jean Muller",
            "email": "jean.muller@example.lu",
            "language": "lb",
            "consent": True,
            "whole_series": True,
        },
    ),
]
BY_HAND_EXAMPLES = [
    Example(
        id="by_phone",
        summary="Registered by phone",
        value={
            "name": "Fatima Haddad",
            "email": "fatima@example.org",
            "language": "fr",
            "interpretation": "ar",
        },
    ),
    Example(
        id="at_the_door",
        summary="Came without registering",
        value={
            "name": "Piotr Nowak",
            "attendance": "present",
            "notify": False,
        },
    ),
]
PATCH_EXAMPLES = [
    Example(id="present", summary="Mark as present", value={"attendance": "present"}),
    Example(id="confirm", summary="Confirm a pending seat", value={"status": "confirmed"}),
]
ATTENDANCE_EXAMPLES = [
    Example(
        id="marks",
        summary="Mark two people",
        value={"marks": [{"id": 1, "attendance": "present"}, {"id": 2, "attendance": "excused"}]},
    ),
]
