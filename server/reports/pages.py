"""The back-office's report page: the organisation and period asked for, the report that prints as the document."""

from __future__ import annotations

import re
from datetime import date
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import asyncpg
from babel.dates import format_date
from babel.numbers import format_decimal
from jinja2 import ChoiceLoader, Environment, FileSystemLoader
from litestar import MediaType, Request, Response, get, post
from litestar.response import Redirect

from server.backoffice import service as backoffice
from server.backoffice.controllers import StaffPages
from server.backoffice.service import Staff
from server.backoffice.web import BACKOFFICE_HEADERS, staff_language
from server.backoffice.web import environment as backoffice_environment
from server.errors import DomainError, Invalid, NotFound
from server.events.labels import kind_label
from server.i18n import BABEL_LOCALE, N_, gettext
from server.interpretation.schemas import language_name
from server.pages import csrf
from server.pages.render import SECURITY_HEADERS
from server.reports import charts, domains, service
from server.reports.schemas import DomainIn, DomainPatch
from server.reports.tables import (
    FIGURES,
    Percent,
    domain_name,
    figure_rows,
    insight_tables,
    shown,
)
from server.reports.xlsx import XLSX, workbook
from server.settings import Settings
from server.validation import local_today

REPORT_TEMPLATES = Path(__file__).resolve().parent / "templates"
FIELDS = ("organisation", "year", "quarter", "from", "to")
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")

# what the form says for each refusal of the service (service.period_of), by its English text
PERIOD_ERRORS = {
    "year": N_("Please give either a year (and quarter) or a first and last day, not both."),
    "quarter": N_("A quarter needs its year."),
}
ERROR_TEXTS = {
    service.NEED_FROM: N_("Please give the first day of the period, or a year."),
    service.NEED_TO: N_("Please give the last day of the period, or a year."),
    service.TO_BEFORE_FROM: N_("The last day comes before the first."),
    service.TOO_LONG: N_("A report covers at most five years."),
    service.OUT_OF_RANGE: N_("Please give a day between 1971 and 2199."),
    service.BOTH_KINDS: PERIOD_ERRORS["year"],
    service.QUARTER_WITHOUT_YEAR: PERIOD_ERRORS["quarter"],
}


@cache
def environment(lang: str) -> Environment:
    """The back-office's templates and the report's, in `lang`."""
    base = backoffice_environment(lang)
    env = base.overlay(loader=ChoiceLoader([FileSystemLoader(REPORT_TEMPLATES), base.loader]))
    env.filters["percent"] = lambda value: "–" if value is None else f"{round(value * 100)} %"
    env.filters["day"] = lambda value: format_date(value, "long", locale=BABEL_LOCALE[lang])
    env.filters["decimal"] = lambda value: format_decimal(value, "#,##0.0#", locale=BABEL_LOCALE[lang])
    env.filters["month"] = lambda value: format_date(value, "MMM yyyy", locale=BABEL_LOCALE[lang])
    env.globals.update(Percent=Percent)
    return env


def _render(
    request: Request, settings: Settings, staff: Staff, lang: str, context: dict[str, Any], status_code: int = 200
) -> Response[str]:
    token, jar = csrf.issue(request, settings)
    html = (
        environment(lang)
        .get_template("report.html")
        .render(**context, staff=staff, csrf_token=token, switcher=[], page_path=request.url.path)
    )
    return Response(
        html,
        media_type=MediaType.HTML,
        status_code=status_code,
        cookies=jar,
        headers={**BACKOFFICE_HEADERS, "Cache-Control": "no-store", "Vary": "Cookie"},
    )


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None


