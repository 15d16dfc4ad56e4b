"""Structs in and out of the subsidy requests' API."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec
from msgspec import Meta

from server import validation
from server.i18n import Language

Status = Literal["draft", "submitted", "awaiting_applicant", "eligible", "not_eligible", "closed"]
OrganisationKind = Literal["asbl", "federation", "foundation", "public_body", "company", "other"]
BudgetKind = Literal["expense", "income", "own", "requested"]
DocumentKind = Literal["statutes", "accounts", "quote", "other"]

Line = validation.line(200)
Paragraphs = validation.lines(10000)
Message = validation.lines(5000, min_length=1, blank=False)
# a line of the budget holds at most ten million euros (migration 0032)
Cents = Annotated[int, Meta(ge=0, le=1_000_000_000)]
EventSlug = Annotated[str, Meta(min_length=1, max_length=130)]
ThemeCode = Annotated[str, Meta(pattern=r"^[a-z0-9][a-z0-9_-]{0,62}$")]


class I18nDraftLine(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A one-line text in the languages the association writes; any may be missing in a draft."""

    fr: Line | None = None
    de: Line | None = None
    lb: Line | None = None
    en: Line | None = None
    pt: Line | None = None


class I18nDraftText(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """A longer text in the languages the association writes."""

    fr: Paragraphs | None = None
    de: Paragraphs | None = None
    lb: Paragraphs | None = None
    en: Paragraphs | None = None
    pt: Paragraphs | None = None


class BudgetLine(msgspec.Struct, forbid_unknown_fields=True):
    """One line: an expense by category, other income, the own contribution or the amount requested."""

    kind: BudgetKind
    amount_cents: Cents
    category: Line = ""
    label: Line = ""


class ApplicationIn(msgspec.Struct, forbid_unknown_fields=True):
    """A draft as the association writes it: saved as it is, checked on submission."""

    title: I18nDraftLine = msgspec.field(default_factory=I18nDraftLine)
    summary: I18nDraftText = msgspec.field(default_factory=I18nDraftText)
    description: I18nDraftText = msgspec.field(default_factory=I18nDraftText)
    aims: Paragraphs = ""
    target_public: Paragraphs = ""
    theme: ThemeCode | None = None
    starts_on: date | None = None
    ends_on: date | None = None
    events: list[EventSlug] = msgspec.field(default_factory=list)
    planned_events: Paragraphs = ""
    deliverables: Paragraphs = ""
    budget: Annotated[list[BudgetLine], Meta(max_length=200)] = msgspec.field(default_factory=list)
    language: Language | None = None
    contact_email: validation.Email | None = None


class NewApplicationIn(ApplicationIn, forbid_unknown_fields=True):
    """A new draft, for one of the person's organisations."""

    organisation: validation.Slug = ""


class MessageIn(msgspec.Struct, forbid_unknown_fields=True):
    """A question of a reviewer or an answer of the association."""

    body: Message


class DecisionIn(msgspec.Struct, forbid_unknown_fields=True):
    """`eligible` with the amount granted, or `not_eligible` with the reason."""

    outcome: Literal["eligible", "not_eligible"]
    amount_granted_cents: Cents | None = None
    reason: Paragraphs | None = None


class ReportIn(msgspec.Struct, forbid_unknown_fields=True):
    """After the project: what happened, how many came, what was made, what it actually cost."""

    what_happened: validation.lines(10000, min_length=1, blank=False)  # type: ignore[valid-type]
    deliverables: Paragraphs = ""
    attendance: Annotated[int, Meta(ge=0, le=1_000_000)] | None = None
    actual_budget: Annotated[list[BudgetLine], Meta(max_length=200)] = msgspec.field(default_factory=list)


class ThemeIn(msgspec.Struct, forbid_unknown_fields=True):
    """A theme of the year; `priority` for the department's priority themes."""

    code: ThemeCode
    title: I18nDraftLine
    priority: bool = False


class ThemesIn(msgspec.Struct, forbid_unknown_fields=True):
    """Every theme of a year (replaces the list; themes in use stay)."""

    themes: Annotated[list[ThemeIn], Meta(max_length=50)]


class ThemeOut(msgspec.Struct):
    code: str
    title: dict[str, str]
    priority: bool


class ThemesOut(msgspec.Struct):
    year: int
    themes: list[ThemeOut]


class OrganisationKindIn(msgspec.Struct, forbid_unknown_fields=True):
    """The kind of an organisation (administrators only)."""

    kind: OrganisationKind


class ReviewerIn(msgspec.Struct, forbid_unknown_fields=True):
    """Whether an account reviews subsidy requests (administrators only)."""

    reviewer: bool


class DocumentOut(msgspec.Struct):
    id: int
    kind: str
    filename: str
    media_type: str
    size_bytes: int
    created_at: datetime
    url: str


class MessageOut(msgspec.Struct):
    id: int
    author: str
    body: str
    created_at: datetime


class LinkedEventOut(msgspec.Struct):
    slug: str
    status: str
    starts_at: datetime
    attendance: int


class CheckOut(msgspec.Struct):
    """One item of the eligibility checklist: its code, whether it holds, and why not."""

    code: str
    ok: bool
    detail: str = ""


class BudgetTotals(msgspec.Struct):
    expenses_cents: int
    resources_cents: int
    requested_cents: int
    balanced: bool


class ReportOut(msgspec.Struct):
    what_happened: str
    deliverables: str
    attendance: int | None
    attendance_from_events: int | None
    actual_budget: list[BudgetLine]
    actual_totals: BudgetTotals
    filed_at: datetime


class ApplicationOut(msgspec.Struct):
    """An application as its association or a reviewer sees it."""

    id: int
    organisation: str
    organisation_name: str
    status: Status
    language: str
    contact_email: str
    title: dict[str, str]
    summary: dict[str, str]
    description: dict[str, str]
    aims: str
    target_public: str
    theme: str | None
    starts_on: date | None
    ends_on: date | None
    # the last day to submit: 42 days before the start, in Luxembourg's calendar
    deadline: date | None
    events: list[LinkedEventOut]
    planned_events: str
    deliverables: str
    budget: list[BudgetLine]
    totals: BudgetTotals
    documents: list[DocumentOut]
    messages: list[MessageOut]
    checklist: list[CheckOut]
    submitted_at: datetime | None
    amount_granted_cents: int | None
    decision_reason: str | None
    decided_at: datetime | None
    report: ReportOut | None
    created_at: datetime
    updated_at: datetime
    may_edit: bool
    may_review: bool


class ApplicationPage(msgspec.Struct):
    items: list[ApplicationOut]
