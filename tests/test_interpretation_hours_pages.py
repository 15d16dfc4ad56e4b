"""Staff record the time an interpreter actually spent from the mission's back-office page (issue 24):
typed as hours and minutes, through the same rules as the API; faults said next to the field in the
staff member's language with what was typed kept; viewers see no form and are refused, another
organisation sees nothing."""

from __future__ import annotations

import html
import re

import pytest

from server.interpretation.mission_pages import typed_minutes
from tests.apps import app_on
from tests.factories import auth
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_pages import csrf_token, text_of

MISSIONS = "/api/organiser/interpretation-missions"
FORM = 'action="/organiser/interpretation/missions/{}/hours"'


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


@pytest.fixture
async def held(client, conn, world) -> dict:
    """ASTI's mission on a Monday, with Selam as its interpreter; not begun yet."""
    token = world["admin_token"]
    languages = [{"code": "fr", "level": "C2"}, {"code": "ti", "level": "native"}]
    body = interpreter_body(name="Selam Haile", languages=languages)
    selam = await client.post("/api/organiser/interpreters", headers=auth(token), json=body)
    assert selam.status_code == 201, selam.text
    mission = await client.post(MISSIONS, headers=auth(token), json=mission_body(at(monday(), 10)))
    assert mission.status_code == 201, mission.text
    mission_id = mission.json()["id"]
    assigned = await client.patch(
        f"{MISSIONS}/{mission_id}", headers=auth(token), json={"interpreter": selam.json()["id"]}
    )
    assert assigned.status_code == 200, assigned.text
    return {"mission": mission_id, "page": f"/organiser/interpretation/missions/{mission_id}"}


async def begin(conn, mission_id: int) -> None:
    """Move the mission thirty days back: it has begun (and ended)."""
    await conn.execute(
        "UPDATE interpretation_missions SET starts_at = starts_at - interval '30 days', "
        "ends_at = ends_at - interval '30 days' WHERE id = $1",
        mission_id,
    )


async def spent(conn, mission_id: int) -> tuple[str, int | None]:
    row = await conn.fetchrow("SELECT status, minutes_spent FROM interpretation_missions WHERE id = $1", mission_id)
    return row["status"], row["minutes_spent"]


def typed(page) -> dict[str, str]:
    return dict(re.findall(r'name="(hours|minutes)" type="text"[^>]*value="([^"]*)"', page.text))


