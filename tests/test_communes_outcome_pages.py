"""The back-office after a commune's session (issue 23, point 4): the outcome form, a commune over the
years and the good practices' export, in two languages, kept to each person's organisations."""

from __future__ import annotations

import io
import re
from contextlib import asynccontextmanager

import openpyxl
import pytest

from tests.apps import app_on
from tests.factories import auth
from tests.test_backoffice_signin import browser, sign_in, with_password
from tests.test_communes import agency  # noqa: F401  (the fixture)
from tests.test_communes_outcomes import OUTCOME, scheduled_request
from tests.test_pages import csrf_token, text_of


@asynccontextmanager
async def signed_in(conn, settings, person, lang: str):
    await with_password(conn, person.email)
    await conn.execute("UPDATE organisers SET language = $2 WHERE id = $1", person.id, lang)
    async with browser(app_on(settings, conn)) as http:
        assert (await sign_in(http, person.email)).status_code == 303
        yield http


def outcome_form(token: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "attendance": "3",
        "discussed": "Statuts des DPI.\r\nBénévolat.",
        "follow_up": "yes",
        "follow_up_text": "Une seconde soirée.",
        "practice_title_0": "Café des langues",
        "practice_description_0": "Chaque mardi.",
        "practice_tags_0": "Langues, jeunes",
        "practice_title_1": '=HYPERLINK("http://evil.example")',
        "practice_description_1": "+cmd|' /C calc'!A0",
        "practice_tags_1": "",
        "action": "save",
    }
    data.update(changes)
    return data


async def test_the_outcome_form_is_prefilled_keeps_what_was_typed_and_closes_the_request(
    client,
    conn,
    settings,
    agency,  # noqa: F811
) -> None:
    request_id = await scheduled_request(client, conn, agency["staff"][1], present=3)
    path = f"/organiser/requests/{request_id}/outcome"
    async with signed_in(conn, settings, agency["staff"][0], "en") as http:
        page = await http.get(path)
        assert page.status_code == 200
        assert 'name="attendance" type="number"' in page.text and 'value="3"' in page.text
        assert "People marked present at the published sessions: 3." in text_of(page)
        # more practice rows: nothing typed is lost, nothing is saved
        more = await http.post(path, data=outcome_form(csrf_token(page), action="more", discussed="Draft"))
        assert more.status_code == 200 and 'name="practice_title_6"' in more.text
        assert ">Draft</textarea>" in more.text and 'value="Café des langues"' in more.text
        refused = await http.post(path, data=outcome_form(csrf_token(more), discussed=" ", follow_up_text=""))
        assert refused.status_code == 422
        assert 'id="f-discussed-error"' in refused.text and 'id="f-follow_up_text-error"' in refused.text
        assert "Please say what was discussed" in text_of(refused)
        assert 'value="Langues, jeunes"' in refused.text
        assert await conn.fetchval("SELECT status FROM commune_requests WHERE id = $1", request_id) == "scheduled"
        no_token = await http.post(path, data={**outcome_form(""), "csrf_token": "0" * 64})
        assert no_token.status_code == 403
        saved = await http.post(path, data=outcome_form(csrf_token(refused)))
        assert saved.status_code == 303, saved.text
        shown = await http.get(saved.headers["location"])
        assert "The outcome is recorded and the request is done." in text_of(shown)
        assert "Save the outcome" in shown.text
    outcome = await conn.fetchrow("SELECT * FROM commune_request_outcomes WHERE request_id = $1", request_id)
    assert (outcome["attendance"], outcome["attendance_counted"], outcome["discussed"]) == (
        3,
        True,
        "Statuts des DPI.\nBénévolat.",
    )
    tags = await conn.fetch("SELECT tags FROM good_practices WHERE request_id = $1 ORDER BY position", request_id)
    assert [list(t["tags"]) for t in tags] == [["langues", "jeunes"], []]


async def test_the_form_speaks_the_persons_language_and_a_stated_attendance_wins(
    client,
    conn,
    settings,
    agency,  # noqa: F811
) -> None:
    request_id = await scheduled_request(client, conn, agency["staff"][1], present=2)
    path = f"/organiser/requests/{request_id}/outcome"
    async with signed_in(conn, settings, agency["admin"][0], "fr") as http:
        page = await http.get(path)
        assert '<html lang="fr">' in page.text and "Personnes présentes" in text_of(page)
        superscript = await http.post(path, data=outcome_form(csrf_token(page), attendance="²"))
        assert superscript.status_code == 422 and 'id="f-attendance-error"' in superscript.text
        bad = await http.post(path, data=outcome_form(csrf_token(page), attendance="beaucoup", follow_up=""))
        assert bad.status_code == 422 and 'id="f-attendance-error"' in bad.text and 'id="f-follow_up-error"' in bad.text
        assert "Veuillez indiquer le nombre de personnes présentes" in text_of(bad)
        assert 'value="beaucoup"' in bad.text
        saved = await http.post(path, data=outcome_form(csrf_token(bad), attendance="40", follow_up="no"))
        assert saved.status_code == 303
    row = await conn.fetchrow("SELECT attendance, attendance_counted, follow_up_text FROM commune_request_outcomes")
    assert tuple(row) == (40, False, "")


