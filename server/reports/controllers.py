"""The reports API: a report as JSON or XLSX, and the organisations' convention domains."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import asyncpg
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import Parameter, QueryParameter

from server.openapi import problem_response
from server.organisers.schemas import Organiser
from server.reports import domains, service
from server.reports.schemas import DomainIn, DomainOut, DomainPatch, Report
from server.reports.xlsx import XLSX, workbook

OrganisationQuery = Annotated[
    str, QueryParameter(name="organisation", min_length=1, max_length=63, description="The organisation's slug")
]
FromQuery = Annotated[
    date | None,
    QueryParameter(name="from", required=False, description="First day of the period (Europe/Luxembourg), included"),
]
ToQuery = Annotated[
    date | None, QueryParameter(name="to", required=False, description="Last day of the period, included")
]
YearQuery = Annotated[
    int | None,
    QueryParameter(
        name="year", ge=1971, le=2199, required=False, description="A calendar year, instead of from and to"
    ),
]
QuarterQuery = Annotated[
    int | None, QueryParameter(name="quarter", ge=1, le=4, required=False, description="A quarter (1-4) of `year`")
]
OrganisationPath = Annotated[str, Parameter(max_length=63, description="The organisation's slug")]
DomainPath = Annotated[str, Parameter(max_length=63, description="The domain's slug")]
NOT_YOURS = problem_response(404, "No such organisation among those you belong to (another's looks the same)")
ADMINS_ONLY = problem_response(403, "Only the organisation's admins edit its convention domains")


class OrganiserReportController(Controller):
    """Activity reports for the conventions, by domain, beside the same period a year earlier."""

    path = "/api/organiser"
    tags = ["organiser"]
    security = [{"bearer": []}]

    @get("/reports", responses={404: NOT_YOURS})
    async def report(
        self,
        conn: asyncpg.Connection,
        organiser: Organiser,
        organisation: OrganisationQuery,
        from_: FromQuery = None,
        to: ToQuery = None,
        year: YearQuery = None,
        quarter: QuarterQuery = None,
    ) -> Report:
        """An organisation's report for `from`-`to` (or a year, or a quarter), per convention domain and in total,
        each figure beside `previous_year`. Only aggregates: in the breakdowns by language and commune (and the
        interpretation missions by language), a cell counting one or two people is the string `"<3"`."""
        period = service.period_of(from_, to, year, quarter)
        return await service.build_report(conn, organiser, organisation, period)

    @get(
        "/reports.xlsx",
        media_type=XLSX,
        responses={404: NOT_YOURS},
        response_description="An Excel workbook, one sheet per table of the report, in the language asked for",
    )
    async def report_xlsx(
        self,
        conn: asyncpg.Connection,
        organiser: Organiser,
        language: str,
        organisation: OrganisationQuery,
        from_: FromQuery = None,
        to: ToQuery = None,
        year: YearQuery = None,
        quarter: QuarterQuery = None,
    ) -> Response[bytes]:
        """The same report as a workbook; every text is a string cell, even one that begins like a formula."""
        period = service.period_of(from_, to, year, quarter)
        report = await service.build_report(conn, organiser, organisation, period)
        name = f"{report.organisation.slug}-report-{period.first.isoformat()}-{period.last.isoformat()}.xlsx"
        return Response(
            workbook(report, language),
            media_type=XLSX,
            headers={"Content-Disposition": f'attachment; filename="{name}"'},
        )

    @get("/organisations/{slug:str}/domains", responses={404: NOT_YOURS})
    async def domains(self, slug: OrganisationPath, conn: asyncpg.Connection, organiser: Organiser) -> list[DomainOut]:
        """The organisation's convention domains; events, commune requests and missions take one as `domain`."""
        return await domains.list_domains(conn, organiser, slug)

    @post(
        "/organisations/{slug:str}/domains",
        status_code=201,
        responses={403: ADMINS_ONLY, 404: NOT_YOURS, 409: problem_response(409, "The slug is taken")},
    )
    async def add_domain(
        self, slug: OrganisationPath, data: DomainIn, conn: asyncpg.Connection, organiser: Organiser
    ) -> DomainOut:
        """Add a convention domain (the organisation's admins)."""
        return await domains.add_domain(conn, organiser, slug, data)

    @patch("/organisations/{slug:str}/domains/{domain:str}", responses={403: ADMINS_ONLY, 404: NOT_YOURS})
    async def change_domain(
        self,
        slug: OrganisationPath,
        domain: DomainPath,
        data: DomainPatch,
        conn: asyncpg.Connection,
        organiser: Organiser,
    ) -> DomainOut:
        """Rename or reorder a convention domain (the organisation's admins)."""
        return await domains.change_domain(conn, organiser, slug, domain, data)

    @delete(
        "/organisations/{slug:str}/domains/{domain:str}",
        status_code=204,
        responses={403: ADMINS_ONLY, 404: NOT_YOURS, 409: problem_response(409, "Something is tagged with the domain")},
    )
    async def remove_domain(
        self, slug: OrganisationPath, domain: DomainPath, conn: asyncpg.Connection, organiser: Organiser
    ) -> None:
        """Remove a convention domain nothing is tagged with (the organisation's admins)."""
        await domains.remove_domain(conn, organiser, slug, domain)