def field_error(page) -> str:
    found = re.search(r'<p class="field-error" id="f-spent-error">(.*?)</p>', page.text, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", found.group(1))).split()) if found else ""


def test_the_time_is_read_as_hours_and_minutes() -> None:
    assert typed_minutes("1", "30") == 90
    assert typed_minutes("", "45") == 45 and typed_minutes(" 2 ", "") == 120 and typed_minutes("0", "0") == 0
    assert typed_minutes("24", "0") == 1440 and typed_minutes("0", "1440") == 1440
    assert typed_minutes("", " ") == "empty"
    assert typed_minutes("1.5", "") == "number" and typed_minutes("1", "abc") == "number"
    assert typed_minutes("24", "1") == "range" and typed_minutes("-1", "0") == "range"
    assert typed_minutes("9999999", "") == "number"  # beyond six digits: not read as a number at all


async def test_staff_record_then_correct_the_time_spent(app, conn, world, held) -> None:
    mission_id, page_of = held["mission"], held["page"]
    async with signed_in(app, world["organiser"], "en") as http:
        # not begun: no form yet; a post anyway is refused next to the field, nothing stored
        page = await http.get(page_of)
        assert page.status_code == 200 and FORM.format(mission_id) not in page.text
        early = await http.post(f"{page_of}/hours", data={"csrf_token": csrf_token(page), "hours": "1", "minutes": "0"})
        assert early.status_code == 422
        assert field_error(early) == "Error: The mission has not begun yet: its time is recorded once it has."
        assert typed(early) == {"hours": "1", "minutes": "0"}
        assert await spent(conn, mission_id) == ("assigned", None)

        await begin(conn, mission_id)
        page = await http.get(page_of)
        assert FORM.format(mission_id) in page.text and typed(page) == {"hours": "", "minutes": ""}
        recorded = await http.post(
            f"{page_of}/hours", data={"csrf_token": csrf_token(page), "hours": "1", "minutes": "30"}
        )
        assert recorded.status_code == 303 and recorded.headers["location"] == f"{page_of}?done=hours"
        assert await spent(conn, mission_id) == ("done", 90)
        shown = await http.get(recorded.headers["location"])
        words = text_of(shown)
        assert "The time spent is recorded and the mission is done." in words
        assert "Mission done" in words and "Time spent 90 minutes" in words
        assert typed(shown) == {"hours": "1", "minutes": "30"}  # prefilled with what is recorded

        # a correction, typed in minutes only
        corrected = await http.post(
            f"{page_of}/hours", data={"csrf_token": csrf_token(shown), "hours": "", "minutes": "75"}
        )
        assert corrected.status_code == 303
        assert await spent(conn, mission_id) == ("done", 75)
        assert typed(await http.get(page_of)) == {"hours": "1", "minutes": "15"}
    audited = await conn.fetch(
        "SELECT detail FROM audit_log WHERE action = 'mission_done' AND detail->>'mission' = $1 ORDER BY id",
        str(mission_id),
    )
    assert [row["detail"]["minutes"] for row in audited] == [90, 75]


@pytest.mark.parametrize(
    ("lang", "hours", "minutes", "said"),
    [
        ("en", "", "", "Please enter the time spent, in hours and minutes."),
        ("fr", "une", "", "Veuillez indiquer les heures et les minutes en nombres entiers."),
        ("de", "1,5", "", "Bitte geben Sie Stunden und Minuten als ganze Zahlen an."),
        ("lb", "25", "0", "Gitt w.e.g. eng Zäit tëscht 0 Minutten a 24 Stonnen an."),
        ("pt", "1", "-10", "Indique uma duração entre 0 minutos e 24 horas."),
    ],
)
async def test_a_faulty_time_is_said_next_to_the_field_and_kept(
    app, conn, world, held, lang, hours, minutes, said
) -> None:
    await begin(conn, held["mission"])
    async with signed_in(app, world["admin"], lang) as http:
        page = await http.get(held["page"])
        refused = await http.post(
            f"{held['page']}/hours", data={"csrf_token": csrf_token(page), "hours": hours, "minutes": minutes}
        )
        assert refused.status_code == 422
        assert field_error(refused).endswith(said)
        assert typed(refused) == {"hours": hours, "minutes": minutes}
        assert 'aria-invalid="true"' in refused.text and "f-spent-error" in refused.text
    assert await spent(conn, held["mission"]) == ("assigned", None)


async def test_a_mission_without_interpreter_takes_no_time(app, client, conn, world) -> None:
    made = await client.post(MISSIONS, headers=auth(world["admin_token"]), json=mission_body(at(monday(), 10)))
    page_of = f"/organiser/interpretation/missions/{made.json()['id']}"
    await begin(conn, made.json()["id"])
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(page_of)
        assert "/hours" not in page.text
        refused = await http.post(f"{page_of}/hours", data={"csrf_token": csrf_token(page), "minutes": "60"})
        assert refused.status_code == 422
        said = "The mission has no interpreter: its time is recorded once one is assigned."
        assert field_error(refused).endswith(said)


async def test_viewers_other_organisations_and_forged_posts_are_refused(app, conn, world, held) -> None:
    await begin(conn, held["mission"])
    page_of = held["page"]
    async with signed_in(app, world["viewer"], "en") as http:
        page = await http.get(page_of)
        assert page.status_code == 200 and "/hours" not in page.text and 'name="minutes"' not in page.text
        forged = await http.post(f"{page_of}/hours", data={"csrf_token": csrf_token(page), "minutes": "60"})
        assert forged.status_code == 403
        faulty = await http.post(f"{page_of}/hours", data={"csrf_token": csrf_token(page), "minutes": "x"})
        assert faulty.status_code == 403  # refused for the role, not corrected as if it could write
    async with signed_in(app, world["caritas_admin"], "en") as http:
        listed = await http.get("/organiser/interpretation")
        refused = await http.post(f"{page_of}/hours", data={"csrf_token": csrf_token(listed), "minutes": "60"})
        assert refused.status_code == 404
        missing = await http.post(
            "/organiser/interpretation/missions/999999/hours", data={"csrf_token": csrf_token(listed), "minutes": "6"}
        )
        assert missing.status_code == 404
    async with signed_in(app, world["organiser"], "en") as http:
        assert (await http.get(page_of)).status_code == 200
        tokenless = await http.post(f"{page_of}/hours", data={"hours": "1", "minutes": "0"})
        assert tokenless.status_code == 403
    assert await spent(conn, held["mission"]) == ("assigned", None)
