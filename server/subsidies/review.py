"""The department's side of subsidy requests: questions and answers, decision, report, closing, themes,
and the administrators' organisation kinds and reviewers."""

from __future__ import annotations

import asyncpg
import msgspec

from server.audit import record
from server.errors import Forbidden, Invalid, NotFound
from server.organisers.schemas import Organiser
from server.outbox import enqueue
from server.settings import Settings
from server.subsidies import queries as q
from server.subsidies.schemas import ApplicationOut, DecisionIn, ReportIn, ThemeOut, ThemesIn, ThemesOut
from server.subsidies.service import (
    as_applicant,
    as_reviewer,
    budget,
    get_application,
    has_text,
    require_reviewer,
    totals,
    write_budget,
)


async def ask(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    body: str,
    settings: Settings,
) -> ApplicationOut:
    """A reviewer's question: into the thread, by mail to the association; the request awaits its answer."""
    async with conn.transaction():
        row = await as_reviewer(conn, organiser, application_id)
        if row["status"] not in ("submitted", "awaiting_applicant"):
            raise Invalid.field("status", f"A request {row['status']} takes no more questions.")
        message_id = await conn.fetchval(
            q.INSERT_MESSAGE, application_id, "reviewer", organiser.id or None, body.strip()
        )
        await conn.execute(q.SET_STATUS, application_id, "awaiting_applicant")
        await enqueue(
            conn,
            "subsidy_question",
            event_id=None,
            recipient=row["contact_email"],
            language=row["language"],
            payload={"application": application_id, "message": message_id},
            dedupe_key=f"subsidy-question:{message_id}",
        )
        await record(
            conn,
            organiser,
            "subsidy_question",
            organisation_id=row["organisation_id"],
            detail={"application": application_id, "message": message_id},
        )
    return await get_application(conn, organiser, application_id, settings)


async def answer(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    body: str,
    settings: Settings,
) -> ApplicationOut:
    """The association's answer: into the thread; the request goes back to the reviewers."""
    async with conn.transaction():
        row = await as_applicant(conn, organiser, application_id)
        if row["status"] != "awaiting_applicant":
            raise Invalid.field("status", "No question is waiting for an answer.")
        message_id = await conn.fetchval(
            q.INSERT_MESSAGE, application_id, "applicant", organiser.id or None, body.strip()
        )
        await conn.execute(q.SET_STATUS, application_id, "submitted")
        await record(
            conn,
            organiser,
            "subsidy_answer",
            organisation_id=row["organisation_id"],
            detail={"application": application_id, "message": message_id},
        )
    return await get_application(conn, organiser, application_id, settings)


async def decide(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    data: DecisionIn,
    settings: Settings,
) -> ApplicationOut:
    """`eligible` with the amount granted (at most the amount requested) or `not_eligible` with a reason."""
    async with conn.transaction():
        row = await as_reviewer(conn, organiser, application_id)
        if row["status"] not in ("submitted", "awaiting_applicant"):
            raise Invalid.field("status", f"A request {row['status']} is decided already.")
        amount, reason = None, (data.reason or "").strip() or None
        if data.outcome == "eligible":
            requested = totals(await budget(conn, application_id)).requested_cents
            if data.amount_granted_cents is None:
                raise Invalid.field("amount_granted_cents", "Give the amount granted.")
            if data.amount_granted_cents > requested:
                raise Invalid.field(
                    "amount_granted_cents", f"The amount granted exceeds the amount requested ({requested} cents)."
                )
            amount = data.amount_granted_cents
        elif reason is None:
            raise Invalid.field("reason", "Say why the project is not eligible.")
        await conn.execute(q.DECIDE, application_id, data.outcome, amount, reason, organiser.id or None)
        await enqueue(
            conn,
            "subsidy_decision",
            event_id=None,
            recipient=row["contact_email"],
            language=row["language"],
            payload={"application": application_id},
            dedupe_key=f"subsidy-decision:{application_id}",
        )
        await record(
            conn,
            organiser,
            "subsidy_decided",
            organisation_id=row["organisation_id"],
            detail={"application": application_id, "outcome": data.outcome, "amount_cents": amount},
        )
    return await get_application(conn, organiser, application_id, settings)