def _period(values: dict[str, str], lang: str, errors: dict[str, str]) -> service.Period | None:
    """The period the form asks for; errors next to the fields otherwise."""
    parsed: dict[str, Any] = {}
    for name in ("from", "to"):
        try:
            parsed[name] = _day(values[name]) if values[name] else None
            if values[name] and parsed[name] is None:
                raise ValueError
        except ValueError:
            errors[name] = gettext(lang, N_("Please give a date such as 2026-01-31."))
    year, quarter = values["year"], values["quarter"]
    if year and not (year.isdigit() and 1971 <= int(year) <= 2199):
        errors["year"] = gettext(lang, N_("Please give a year such as 2026."))
    if quarter and quarter not in ("1", "2", "3", "4"):
        errors["quarter"] = gettext(lang, N_("Please choose a quarter."))
    if errors:
        return None
    try:
        return service.period_of(
            parsed["from"], parsed["to"], int(year) if year else None, int(quarter) if quarter else None
        )
    except Invalid as exc:
        problem = (exc.errors or [])[0]
        errors[problem.field] = gettext(lang, ERROR_TEXTS.get(problem.message, N_("Please check this field.")))
        return None


def report_context(report: service.Report, lang: str) -> dict[str, Any]:
    """What the template shows of a report: sections by domain, the charts and their tables."""
    sections = [(domain_name(d, lang), d, figure_rows(d, d.previous_year, lang)) for d in report.domains]
    sections.append(
        (
            domain_name(report.totals, lang, totals=True),
            report.totals,
            figure_rows(report.totals, report.totals.previous_year, lang),
        )
    )
    found = report.insights
    lead, by_kind, by_language, reach, demand = insight_tables(report, lang)
    reach.rows = reach.rows[:15]
    months = sorted({item.month for item in found.interpretation_by_month})
    languages = sorted({language_name(item.language, lang) for item in found.interpretation_by_month})
    cells = {
        (
            language_name(item.language, lang),
            format_date(item.month, "MMM yy", locale=BABEL_LOCALE[lang]),
        ): item.missions
        for item in found.interpretation_by_month
    }
    drawn = {
        "lead_time": charts.columns([(item.days, item.registrations) for item in found.lead_time]),
        "attendance_by_kind": charts.horizontal(
            [(kind_label(item.kind, lang), item.rate) for item in found.attendance_by_kind], percent=True
        ),
        "attendance_by_language": charts.horizontal(
            [
                (language_name(item.language, lang), item.rate if item.rate is not None else item.marked)
                for item in found.attendance_by_language
            ],
            percent=True,
        ),
        "reach_by_commune": charts.horizontal(
            [(item.commune, item.people) for item in report.totals.communes.list[:15]]
        ),
        "interpretation_by_month": charts.grid(
            cells, languages, [format_date(month, "MMM yy", locale=BABEL_LOCALE[lang]) for month in months]
        ),
    }
    return {
        "report": report,
        "sections": sections,
        "figure_count": len(FIGURES),
        "charts": [(table, drawn[table.key]) for table in (lead, by_kind, by_language, reach, demand)],
        "shown": shown,
        "language_name": lambda code: language_name(code, lang),
        "status_names": _status_names(lang),
    }


def _status_names(lang: str) -> dict[str, str]:
    from server.reports.tables import STATUS_NAMES

    return {status: gettext(lang, label) for status, label in STATUS_NAMES.items()}


