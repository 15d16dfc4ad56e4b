"""The registrations exports for organisers: the CSV and the XLSX workbook, read back (issue 22, point 7)."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime

import openpyxl
import pytest

from server.registrations.exports import FORMULA_STARTS, safe_cell
from server.registrations.texts import CSV_HEADERS
from tests.factories import auth, create_event, create_organisation, create_organiser, insert_registration

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ROOM = "https://meet.example.org/export-room"
# names a spreadsheet would run as formulas, the full-width forms and leading blanks included
FORMULA_NAMES = [
    '=HYPERLINK("http://evil.example","x")',
    "+1+1",
    "-2+3",
    "@SUM(A1)",
    "\t=1",
    "\r=1",
    "\uff1dcmd|' /C calc'!A0",
    "\uff0b1",
    "\uff0d1",
    "\uff20A1",
    "  =1+1",
    "\u3000=1",
]


@pytest.fixture
async def staff(conn) -> str:
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


async def _event_with_people(client, conn, settings):
    event = await create_event(conn, settings, join_url=ROOM, timezone="Europe/Luxembourg")
    confirmed_at = datetime(2030, 1, 15, 9, 30, tzinfo=UTC)  # 10:30 in Luxembourg (winter)
    joiner, _ = await insert_registration(
        conn, settings, event.slug, status="confirmed", name="João Gonçalves", language="pt", confirmed_at=confirmed_at
    )
    formula, _ = await insert_registration(
        conn,
        settings,
        event.slug,
        status="confirmed",
        name=FORMULA_NAMES[0],
        commune="+Mersch",
        accessibility="@wheelchair",
    )
    waiting, _ = await insert_registration(conn, settings, event.slug, status="waitlisted", name="Ana Silva")
    nonce = bytes(joiner["token_nonce"])
    from server.registrations.tokens import join_url

    answer = await client.get(
        join_url(settings.base, settings.secret_key, joiner["id"], nonce).removeprefix(settings.base)
    )
    assert answer.status_code == 303
    joined_at = await conn.fetchval(
        "SELECT first_joined_at FROM registration_joins WHERE registration_id = $1", joiner["id"]
    )
    return event, joiner, formula, waiting, joined_at


async def test_xlsx_reads_back_with_the_csv_s_columns_text_as_text_and_real_dates(
    client, conn, settings, staff
) -> None:
    event, joiner, formula, waiting, joined_at = await _event_with_people(client, conn, settings)
    answer = await client.get(
        f"/api/organiser/events/{event.slug}/registrations.xlsx", params={"lang": "fr"}, headers=auth(staff)
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == XLSX
    assert answer.headers["cache-control"] == "no-store"
    assert answer.headers["content-disposition"] == f'attachment; filename="{event.slug}-registrations.xlsx"'
    workbook = openpyxl.load_workbook(io.BytesIO(answer.content))
    sheet = workbook.active
    assert sheet.title == "Inscriptions"
    rows = list(sheet.iter_rows(values_only=True))
    assert list(rows[0]) == list(CSV_HEADERS["fr"]) and rows[0][-1] == "Connexion à la web-conférence le"
    by_id = {row[0]: row for row in rows[1:]}
    assert set(by_id) == {joiner["id"], formula["id"], waiting["id"]}
    # the header row stays in view and every column has a width
    assert sheet.freeze_panes == "A2"
    for letter in "ABCDEFGHIJKLMNO":
        assert sheet.column_dimensions[letter].width and sheet.column_dimensions[letter].width >= 8
    # text that begins like a formula is a string cell, never a formula
    for row_cells in sheet.iter_rows(min_row=2):
        if row_cells[0].value == formula["id"]:
            name, commune, accessibility = row_cells[1], row_cells[7], row_cells[9]
            for cell, value in ((name, FORMULA_NAMES[0]), (commune, "+Mersch"), (accessibility, "@wheelchair")):
                assert cell.data_type == "s" and cell.value == value
    assert by_id[joiner["id"]][1] == "João Gonçalves" and by_id[joiner["id"]][4] == "confirmée"
    assert by_id[waiting["id"]][4] == "liste d'attente" and by_id[waiting["id"]][5] == 1
    # instants are Excel dates in the event's time zone
    confirmed = by_id[joiner["id"]][12]
    assert isinstance(confirmed, datetime) and confirmed == datetime(2030, 1, 15, 10, 30)
    joined = by_id[joiner["id"]][14]
    from zoneinfo import ZoneInfo

    expected = joined_at.astimezone(ZoneInfo("Europe/Luxembourg")).replace(tzinfo=None)
    assert isinstance(joined, datetime) and abs((joined - expected).total_seconds()) < 1
    assert by_id[formula["id"]][14] is None and by_id[joiner["id"]][6] == "présent"  # pre-filled by the join
    formats = {cell.number_format for cell in sheet[2] if isinstance(cell.value, datetime)}
    assert formats == {"yyyy-mm-dd hh:mm"}


async def test_xlsx_in_english_with_a_status_filter_and_refused_to_strangers(client, conn, settings, staff) -> None:
    event, joiner, formula, waiting, _ = await _event_with_people(client, conn, settings)
    url = f"/api/organiser/events/{event.slug}/registrations.xlsx"
    answer = await client.get(url, params={"lang": "en", "status": "waitlisted"}, headers=auth(staff))
    sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("No.", "Name", "Email") and rows[0][-1] == "Joined the web conference on"
    assert [row[0] for row in rows[1:]] == [waiting["id"]] and sheet.title == "Registrations"
    await create_organisation(conn, "clae")
    _, other = await create_organiser(conn, {"clae": "organiser"})
    assert (await client.get(url, headers=auth(other))).status_code == 404
    assert (await client.get(url)).status_code == 401


async def test_csv_has_the_join_column_and_keeps_formula_text_inert(client, conn, settings, staff) -> None:
    event, joiner, formula, waiting, joined_at = await _event_with_people(client, conn, settings)
    for name in FORMULA_NAMES[1:]:
        await insert_registration(conn, settings, event.slug, status="confirmed", name=name)
    answer = await client.get(
        f"/api/organiser/events/{event.slug}/registrations.csv", params={"lang": "de"}, headers=auth(staff)
    )
    assert answer.status_code == 200 and answer.headers["cache-control"] == "no-store"
    rows = list(csv.reader(io.StringIO(answer.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0] == list(CSV_HEADERS["de"]) and rows[0][-1] == "An der Webkonferenz teilgenommen am"
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[str(joiner["id"])][-1].startswith(str(joined_at.year)) and by_id[str(waiting["id"])][-1] == ""
    names = [row[1] for row in rows[1:]]
    for name in FORMULA_NAMES:
        assert "'" + name in names, name  # a leading quote: shown as text, never run
    assert by_id[str(formula["id"])][7] == "'+Mersch" and by_id[str(formula["id"])][9] == "'@wheelchair"


def test_the_formula_rule_covers_every_start_a_spreadsheet_runs() -> None:
    assert set(FORMULA_STARTS) >= {"=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20"}
    for name in FORMULA_NAMES:
        assert safe_cell(name) == "'" + name
    assert [safe_cell(v) for v in ("Ana", "a=b", "", 3)] == ["Ana", "a=b", "", 3]
