"""A report as an Excel workbook: one sheet per table, every text a string cell."""

from __future__ import annotations

import io
import re
from datetime import date

import xlsxwriter

from server.reports.schemas import Report
from server.reports.tables import Percent, Table, tables

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

# characters Excel refuses in a sheet's name, and its length limit
_SHEET_FORBIDDEN = re.compile(r"[\[\]:*?/\\]")
_SHEET_MAX = 31


def sheet_name(title: str, taken: set[str]) -> str:
    """A valid, unique sheet name for a table's title."""
    base = _SHEET_FORBIDDEN.sub(" ", title).strip("' ")[:_SHEET_MAX] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" {n}"
        name, n = base[: _SHEET_MAX - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def workbook(report: Report, lang: str) -> bytes:
    """The workbook's bytes: the tables of the page, in `lang`."""
    buffer = io.BytesIO()
    # strings_to_formulas/urls/numbers off: a domain or commune that begins like a formula stays text
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    formats = {
        "header": book.add_format({"bold": True, "text_wrap": True, "valign": "top"}),
        "percent": book.add_format({"num_format": "0.0%"}),
        "month": book.add_format({"num_format": "yyyy-mm"}),
    }
    taken: set[str] = set()
    for table in tables(report, lang):
        _write(book.add_worksheet(sheet_name(table.title, taken)), table, formats)
    book.close()
    return buffer.getvalue()


def _write(sheet, table: Table, formats: dict) -> None:
    for column, header in enumerate(table.columns):
        sheet.write_string(0, column, header, formats["header"])
        sheet.set_column(column, column, 14 if column else 28)
    for line, row in enumerate(table.rows, start=1):
        for column, value in enumerate(row):
            if isinstance(value, Percent):
                if value.value is not None:
                    sheet.write_number(line, column, value.value, formats["percent"])
            elif isinstance(value, bool) or value is None:
                continue
            elif isinstance(value, (int, float)):
                sheet.write_number(line, column, value)
            elif isinstance(value, date):
                sheet.write_datetime(line, column, value, formats["month"])
            else:
                sheet.write_string(line, column, str(value))
    sheet.freeze_panes(1, 0)
