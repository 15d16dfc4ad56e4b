"""The rules of subsidy requests: who sees what, what a request shows, drafts and their budget."""

from __future__ import annotations

from typing import Any, NamedTuple, NoReturn

import asyncpg
import msgspec

from server.audit import record
from server.errors import Forbidden, Invalid, NotFound
from server.i18n import LANGUAGES
from server.organisers.schemas import Organiser
from server.settings import Settings
from server.subsidies import queries as q
from server.subsidies.deadlines import deadline_for, today_in_luxembourg
from server.subsidies.schemas import (
    ApplicationIn,
    ApplicationOut,
    BudgetLine,
    BudgetTotals,
    CheckOut,
    DocumentOut,
    LinkedEventOut,
    MessageOut,
    NewApplicationIn,
    ReportOut,
)

APPLICANT_KINDS = ("asbl", "federation")
# what the association may still change, and when the department may act
EDITABLE = ("draft", "awaiting_applicant")
REQUIRED_DOCUMENTS = ("statutes", "accounts")


# ---------------------------------------------------------------------------- who may do what


class Access(NamedTuple):
    """An application row and what the person may do with it."""

    row: asyncpg.Record
    member: bool
    reviewer: bool


async def is_reviewer(conn: asyncpg.Connection, organiser: Organiser) -> bool:
    """Whether the account reviews subsidy requests (the department's staff)."""
    return bool(await conn.fetchval(q.IS_REVIEWER, organiser.id)) if organiser.id else False


def _not_found() -> NoReturn:
    raise NotFound("No subsidy request with this id among those you may see.")


async def access(conn: asyncpg.Connection, organiser: Organiser, application_id: int, *, lock: bool = False) -> Access:
    """The application if the person sees it (their organisation's, or submitted for a reviewer); 404 otherwise."""
    row = await conn.fetchrow(q.APPLICATION_FOR_UPDATE if lock else q.APPLICATION, application_id)
    if row is None:
        _not_found()
    member = organiser.can_read(row["organisation_id"])
    reviewer = await is_reviewer(conn, organiser)
    if not member and not (reviewer and row["status"] != "draft"):
        _not_found()
    return Access(row, member, reviewer)


async def as_applicant(conn: asyncpg.Connection, organiser: Organiser, application_id: int) -> asyncpg.Record:
    """The application, locked, if the person may act for its association; 404 unseen, 403 otherwise."""
    seen = await access(conn, organiser, application_id, lock=True)
    if not organiser.can_write(seen.row["organisation_id"]):
        raise Forbidden("Only the association's admins and organisers change its subsidy requests.")
    return seen.row


async def as_reviewer(conn: asyncpg.Connection, organiser: Organiser, application_id: int) -> asyncpg.Record:
    """The application, locked, if the person reviews requests; 404 unseen, 403 otherwise."""
    seen = await access(conn, organiser, application_id, lock=True)
    if not seen.reviewer:
        raise Forbidden("Only the department's reviewers judge subsidy requests.")
    return seen.row


async def require_reviewer(conn: asyncpg.Connection, organiser: Organiser) -> None:
    """403 unless the person reviews subsidy requests."""
    if not await is_reviewer(conn, organiser):
        raise Forbidden("Only the department's reviewers do this.")


def editable(row: asyncpg.Record) -> None:
    if row["status"] not in EDITABLE:
        raise Invalid.field("status", f"A request {row['status']} can no longer be changed.")


# ---------------------------------------------------------------------------- reading


def totals(lines: list[BudgetLine]) -> BudgetTotals:
    """Expenses against resources (other income, own contribution, the amount requested)."""
    expenses = sum(line.amount_cents for line in lines if line.kind == "expense")
    resources = sum(line.amount_cents for line in lines if line.kind != "expense")
    requested = sum(line.amount_cents for line in lines if line.kind == "requested")
    return BudgetTotals(
        expenses_cents=expenses,
        resources_cents=resources,
        requested_cents=requested,
        balanced=expenses > 0 and expenses == resources,
    )


async def budget(conn: asyncpg.Connection, application_id: int, phase: str = "provisional") -> list[BudgetLine]:
    """The lines of one phase of the budget."""
    return [msgspec.convert(dict(row), BudgetLine) for row in await conn.fetch(q.BUDGET, application_id, phase)]


