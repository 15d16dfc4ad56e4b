"""The interpretation missions in the back-office (issue 24): the list by status and date, a mission
with its ranked candidates offered by a plain form (the first to accept still gets it), its offers and
answers, the pool; viewers read only, another organisation sees nothing."""

from __future__ import annotations

import re

import pytest

from tests.apps import app_on
from tests.factories import auth
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_pages import csrf_token, text_of

MISSIONS = "/api/organiser/interpretation-missions"


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


@pytest.fixture
async def desk(client, world) -> dict:
    """ASTI's pool of two who speak French and Tigrinya, one who does not, and a request on a Monday."""
    token = world["admin_token"]
    people = {}
    for name, languages in (
        ("Selam Haile", [{"code": "fr", "level": "C2"}, {"code": "ti", "level": "native"}]),
        ("Yonas Tesfay", [{"code": "fr", "level": "C1"}, {"code": "ti", "level": "C1"}]),
        ("Olena Koval", [{"code": "fr", "level": "C2"}, {"code": "uk", "level": "native"}]),
    ):
        made = await client.post(
            "/api/organiser/interpreters", headers=auth(token), json=interpreter_body(name=name, languages=languages)
        )
        assert made.status_code == 201, made.text
        people[name.split()[0]] = made.json()
    mission = await client.post(MISSIONS, headers=auth(token), json=mission_body(at(monday(), 10)))
    assert mission.status_code == 201, mission.text
    return {"people": people, "mission": mission.json()["id"], "token": token}


def ticks(page) -> list[str]:
    return re.findall(r'name="interpreter" value="(\d+)"', page.text)


async def test_staff_offer_a_mission_from_its_page_and_follow_the_answers(app, client, conn, world, desk) -> None:
    selam, yonas = desk["people"]["Selam"], desk["people"]["Yonas"]
    page_of = f"/organiser/interpretation/missions/{desk['mission']}"
    async with signed_in(app, world["organiser"], "en") as http:
        listed = await http.get("/organiser/interpretation")
        assert listed.status_code == 200
        words = text_of(listed)
        assert "Tigrinya → French" in words and "Waiting for an interpreter" in words and "Office social" in words
        assert f'href="{page_of}"' in listed.text
        assert 'aria-current="page">Interpretation</a>' in listed.text  # the menu entry
        assert (await http.get("/organiser/interpretation/")).status_code == 200  # as the menu links it
        assigned = await http.get("/organiser/interpretation", params={"status": "assigned"})
        assert "No mission matches." in text_of(assigned)
        later = await http.get("/organiser/interpretation", params={"from": f"{monday().year + 1}-01-01"})
        assert "No mission matches." in text_of(later)
        assert (await http.get("/organiser/interpretation", params={"status": "lost"})).status_code == 400

        page = await http.get(page_of)
        assert page.status_code == 200
        assert sorted(ticks(page)) == sorted([str(selam["id"]), str(yonas["id"])])  # Olena speaks no Tigrinya
        assert "Not offered to anyone yet." in text_of(page)
        # nothing ticked: said next to the form, nothing sent
        empty = await http.post(f"{page_of}/offers", data={"csrf_token": csrf_token(page)})
        assert empty.status_code == 422 and "Please tick at least one interpreter" in text_of(empty)
        # a forged tick of one who does not speak Tigrinya: refused, what was ticked kept
        forged = await http.post(
            f"{page_of}/offers",
            data={
                "csrf_token": csrf_token(page),
                "interpreter": [str(selam["id"]), str(desk["people"]["Olena"]["id"])],
            },
        )
        assert forged.status_code == 422
        assert "does not speak both languages" in text_of(forged)
        assert f'value="{selam["id"]}" checked' in forged.text
        assert await conn.fetchval("SELECT count(*) FROM interpretation_offers") == 0

        offered = await http.post(
            f"{page_of}/offers",
            data={"csrf_token": csrf_token(page), "interpreter": [str(selam["id"]), str(yonas["id"])]},
        )
        assert offered.status_code == 303 and offered.headers["location"] == f"{page_of}?done=offered"
        shown = text_of(await http.get(offered.headers["location"]))
        assert "The mission is offered: the first interpreter to accept gets it." in shown
        assert "Offered to interpreters" in shown and shown.count("Waiting for an answer") == 2

    # Yonas accepts through his link: the page shows who has it and the other offer taken
    offer_id = await conn.fetchval("SELECT id FROM interpretation_offers WHERE interpreter_id = $1", yonas["id"])
    accepted = await client.post(f"/api/interpreters/{yonas['link'].rsplit('/', 1)[1]}/offers/{offer_id}/accept")
    assert accepted.status_code == 200
    async with signed_in(app, world["admin"], "fr") as http:
        page = await http.get(page_of)
        words = text_of(page)
        assert "Interprète attribué" in words and "Acceptée" in words and "Prise par quelqu'un d'autre" in words
        assert ticks(page) == []  # no more offering once assigned
        # the hours the interpreter records show on the page
        await conn.execute("UPDATE interpretation_missions SET minutes_spent = 90 WHERE id = $1", desk["mission"])
        assert "Temps passé 90 minutes" in text_of(await http.get(page_of))
        listed = text_of(await http.get("/organiser/interpretation", params={"status": "assigned"}))
        assert "Yonas Tesfay" in listed and "tigrigna → français" in listed
        pool = await http.get("/organiser/interpretation/interpreters")
        assert pool.status_code == 200
        words = text_of(pool)
        assert (
            "Selam Haile" in words
            and "tigrigna (langue maternelle)" in words
            and "ukrainien (langue maternelle)" in words
        )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE kind = 'interpretation_offered' AND (payload->>'mission')::bigint = $1",
            desk["mission"],
        )
        == 2
    )