class ReportPages(StaffPages):
    """The report page and the small form of the convention domains, for signed-in staff."""

    path = "/organiser/reports"

    @get("/")
    async def report(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """The form, and once it is filled in, the report; errors next to their field."""
        lang = staff_language(request, staff)
        asked = {name: str(request.query_params.get(name, ""))[:20].strip() for name in FIELDS}
        return await self._page(request, staff, settings, conn, lang, asked, {})

    @get("/export.xlsx", media_type=XLSX)
    async def export(self, request: Request, staff: Staff, conn: asyncpg.Connection) -> Response:
        """The report of the form's organisation and period as a workbook, in the person's language."""
        lang = staff_language(request, staff)
        asked = {name: str(request.query_params.get(name, ""))[:20].strip() for name in FIELDS}
        errors: dict[str, str] = {}
        period = _period(asked, lang, errors)
        if period is None:
            raise Invalid("; ".join(errors.values()))
        report = await service.build_report(conn, staff.organiser, asked["organisation"], period)
        name = f"{report.organisation.slug}-report-{period.first.isoformat()}-{period.last.isoformat()}.xlsx"
        return Response(
            workbook(report, lang),
            media_type=XLSX,
            headers={
                **SECURITY_HEADERS,
                "Cache-Control": "no-store",
                "Content-Disposition": f'attachment; filename="{name}"',
            },
        )

    @post("/domains")
    async def add_domain(
        self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Add a convention domain to an organisation the person administers."""
        form = await request.form()
        csrf.check(request, form, settings)
        lang = staff_language(request, staff)
        slug, name = str(form.get("organisation", ""))[:63], " ".join(str(form.get("domain_name", ""))[:200].split())
        domain_slug = str(form.get("domain_slug", "")).strip().lower()[:63]
        errors: dict[str, str] = {}
        if not name:
            errors["domain_name"] = gettext(lang, N_("Please write the domain's name."))
        if not SLUG.match(domain_slug):
            errors["domain_slug"] = gettext(lang, N_("Please use lower-case letters, digits and hyphens."))
        if not errors:
            try:
                await domains.add_domain(conn, staff.organiser, slug, DomainIn(domain_slug, name))
            except DomainError as exc:
                if exc.status != 409:
                    raise
                errors["domain_slug"] = gettext(lang, N_("The organisation has a domain with this short name already."))
        if errors:
            asked = dict.fromkeys(FIELDS, "") | {"organisation": slug}
            return await self._page(
                request,
                staff,
                settings,
                conn,
                lang,
                asked,
                errors,
                status_code=422,
                domain_values={"domain_slug": domain_slug, "domain_name": name},
            )
        return Redirect(path=f"/organiser/reports?organisation={slug}#domains", status_code=303)

    @post("/domains/{domain:str}")
    async def rename_domain(
        self, domain: str, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Rename a convention domain of an organisation the person administers."""
        form = await request.form()
        csrf.check(request, form, settings)
        lang = staff_language(request, staff)
        slug, name = str(form.get("organisation", ""))[:63], " ".join(str(form.get("name", ""))[:200].split())
        if not name:
            asked = dict.fromkeys(FIELDS, "") | {"organisation": slug}
            return await self._page(
                request,
                staff,
                settings,
                conn,
                lang,
                asked,
                {f"rename-{domain[:63]}": gettext(lang, N_("Please write the domain's name."))},
                status_code=422,
            )
        await domains.change_domain(conn, staff.organiser, slug, domain[:63], DomainPatch(name=name))
        return Redirect(path=f"/organiser/reports?organisation={slug}#domains", status_code=303)

    @staticmethod
    async def _page(
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        lang: str,
        asked: dict[str, str],
        errors: dict[str, str],
        *,
        status_code: int = 200,
        domain_values: dict[str, str] | None = None,
    ) -> Response:
        visible = await backoffice.visible_organisations(conn, staff.organiser)
        if not visible:
            raise NotFound("No organisation.")
        filled = any(asked[name] for name in FIELDS)
        values = {
            **asked,
            "organisation": asked["organisation"] or visible[0]["slug"],
            "year": asked["year"] or ("" if asked["from"] or asked["to"] else str(local_today().year)),
        }
        chosen = next((org for org in visible if org["slug"] == values["organisation"]), None)
        report = None
        if chosen is None:
            # another organisation's, or none at all: the same answer
            errors["organisation"] = gettext(lang, N_("Please choose one of your organisations."))
            status_code = 404
        period = _period(values, lang, errors) if filled or errors else None
        if errors and status_code == 200:
            status_code = 422
        if chosen is not None and period is not None and not errors:
            report = await service.build_report(conn, staff.organiser, chosen["slug"], period)
        listed = await domains.list_domains(conn, staff.organiser, chosen["slug"]) if chosen else []
        context = {
            "organisation_options": [(org["slug"], org["name"]) for org in visible],
            "values": values,
            "errors": errors,
            "quarters": [("", gettext(lang, N_("The whole year")))]
            + [(str(n), gettext(lang, N_("Quarter %(number)s")) % {"number": n}) for n in range(1, 5)],
            "organisation": chosen,
            "domains": listed,
            "domain_values": domain_values or {},
            "can_manage": chosen is not None and staff.organiser.can_manage(chosen["id"]),
            "xlsx_query": urlencode({name: values[name] for name in FIELDS if values[name]}),
            "report": None,
        }
        if report is not None:
            context.update(report_context(report, lang))
        return _render(request, settings, staff, lang, context, status_code)
