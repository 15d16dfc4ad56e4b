"""The organiser's exports of an event's registrations: CSV for Excel and an Excel workbook."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
import xlsxwriter

from server import audit
from server.organisers.schemas import Organiser
from server.registrations import queries as q
from server.registrations.organiser import event_for, with_positions
from server.registrations.texts import CSV_HEADERS, CSV_VALUES, SHEET_NAME

# a cell starting with one of these is a formula to Excel or LibreOffice (full-width forms too)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def safe_cell(value: object) -> object:
    """A cell that spreadsheets show as text and never run as a formula (OWASP: prefix a quote)."""
    if isinstance(value, str) and value and (value[0] in FORMULA_STARTS or value.lstrip()[:1] in FORMULA_STARTS):
        return "'" + value
    return value


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else ""


async def _export_rows(
    conn: asyncpg.Connection,
    organiser: Organiser,
    slug: str,
    lang: str,
    status: str | None,
) -> tuple[asyncpg.Record, list[list[Any]]]:
    """The event and its registrations as the exports' rows (EXPORT_COLUMNS), instants still as datetimes."""
    event = await event_for(conn, organiser, slug, write=False)
    rows = await with_positions(
        conn, event["id"], await conn.fetch(q.ORGANISER_REGISTRATIONS_ALL, event["id"], status, None)
    )

    def label(code: str | None) -> str:
        return CSV_VALUES[code][lang] if code else ""

    return event, [
        [
            r["id"],
            r["name"] or "",
            r["email"] or "",
            r["language"],
            label(r["status"]),
            r["waitlist_position"] or "",
            label(r["attendance"]),
            r["commune"] or "",
            r["interpretation"] or "",
            r["accessibility"] or "",
            label(r["source"]),
            r["created_at"],
            r["confirmed_at"],
            r["cancelled_at"],
            r["joined_at"],
        ]
        for r in rows
    ]


async def export_csv(
    conn: asyncpg.Connection,
    organiser: Organiser,
    slug: str,
    lang: str,
    *,
    delimiter: Literal[",", ";"] = ";",
    status: str | None = None,
) -> tuple[str, bytes]:
    """The event's registrations as CSV for Excel (UTF-8 with BOM); returns (file name, bytes)."""
    event, rows = await _export_rows(conn, organiser, slug, lang, status)
    zone = ZoneInfo(event["timezone"])
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(CSV_HEADERS[lang])
    for row in rows:
        writer.writerow(
            [safe_cell(_local(value, zone) if isinstance(value, datetime) or value is None else value) for value in row]
        )
    await _audited(conn, organiser, event, "csv", len(rows))
    return f"{event['slug']}-registrations.csv", ("\ufeff" + buffer.getvalue()).encode("utf-8")


async def export_xlsx(
    conn: asyncpg.Connection,
    organiser: Organiser,
    slug: str,
    lang: str,
    *,
    status: str | None = None,
) -> tuple[str, bytes]:
    """The event's registrations as an Excel workbook (same columns as the CSV); returns (file name, bytes).

    Every text is written as a string cell, so nothing in it is ever a formula; instants are Excel
    dates in the event's time zone. French-locale Excel opens a comma-separated file as one column.
    """
    event, rows = await _export_rows(conn, organiser, slug, lang, status)
    zone = ZoneInfo(event["timezone"])
    buffer = io.BytesIO()
    # strings_to_formulas/urls off: a string stays a string even through write(); in_memory keeps no temp file
    workbook = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    sheet = workbook.add_worksheet(_sheet_name(SHEET_NAME[lang]))
    bold = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    when = workbook.add_format({"num_format": "yyyy-mm-dd hh:mm"})
    headers = CSV_HEADERS[lang]
    widths = [max(len(h), 6) for h in headers]
    for column, header in enumerate(headers):
        sheet.write_string(0, column, header, bold)
    for line, row in enumerate(rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, datetime):
                sheet.write_datetime(line, column, value.astimezone(zone).replace(tzinfo=None), when)
                widths[column] = max(widths[column], 16)
            elif isinstance(value, int):
                sheet.write_number(line, column, value)
            elif value:
                sheet.write_string(line, column, str(value))
                widths[column] = max(widths[column], min(len(str(value)), 60))
    for column, width in enumerate(widths):
        sheet.set_column(column, column, width + 2)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, max(len(rows), 1), len(headers) - 1)
    workbook.close()
    await _audited(conn, organiser, event, "xlsx", len(rows))
    return f"{event['slug']}-registrations.xlsx", buffer.getvalue()


async def _audited(conn: asyncpg.Connection, organiser: Organiser, event: Any, fmt: str, rows: int) -> None:
    """Leave the audit row of an export: who took which event's list, in which format, how many rows."""
    await audit.record(
        conn,
        organiser,
        "export",
        organisation_id=event["organisation_id"],
        event_id=event["id"],
        detail={"format": fmt, "rows": rows},
    )


def _sheet_name(name: str) -> str:
    """A worksheet name Excel accepts: at most 31 characters, none of []:*?/\\."""
    return "".join(" " if c in "[]:*?/\\" else c for c in name)[:31] or "Sheet1"
