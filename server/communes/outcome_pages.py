"""The back-office form that closes a commune's request with its outcome: attendance, discussion, practices."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect

from server.backoffice.controllers import StaffPages, read_form, render_page
from server.backoffice.service import Staff
from server.backoffice.web import staff_language
from server.communes import outcomes, service, texts
from server.communes import queries as q
from server.communes.schemas import CommuneRequestOut, CommuneRequestPatch, OutcomeIn, OutcomeOut
from server.errors import Invalid
from server.i18n import N_, gettext
from server.settings import Settings
from server.validation import Refused, checked

RequestId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
MAX_PRACTICES = 20
BLANK_ROWS = 2  # empty practice rows under those typed; "add a practice" posts back for more
FIELDS = {
    "attendance": N_("People present"),
    "discussed": N_("What was discussed"),
    "follow_up": N_("Follow-up wanted"),
    "follow_up_text": N_("What follow-up"),
    "practices": N_("Good practices noted"),
    "status": N_("Status"),
}
ERRORS = {
    "attendance": N_("Please give the number of people present (a whole number, 0 or more)."),
    "discussed": N_("Please say what was discussed (at most 5000 characters)."),
    "follow_up": N_("Please say whether the commune wants a follow-up."),
    "follow_up_text": N_("Please say what follow-up the commune wants (at most 2000 characters)."),
    "practices": N_(
        "Each practice needs a title (at most 200 characters); tags are words separated by commas, at most 10."
    ),
    "status": N_("Only a request with a session scheduled can be marked done."),
}


def values_of(outcome: OutcomeOut | None, counted: int | None) -> dict[str, Any]:
    """The form's values: the recorded outcome, else the linked sessions' present count."""
    if outcome is None:
        return {
            "attendance": "" if counted is None else str(counted),
            "discussed": "",
            "follow_up": "",
            "follow_up_text": "",
            "practices": [],
        }
    return {
        "attendance": str(outcome.attendance),
        "discussed": outcome.discussed,
        "follow_up": "yes" if outcome.follow_up else "no",
        "follow_up_text": outcome.follow_up_text,
        "practices": [
            {"title": p.title, "description": p.description, "tags": ", ".join(p.tags)} for p in outcome.practices
        ],
    }


def read_values(form: dict[str, str]) -> dict[str, Any]:
    """What was typed, kept as text so that a refused form comes back as it was sent."""
    practices = []
    for n in range(MAX_PRACTICES):
        row = {key: form.get(f"practice_{key}_{n}", "").strip() for key in ("title", "description", "tags")}
        if any(row.values()):
            practices.append(row)
    return {
        "attendance": form.get("attendance", "").strip(),
        "discussed": form.get("discussed", "").replace("\r\n", "\n").strip(),
        "follow_up": form.get("follow_up", ""),
        "follow_up_text": form.get("follow_up_text", "").replace("\r\n", "\n").strip(),
        "practices": practices,
    }


def to_outcome(values: dict[str, Any], counted: int | None) -> tuple[OutcomeIn | None, set[str]]:
    """(the outcome, None if refused; the names of the refused fields)."""
    problems: set[str] = set()
    attendance: int | None = None
    if values["attendance"].isascii() and values["attendance"].isdigit() and int(values["attendance"]) <= 100_000:
        attendance = int(values["attendance"])
        if attendance == counted:
            attendance = None  # the sessions' own count: kept as counted
    else:
        problems.add("attendance")
    if values["follow_up"] not in ("yes", "no"):
        problems.add("follow_up")
    # the emptiness checks first, so that every empty field is named at once
    if not values["discussed"]:
        problems.add("discussed")
    if values["follow_up"] == "yes" and not values["follow_up_text"]:
        problems.add("follow_up_text")
    if any(not row["title"] for row in values["practices"]):
        problems.add("practices")
    body = {
        "discussed": values["discussed"],
        "follow_up": values["follow_up"] == "yes",
        "follow_up_text": values["follow_up_text"] if values["follow_up"] == "yes" else "",
        "attendance": attendance,
        "practices": [
            {
                "title": row["title"],
                "description": row["description"].replace("\r\n", "\n"),
                "tags": [tag.strip() for tag in row["tags"].split(",") if tag.strip()],
            }
            for row in values["practices"]
        ],
    }
    try:
        outcome = checked(msgspec.convert(body, OutcomeIn), OutcomeIn)
    except (msgspec.ValidationError, Refused) as exc:
        # both name the refused field as "at `$.field…`"
        where = str(exc).rsplit("at `$.", 1)[-1]
        problems.add(next((name for name in ("follow_up_text", "practices") if where.startswith(name)), "discussed"))
        return None, problems
    return (None if problems else outcome), problems


class OutcomePages(StaffPages):
    """Closing a commune's request with its outcome, behind the staff session."""

    path = "/organiser/requests/{request_id:int}/outcome"

    @get("")
    async def show(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The outcome form, pre-filled from the linked sessions' attendance (read-only for viewers)."""
        found = await service.get_request(conn, staff.organiser, request_id, settings)
        counted = await self._counted(conn, request_id)
        return await self._page(request, staff, settings, conn, found, values_of(found.outcome, counted), counted)

    @post("")
    async def save(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Mark the request done with its outcome (or correct it); "add a practice" only shows more rows."""
        form = await read_form(request, settings)
        found = await service.get_request(conn, staff.organiser, request_id, settings)
        counted = await self._counted(conn, request_id)
        values = read_values(form)
        if form.get("action") == "more":
            extra = min(len(values["practices"]) + BLANK_ROWS + 3, MAX_PRACTICES) - len(values["practices"])
            return await self._page(request, staff, settings, conn, found, values, counted, blank=extra)
        outcome, problems = to_outcome(values, counted)
        lang = staff_language(request, staff)
        if outcome is not None:
            try:
                await service.update_request(
                    conn, staff.organiser, request_id, CommuneRequestPatch(status="done", outcome=outcome), settings
                )
            except Invalid as exc:
                for error in exc.errors or []:
                    name = error.field.removeprefix("outcome.")
                    problems.add(name if name in ERRORS else "status")
            else:
                return Redirect(path=f"/organiser/requests/{request_id}/outcome?done=saved", status_code=303)
        errors = {name: gettext(lang, ERRORS[name]) for name in FIELDS if name in problems}
        return await self._page(request, staff, settings, conn, found, values, counted, errors=errors, status_code=422)

    async def _counted(self, conn: asyncpg.Connection, request_id: int) -> int | None:
        held = await outcomes.held(conn, request_id)
        return held["present"] if held["events"] else None

    async def _page(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        found: CommuneRequestOut,
        values: dict[str, Any],
        counted: int | None,
        *,
        blank: int = BLANK_ROWS,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        lang = staff_language(request, staff)
        organisation_id = await conn.fetchval(q.ORGANISATION_ID, found.organisation)
        rows = values["practices"] + [{"title": "", "description": "", "tags": ""} for _ in range(blank)]
        context = {
            "found": found,
            "subject": texts.subject_label(found.subject, lang),
            "values": values,
            "rows": rows[:MAX_PRACTICES],
            "counted": counted,
            "errors": errors or {},
            "fields": {name: gettext(lang, label) for name, label in FIELDS.items()},
            "may_write": staff.organiser.can_write(organisation_id),
            "closable": found.status in ("scheduled", "done"),
            "saved": request.query_params.get("done") == "saved",
        }
        return render_page(
            request, settings, "bo_request_outcome.html", context, lang=lang, staff=staff, status_code=status_code
        )
