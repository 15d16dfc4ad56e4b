"""The back-office pages of communes' requests: the list, one request, and the staff's forms on it.

Thin handlers over server/communes/service.py (the same functions as the API), on the back-office's
session, templates and CSRF; every form is a plain POST that redirects, or comes back with the error
next to its field and everything typed.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import asyncpg
import msgspec
from babel.dates import format_date, format_timedelta
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from litestar import MediaType, Request, Response, get, post
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect

from server.backoffice.controllers import NotAllowed, StaffPages, read_form
from server.backoffice.service import Staff
from server.backoffice.web import BACKOFFICE_HEADERS, staff_language
from server.backoffice.web import environment as backoffice_environment
from server.communes import office_texts, service, texts
from server.communes.schemas import CommuneRequestOut, CommuneRequestPatch, MessageIn, ScheduleIn, Status
from server.errors import Forbidden, Invalid
from server.i18n import BABEL_LOCALE, gettext, n_rule
from server.pages import csrf
from server.pages.forms import language_name
from server.settings import Settings
from server.validation import LOCAL_ZONE, Refused, checked

OFFICE_TEMPLATES = Path(__file__).resolve().parent / "templates"
RequestId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
StatusFilter = Annotated[Status | None, QueryParameter(name="status", required=False)]
MineFilter = Annotated[Literal["mine"] | None, QueryParameter(name="assignee", required=False)]
CLOCK = re.compile(r"\A([01]?\d|2[0-3]):([0-5]\d)\Z")
# the statuses the status form offers: `done` is reached through the outcome form alone
OFFERED = ("in_discussion", "scheduled", "declined")


@cache
def environment(lang: str) -> Environment:
    """The back-office's templates and these pages', in `lang`."""
    base = backoffice_environment(lang)
    env = base.overlay(loader=ChoiceLoader([FileSystemLoader(OFFICE_TEMPLATES), base.loader]))
    env.filters["day"] = lambda value: format_date(value, "medium", locale=BABEL_LOCALE[lang])
    env.filters["language_name"] = lambda code: language_name(code, lang)
    return env


def _render(
    request: Request, settings: Settings, staff: Staff, lang: str, template: str, context: dict[str, Any], status: int
) -> Response[str]:
    token, jar = csrf.issue(request, settings)
    html = (
        environment(lang)
        .get_template(template)
        .render(
            **context,
            staff=staff,
            csrf_token=token,
            switcher=[],
            page_path=request.url.path,
            words=office_texts.translated(lang),
        )
    )
    return Response(
        html,
        media_type=MediaType.HTML,
        status_code=status,
        cookies=jar,
        headers={**BACKOFFICE_HEADERS, "Cache-Control": "no-store", "Vary": "Cookie"},
    )


def _age(created_at: datetime, lang: str) -> str:
    """How long ago, in words ("3 days ago", "il y a 3 jours")."""
    words = format_timedelta(
        created_at - datetime.now(UTC), threshold=1.5, add_direction=True, locale=BABEL_LOCALE[lang]
    )
    # Babel leaves Luxembourg's n-rule to the reader: "viru(n) 3 Deeg"
    head, _, rest = words.partition("viru(n) ")
    return head + n_rule("virun", rest) + " " + rest if rest else words


def _written(form: dict[str, str], name: str) -> str:
    return form.get(name, "").replace("\r\n", "\n").strip()


class CommuneRequestOffice(StaffPages):
    """Communes' requests in the back-office, behind the staff session."""

    path = "/organiser/requests"

    @get("")
    async def index(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        status: StatusFilter = None,
        assignee: MineFilter = None,
    ) -> Response:
        """The requests addressed to the person's organisations, newest first, by status and assignee."""
        lang = staff_language(request, staff)
        items = await service.list_requests(conn, staff.organiser, status, settings)
        if assignee == "mine":
            items = [item for item in items if item.assignee == staff.organiser.id]
        names = await service.staff_names(conn, sorted({i.assignee for i in items if i.assignee is not None}))
        context = {
            "items": [
                {
                    "request": item,
                    "subject": texts.subject_label(item.subject, lang),
                    "assignee": names.get(item.assignee, "") if item.assignee else "",
                    "age": _age(item.created_at, lang),
                }
                for item in items
            ],
            "status": status or "",
            "mine": assignee == "mine",
        }
        return _render(request, settings, staff, lang, "office_requests.html", context, 200)

    @get("/{request_id:int}")
    async def show(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Every field of the request, its thread and events, and the forms of those who may handle it."""
        found = await service.get_request(conn, staff.organiser, request_id, settings)
        return await self._show(request, staff, settings, conn, found)

    @post("/{request_id:int}/status")
    async def change_status(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Move the request along; `declined` with its reason."""
        form = await read_form(request, settings)
        values = {"status": form.get("status", ""), "reason": " ".join(form.get("reason", "").split())}

        async def act() -> Any:
            if values["status"] not in OFFERED:
                raise Invalid.field("status", "Not offered.")
            patch: dict[str, Any] = {"status": values["status"]}
            if values["status"] == "declined" and values["reason"]:
                patch["reason"] = values["reason"]
            data = _decoded(patch, CommuneRequestPatch, "reason")
            return await service.update_request(conn, staff.organiser, request_id, data, settings)

        return await self._act(request, staff, settings, conn, request_id, "status", values, act)

    @post("/{request_id:int}/assignee")
    async def assign(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Give the request to someone of the organisation, or to nobody."""
        form = await read_form(request, settings)
        values = {"assignee": form.get("assignee", "").strip()}

        async def act() -> Any:
            if values["assignee"] and not (values["assignee"].isdigit() and len(values["assignee"]) < 19):
                raise Invalid.field("assignee", "Not a person.")
            data = CommuneRequestPatch(assignee=int(values["assignee"]) if values["assignee"] else None)
            return await service.update_request(conn, staff.organiser, request_id, data, settings)

        return await self._act(request, staff, settings, conn, request_id, "assignee", values, act)

    @post("/{request_id:int}/notes")
    async def add_note(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """An internal note in the thread, for staff only."""
        form = await read_form(request, settings)
        values = {"note": _written(form, "note")}

        async def act() -> Any:
            data = _decoded({"body": values["note"]}, MessageIn, "note")
            return await service.add_note(conn, staff.organiser, request_id, data.body, settings)

        return await self._act(request, staff, settings, conn, request_id, "note", values, act)

    @post("/{request_id:int}/messages")
    async def write(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Write to the requester: sent by mail, kept in the thread."""
        form = await read_form(request, settings)
        values = {"body": _written(form, "body")}

        async def act() -> Any:
            data = _decoded({"body": values["body"]}, MessageIn, "body")
            return await service.write_to_requester(conn, staff.organiser, request_id, data.body, settings)

        return await self._act(request, staff, settings, conn, request_id, "message", values, act)

    @post("/{request_id:int}/schedule")
    async def schedule(
        self, request_id: RequestId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Create the information session's draft from the request and open it in the editor."""
        form = await read_form(request, settings)
        values = {name: form.get(name, "").strip()[:20] for name in ("day", "start", "end")}
        created: list[Any] = []

        async def act() -> Any:
            starts_at, ends_at = _session_times(values)
            created.append(
                await service.schedule(
                    conn, staff.organiser, request_id, ScheduleIn(starts_at=starts_at, ends_at=ends_at), settings
                )
            )

        refused = await self._act(request, staff, settings, conn, request_id, "schedule", values, act)
        if not created:
            return refused
        return Redirect(path=f"/organiser/events/{created[0].slug}/edit", status_code=303)

    async def _act(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        request_id: int,
        done: str,
        values: dict[str, str],
        action: Any,
    ) -> Response:
        """Run a form's action; a refusal comes back on the page next to its field, with what was typed."""
        found = await service.get_request(conn, staff.organiser, request_id, settings)  # 404 before anything
        if not await service.may_handle(conn, staff.organiser, found.organisation):
            raise NotAllowed("Your role does not allow handling this organisation's requests.")
        try:
            await action()
        except Forbidden:
            raise NotAllowed("Your role does not allow handling this organisation's requests.") from None
        except Invalid as exc:
            lang = staff_language(request, staff)
            field = (exc.errors or [None])[0]
            name = _FORM_FIELDS.get(field.field if field else "", next(iter(values), "status"))
            errors = {name: office_texts.error(name, lang)}
            return await self._show(request, staff, settings, conn, found, values=values, errors=errors, status=422)
        return Redirect(path=f"/organiser/requests/{request_id}?done={done}#{done}", status_code=303)

    async def _show(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        found: CommuneRequestOut,
        *,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status: int = 200,
    ) -> Response:
        lang = staff_language(request, staff)
        may_write = await service.may_handle(conn, staff.organiser, found.organisation)
        people = [
            (str(row["id"]), row["name"] or row["email"])
            for row in await service.assignable_staff(conn, found.organisation)
        ]
        names = await service.staff_names(conn, [found.assignee] if found.assignee else [])
        thread = [("from_requester" if m.author == "requester" else "to_requester", m) for m in found.messages]
        thread += [("note", n) for n in found.notes]
        thread.sort(key=lambda item: item[1].created_at)
        done = request.query_params.get("done")
        context = {
            "r": found,
            "subject": texts.subject_label(found.subject, lang),
            "age": _age(found.created_at, lang),
            "assignee": names.get(found.assignee, "") if found.assignee else "",
            "thread": thread,
            "may_write": may_write,
            "status_options": [
                (code, office_texts.translated(lang)["statuses"][code])
                for code in OFFERED
                if code in service.TRANSITIONS[found.status]
            ],
            "may_close": "done" in service.TRANSITIONS[found.status],
            "people": people,
            "values": {"assignee": str(found.assignee or ""), **(values or {})},
            "errors": errors or {},
            "request_done": gettext(lang, office_texts.DONE[done]) if done in office_texts.DONE else "",
        }
        return _render(request, settings, staff, lang, "office_request.html", context, status)


# the form field that shows a refusal of the service, by the field the service names
_FORM_FIELDS = {
    "status": "status",
    "reason": "reason",
    "assignee": "assignee",
    "note": "note",
    "body": "body",
    "day": "day",
    "start": "start",
    "end": "end",
    "starts_at": "day",
    "ends_at": "end",
}


def _decoded(values: dict[str, Any], kind: Any, field: str) -> Any:
    """`values` as the API's struct `kind`, with its checks; a refusal names the form's `field`."""
    try:
        return checked(msgspec.convert(values, kind), kind)
    except (msgspec.ValidationError, Refused):
        raise Invalid.field(field, "Refused.") from None


def _session_times(values: dict[str, str]) -> tuple[datetime, datetime]:
    """The session's start and end in Luxembourg from the form's day and clock times."""
    try:
        day = date.fromisoformat(values["day"]) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", values["day"]) else None
    except ValueError:
        day = None
    if day is None or not 2000 <= day.year < 2200:
        raise Invalid.field("day", "A day.")
    clocks = []
    for name in ("start", "end"):
        found = CLOCK.match(values[name])
        if found is None:
            raise Invalid.field(name, "A time.")
        clocks.append(time(int(found[1]), int(found[2])))
    if clocks[1] <= clocks[0]:
        raise Invalid.field("end", "After the start.")
    return datetime.combine(day, clocks[0], LOCAL_ZONE), datetime.combine(day, clocks[1], LOCAL_ZONE)
