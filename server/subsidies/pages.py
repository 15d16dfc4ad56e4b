"""The back-office pages of subsidy requests: the list, the association's form, the reviewer's view."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect

from server.backoffice.controllers import BACKOFFICE_HANDLERS, render_page
from server.backoffice.service import Staff
from server.backoffice.web import provide_staff, render, staff_language
from server.errors import Forbidden, Invalid
from server.i18n import LANGUAGES, gettext, localise
from server.pages import csrf
from server.settings import Settings
from server.subsidies import documents, export, forms, mails, review, service
from server.subsidies import queries as q
from server.subsidies.controllers import UPLOAD_BODY_BYTES, attachment
from server.subsidies.schemas import ApplicationOut, BudgetLine, DecisionIn, NewApplicationIn, ReportIn, ThemesIn
from server.transport import body_dropped
from server.validation import Refused, checked

ApplicationId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
YearPath = Annotated[int, Parameter(ge=2000, le=2100, description="A year")]
DocumentId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]


class SubsidyPages(Controller):
    """Subsidy requests in the back-office, behind the staff session."""

    path = "/organiser/subsidies"
    include_in_schema = False
    exception_handlers = BACKOFFICE_HANDLERS
    dependencies = {"staff": Provide(provide_staff)}
    opt = {"html": True}

    @get("")
    async def index(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """The requests the person sees, and a new draft for one of their associations."""
        return await self._index(request, staff, settings, conn)

    @post("")
    async def create(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Start a draft for the chosen association."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        try:
            created = await service.create_application(
                conn,
                staff.organiser,
                NewApplicationIn(organisation=form.get("organisation", "")[:63] or ""),
                settings,
                lang,
            )
        except (Forbidden, Invalid) as exc:
            errors = {"organisation": gettext(lang, forms.ERRORS["organisation"])}
            return await self._index(request, staff, settings, conn, errors=errors, status_code=exc.status)
        return Redirect(path=f"/organiser/subsidies/{created.id}", status_code=303)

    @get("/themes/{year:int}")
    async def themes(
        self, year: YearPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The year's themes, for reviewers to write and to mark the priorities."""
        await service.require_reviewer(conn, staff.organiser)
        current = await review.themes(conn, year)
        rows = [
            {"code": t.code, "priority": t.priority, **{f"title_{c}": t.title.get(c, "") for c in LANGUAGES}}
            for t in current.themes
        ]
        return self._themes_page(request, staff, settings, year, rows)

    @post("/themes/{year:int}")
    async def save_themes(
        self, year: YearPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Write the year's themes; a refused row comes back with what was typed."""
        form = await read_form(request, settings)
        rows = []
        for n in range(forms.MAX_THEME_ROWS):
            row = {
                "code": form.get(f"code_{n}", "").strip().lower(),
                "priority": form.get(f"priority_{n}") == "yes",
                **{f"title_{c}": form.get(f"title_{c}_{n}", "").strip() for c in LANGUAGES},
            }
            if row["code"] or any(row[f"title_{c}"] for c in LANGUAGES):
                rows.append(row)
        lang = staff_language(request, staff)
        try:
            data = msgspec.convert(
                {
                    "themes": [
                        {
                            "code": row["code"],
                            "priority": row["priority"],
                            "title": {c: row[f"title_{c}"] for c in LANGUAGES if row[f"title_{c}"]},
                        }
                        for row in rows
                    ]
                },
                ThemesIn,
            )
            await review.set_themes(conn, staff.organiser, year, checked(data, ThemesIn))
        except (msgspec.ValidationError, Refused, Invalid):
            errors = {"themes": gettext(lang, forms.THEMES_ERROR)}
            return self._themes_page(request, staff, settings, year, rows, errors=errors, status_code=422)
        return Redirect(path=f"/organiser/subsidies/themes/{year}?done=themes", status_code=303)

    def _themes_page(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        year: int,
        rows: list[dict[str, Any]],
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        lang = staff_language(request, staff)
        blank = {"code": "", "priority": False, **{f"title_{c}": "" for c in LANGUAGES}}
        done = gettext(lang, forms.DONE["themes"]) if request.query_params.get("done") == "themes" else ""
        context = {
            "year": year,
            "rows": rows + [dict(blank) for _ in range(forms.BLANK_BUDGET_ROWS)],
            "errors": errors or {},
            "sub": forms.labels(lang),
            "request_done": done,
        }
        return render_page(
            request, settings, "subsidy_themes.html", context, lang=lang, staff=staff, status_code=status_code
        )

    @get("/deadline")
    async def deadline(
        self,
        request: Request,
        staff: Staff,
        starts_on: Annotated[str, Parameter(max_length=40)] = "",
    ) -> Response:
        """The start date's hint for the day being typed (an htmx fragment); 422 for what is not a date."""
        lang = staff_language(request, staff)
        try:
            day = date.fromisoformat(starts_on) if starts_on else None
        except ValueError:
            context = {"deadline_hint": gettext(lang, forms.ERRORS["starts_on"]), "deadline_late": True}
            return render(request, "subsidy_deadline.html", context, lang=lang, status_code=422)
        hint, late = forms.deadline_hint(day, lang)
        return render(request, "subsidy_deadline.html", {"deadline_hint": hint, "deadline_late": late}, lang=lang)

    @get("/granted/{year:int}")
    async def granted(self, year: YearPath, request: Request, staff: Staff, conn: asyncpg.Connection) -> Response:
        """The year's granted subsidies as a spreadsheet, for reviewers."""
        content = await export.granted_workbook(conn, staff.organiser, year, staff_language(request, staff))
        return attachment(f"subsidies-{year}.xlsx", export.XLSX, content)

    @get("/{application_id:int}")
    async def show(
        self,
        application_id: ApplicationId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """The form while the association may change the request; else the request, its thread and next steps."""
        application = await service.get_application(conn, staff.organiser, application_id, settings)
        return await self._show(request, staff, settings, conn, application)

    @post("/{application_id:int}")
    async def save(
        self,
        application_id: ApplicationId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """Save the draft as typed; with `action=submit`, then submit it. Errors come back next to their fields."""
        form = await request.form()
        csrf.check(request, form, settings)
        lang = staff_language(request, staff)
        application = await service.get_application(conn, staff.organiser, application_id, settings)
        values, draft, problems = forms.read_form(form)
        starts_on = draft.starts_on if draft else None
        if draft is None:
            return await self._show(
                request,
                staff,
                settings,
                conn,
                application,
                values=values,
                errors=forms.page_errors(problems, lang, None),
                status_code=422,
            )
        try:
            application = await service.save_draft(conn, staff.organiser, application_id, draft, settings)
        except Invalid as exc:
            return await self._show(
                request,
                staff,
                settings,
                conn,
                application,
                values=values,
                errors=forms.page_errors(exc.errors or [], lang, starts_on),
                status_code=422,
            )
        if str(form.get("action", "")) != "submit":
            return Redirect(path=f"/organiser/subsidies/{application_id}?done=saved", status_code=303)
        try:
            await service.submit(conn, staff.organiser, application_id, settings)
        except Invalid as exc:
            return await self._show(
                request,
                staff,
                settings,
                conn,
                application,
                values=values,
                errors=forms.page_errors(exc.errors or [], lang, starts_on),
                status_code=422,
            )
        return Redirect(path=f"/organiser/subsidies/{application_id}?done=submitted", status_code=303)

    @post(
        "/{application_id:int}/documents",
        opt={"max_body_bytes": UPLOAD_BODY_BYTES, "body_field": "file"},
        request_max_body_size=UPLOAD_BODY_BYTES,
    )
    async def upload(
        self,
        application_id: ApplicationId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """Attach a document; a refused file (one over the size too, dropped unread) is said next to the file field."""
        lang = staff_language(request, staff)
        try:
            if body_dropped(request):
                # nothing of the body was kept, its CSRF token neither; the form comes back, nothing changed
                raise Invalid.field("file", documents.TOO_LARGE)
            form = await request.form()
            csrf.check(request, form, settings)
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise Invalid.field("file", "No file.")
            await documents.add_document(
                conn,
                staff.organiser,
                application_id,
                str(form.get("kind", "")),
                upload.filename,
                await upload.read(),
                settings,
            )
        except Invalid as exc:
            application = await service.get_application(conn, staff.organiser, application_id, settings)
            return await self._show(
                request,
                staff,
                settings,
                conn,
                application,
                errors=forms.page_errors(exc.errors or [], lang, None),
                status_code=422,
            )
        return Redirect(path=f"/organiser/subsidies/{application_id}?done=document#f-documents", status_code=303)

    @get("/{application_id:int}/documents/{document_id:int}")
    async def download(
        self, application_id: ApplicationId, document_id: DocumentId, staff: Staff, conn: asyncpg.Connection
    ) -> Response:
        """A document, as an attachment, to those who may see the request."""
        return attachment(*await documents.read_document(conn, staff.organiser, application_id, document_id))

    @post("/{application_id:int}/documents/{document_id:int}/remove")
    async def remove(
        self,
        application_id: ApplicationId,
        document_id: DocumentId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """Take a document out of the request."""
        await read_form(request, settings)
        await documents.remove_document(conn, staff.organiser, application_id, document_id)
        return Redirect(path=f"/organiser/subsidies/{application_id}?done=removed#f-documents", status_code=303)

    @post("/{application_id:int}/message")
    async def message(
        self,
        application_id: ApplicationId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """A reviewer's question, or the association's answer."""
        form = await read_form(request, settings)
        body = form.get("body", "").replace("\r\n", "\n").strip()
        return await self._act(
            request,
            staff,
            settings,
            conn,
            application_id,
            "sent",
            {"body": body},
            lambda a: (review.ask if a.may_review else review.answer)(
                conn, staff.organiser, application_id, _message(body), settings
            ),
        )

    @post("/{application_id:int}/decision")
    async def decision(
        self,
        application_id: ApplicationId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """A reviewer's decision."""
        form = await read_form(request, settings)
        values = {name: form.get(name, "").strip() for name in ("outcome", "amount_granted", "reason")}

        def decide(_: ApplicationOut):
            if values["outcome"] not in ("eligible", "not_eligible"):
                raise Invalid.field("outcome", "Choose.")
            amount = forms.parse_euros(values["amount_granted"]) if values["amount_granted"] else None
            if values["outcome"] == "eligible" and amount is None:
                raise Invalid.field("amount_granted", "An amount.")
            data = DecisionIn(
                outcome=values["outcome"],
                amount_granted_cents=amount,  # type: ignore[arg-type]
                reason=values["reason"][:10000] or None,
            )
            return review.decide(conn, staff.organiser, application_id, data, settings)

        return await self._act(request, staff, settings, conn, application_id, "decided", values, decide)

    @post("/{application_id:int}/report")
    async def report(
        self,
        application_id: ApplicationId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """The association's report after the project."""
        form = await read_form(request, settings)
        values: dict[str, Any] = {
            name: form.get(name, "").replace("\r\n", "\n").strip()
            for name in ("what_happened", "attendance", "deliverables")
        }
        values["actual_rows"], lines, typed_well = forms.read_budget(form, "actual")

        def file(_: ApplicationOut):
            if not values["what_happened"] or len(values["what_happened"]) > 10000:
                raise Invalid.field("what_happened", "Say.")
            if values["attendance"] and not (values["attendance"].isdigit() and len(values["attendance"]) < 7):
                raise Invalid.field("attendance", "A number.")
            try:
                if not typed_well:
                    raise msgspec.ValidationError("An amount or a kind does not read.")
                actual = msgspec.convert(lines, list[BudgetLine])
            except msgspec.ValidationError:
                raise Invalid.field("actual_budget", "Amounts in euros.") from None
            data = ReportIn(
                what_happened=values["what_happened"],
                deliverables=values["deliverables"][:10000],
                attendance=int(values["attendance"]) if values["attendance"] else None,
                actual_budget=actual,
            )
            return review.file_report(conn, staff.organiser, application_id, data, settings)

        return await self._act(request, staff, settings, conn, application_id, "reported", values, file)

    @post("/{application_id:int}/close")
    async def close(
        self,
        application_id: ApplicationId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """A reviewer closes the file."""
        await read_form(request, settings)
        return await self._act(
            request,
            staff,
            settings,
            conn,
            application_id,
            "closed",
            {},
            lambda _: review.close(conn, staff.organiser, application_id, settings),
        )

    async def _act(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        application_id: int,
        done: str,
        values: dict[str, Any],
        action: Any,
    ) -> Response:
        """Run a step; a refusal comes back on the page next to its field, with what was typed."""
        application = await service.get_application(conn, staff.organiser, application_id, settings)
        try:
            await action(application)
        except Invalid as exc:
            lang = staff_language(request, staff)
            return await self._show(
                request,
                staff,
                settings,
                conn,
                application,
                step_values=values,
                errors=forms.page_errors(exc.errors or [], lang, None),
                status_code=422,
            )
        return Redirect(path=f"/organiser/subsidies/{application_id}?done={done}", status_code=303)

    async def _index(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        *,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        lang = staff_language(request, staff)
        items = await service.list_applications(conn, staff.organiser, None, settings)
        organisations = await conn.fetch(
            q.ORGANISATIONS_BY_IDS, [oid for oid in staff.organiser.roles if staff.organiser.can_write(oid)]
        )
        context = {
            "items": [
                {
                    "id": a.id,
                    "title": localise(a.title, lang)[0],
                    "organisation": a.organisation_name,
                    "status": a.status,
                    "starts_on": mails.long_date(a.starts_on, lang) if a.starts_on else "",
                    "deadline": mails.long_date(a.deadline, lang) if a.deadline else "",
                }
                for a in items
            ],
            "applicants": [(o["slug"], o["name"]) for o in organisations if o["kind"] in service.APPLICANT_KINDS],
            "others": [o["name"] for o in organisations if o["kind"] not in service.APPLICANT_KINDS],
            "errors": errors or {},
            "values": {},
            "sub": forms.labels(lang),
            "export_years": []
            if not await service.is_reviewer(conn, staff.organiser)
            else [service.today_in_luxembourg().year + offset for offset in (1, 0, -1)],
            "this_year": service.today_in_luxembourg().year,
        }
        return render_page(
            request, settings, "subsidies.html", context, lang=lang, staff=staff, status_code=status_code
        )

    async def _show(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        application: ApplicationOut,
        *,
        values: dict[str, Any] | None = None,
        step_values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response:
        lang = staff_language(request, staff)
        year = (application.starts_on or service.today_in_luxembourg()).year
        themes = await review.themes(conn, year)
        own_events = await conn.fetch(q.EVENTS_TO_LINK, application.organisation)
        form_values = values or forms.values_of(application)
        budget_rows = list(form_values["budget"]) + [
            {"kind": "expense", "category": "", "label": "", "amount": ""} for _ in range(forms.BLANK_BUDGET_ROWS)
        ]
        done = request.query_params.get("done")
        try:
            typed_start = date.fromisoformat(form_values["starts_on"]) if form_values["starts_on"] else None
        except ValueError:
            typed_start = None
        deadline_hint, deadline_late = forms.deadline_hint(typed_start, lang)
        organisation_id = (await conn.fetchrow(q.ORGANISATION, application.organisation))["id"]
        context = {
            "applicant": staff.organiser.can_write(organisation_id),
            "application": application,
            "title": localise(application.title, lang)[0],
            "values": form_values,
            "step_values": step_values or {},
            "budget_rows": budget_rows,
            "errors": errors or {},
            "sub": forms.labels(lang),
            "themes": [(t.code, localise(t.title, lang)[0] + (" ★" if t.priority else "")) for t in themes.themes],
            "own_events": [
                {
                    "slug": e["slug"],
                    "title": localise(e["title"], lang, e["languages"])[0],
                    "day": mails.long_date(e["starts_at"].date(), lang),
                }
                for e in own_events
            ],
            "deadline": mails.long_date(application.deadline, lang) if application.deadline else "",
            "starts": mails.long_date(application.starts_on, lang) if application.starts_on else "",
            "requested": forms.euros_text(application.totals.requested_cents),
            "money": lambda cents: mails.euros(cents, lang),
            "request_done": gettext(lang, forms.DONE[done]) if done in forms.DONE else "",
            "report": application.report,
            "actual_rows": forms.actual_rows(application, (step_values or {}).get("actual_rows")),
            "deadline_hint": deadline_hint,
            "deadline_late": deadline_late,
        }
        return render_page(request, settings, "subsidy.html", context, lang=lang, staff=staff, status_code=status_code)


def _message(body: str) -> str:
    if not body or len(body) > 5000 or "\x00" in body:
        raise Invalid.field("body", "Write a message.")
    return body


async def read_form(request: Request, settings: Settings) -> dict[str, str]:
    """The posted form, its CSRF token checked; fields as single strings."""
    form = await request.form()
    csrf.check(request, form, settings)
    return {key: str(value) for key, value in form.items()}
