"""What the subsidy pages show: the list, a request with its forms, a year's themes; and a refused step
shown on the request's page again."""

from __future__ import annotations

from datetime import date
from typing import Any, NamedTuple
from zoneinfo import ZoneInfo

import asyncpg
from litestar import Request, Response
from litestar.response import Redirect

from server.backoffice.controllers import render_page
from server.backoffice.service import Staff
from server.backoffice.web import staff_language
from server.errors import Invalid
from server.i18n import LANGUAGES, gettext, localise
from server.pages import csrf
from server.settings import Settings
from server.subsidies import deadlines, forms, mails, review, service
from server.subsidies import queries as q
from server.subsidies.schemas import ApplicationOut


class Page(NamedTuple):
    """What a subsidy page's handler works with: the request, the signed-in person, settings, a connection."""

    request: Request
    staff: Staff
    settings: Settings
    conn: asyncpg.Connection

    @property
    def lang(self) -> str:
        return staff_language(self.request, self.staff)

    def render(self, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
        return render_page(
            self.request, self.settings, template, context, lang=self.lang, staff=self.staff, status_code=status_code
        )


async def provide_page(request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Page:
    """The `page` dependency."""
    return Page(request, staff, settings, conn)


async def read_form(request: Request, settings: Settings) -> dict[str, str]:
    """The posted form, its CSRF token checked; fields as single strings."""
    form = await request.form()
    csrf.check(request, form, settings)
    return {key: str(value) for key, value in form.items()}


def done(application_id: int, what: str, anchor: str = "") -> Response:
    """After a step: back to the request, which says what was done."""
    return Redirect(path=f"/organiser/subsidies/{application_id}?done={what}{anchor}", status_code=303)


async def refused(
    page: Page,
    application: ApplicationOut,
    exc: Invalid,
    *,
    values: dict[str, Any] | None = None,
    step_values: dict[str, Any] | None = None,
    starts_on: date | None = None,
) -> Response:
    """The request's page again (422): each refusal next to its field, and what was typed."""
    errors = forms.page_errors(exc.errors or [], page.lang, starts_on)
    return await request_page(page, application, values=values, step_values=step_values, errors=errors, status_code=422)


async def index_page(page: Page, *, errors: dict[str, str] | None = None, status_code: int = 200) -> Response:
    """The requests the person sees, and the form to start one."""
    lang, organiser = page.lang, page.staff.organiser
    items = await service.list_applications(page.conn, organiser, None, page.settings)
    organisations = await page.conn.fetch(
        q.ORGANISATIONS_BY_IDS, [oid for oid in organiser.roles if organiser.can_write(oid)]
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
        if not await service.is_reviewer(page.conn, organiser)
        else [deadlines.today_in_luxembourg().year + offset for offset in (1, 0, -1)],
        "this_year": deadlines.today_in_luxembourg().year,
    }
    return page.render("subsidies.html", context, status_code)


def themes_page(
    page: Page, year: int, rows: list[dict[str, Any]], *, errors: dict[str, str] | None = None, status_code: int = 200
) -> Response:
    """A year's themes as rows to edit, and blank rows."""
    lang = page.lang
    blank = {"code": "", "priority": False, **{f"title_{c}": "" for c in LANGUAGES}}
    done = gettext(lang, forms.DONE["themes"]) if page.request.query_params.get("done") == "themes" else ""
    context = {
        "year": year,
        "rows": rows + [dict(blank) for _ in range(forms.BLANK_BUDGET_ROWS)],
        "errors": errors or {},
        "sub": forms.labels(lang),
        "request_done": done,
    }
    return page.render("subsidy_themes.html", context, status_code)


async def request_page(
    page: Page,
    application: ApplicationOut,
    *,
    values: dict[str, Any] | None = None,
    step_values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    """The form while the association may change the request; else the request, its thread and next steps."""
    lang, conn = page.lang, page.conn
    year = (application.starts_on or deadlines.today_in_luxembourg()).year
    themes = await review.themes(conn, year)
    own_events = await conn.fetch(q.EVENTS_TO_LINK, application.organisation)
    form_values = values or forms.values_of(application)
    budget_rows = list(form_values["budget"]) + [
        {"kind": "expense", "category": "", "label": "", "amount": ""} for _ in range(forms.BLANK_BUDGET_ROWS)
    ]
    done = page.request.query_params.get("done")
    try:
        typed_start = date.fromisoformat(form_values["starts_on"]) if form_values["starts_on"] else None
    except ValueError:
        typed_start = None
    deadline_hint, deadline_late = forms.deadline_hint(typed_start, lang)
    organisation_id = (await conn.fetchrow(q.ORGANISATION, application.organisation))["id"]
    context = {
        "applicant": page.staff.organiser.can_write(organisation_id),
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
                # the day where the event is held, not the UTC day the database hands over
                "day": mails.long_date(e["starts_at"].astimezone(ZoneInfo(e["timezone"])).date(), lang),
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
    return page.render("subsidy.html", context, status_code)
