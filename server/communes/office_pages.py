"""Back-office pages of the communes: one commune over the years, and the good practices to pass on."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

import asyncpg
from litestar import Request, Response, get
from litestar.params import Parameter, QueryParameter

from server.backoffice.controllers import StaffPages, render_page
from server.backoffice.service import Staff
from server.backoffice.web import staff_language
from server.communes import practices
from server.communes.practices import PracticeFilters
from server.communes.texts import STATUSES, subject_label
from server.i18n import gettext
from server.settings import Settings

CommuneSlug = Annotated[str, Parameter(max_length=100, pattern=r"\A[a-z0-9-]+\Z")]
Year = Annotated[int | None, QueryParameter(ge=2000, le=2100, required=False)]
CommuneFilter = Annotated[str | None, QueryParameter(max_length=100, pattern=r"\A[a-z0-9-]*\Z", required=False)]
TagFilter = Annotated[str | None, QueryParameter(max_length=40, required=False)]


def download(filename: str, media_type: str, content: bytes) -> Response[bytes]:
    """A file browsers save rather than show: never sniffed, never cached."""
    return Response(
        content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename=\"{filename}\"; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
            "Content-Security-Policy": "default-src 'none'; sandbox",
        },
    )


def filters_of(year: int | None, commune: str | None, tag: str | None) -> PracticeFilters:
    """The filters as asked, an empty one meaning none."""
    return PracticeFilters(year=year, commune=commune or None, tag=(tag or "").strip() or None)


class CommuneOfficePages(StaffPages):
    """A commune's history and the practices export, behind the staff session."""

    path = "/organiser"

    @get("/communes/{slug:str}")
    async def commune(
        self, slug: CommuneSlug, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The commune's requests, sessions, yearly attendance and good practices, of the person's organisations."""
        lang = staff_language(request, staff)
        context = await practices.commune_overview(conn, staff.organiser, slug)
        context["subjects"] = {row["subject"]: subject_label(row["subject"], lang) for row in context["requests"]}
        context["statuses"] = {code: gettext(lang, label) for code, label in STATUSES.items()}
        return render_page(request, settings, "bo_commune.html", context, lang=lang, staff=staff)

    @get("/practices")
    async def practices_page(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        year: Year = None,
        commune: CommuneFilter = None,
        tag: TagFilter = None,
    ) -> Response:
        """The good practices, filterable by year, commune and tag; printable as it is."""
        lang = staff_language(request, staff)
        filters = filters_of(year, commune, tag)
        rows = await practices.practices(conn, staff.organiser, filters)
        context = {
            "rows": rows,
            "filters": filters,
            "choices": await practices.filter_choices(conn, staff.organiser),
            "query": request.url.query,
        }
        return render_page(request, settings, "bo_practices.html", context, lang=lang, staff=staff)

    @get("/practices.xlsx")
    async def practices_workbook(
        self,
        request: Request,
        staff: Staff,
        conn: asyncpg.Connection,
        year: Year = None,
        commune: CommuneFilter = None,
        tag: TagFilter = None,
    ) -> Response:
        """The same practices as a spreadsheet, for the ministry and the CCCI network."""
        filters = filters_of(year, commune, tag)
        content = await practices.practices_workbook(conn, staff.organiser, filters, staff_language(request, staff))
        return download(f"good-practices-{year or 'all'}.xlsx", practices.XLSX, content)