async def file_report(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    data: ReportIn,
    settings: Settings,
) -> ApplicationOut:
    """After a funded project: what happened, attendance (else the linked events'), the actual budget."""
    async with conn.transaction():
        row = await as_applicant(conn, organiser, application_id)
        if row["status"] != "eligible":
            raise Invalid.field("status", "A report follows a project found eligible, before the file is closed.")
        attendance = data.attendance
        if attendance is None:
            counted = await conn.fetch(q.LINKED_EVENTS, application_id)
            attendance = sum(e["attendance"] for e in counted) if counted else None
        await conn.execute(
            q.UPSERT_REPORT,
            application_id,
            data.what_happened.strip(),
            attendance,
            data.deliverables.strip(),
            organiser.id or None,
        )
        await write_budget(conn, application_id, "actual", data.actual_budget)
        await record(
            conn,
            organiser,
            "subsidy_report",
            organisation_id=row["organisation_id"],
            detail={"application": application_id},
        )
    return await get_application(conn, organiser, application_id, settings)


async def close(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    settings: Settings,
) -> ApplicationOut:
    """The department closes the file: a funded project once reported, a refused one at any time."""
    async with conn.transaction():
        row = await as_reviewer(conn, organiser, application_id)
        if row["status"] == "eligible" and await conn.fetchrow(q.REPORT, application_id) is None:
            raise Invalid.field("report", "A funded project is closed once the association has filed its report.")
        if row["status"] not in ("eligible", "not_eligible"):
            raise Invalid.field("status", f"A request {row['status']} cannot be closed.")
        await conn.execute(q.CLOSE, application_id)
        await record(
            conn,
            organiser,
            "subsidy_closed",
            organisation_id=row["organisation_id"],
            detail={"application": application_id},
        )
    return await get_application(conn, organiser, application_id, settings)


# ---------------------------------------------------------------------------- themes, kinds, reviewers


async def themes(conn: asyncpg.Connection, year: int) -> ThemesOut:
    """The themes of a year, the department's priorities first."""
    return ThemesOut(
        year=year,
        themes=[
            ThemeOut(code=t["code"], title=t["title"], priority=t["priority"])
            for t in await conn.fetch(q.THEMES_OF_YEAR, year)
        ],
    )


async def set_themes(conn: asyncpg.Connection, organiser: Organiser, year: int, data: ThemesIn) -> ThemesOut:
    """Reviewers write a year's themes; a theme some request names stays."""
    await require_reviewer(conn, organiser)
    codes = [theme.code for theme in data.themes]
    if len(set(codes)) != len(codes):
        raise Invalid.field("themes", "Each theme's code appears once.")
    for index, theme in enumerate(data.themes):
        if not has_text(msgspec.to_builtins(theme.title)):
            raise Invalid.field(f"themes[{index}].title", "Name the theme in at least one language.")
    async with conn.transaction():
        for theme in data.themes:
            await conn.execute(q.UPSERT_THEME, year, theme.code, msgspec.to_builtins(theme.title), theme.priority)
        await conn.execute(q.DELETE_UNLISTED_THEMES, year, codes)
        await record(conn, organiser, "subsidy_themes_changed", detail={"year": year, "themes": codes})
    return await themes(conn, year)


async def set_organisation_kind(conn: asyncpg.Connection, organiser: Organiser, slug: str, kind: str) -> None:
    """Administrators record whether an organisation is an asbl, a federation or another kind."""
    if not organiser.is_admin:
        raise Forbidden("Only administrators record an organisation's kind.")
    async with conn.transaction():
        organisation_id = await conn.fetchval(q.SET_ORGANISATION_KIND, slug, kind)
        if organisation_id is None:
            raise NotFound("No organisation with this slug.")
        await record(conn, organiser, "organisation_kind_set", organisation_id=organisation_id, detail={"kind": kind})


async def set_reviewer(conn: asyncpg.Connection, organiser: Organiser, organiser_id: int, reviewer: bool) -> None:
    """Administrators make an account one of the department's reviewers, or no longer."""
    if not organiser.is_admin:
        raise Forbidden("Only administrators choose the reviewers.")
    async with conn.transaction():
        if await conn.fetchval(q.SET_REVIEWER, organiser_id, reviewer) is None:
            raise NotFound("No account with this id.")
        await record(conn, organiser, "reviewer_set", detail={"organiser": organiser_id, "reviewer": reviewer})


async def set_reviewer_by_email(conn: asyncpg.Connection, organiser: Organiser, email: str) -> None:
    """Administrators make the account of this email a reviewer; 422 on `email` when there is none."""
    organiser_id = await conn.fetchval(q.ORGANISER_BY_EMAIL, email.strip()[:320])
    if organiser_id is None:
        raise Invalid.field("email", "No account has this email address.")
    await set_reviewer(conn, organiser, organiser_id, True)


async def applicants_and_reviewers(conn: asyncpg.Connection) -> tuple[list[asyncpg.Record], list[asyncpg.Record]]:
    """(every organisation with its kind, the reviewers), for the administrators' page."""
    return await conn.fetch(q.ORGANISATIONS_AND_KINDS), await conn.fetch(q.REVIEWERS)