def checklist(row: Any, lines: list[BudgetLine], kinds: set[str], priority: bool | None) -> list[CheckOut]:
    """What a reviewer checks for eligibility, computed from the file."""
    deadline = deadline_for(row["starts_on"]) if row["starts_on"] else None
    filed = today_in_luxembourg(row["submitted_at"]) if row["submitted_at"] else None
    missing = [kind for kind in REQUIRED_DOCUMENTS if kind not in kinds]
    sums = totals(lines)
    return [
        CheckOut("applicant_kind", row["organisation_kind"] in APPLICANT_KINDS, row["organisation_kind"]),
        CheckOut("deadline", bool(deadline and filed and filed <= deadline), deadline.isoformat() if deadline else ""),
        CheckOut("documents", not missing, ", ".join(missing)),
        CheckOut("budget_balanced", sums.balanced, f"{sums.expenses_cents} / {sums.resources_cents}"),
        CheckOut("theme", row["theme_id"] is not None, "priority" if priority else ""),
    ]


def document_url(settings: Settings, application_id: int, document_id: int) -> str:
    """Where an authorised person downloads a document (through the API)."""
    return f"{settings.base}/api/organiser/subsidies/{application_id}/documents/{document_id}"


async def to_out(conn: asyncpg.Connection, organiser: Organiser, seen: Access, settings: Settings) -> ApplicationOut:
    """An application with its budget, documents, thread, checklist and report."""
    row = seen.row
    lines = await budget(conn, row["id"])
    documents = [
        DocumentOut(**dict(d), url=document_url(settings, row["id"], d["id"]))
        for d in await conn.fetch(q.DOCUMENTS, row["id"])
    ]
    events = [msgspec.convert(dict(e), LinkedEventOut) for e in await conn.fetch(q.LINKED_EVENTS, row["id"])]
    priority = None
    if row["theme_id"] is not None:
        priority = await conn.fetchval(q.THEME_PRIORITY, row["theme_id"])
    report = None
    if (filed := await conn.fetchrow(q.REPORT, row["id"])) is not None:
        actual = await budget(conn, row["id"], "actual")
        report = ReportOut(
            what_happened=filed["what_happened"],
            deliverables=filed["deliverables"],
            attendance=filed["attendance"],
            attendance_from_events=sum(e.attendance for e in events) if events else None,
            actual_budget=actual,
            actual_totals=totals(actual),
            filed_at=filed["filed_at"],
        )
    return ApplicationOut(
        id=row["id"],
        organisation=row["organisation"],
        organisation_name=row["organisation_name"],
        status=row["status"],
        language=row["language"],
        contact_email=row["contact_email"],
        title=row["title"],
        summary=row["summary"],
        description=row["description"],
        aims=row["aims"],
        target_public=row["target_public"],
        theme=row["theme"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        deadline=deadline_for(row["starts_on"]) if row["starts_on"] else None,
        events=events,
        planned_events=row["planned_events"],
        deliverables=row["deliverables"],
        budget=lines,
        totals=totals(lines),
        documents=documents,
        messages=[msgspec.convert(dict(m), MessageOut) for m in await conn.fetch(q.MESSAGES, row["id"])],
        checklist=checklist(row, lines, {d.kind for d in documents}, priority),
        submitted_at=row["submitted_at"],
        amount_granted_cents=row["amount_granted_cents"],
        decision_reason=row["decision_reason"],
        decided_at=row["decided_at"],
        report=report,
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        may_edit=organiser.can_write(row["organisation_id"]) and row["status"] in EDITABLE,
        may_review=seen.reviewer and row["status"] != "draft",
    )


async def get_application(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    settings: Settings,
) -> ApplicationOut:
    """One application the person may see."""
    return await to_out(conn, organiser, await access(conn, organiser, application_id), settings)


async def list_applications(
    conn: asyncpg.Connection,
    organiser: Organiser,
    status: str | None,
    settings: Settings,
) -> list[ApplicationOut]:
    """The person's organisations' applications and, for a reviewer, every submitted one; newest first."""
    reviewer = await is_reviewer(conn, organiser)
    rows = await conn.fetch(q.APPLICATIONS_FOR, list(organiser.roles), organiser.is_admin, reviewer, status)
    return [
        await to_out(conn, organiser, Access(row, organiser.can_read(row["organisation_id"]), reviewer), settings)
        for row in rows
    ]


# ---------------------------------------------------------------------------- drafts


async def _theme_id(conn: asyncpg.Connection, data: ApplicationIn) -> int | None:
    """The theme named by the draft, of the year the project starts (or of this year without a start)."""
    if data.theme is None:
        return None
    year = (data.starts_on or today_in_luxembourg()).year
    theme = await conn.fetchrow(q.THEME, year, data.theme)
    if theme is None:
        raise Invalid.field("theme", f"No theme {data.theme!r} for {year}.")
    return theme["id"]


async def _write_draft(conn: asyncpg.Connection, row: asyncpg.Record, data: ApplicationIn) -> None:
    """Store what was typed, as it is; only references (theme, events) must exist."""
    theme_id = await _theme_id(conn, data)
    slugs = list(dict.fromkeys(data.events))
    found = {e["slug"]: e["id"] for e in await conn.fetch(q.OWN_EVENTS, row["organisation_id"], slugs)}
    if unknown := [slug for slug in slugs if slug not in found]:
        raise Invalid.field("events", "No event of this association with the slug " + ", ".join(unknown) + ".")
    await conn.execute(
        q.UPDATE_DRAFT,
        row["id"],
        msgspec.to_builtins(data.title),
        msgspec.to_builtins(data.summary),
        msgspec.to_builtins(data.description),
        data.aims,
        data.target_public,
        theme_id,
        data.starts_on,
        data.ends_on,
        data.planned_events,
        data.deliverables,
        data.language or row["language"],
        (data.contact_email or row["contact_email"]).lower(),
    )
    await write_budget(conn, row["id"], "provisional", data.budget)
    await conn.execute(q.DELETE_EVENT_LINKS, row["id"])
    await conn.execute(q.LINK_EVENTS, row["id"], [found[slug] for slug in slugs])


async def write_budget(conn: asyncpg.Connection, application_id: int, phase: str, lines: list[BudgetLine]) -> None:
    await conn.execute(q.DELETE_BUDGET, application_id, phase)
    if lines:
        await conn.execute(
            q.INSERT_BUDGET,
            application_id,
            phase,
            [line.kind for line in lines],
            [line.amount_cents for line in lines],
            [line.category for line in lines],
            [line.label for line in lines],
        )


async def create_application(
    conn: asyncpg.Connection,
    organiser: Organiser,
    data: NewApplicationIn,
    settings: Settings,
    language: str,
) -> ApplicationOut:
    """A new draft of an asbl or a federation the person acts for; others are told why they cannot apply."""
    org = await conn.fetchrow(q.ORGANISATION, data.organisation) if data.organisation else None
    if org is None and not data.organisation:
        writable = [oid for oid in organiser.roles if organiser.can_write(oid)]
        if len(writable) == 1:
            org = await conn.fetchrow(q.ORGANISATION_BY_ID, writable[0])
    if org is None or not organiser.can_read(org["id"]):
        raise Invalid.field("organisation", "Name one of your organisations by its slug.")
    if not organiser.can_write(org["id"]):
        raise Forbidden("Only the association's admins and organisers file its subsidy requests.")
    if org["kind"] not in APPLICANT_KINDS:
        raise Forbidden(
            "Only non-profit associations (asbl) and federations may ask for a subsidy; an administrator "
            f"records an organisation's kind, and {org['slug']} is recorded as {org['kind']}.",
            code="applicant_kind",
        )
    async with conn.transaction():
        application_id = await conn.fetchval(
            q.INSERT_APPLICATION,
            org["id"],
            organiser.id or None,
            (data.contact_email or organiser.email).lower(),
            data.language or (language if language in LANGUAGES else "fr"),
        )
        row = await conn.fetchrow(q.APPLICATION_FOR_UPDATE, application_id)
        await _write_draft(conn, row, data)
        await record(
            conn, organiser, "subsidy_created", organisation_id=org["id"], detail={"application": application_id}
        )
        seen = Access(await conn.fetchrow(q.APPLICATION, application_id), True, await is_reviewer(conn, organiser))
        return await to_out(conn, organiser, seen, settings)


async def save_draft(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    data: ApplicationIn,
    settings: Settings,
) -> ApplicationOut:
    """Replace the draft's content with what was typed; nothing is checked but the references."""
    async with conn.transaction():
        row = await as_applicant(conn, organiser, application_id)
        editable(row)
        await _write_draft(conn, row, data)
        await record(
            conn,
            organiser,
            "subsidy_saved",
            organisation_id=row["organisation_id"],
            detail={"application": application_id},
        )
    return await get_application(conn, organiser, application_id, settings)


def has_text(value: dict[str, str] | None) -> bool:
    """Whether a text of several languages has any words in one of them."""
    return any((text or "").strip() for text in (value or {}).values())