async def test_a_viewer_reads_and_another_organisation_sees_nothing(app, conn, world, desk) -> None:
    page_of = f"/organiser/interpretation/missions/{desk['mission']}"
    selam = desk["people"]["Selam"]
    async with signed_in(app, world["viewer"], "de") as http:
        page = await http.get(page_of)
        assert page.status_code == 200 and "Wartet auf Dolmetscher" in text_of(page)
        assert ticks(page) == [] and "/offers" not in page.text
        forged = await http.post(
            f"{page_of}/offers", data={"csrf_token": csrf_token(page), "interpreter": str(selam["id"])}
        )
        assert forged.status_code == 403
    async with signed_in(app, world["caritas_admin"], "en") as http:
        listed = await http.get("/organiser/interpretation")
        assert listed.status_code == 200 and "No mission matches." in text_of(listed)
        pool = await http.get("/organiser/interpretation/interpreters")
        assert "Selam Haile" not in pool.text and "No interpreter in your pools yet." in text_of(pool)
        assert (await http.get(page_of)).status_code == 404
        refused = await http.post(
            f"{page_of}/offers", data={"csrf_token": csrf_token(listed), "interpreter": str(selam["id"])}
        )
        assert refused.status_code == 404
    assert await conn.fetchval("SELECT count(*) FROM interpretation_offers") == 0


async def test_the_mission_page_shows_twenty_candidates_then_a_link_to_the_next(app, client, conn, world, desk) -> None:
    """Twenty to a page, the best first; the next page keeps its place when an offer from it is refused."""
    for n in range(19):  # with Selam and Yonas, 21 speak both languages
        body = interpreter_body(
            name=f"Pool {n:02}", languages=[{"code": "fr", "level": "B2"}, {"code": "ti", "level": "B2"}]
        )
        assert (
            await client.post("/api/organiser/interpreters", headers=auth(desk["token"]), json=body)
        ).status_code == 201
    page_of = f"/organiser/interpretation/missions/{desk['mission']}"
    async with signed_in(app, world["organiser"], "en") as http:
        first = await http.get(page_of)
        assert first.status_code == 200
        assert len(ticks(first)) == 20 and ticks(first)[:2] == [
            str(desk["people"][n]["id"]) for n in ("Selam", "Yonas")
        ]
        more = re.search(r'<a rel="next" href="([^"]+)">More interpreters</a>', first.text)
        assert more, "no link to the next interpreters"
        second = await http.get(more.group(1).replace("&amp;", "&"))
        assert second.status_code == 200 and len(ticks(second)) == 1
        assert ticks(second)[0] not in ticks(first) and "More interpreters" not in second.text
        assert f'href="{page_of}#candidates-title">Back to the first interpreters</a>' in second.text
        # a page after the last (a link kept while the list changed): said so, with the way back
        beyond = await http.get(page_of, params={"candidates_after": "99.0.1"})
        assert beyond.status_code == 200 and ticks(beyond) == []
        assert "No more interpreters on this page" in text_of(beyond) and "Back to the first" in beyond.text
        after = re.search(r'name="candidates_after" value="([^"]+)"', second.text)
        assert after, "the offer form does not say which page it was on"
        # nothing ticked on the second page: the same page again, with the error
        refused = await http.post(
            f"{page_of}/offers", data={"csrf_token": csrf_token(second), "candidates_after": after.group(1)}
        )
        assert refused.status_code == 422 and ticks(refused) == ticks(second)
        assert "Please tick at least one interpreter" in text_of(refused)
        for bad in ("x", "1.2.3.4", "1.2.99999999999999999999"):
            assert (await http.get(page_of, params={"candidates_after": bad})).status_code == 400
