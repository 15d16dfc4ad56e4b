"""The monthly and yearly summary of missions and hours by language pair, field and requester type.

What the agency reports under its convention: held missions (assigned or done) by the month and the
year they start in Luxembourg, how many have their hours recorded, and those hours. As JSON and as
an Excel workbook in the staff member's language.
"""

from __future__ import annotations

import io
from collections import defaultdict
from datetime import date

import asyncpg
import xlsxwriter

from server.errors import FieldError, Invalid, NotFound
from server.i18n import N_, gettext
from server.interpretation import queries as q
from server.interpretation.request_form import FIELD_NAMES, TYPES
from server.interpretation.schemas import Period, Summary, Tally, language_name
from server.organisers.schemas import Organiser
from server.validation import local_today

# a summary covers at most this many days: ten years of months stay a small answer
LONGEST_DAYS = 3700
DIMENSIONS = ("languages", "field", "requester_type")
SHEETS = {
    "totals": N_("Totals"),
    "languages": N_("By language pair"),
    "field": N_("By field"),
    "requester_type": N_("By type of service"),
}
HEADINGS = {
    "period": N_("Period"),
    "missions": N_("Missions"),
    "recorded": N_("Missions with hours recorded"),
    "hours": N_("Hours"),
    "languages": N_("Language pair"),
    "field": N_("Field"),
    "requester_type": N_("Type of service"),
}


async def summarise(
    conn: asyncpg.Connection,
    organiser: Organiser,
    slug: str,
    first: date | None,
    last: date | None,
) -> Summary:
    """The summary of an organisation the staff member belongs to between two days (this year by default)."""
    today = local_today()
    first = first or date(today.year, 1, 1)
    last = last or date(today.year, 12, 31)
    if last < first:
        raise Invalid(
            "to: The last day comes on or after the first.",
            errors=[FieldError("to", "The last day comes on or after the first.")],
        )
    if (last - first).days > LONGEST_DAYS:
        raise Invalid(
            "to: A summary covers at most ten years.", errors=[FieldError("to", "A summary covers at most ten years.")]
        )
    organisation_id = await conn.fetchval(q.ORGANISATION_ID, slug)
    if organisation_id is None or not organiser.can_read(organisation_id):
        raise NotFound(f"No organisation '{slug}' of yours.", errors=[FieldError("organisation", "Not one of yours.")])
    rows = await conn.fetch(q.SUMMARY, organisation_id, first, last)
    return Summary(
        organisation=slug,
        first=first,
        last=last,
        months=_periods(rows, lambda month: month),
        years=_periods(rows, lambda month: month[:4]),
    )


def _periods(rows: list[asyncpg.Record], period_of) -> list[Period]:
    """The rows added up by period, each with its tallies by dimension (most missions first)."""
    totals: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    tallies: dict[tuple[str, str], dict[str, list[int]]] = defaultdict(lambda: defaultdict(lambda: [0, 0, 0]))
    for row in rows:
        period = period_of(row["month"])
        counts = (row["missions"], row["recorded"], row["minutes"])
        for n, value in enumerate(counts):
            totals[period][n] += value
            for dimension in DIMENSIONS:
                tallies[(period, dimension)][row[dimension]][n] += value

    def listed(period: str, dimension: str) -> list[Tally]:
        items = sorted(tallies[(period, dimension)].items(), key=lambda item: (-item[1][0], item[0]))
        return [Tally(key, m, r, round(minutes / 60, 2)) for key, (m, r, minutes) in items]

    return [
        Period(
            period,
            m,
            r,
            round(minutes / 60, 2),
            listed(period, "languages"),
            listed(period, "field"),
            listed(period, "requester_type"),
        )
        for period, (m, r, minutes) in sorted(totals.items())
    ]


def label(dimension: str, key: str, lang: str) -> str:
    """A tally's key as staff read it: languages by their CLDR names, fields and services through the catalogs."""
    if dimension == "languages":
        return " – ".join(language_name(code, lang) for code in key.split("-"))
    names = FIELD_NAMES if dimension == "field" else TYPES
    return gettext(lang, names[key]) if key in names else key


def workbook(summary: Summary, lang: str) -> tuple[str, bytes]:
    """The summary as an Excel workbook: totals, then one sheet per dimension; months, then years."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
    )
    bold = book.add_format({"bold": True, "text_wrap": True, "valign": "top"})
    hours = book.add_format({"num_format": "0.00"})
    periods = summary.months + summary.years
    for sheet_key, sheet_name in SHEETS.items():
        sheet = book.add_worksheet(gettext(lang, sheet_name)[:31])
        columns = ["period"] + ([] if sheet_key == "totals" else [sheet_key]) + ["missions", "recorded", "hours"]
        for column, key in enumerate(columns):
            sheet.write_string(0, column, gettext(lang, HEADINGS[key]), bold)
        line = 1
        for period in periods:
            entries = (
                [(None, period)]
                if sheet_key == "totals"
                else [(label(sheet_key, tally.key, lang), tally) for tally in getattr(period, sheet_key)]
            )
            for name, item in entries:
                sheet.write_string(line, 0, period.period)
                column = 1
                if name is not None:
                    sheet.write_string(line, 1, name)
                    column = 2
                sheet.write_number(line, column, item.missions)
                sheet.write_number(line, column + 1, item.missions_with_hours)
                sheet.write_number(line, column + 2, item.hours, hours)
                line += 1
        sheet.set_column(0, 0, 10)
        sheet.set_column(1, len(columns) - 1, 24)
        sheet.freeze_panes(1, 0)
    book.close()
    return f"interpretation-{summary.organisation}-{summary.first}-{summary.last}.xlsx", buffer.getvalue()
