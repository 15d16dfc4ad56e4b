"""An event's people in the back-office: the registrations table, the door's check-in page, the attendance sheet.

Thin handlers over roster/service.py. Every write is a plain form with the CSRF token that redirects
back (303) to the page it came from, its filters or search kept; a form error re-renders the page
with the error next to its field and what was typed.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect

from server.backoffice.controllers import NotAllowed, StaffPages, read_form, render_page
from server.backoffice.service import Staff
from server.backoffice.web import staff_language
from server.errors import Conflict, Forbidden, Invalid
from server.i18n import LANGUAGES
from server.interpretation.staff_pages import demand_context
from server.notifications.placeholders import PLACEHOLDERS, unknown_placeholders
from server.notifications.schemas import Body, Subject
from server.pages.translations import LANGUAGE_NAMES, N_, gettext
from server.registrations import exports
from server.registrations.organiser import AlreadyRegistered
from server.registrations.refusals import EventCancelled, EventFull
from server.registrations.schemas import RegistrationByHandIn
from server.roster import service
from server.roster.labels import DONE, translated
from server.settings import Settings

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EventPath = Annotated[str, Parameter(max_length=130)]
RegistrationId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
Search = Annotated[str | None, QueryParameter(name="q", max_length=200, required=False)]
StatusFilter = Annotated[
    Literal["", "pending", "confirmed", "waitlisted", "cancelled", "expired"] | None,
    QueryParameter(name="status", required=False),
]
AttendanceFilter = Annotated[
    Literal["", "present", "absent", "excused", "unmarked"] | None, QueryParameter(name="attendance", required=False)
]
PageNumber = Annotated[int, QueryParameter(name="page", ge=1, le=100_000, required=False)]
RowAction = Literal["cancel", "confirm", "promote", "resend", "attendance"]
DoorAction = Literal["present", "undo"]
DoneCode = Annotated[str | None, QueryParameter(name="done", max_length=40, required=False)]

# the field a msgspec error names ("... - at `$.email`")
_ERROR_FIELD = re.compile(r"at `\$\.(\w+)")

FIELD_PROBLEMS = {
    "name": N_("Please write the person's name (one line, at most 200 characters)."),
    "email": N_("Please write a complete email address, such as name@example.lu, or leave it empty."),
    "language": N_("Please choose a language."),
    "subject": N_("Please write a subject of one line, at most 200 characters."),
    "body": N_("Please write the message, at most 10,000 characters."),
    "audience": N_("Please choose who gets the message."),
}


def _filters(form_or_query: Any) -> dict[str, str]:
    """The table's filters and page from a form's hidden fields or a query, only the allowed values."""
    values = {
        "q": " ".join(str(form_or_query.get("q") or "").split())[:200],
        "status": str(form_or_query.get("status") or ""),
        "attendance": str(form_or_query.get("attendance") or ""),
        "page": str(form_or_query.get("page") or ""),
    }
    if values["status"] not in service.STATUSES:
        values["status"] = ""
    if values["attendance"] not in service.ATTENDANCE_FILTERS:
        values["attendance"] = ""
    if not values["page"].isascii() or not values["page"].isdigit() or len(values["page"]) > 6:
        values["page"] = ""
    return {key: value for key, value in values.items() if value}


def back_to(path: str, filters: dict[str, str], done: str | None = None, anchor: str = "") -> Redirect:
    query = urlencode({**filters, **({"done": done} if done else {})})
    return Redirect(path=path + ("?" + query if query else "") + anchor, status_code=303)


def _download(name: str) -> dict[str, str]:
    return {"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"}


def _field_errors(exc: msgspec.ValidationError, lang: str, fallback: str) -> dict[str, str]:
    match = _ERROR_FIELD.search(str(exc))
    field = match.group(1) if match and match.group(1) in FIELD_PROBLEMS else fallback
    return {field: gettext(lang, FIELD_PROBLEMS[field])}


class RosterPages(StaffPages):
    """The registrations of an event, its door page and its attendance sheet: for the organisation's staff."""

    path = "/organiser/events/{slug:str}"

    # ------------------------------------------------------------------------ the table

    @get("/registrations")
    async def registrations(
        self,
        slug: EventPath,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        q: Search = None,
        status: StatusFilter = None,
        attendance: AttendanceFilter = None,
        page: PageNumber = 1,
        done: DoneCode = None,
    ) -> Response:
        """The table: search by name or email, filters by status and attendance, a page of 50."""
        # the parameters above refuse a bad value (400); _filters reads them, as it reads a form's address
        lang = staff_language(request, staff)
        return await self._table(request, staff, settings, conn, slug, lang, _filters(request.query_params), done=done)

    async def _table(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        slug: str,
        lang: str,
        filters: dict[str, str],
        *,
        done: str | None = None,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        data = await service.table(
            conn,
            staff.organiser,
            slug,
            search=filters.get("q"),
            status=filters.get("status"),
            attendance=filters.get("attendance"),
            page=int(filters.get("page") or 1),
        )
        query = {key: value for key, value in filters.items() if key != "page"}
        context = {
            **data,
            "filters": filters,
            "query": urlencode(query),
            "back": "?" + urlencode({**query, "page": data["page"]}),
            "roster": translated(lang),
            "done": done if done in DONE else "",
            "values": values or {"language": lang, "audience": "confirmed"},
            "errors": errors or {},
            "language_options": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            "placeholders": ", ".join("{" + name + "}" for name in PLACEHOLDERS),
            "interpretation": await demand_context(conn, staff.organiser, slug, lang),
        }
        return render_page(
            request, settings, "bo_registrations.html", context, lang=lang, staff=staff, status_code=status_code
        )

    @get("/registrations.csv")
    async def export_csv(
        self, slug: EventPath, request: Request, staff: Staff, conn: asyncpg.Connection, status: StatusFilter = None
    ) -> Response:
        """The registrations as CSV for Excel (semicolons, as French and German settings expect), in their language."""
        name, body = await exports.export_csv(
            conn, staff.organiser, slug, staff_language(request, staff), status=status or None
        )
        return Response(body, media_type="text/csv; charset=utf-8", headers=_download(name))

    @get("/registrations.xlsx")
    async def export_xlsx(
        self, slug: EventPath, request: Request, staff: Staff, conn: asyncpg.Connection, status: StatusFilter = None
    ) -> Response:
        """The registrations as an Excel workbook, in the person's language."""
        name, body = await exports.export_xlsx(
            conn, staff.organiser, slug, staff_language(request, staff), status=status or None
        )
        return Response(body, media_type=XLSX, headers=_download(name))

    @post("/registrations")
    async def add(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Add a person by hand (phone, walk-in) in their language; the usual mail if they gave an address."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        await self._writable(conn, staff, slug)
        values = {name: form.get(name, "")[:400] for name in ("name", "email", "language", "waitlist")}
        body: dict[str, Any] = {
            "name": " ".join(values["name"].split()),
            "language": values["language"],
            "email": values["email"].strip() or None,
            "waitlist_if_full": bool(values["waitlist"]),
        }
        errors: dict[str, str] = {}
        try:
            person = msgspec.convert(body, RegistrationByHandIn)
        except msgspec.ValidationError as exc:
            errors = _field_errors(exc, lang, "name")
        if not errors:
            try:
                await service.add_by_hand(conn, staff.organiser, slug, person, settings)
            except AlreadyRegistered:
                errors["email"] = gettext(lang, N_("This address is already registered for this event."))
            except EventFull:
                errors["waitlist"] = gettext(
                    lang,
                    N_(
                        "No place is free. Tick the box to put the person on the "
                        "waiting list, or raise the capacity first."
                    ),
                )
            except EventCancelled:
                errors["name"] = gettext(lang, N_("This event is cancelled: nobody can be added."))
            except Invalid:
                errors["name"] = gettext(lang, FIELD_PROBLEMS["name"])
        if errors:
            return await self._table(
                request,
                staff,
                settings,
                conn,
                slug,
                lang,
                _filters(request.query_params),
                values=values,
                errors=errors,
                status_code=422,
            )
        return back_to(f"/organiser/events/{slug}/registrations", _filters(request.query_params), "added")

    @post("/registrations/message")
    async def message(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Write to all, the confirmed, the waiting or the attended people, each in their language."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        await self._writable(conn, staff, slug)
        values = {name: form.get(name, "")[:12_000] for name in ("audience", "subject", "body")}
        errors: dict[str, str] = {}
        if values["audience"] not in service.AUDIENCES:
            errors["audience"] = gettext(lang, FIELD_PROBLEMS["audience"])
        # the messages API's rules, field by field, so that each error stands next to its own field
        for field, rule in (("subject", Subject), ("body", Body)):
            try:
                msgspec.convert(values[field], rule)
            except msgspec.ValidationError:
                errors[field] = gettext(lang, FIELD_PROBLEMS[field])
            if field not in errors and (unknown := unknown_placeholders(values[field])):
                errors[field] = gettext(lang, N_("Unknown placeholder %(name)s. The placeholders are: %(known)s.")) % {
                    "name": "{" + unknown[0] + "}",
                    "known": ", ".join("{" + name + "}" for name in PLACEHOLDERS),
                }
        if errors:
            return await self._table(
                request,
                staff,
                settings,
                conn,
                slug,
                lang,
                _filters(request.query_params),
                values=values,
                errors=errors,
                status_code=422,
            )
        await service.write_to(conn, staff.organiser, slug, values["audience"], values["subject"], values["body"])
        return back_to(f"/organiser/events/{slug}/registrations", _filters(request.query_params), "written")

    # the same path pattern as the POST below: a path of its own would take the POSTs to it (405)
    @get("/registrations/{registration_id:int}/{action:str}")
    async def cancel_form(
        self,
        slug: EventPath,
        registration_id: RegistrationId,
        action: Literal["cancel"],
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """Before cancelling on someone's behalf: who, and whether they will be told."""
        await self._writable(conn, staff, slug)
        data = await service.cancellable(conn, staff.organiser, slug, registration_id)
        filters = _filters(request.query_params)
        return render_page(
            request,
            settings,
            "bo_cancel_registration.html",
            {**data, "back": "?" + urlencode(filters) if filters else ""},
            lang=staff_language(request, staff),
            staff=staff,
        )

    @post("/registrations/{registration_id:int}/{action:str}")
    async def act(
        self,
        slug: EventPath,
        registration_id: RegistrationId,
        action: RowAction,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """Cancel, confirm, give a seat from the waiting list, resend the last mail, or set attendance."""
        form = await read_form(request, settings)
        who = staff.organiser
        try:
            if action == "cancel":
                await service.cancel(conn, who, slug, registration_id, settings)
            elif action == "confirm":
                await service.confirm(conn, who, slug, registration_id, settings)
            elif action == "promote":
                await service.promote(conn, who, slug, registration_id, settings)
            elif action == "resend":
                await service.resend_last_mail(conn, who, slug, registration_id, settings)
            else:
                mark = form.get("mark", "")
                if mark not in (*service.ATTENDANCES, ""):
                    raise Invalid.field("attendance", "Choose present, absent or excused.")
                await service.set_attendance(conn, who, slug, registration_id, mark or None)
            done = f"{action}_done"
        except Forbidden:
            raise NotAllowed("Your role does not allow changes.") from None
        except (Conflict, Invalid):
            done = f"{action}_refused"
        return back_to(
            f"/organiser/events/{slug}/registrations", _filters(request.query_params), done, f"#r{registration_id}"
        )

    # ------------------------------------------------------------------------ the sheet

    @get("/sheet")
    async def sheet(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The printable attendance sheet (feuille de présence): names and a column to sign."""
        data = await service.sheet(conn, staff.organiser, slug)
        return render_page(request, settings, "bo_sheet.html", data, lang=staff_language(request, staff), staff=staff)

    @staticmethod
    async def _writable(conn: asyncpg.Connection, staff: Staff, slug: str) -> None:
        await writable(conn, staff, slug)


async def writable(conn: asyncpg.Connection, staff: Staff, slug: str) -> None:
    """404 for an event the person may not see, 403 for one they may only read; before any validation."""
    try:
        await service.event_for(conn, staff.organiser, slug, write=True)
    except Forbidden:
        raise NotAllowed("Your role does not allow changes.") from None
