"""Submitting a draft: every rule that keeps it from going to the department, by field."""

from __future__ import annotations

from datetime import date

import asyncpg

from server.audit import record
from server.errors import FieldError, Invalid
from server.organisers.schemas import Organiser
from server.settings import Settings
from server.subsidies import queries as q
from server.subsidies.deadlines import lead_time_error, today_in_luxembourg
from server.subsidies.schemas import ApplicationOut
from server.subsidies.service import (
    APPLICANT_KINDS,
    REQUIRED_DOCUMENTS,
    as_applicant,
    budget,
    get_application,
    has_text,
    totals,
)


async def submission_errors(conn: asyncpg.Connection, row: asyncpg.Record, today: date) -> list[FieldError]:
    """Everything that keeps a draft from being submitted, by field."""
    errors: list[FieldError] = []
    if row["organisation_kind"] not in APPLICANT_KINDS:
        errors.append(FieldError("organisation", "Only an asbl or a federation may ask for a subsidy."))
    for name in ("title", "summary", "description"):
        if not has_text(row[name]):
            errors.append(FieldError(name, f"Write the {name.replace('_', ' ')} in at least one language."))
    for name in ("aims", "target_public"):
        if not row[name].strip():
            errors.append(FieldError(name, f"Write the {name.replace('_', ' ')}."))
    if row["theme_id"] is None:
        errors.append(FieldError("theme", "Choose a theme."))
    if row["starts_on"] is None:
        errors.append(FieldError("starts_on", "Give the day the project starts."))
    elif (late := lead_time_error(row["starts_on"], today)) is not None:
        errors.append(late)
    if row["ends_on"] is None:
        errors.append(FieldError("ends_on", "Give the day the project ends."))
    elif row["starts_on"] is not None and row["ends_on"] < row["starts_on"]:
        errors.append(FieldError("ends_on", "The project ends on or after the day it starts."))
    linked = await conn.fetchval(q.LINKED_EVENT_COUNT, row["id"])
    if not linked and not row["planned_events"].strip() and not row["deliverables"].strip():
        errors.append(FieldError("deliverables", "Name the project's events or its deliverables."))
    sums = totals(await budget(conn, row["id"]))
    if sums.requested_cents == 0:
        errors.append(FieldError("budget", "Give the amount requested as a line of the budget."))
    if not sums.balanced:
        errors.append(
            FieldError(
                "budget",
                f"The expenses ({sums.expenses_cents} cents) must equal other income, own "
                f"contribution and the amount requested ({sums.resources_cents} cents).",
            )
        )
    kinds = {d["kind"] for d in await conn.fetch(q.DOCUMENTS, row["id"])}
    if missing := [kind for kind in REQUIRED_DOCUMENTS if kind not in kinds]:
        errors.append(FieldError("documents", "Add the documents: " + ", ".join(missing) + "."))
    return errors


async def submit(
    conn: asyncpg.Connection,
    organiser: Organiser,
    application_id: int,
    settings: Settings,
) -> ApplicationOut:
    """Send the draft to the department: every rule checked, 422 naming each field refused."""
    async with conn.transaction():
        row = await as_applicant(conn, organiser, application_id)
        if row["status"] != "draft":
            raise Invalid.field("status", f"A request {row['status']} is submitted already.")
        if errors := await submission_errors(conn, row, today_in_luxembourg()):
            late = next((e for e in errors if e.field == "starts_on" and "submitted by" in e.message), None)
            raise Invalid(
                late.message if late else "Some fields keep the request from being submitted.",
                errors=errors,
                code="too_late" if late else "incomplete",
            )
        await conn.execute(q.SUBMIT, application_id)
        await record(
            conn,
            organiser,
            "subsidy_submitted",
            organisation_id=row["organisation_id"],
            detail={"application": application_id},
        )
    return await get_application(conn, organiser, application_id, settings)