async def test_viewers_see_no_form_and_other_organisations_nothing(client, conn, settings, agency) -> None:  # noqa: F811
    request_id = await scheduled_request(client, conn, agency["staff"][1], present=1)
    path = f"/organiser/requests/{request_id}/outcome"
    async with signed_in(conn, settings, agency["viewer"][0], "en") as http:
        page = await http.get(path)
        assert page.status_code == 200 and '<form method="post" action="/organiser/requests' not in page.text
        assert "No outcome has been recorded yet." in text_of(page)
        refused = await http.post(path, data=outcome_form(csrf_token(page)))
        assert refused.status_code == 403
    async with signed_in(conn, settings, agency["other"][0], "en") as http:
        assert (await http.get(path)).status_code == 404
        page = await http.get("/organiser/practices")
        assert (await http.post(path, data=outcome_form(csrf_token(page)))).status_code == 404
        assert (await http.get("/organiser/communes/esch-sur-alzette")).status_code == 200
    assert await conn.fetchval("SELECT count(*) FROM commune_request_outcomes") == 0


async def close(client, conn, agency, present: int = 3, **outcome) -> int:  # noqa: F811
    request_id = await scheduled_request(client, conn, agency["staff"][1], present=present)
    answer = await client.patch(
        f"/api/organiser/commune-requests/{request_id}",
        json={"status": "done", "outcome": {**OUTCOME, **outcome}},
        headers=auth(agency["staff"][1]),
    )
    assert answer.status_code == 200, answer.text
    return request_id


async def test_a_commune_page_gathers_requests_sessions_attendance_and_practices(
    client,
    conn,
    settings,
    agency,  # noqa: F811
) -> None:
    request_id = await close(client, conn, agency)
    async with signed_in(conn, settings, agency["viewer"][0], "de") as http:
        page = await http.get("/organiser/communes/esch-sur-alzette")
        assert page.status_code == 200 and '<html lang="de">' in page.text
        shown = text_of(page)
        assert f"#{request_id}" in shown and "Café des langues" in shown and "langues, jeunes" in shown
        # 2026: one session, three present, one request, two practices
        row = re.search(r"<th scope=\"row\">2026</th>(.*?)</tr>", page.text).group(1)
        assert re.findall(r"<td>(\d+)</td>", row)[:2] == ["1", "3"]
        assert (await http.get("/organiser/communes/atlantis")).status_code == 404
    async with signed_in(conn, settings, agency["other"][0], "en") as http:
        other = text_of(await http.get("/organiser/communes/esch-sur-alzette"))
        assert "Café des langues" not in other and f"#{request_id}" not in other
        assert "No request from this commune." in other


async def test_the_practices_export_reads_back_filtered_with_formulas_kept_as_text(
    client,
    conn,
    settings,
    agency,  # noqa: F811
) -> None:
    await close(
        client,
        conn,
        agency,
        practices=[
            {"title": '=HYPERLINK("http://evil.example","x")', "description": "@SUM(A1)", "tags": ["jeunes"]},
            {"title": "Parrainage", "description": "Deux familles.", "tags": ["accueil"]},
        ],
    )
    async with signed_in(conn, settings, agency["viewer"][0], "fr") as http:
        answer = await http.get("/organiser/practices.xlsx", params={"year": "2026", "tag": "jeunes"})
        assert answer.status_code == 200 and answer.headers["content-disposition"].startswith("attachment")
        sheet = openpyxl.load_workbook(io.BytesIO(answer.content)).active
        rows = list(sheet.iter_rows(values_only=True))
        assert rows[0][:3] == ("Date de la séance", "Commune", "Bonne pratique")
        assert len(rows) == 2 and rows[1][1] == "Esch-sur-Alzette"
        assert rows[1][2] == '=HYPERLINK("http://evil.example","x")' and sheet.cell(2, 3).data_type == "s"
        assert rows[1][3] == "@SUM(A1)" and rows[1][4] == "jeunes"
        other_year = await http.get("/organiser/practices.xlsx", params={"year": "2025"})
        assert len(list(openpyxl.load_workbook(io.BytesIO(other_year.content)).active.iter_rows())) == 1
        printable = await http.get("/organiser/practices", params={"commune": "esch-sur-alzette", "tag": "accueil"})
        assert printable.status_code == 200 and "Parrainage" in text_of(printable)
        assert "evil.example" not in text_of(printable) and 'class="no-print"' in printable.text
        assert (await http.get("/organiser/practices", params={"commune": "atlantis"})).status_code == 404
        assert (await http.get("/organiser/practices", params={"year": "1066"})).status_code == 400
    async with signed_in(conn, settings, agency["other"][0], "en") as http:
        theirs = await http.get("/organiser/practices.xlsx")
        assert len(list(openpyxl.load_workbook(io.BytesIO(theirs.content)).active.iter_rows())) == 1
    audited = await conn.fetch("SELECT detail FROM audit_log WHERE action = 'practices_export' ORDER BY id")
    assert [(a["detail"]["year"], a["detail"]["rows"]) for a in audited] == [(2026, 1), (2025, 0), (None, 0)]


@pytest.mark.parametrize("path", ["/organiser/practices", "/organiser/communes/esch-sur-alzette"])
async def test_the_pages_need_a_session(conn, settings, path) -> None:
    async with browser(app_on(settings, conn)) as http:
        answer = await http.get(path)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/organiser/login")
