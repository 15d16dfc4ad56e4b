"""Good practices over the years: a commune's back-office summary and the export for the ministry and CCCIs."""

from __future__ import annotations

import io
from typing import Any

import asyncpg
import msgspec
import xlsxwriter

from server.audit import record
from server.communes import queries as q
from server.communes.service import commune_slug, communes_by_slug, subject_label
from server.errors import NotFound
from server.i18n import N_, gettext
from server.organisers.schemas import Organiser

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (
    N_("Date of the session"),
    N_("Commune"),
    N_("Good practice"),
    N_("Description"),
    N_("Tags"),
    N_("Request"),
    N_("Organisation"),
)
WIDTHS = (14, 22, 36, 70, 26, 40, 26)


class PracticeFilters(msgspec.Struct, frozen=True):
    """The export's filters, each optional; `commune` is a slug."""

    year: int | None = None
    commune: str | None = None
    tag: str | None = None


def _reader(organiser: Organiser) -> tuple[bool, list[int]]:
    return organiser.is_admin, list(organiser.roles)


async def commune_by_slug(conn: asyncpg.Connection, slug: str) -> str:
    """A commune's official name by its slug; 404 for any other."""
    name = (await communes_by_slug(conn)).get(slug)
    if name is None or commune_slug(name) != slug:
        raise NotFound("No commune of Luxembourg has this slug.")
    return name


async def commune_overview(conn: asyncpg.Connection, organiser: Organiser, slug: str) -> dict[str, Any]:
    """A commune's requests, sessions, yearly figures and practices, as far as the reader's organisations go."""
    name = await commune_by_slug(conn, slug)
    everything, mine = _reader(organiser)
    return {
        "commune": name,
        "slug": slug,
        "requests": await conn.fetch(q.COMMUNE_REQUESTS, name, mine, everything),
        "sessions": await conn.fetch(q.COMMUNE_SESSIONS, name, mine, everything),
        "years": await conn.fetch(q.COMMUNE_YEARS, name, mine, everything),
        "practices": await conn.fetch(q.PRACTICES, everything, mine, None, name, None),
    }


async def practices(conn: asyncpg.Connection, organiser: Organiser, filters: PracticeFilters) -> list[asyncpg.Record]:
    """The good practices the reader's organisations noted, filtered, latest first."""
    commune = await commune_by_slug(conn, filters.commune) if filters.commune else None
    everything, mine = _reader(organiser)
    tag = " ".join(filters.tag.split()).lower() if filters.tag else None
    return await conn.fetch(q.PRACTICES, everything, mine, filters.year, commune, tag or None)


async def filter_choices(conn: asyncpg.Connection, organiser: Organiser) -> dict[str, Any]:
    """The years, tags and communes the filters offer."""
    everything, mine = _reader(organiser)
    return {
        "years": [row["year"] for row in await conn.fetch(q.PRACTICE_YEARS, everything, mine)],
        "tags": [row["tag"] for row in await conn.fetch(q.PRACTICE_TAGS, everything, mine)],
        "communes": sorted((await communes_by_slug(conn)).items(), key=lambda item: item[0]),
    }


async def practices_workbook(
    conn: asyncpg.Connection, organiser: Organiser, filters: PracticeFilters, lang: str
) -> bytes:
    """The filtered practices as an XLSX workbook in `lang`, every text written as text; audited."""
    rows = await practices(conn, organiser, filters)
    buffer = io.BytesIO()
    # in memory: an agency notes a few hundred practices a year
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet(gettext(lang, N_("Good practices"))[:31])
    bold = book.add_format({"bold": True})
    wrap = book.add_format({"text_wrap": True, "valign": "top"})
    day = book.add_format({"num_format": "yyyy-mm-dd", "valign": "top"})
    for column, (title, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True)):
        sheet.write_string(0, column, gettext(lang, title), bold)
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    for line, row in enumerate(rows, start=1):
        sheet.write_datetime(line, 0, row["held_on"], day)
        sheet.write_string(line, 1, row["commune"], wrap)
        sheet.write_string(line, 2, row["title"], wrap)
        sheet.write_string(line, 3, row["description"], wrap)
        sheet.write_string(line, 4, ", ".join(row["tags"]), wrap)
        sheet.write_string(line, 5, f"#{row['request_id']} {subject_label(row['subject'], lang)}", wrap)
        sheet.write_string(line, 6, row["organisation_name"], wrap)
    if rows:
        sheet.autofilter(0, 0, len(rows), len(COLUMNS) - 1)
    book.close()
    await record(conn, organiser, "practices_export", detail={**msgspec.to_builtins(filters), "rows": len(rows)})
    return buffer.getvalue()
