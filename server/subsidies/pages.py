"""The back-office pages of subsidy requests: the list, the association's form, the reviewer's view."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date
from types import MappingProxyType
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect

from server.backoffice.controllers import StaffPages
from server.backoffice.service import Staff
from server.backoffice.web import render, staff_language
from server.errors import FieldError, Forbidden, Invalid
from server.i18n import LANGUAGES, gettext
from server.pages import csrf
from server.subsidies import documents, export, forms, review, service, submission
from server.subsidies.controllers import UPLOAD_BODY_BYTES, attachment
from server.subsidies.schemas import ApplicationOut, BudgetLine, DecisionIn, NewApplicationIn, ReportIn, ThemesIn
from server.subsidies.views import Page, done, index_page, provide_page, read_form, refused, request_page, themes_page
from server.transport import body_dropped
from server.validation import Refused, checked

ApplicationId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
YearPath = Annotated[int, Parameter(ge=2000, le=2100, description="A year")]
DocumentId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
# a step on a request: given the request as it stands, it does its work or raises Invalid
Step = Callable[[ApplicationOut], Awaitable[Any]]


class SubsidyPages(StaffPages):
    """Subsidy requests in the back-office, behind the staff session."""

    path = "/organiser/subsidies"
    dependencies = MappingProxyType({**StaffPages.dependencies, "page": Provide(provide_page)})

    @get("")
    async def index(self, page: Page) -> Response:
        """The requests the person sees, and a new draft for one of their associations."""
        return await index_page(page)

    @post("")
    async def create(self, page: Page) -> Response:
        """Start a draft for the chosen association."""
        form = await read_form(page.request, page.settings)
        organisation = NewApplicationIn(organisation=form.get("organisation", "")[:63] or "")
        try:
            created = await service.create_application(
                page.conn, page.staff.organiser, organisation, page.settings, page.lang
            )
        except (Forbidden, Invalid) as exc:
            errors = {"organisation": gettext(page.lang, forms.ERRORS["organisation"])}
            return await index_page(page, errors=errors, status_code=exc.status)
        return Redirect(path=f"/organiser/subsidies/{created.id}", status_code=303)

    @get("/themes/{year:int}")
    async def themes(self, year: YearPath, page: Page) -> Response:
        """The year's themes, for reviewers to write and to mark the priorities."""
        await service.require_reviewer(page.conn, page.staff.organiser)
        current = await review.themes(page.conn, year)
        rows = [
            {"code": t.code, "priority": t.priority, **{f"title_{c}": t.title.get(c, "") for c in LANGUAGES}}
            for t in current.themes
        ]
        return themes_page(page, year, rows)

    @post("/themes/{year:int}")
    async def save_themes(self, year: YearPath, page: Page) -> Response:
        """Write the year's themes; a refused row comes back with what was typed."""
        form = await read_form(page.request, page.settings)
        rows = []
        for n in range(forms.MAX_THEME_ROWS):
            row = {
                "code": form.get(f"code_{n}", "").strip().lower(),
                "priority": form.get(f"priority_{n}") == "yes",
                **{f"title_{c}": form.get(f"title_{c}_{n}", "").strip() for c in LANGUAGES},
            }
            if row["code"] or any(row[f"title_{c}"] for c in LANGUAGES):
                rows.append(row)
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
            await review.set_themes(page.conn, page.staff.organiser, year, checked(data, ThemesIn))
        except (msgspec.ValidationError, Refused, Invalid):
            errors = {"themes": gettext(page.lang, forms.THEMES_ERROR)}
            return themes_page(page, year, rows, errors=errors, status_code=422)
        return Redirect(path=f"/organiser/subsidies/themes/{year}?done=themes", status_code=303)

    @get("/deadline")
    async def deadline(
        self, request: Request, staff: Staff, starts_on: Annotated[str, Parameter(max_length=40)] = ""
    ) -> Response:
        """The start date's hint for the day being typed (an htmx fragment, no connection held); 422 for what is
        not a date."""
        lang = staff_language(request, staff)
        try:
            day = date.fromisoformat(starts_on) if starts_on else None
        except ValueError:
            context = {"deadline_hint": gettext(lang, forms.ERRORS["starts_on"]), "deadline_late": True}
            return render(request, "subsidy_deadline.html", context, lang=lang, status_code=422)
        hint, late = forms.deadline_hint(day, lang)
        return render(request, "subsidy_deadline.html", {"deadline_hint": hint, "deadline_late": late}, lang=lang)

    @get("/granted/{year:int}")
    async def granted(self, year: YearPath, page: Page) -> Response:
        """The year's granted subsidies as a spreadsheet, for reviewers."""
        content = await export.granted_workbook(page.conn, page.staff.organiser, year, page.lang)
        return attachment(f"subsidies-{year}.xlsx", export.XLSX, content)

    @get("/{application_id:int}")
    async def show(self, application_id: ApplicationId, page: Page) -> Response:
        """The form while the association may change the request; else the request, its thread and next steps."""
        return await request_page(page, await _application(page, application_id))

    @post("/{application_id:int}")
    async def save(self, application_id: ApplicationId, page: Page) -> Response:
        """Save the draft as typed; with `action=submit`, then submit it. Errors come back next to their fields."""
        form = await page.request.form()
        csrf.check(page.request, form, page.settings)
        application = await _application(page, application_id)
        values, draft, problems = forms.read_form(form)
        submitting = str(form.get("action", "")) == "submit"
        try:
            if draft is None:
                raise Invalid("The form does not read.", errors=[FieldError(n, p) for n, p in problems.items()])
            organiser = page.staff.organiser
            application = await service.save_draft(page.conn, organiser, application_id, draft, page.settings)
            if submitting:
                await submission.submit(page.conn, organiser, application_id, page.settings)
        except Invalid as exc:
            return await refused(page, application, exc, values=values, starts_on=draft.starts_on if draft else None)
        return done(application_id, "submitted" if submitting else "saved")

    @post(
        "/{application_id:int}/documents",
        opt={"max_body_bytes": UPLOAD_BODY_BYTES, "body_field": "file"},
        request_max_body_size=UPLOAD_BODY_BYTES,
    )
    async def upload(self, application_id: ApplicationId, page: Page) -> Response:
        """Attach a document; a refused file (one over the size too, dropped unread) is said next to the file field."""
        request = page.request
        try:
            if body_dropped(request):
                # nothing of the body was kept, its CSRF token neither; the form comes back, nothing changed
                raise Invalid.field("file", documents.TOO_LARGE)
            form = await request.form()
            csrf.check(request, form, page.settings)
            upload = form.get("file")
            if not isinstance(upload, UploadFile) or not upload.filename:
                raise Invalid.field("file", "No file.")
            await documents.add_document(
                page.conn,
                page.staff.organiser,
                application_id,
                str(form.get("kind", "")),
                upload.filename,
                await upload.read(),
                page.settings,
            )
        except Invalid as exc:
            return await refused(page, await _application(page, application_id), exc)
        return done(application_id, "document", "#f-documents")

    @get("/{application_id:int}/documents/{document_id:int}")
    async def download(self, application_id: ApplicationId, document_id: DocumentId, page: Page) -> Response:
        """A document, as an attachment, to those who may see the request."""
        return attachment(*await documents.read_document(page.conn, page.staff.organiser, application_id, document_id))

    @post("/{application_id:int}/documents/{document_id:int}/remove")
    async def remove(self, application_id: ApplicationId, document_id: DocumentId, page: Page) -> Response:
        """Take a document out of the request."""
        await read_form(page.request, page.settings)
        await documents.remove_document(page.conn, page.staff.organiser, application_id, document_id)
        return done(application_id, "removed", "#f-documents")

    @post("/{application_id:int}/message")
    async def message(self, application_id: ApplicationId, page: Page) -> Response:
        """A reviewer's question, or the association's answer."""
        form = await read_form(page.request, page.settings)
        body = form.get("body", "").replace("\r\n", "\n").strip()

        def send(application: ApplicationOut) -> Awaitable[Any]:
            write = review.ask if application.may_review else review.answer
            return write(page.conn, page.staff.organiser, application_id, _message(body), page.settings)

        return await _step(page, application_id, "sent", {"body": body}, send)

    @post("/{application_id:int}/decision")
    async def decision(self, application_id: ApplicationId, page: Page) -> Response:
        """A reviewer's decision."""
        form = await read_form(page.request, page.settings)
        values = {name: form.get(name, "").strip() for name in ("outcome", "amount_granted", "reason")}

        def decide(_: ApplicationOut) -> Awaitable[Any]:
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
            return review.decide(page.conn, page.staff.organiser, application_id, data, page.settings)

        return await _step(page, application_id, "decided", values, decide)

    @post("/{application_id:int}/report")
    async def report(self, application_id: ApplicationId, page: Page) -> Response:
        """The association's report after the project, with its actual budget."""
        form = await read_form(page.request, page.settings)
        values: dict[str, Any] = {
            name: form.get(name, "").replace("\r\n", "\n").strip()
            for name in ("what_happened", "attendance", "deliverables")
        }
        values["actual_rows"], lines, typed_well = forms.read_budget(form, "actual")

        def file(_: ApplicationOut) -> Awaitable[Any]:
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
            return review.file_report(page.conn, page.staff.organiser, application_id, data, page.settings)

        return await _step(page, application_id, "reported", values, file)

    @post("/{application_id:int}/close")
    async def close(self, application_id: ApplicationId, page: Page) -> Response:
        """A reviewer closes the file."""
        await read_form(page.request, page.settings)
        return await _step(
            page,
            application_id,
            "closed",
            {},
            lambda _: review.close(page.conn, page.staff.organiser, application_id, page.settings),
        )


async def _application(page: Page, application_id: int) -> ApplicationOut:
    return await service.get_application(page.conn, page.staff.organiser, application_id, page.settings)


async def _step(page: Page, application_id: int, what: str, values: dict[str, Any], step: Step) -> Response:
    """Run a step; a refusal comes back on the page next to its field, with what was typed."""
    application = await _application(page, application_id)
    try:
        await step(application)
    except Invalid as exc:
        return await refused(page, application, exc, step_values=values)
    return done(application_id, what)


def _message(body: str) -> str:
    if not body or len(body) > 5000 or "\x00" in body:
        raise Invalid.field("body", "Write a message.")
    return body
