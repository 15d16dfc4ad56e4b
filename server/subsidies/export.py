"""The yearly list of granted subsidies by theme and association, as an XLSX workbook for reviewers."""

from __future__ import annotations

import io
from itertools import groupby

import asyncpg
import xlsxwriter

from server.audit import record
from server.i18n import N_, gettext, localise
from server.organisers.schemas import Organiser
from server.subsidies import queries as q
from server.subsidies.service import require_reviewer

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
COLUMNS = (N_("Theme"), N_("Priority theme"), N_("Association"), N_("Project"), N_("Start"), N_("Amount granted (EUR)"))
WIDTHS = (34, 14, 30, 44, 12, 20)


async def granted_workbook(conn: asyncpg.Connection, organiser: Organiser, year: int, lang: str) -> bytes:
    """Every subsidy granted to a project starting in `year`, grouped by theme, with totals; in `lang`."""
    await require_reviewer(conn, organiser)
    rows = await conn.fetch(q.GRANTED_IN_YEAR, year)
    buffer = io.BytesIO()
    # in memory: a year holds a few hundred rows at most
    book = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = book.add_worksheet(str(year))
    bold = book.add_format({"bold": True})
    money = book.add_format({"num_format": "#,##0.00"})
    total_money = book.add_format({"num_format": "#,##0.00", "bold": True})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    for column, (title, width) in enumerate(zip(COLUMNS, WIDTHS, strict=True)):
        sheet.write(0, column, gettext(lang, title), bold)
        sheet.set_column(column, column, width)
    sheet.freeze_panes(1, 0)
    line, grand_total = 1, 0
    yes, no = gettext(lang, N_("yes")), gettext(lang, N_("no"))
    for _, group in groupby(rows, key=lambda row: row["theme"]):
        group = list(group)
        theme_name = localise(group[0]["theme_title"], lang)[0] if group[0]["theme_title"] else "–"
        subtotal = 0
        for row in group:
            sheet.write_string(line, 0, theme_name)
            sheet.write_string(line, 1, yes if row["priority"] else no)
            sheet.write_string(line, 2, row["association"])
            sheet.write_string(line, 3, localise(row["title"], lang, (row["language"],))[0])
            sheet.write_datetime(line, 4, row["starts_on"], day)
            sheet.write_number(line, 5, row["amount_granted_cents"] / 100, money)
            subtotal += row["amount_granted_cents"]
            line += 1
        sheet.write_string(line, 0, gettext(lang, N_("Total for %(theme)s")) % {"theme": theme_name}, bold)
        sheet.write_number(line, 5, subtotal / 100, total_money)
        grand_total += subtotal
        line += 2
    sheet.write_string(line, 0, gettext(lang, N_("Total granted in %(year)s")) % {"year": year}, bold)
    sheet.write_number(line, 5, grand_total / 100, total_money)
    book.close()
    await record(conn, organiser, "subsidy_export", detail={"year": year, "rows": len(rows)})
    return buffer.getvalue()
