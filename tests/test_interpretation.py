"""The interpretation service through HTTP: the pool, missions, candidates, offers, and never two missions at once."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.factories import auth, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday

MISSIONS = "/api/organiser/interpretation-missions"


@pytest.fixture
async def staff(conn) -> str:
    """An organiser of ASTI, the agency."""
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


async def add_interpreter(client, staff: str, **overrides) -> dict:
    response = await client.post("/api/organiser/interpreters", json=interpreter_body(**overrides), headers=auth(staff))
    assert response.status_code == 201, response.text
    return response.json()


async def add_mission(client, staff: str, starts_at, **overrides) -> dict:
    response = await client.post(MISSIONS, json=mission_body(starts_at, **overrides), headers=auth(staff))
    assert response.status_code == 201, response.text
    return response.json()


async def test_pool_keeps_languages_places_and_time_and_gives_a_private_link(client, staff) -> None:
    created = await add_interpreter(
        client,
        staff,
        languages=[{"code": code, "level": "C1"} for code in ("ti", "prs", "fa", "ar", "uk", "kea")],
        absences=[{"first_day": "2026-12-24", "last_day": "2027-01-02"}],
    )
    assert created["link"].startswith("https://zesummen.test/i/") and len(created["link"]) > 60
    assert [s["code"] for s in created["languages"]] == sorted(["ti", "prs", "fa", "ar", "uk", "kea"])
    pool = (await client.get("/api/organiser/interpreters", headers=auth(staff))).json()
    assert [(i["id"], i["absences"], len(i["availability"])) for i in pool] == [
        (created["id"], [{"first_day": "2026-12-24", "last_day": "2027-01-02"}], 5)
    ]
    assert "link" not in pool[0]  # shown once, on creation
    again = await client.post(
        "/api/organiser/interpreters", json=interpreter_body(email=created["email"]), headers=auth(staff)
    )
    assert again.status_code == 409


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"languages": [{"code": "xx", "level": "C1"}]}, "languages[0].code"),
        ({"languages": [{"code": "ti", "level": "A1"}]}, "languages[0].level"),
        ({"communes": ["Atlantis"]}, "communes[0]"),
        ({"email": "not an address"}, "email"),
        # weekly hours are Luxembourg's local time: a time with an offset is refused, not stored shifted
        ({"availability": [{"weekday": 1, "starts": "08:00:00+01:00", "ends": "18:00:00"}]}, "availability[0].starts"),
    ],
)
async def test_bad_interpreters_are_refused_naming_the_field(client, staff, change, field) -> None:
    response = await client.post("/api/organiser/interpreters", json=interpreter_body(**change), headers=auth(staff))
    assert response.status_code == 422, response.text
    assert field in [e["field"] for e in response.json()["errors"]]


async def test_bad_missions_are_refused_naming_the_field(client, staff) -> None:
    day = monday()
    yesterday = at(day, 10) - timedelta(days=30)
    for body, field in [
        (mission_body(yesterday), "starts_at"),
        ({**mission_body(at(day, 10)), "ends_at": at(day, 9).isoformat()}, "ends_at"),
        (mission_body(at(day, 10), from_language="zz"), "from_language"),
        (mission_body(at(day, 10), to_language="ti"), "to_language"),
        (mission_body(at(day, 10), place={"commune": "Atlantis"}), "place.commune"),
        (mission_body(at(day, 10), remote="video"), "place"),
    ]:
        response = await client.post(MISSIONS, json=body, headers=auth(staff))
        assert response.status_code == 422, (field, response.text)
        assert field in [e["field"] for e in response.json()["errors"]], (field, response.text)


async def test_assigning_an_interpreter_who_does_not_speak_the_language_names_the_field(client, staff) -> None:
    only_arabic = await add_interpreter(
        client, staff, languages=[{"code": "fr", "level": "C2"}, {"code": "ar", "level": "C2"}]
    )
    mission = await add_mission(client, staff, at(monday(), 10))
    response = await client.patch(
        f"{MISSIONS}/{mission['id']}", json={"interpreter": only_arabic["id"]}, headers=auth(staff)
    )
    assert response.status_code == 422 and response.json()["errors"][0]["field"] == "interpreter"
    # a legal matter needs C1 or better: B2 is enough for a social office, not for a court
    b2 = await add_interpreter(client, staff, languages=[{"code": "fr", "level": "C2"}, {"code": "ti", "level": "B2"}])
    legal = await add_mission(client, staff, at(monday(), 14), field="legal")
    refused = await client.patch(f"{MISSIONS}/{legal['id']}", json={"interpreter": b2["id"]}, headers=auth(staff))
    assert refused.status_code == 422


async def test_an_interpreter_never_holds_two_overlapping_missions(client, staff) -> None:
    interpreter = await add_interpreter(client, staff)
    day = monday()
    first = await add_mission(client, staff, at(day, 10), minutes=90)
    overlapping = await add_mission(client, staff, at(day, 11), remote="phone", place=None)
    assign = {"interpreter": interpreter["id"]}
    done = await client.patch(f"{MISSIONS}/{first['id']}", json=assign, headers=auth(staff))
    assert done.status_code == 200 and done.json()["status"] == "assigned"
    refused = await client.patch(f"{MISSIONS}/{overlapping['id']}", json=assign, headers=auth(staff))
    assert refused.status_code == 409 and refused.json()["code"] == "interpreter_busy"
    # moving the held mission onto the other is refused too; cancelling it frees the interpreter
    later = await add_mission(client, staff, at(day, 14), remote="video", place=None)
    assert (await client.patch(f"{MISSIONS}/{later['id']}", json=assign, headers=auth(staff))).status_code == 200
    moved = await client.patch(
        f"{MISSIONS}/{later['id']}",
        headers=auth(staff),
        json={"starts_at": at(day, 11).isoformat(), "ends_at": at(day, 12).isoformat()},
    )
    assert moved.status_code == 409
    cancel = await client.patch(f"{MISSIONS}/{first['id']}", json={"status": "cancelled"}, headers=auth(staff))
    assert cancel.json()["status"] == "cancelled" and cancel.json()["sequence"] == 1
    assert (await client.patch(f"{MISSIONS}/{overlapping['id']}", json=assign, headers=auth(staff))).status_code == 200


async def test_on_site_missions_in_different_communes_leave_travel_time(client, staff) -> None:
    interpreter = await add_interpreter(client, staff)
    day = monday()
    assign = {"interpreter": interpreter["id"]}
    city = await add_mission(client, staff, at(day, 9), minutes=60)
    assert (await client.patch(f"{MISSIONS}/{city['id']}", json=assign, headers=auth(staff))).status_code == 200
    # 10:20 in Esch: 20 minutes after 10:00 in the city, under the 30-minute travel margin
    esch = await add_mission(client, staff, at(day, 10, 20), place={"commune": "Esch-sur-Alzette"})
    refused = await client.patch(f"{MISSIONS}/{esch['id']}", json=assign, headers=auth(staff))
    assert refused.status_code == 409 and "travel" in refused.json()["detail"]
    # the same gap in the same commune, or by phone, is fine
    same_place = await add_mission(client, staff, at(day, 10, 10))
    assert (await client.patch(f"{MISSIONS}/{same_place['id']}", json=assign, headers=auth(staff))).status_code == 200
    # 30 minutes after the last one ends is enough to get to Esch
    esch_later = await add_mission(client, staff, at(day, 11, 40), place={"commune": "Esch-sur-Alzette"})
    assert (await client.patch(f"{MISSIONS}/{esch_later['id']}", json=assign, headers=auth(staff))).status_code == 200


async def test_candidates_are_the_fitting_free_available_covering_ones_least_busy_first(client, conn, staff) -> None:
    day = monday()
    busy_month = await add_interpreter(client, staff, name="Busy this month")
    free = await add_interpreter(client, staff, name="Free")
    await add_interpreter(
        client, staff, name="Wrong language", languages=[{"code": "fr", "level": "C2"}, {"code": "uk", "level": "C2"}]
    )
    await add_interpreter(
        client, staff, name="Weak Tigrinya", languages=[{"code": "fr", "level": "C2"}, {"code": "ti", "level": "B1"}]
    )
    await add_interpreter(client, staff, name="North only", cantons=["Clervaux"], communes=[])
    await add_interpreter(
        client, staff, name="Weekends", availability=[{"weekday": 6, "starts": "08:00:00", "ends": "18:00:00"}]
    )
    await add_interpreter(
        client, staff, name="On holiday", absences=[{"first_day": day.isoformat(), "last_day": day.isoformat()}]
    )
    await add_interpreter(client, staff, name="Capped", monthly_cap=0)
    overlapping = await add_interpreter(client, staff, name="Busy then")
    # one earlier mission this month for one; one at the very time for another
    earlier = await add_mission(client, staff, at(day, 8), minutes=30, remote="phone", place=None)
    await client.patch(f"{MISSIONS}/{earlier['id']}", json={"interpreter": busy_month["id"]}, headers=auth(staff))
    clash = await add_mission(client, staff, at(day, 10), remote="phone", place=None)
    await client.patch(f"{MISSIONS}/{clash['id']}", json={"interpreter": overlapping["id"]}, headers=auth(staff))
    mission = await add_mission(client, staff, at(day, 10, 30))
    ranked = (await client.get(f"{MISSIONS}/{mission['id']}/candidates", headers=auth(staff))).json()["items"]
    assert [c["name"] for c in ranked] == ["Free", "Busy this month"]
    assert [c["missions_this_month"] for c in ranked] == [0, 1]
    assert ranked[0]["id"] == free["id"] and {"from_level", "to_level", "monthly_cap"} <= set(ranked[0])


async def test_candidates_need_the_field_s_levels_and_a_mission_within_one_day(client, staff) -> None:
    day = monday()
    all_day = [{"weekday": d, "starts": "00:00:00", "ends": "23:59:59"} for d in range(1, 8)]
    await add_interpreter(
        client, staff, name="B2", languages=[{"code": "fr", "level": "C2"}, {"code": "ti", "level": "B2"}]
    )
    await add_interpreter(
        client,
        staff,
        name="C1",
        languages=[{"code": "fr", "level": "C2"}, {"code": "ti", "level": "C1"}],
        availability=all_day,
    )

    async def names(mission: dict) -> list[str]:
        response = await client.get(f"{MISSIONS}/{mission['id']}/candidates", headers=auth(staff))
        return [c["name"] for c in response.json()["items"]]

    # a social office takes B2; the better level comes first
    assert await names(await add_mission(client, staff, at(day, 10))) == ["C1", "B2"]
    # a court needs C1 or better
    assert await names(await add_mission(client, staff, at(day, 14), field="legal")) == ["C1"]
    # a holiday over several days keeps one out on each of them, and not the day after it ends
    away = {"languages": [{"code": "fr", "level": "C2"}, {"code": "ti", "level": "C2"}]}
    week = [{"first_day": (day - timedelta(days=3)).isoformat(), "last_day": (day + timedelta(days=3)).isoformat()}]
    before = [{"first_day": (day - timedelta(days=7)).isoformat(), "last_day": (day - timedelta(days=1)).isoformat()}]
    await add_interpreter(client, staff, name="Away all week", absences=week, **away)
    await add_interpreter(client, staff, name="Back today", absences=before, **away)
    assert await names(await add_mission(client, staff, at(day, 11))) == ["Back today", "C1", "B2"]
    # late in the evening C1 is still there, but no weekly slot holds a call over midnight
    late = {"remote": "phone", "place": None}
    assert await names(await add_mission(client, staff, at(day, 22), **late)) == ["C1"]
    assert await names(await add_mission(client, staff, at(day, 23), minutes=90, **late)) == []


async def test_candidates_come_page_by_page_in_rank_order(client, conn, staff) -> None:
    """Pages follow one another without a gap or a repeat, through ties of missions and of levels alike."""
    day = monday()
    levels = ("B2", "C1", "C2", "native", "C1", "C1", "native")
    made = [
        await add_interpreter(
            client,
            staff,
            name=f"Interpreter {n}",
            languages=[{"code": "fr", "level": level}, {"code": "ti", "level": "C1"}],
        )
        for n, level in enumerate(levels)
    ]
    # two of them already hold a mission this month: they come after all those who hold none
    for busy in (made[1], made[3]):
        earlier = await add_mission(client, staff, at(day, 8), minutes=30, remote="phone", place=None)
        assigned = {"interpreter": busy["id"]}
        assert (
            await client.patch(f"{MISSIONS}/{earlier['id']}", json=assigned, headers=auth(staff))
        ).status_code == 200
    mission = await add_mission(client, staff, at(day, 10, 30))
    url = f"{MISSIONS}/{mission['id']}/candidates"
    whole = (await client.get(url, params={"limit": 100}, headers=auth(staff))).json()
    assert whole["next_cursor"] is None
    names = [c["name"] for c in whole["items"]]
    # no mission yet, best levels first (native, C2, C1 ×2 by id, B2), then one mission each: native, C1
    assert names == [f"Interpreter {n}" for n in (6, 2, 4, 5, 0, 3, 1)]
    paged, cursor, pages = [], None, 0
    while True:
        page = await client.get(url, params={"limit": 2, **({"cursor": cursor} if cursor else {})}, headers=auth(staff))
        assert page.status_code == 200, page.text
        paged += [c["name"] for c in page.json()["items"]]
        pages, cursor = pages + 1, page.json()["next_cursor"]
        if cursor is None:
            break
    assert paged == names and pages == 4
    # the default page is the page staff see: twenty at most
    assert (await client.get(url, headers=auth(staff))).json()["items"] == whole["items"]
    for bad in ("x", "1.2", "1.2.3.4", "-1.2.3", "1.2.99999999999999999999", "1.2.3 ", "١.٢.٣"):
        refused = await client.get(url, params={"cursor": bad}, headers=auth(staff))
        assert refused.status_code == 422, (bad, refused.text)
        assert [e["field"] for e in refused.json()["errors"]] == ["cursor"], bad
    for limit in (0, 101):
        assert (await client.get(url, params={"limit": limit}, headers=auth(staff))).status_code in (400, 422)


async def test_candidates_leave_time_to_travel_and_see_a_long_mission_still_running(client, conn, staff) -> None:
    """The busy check reads a slice of each interpreter's missions (12 h 30 before to 30 min after): its edges."""
    day = monday()
    names = ("Esch just before", "Same commune just before", "Phone just before", "Long since midnight", "Free")
    people = {name: await add_interpreter(client, staff, name=name) for name in names}

    async def hold(name: str, starts_at, minutes: int, **where) -> None:
        held = await add_mission(client, staff, starts_at, minutes=minutes, **where)
        answer = await client.patch(
            f"{MISSIONS}/{held['id']}", json={"interpreter": people[name]["id"]}, headers=auth(staff)
        )
        assert answer.status_code == 200, answer.text

    # on site in Esch until 10:20: ten minutes to reach Luxembourg city for 10:30 is too few
    await hold("Esch just before", at(day, 9, 20), 60, place={"commune": "Esch-sur-Alzette", "address": ""})
    # in the same commune, or by phone, until 10:30 exactly: free
    await hold("Same commune just before", at(day, 9, 30), 60)
    await hold("Phone just before", at(day, 9, 30), 60, remote="phone", place=None)
    # eleven hours from midnight: still running at 10:30
    await hold("Long since midnight", at(day, 0), 11 * 60, remote="phone", place=None)
    mission = await add_mission(client, staff, at(day, 10, 30))
    ranked = (await client.get(f"{MISSIONS}/{mission['id']}/candidates", headers=auth(staff))).json()["items"]
    assert sorted(c["name"] for c in ranked) == ["Free", "Phone just before", "Same commune just before"]


async def test_the_first_to_accept_an_offer_gets_it_the_others_find_it_taken(client, conn, staff) -> None:
    first, second = await add_interpreter(client, staff), await add_interpreter(client, staff)
    mission = await add_mission(client, staff, at(monday(), 10))
    offers = await client.post(
        f"{MISSIONS}/{mission['id']}/offers", headers=auth(staff), json={"interpreters": [first["id"], second["id"]]}
    )
    assert offers.status_code == 201 and [o["status"] for o in offers.json()] == ["offered", "offered"]
    by_interpreter = {o["interpreter"]: o["id"] for o in offers.json()}
    token = {i["id"]: i["link"].rsplit("/", 1)[1] for i in (first, second)}
    # one interpreter cannot answer another's offer
    stolen = await client.post(f"/api/interpreters/{token[second['id']]}/offers/{by_interpreter[first['id']]}/accept")
    assert stolen.status_code == 404
    won = await client.post(f"/api/interpreters/{token[first['id']]}/offers/{by_interpreter[first['id']]}/accept")
    assert won.status_code == 200 and won.json()["status"] == "accepted"
    late = await client.post(f"/api/interpreters/{token[second['id']]}/offers/{by_interpreter[second['id']]}/accept")
    assert late.status_code == 409 and late.json()["code"] == "offer_taken"
    held = (await client.get(f"{MISSIONS}/{mission['id']}", headers=auth(staff))).json()
    assert (held["status"], held["interpreter"]) == ("assigned", first["id"])


async def test_staff_see_only_their_organisations_pool_and_missions(client, conn, staff) -> None:
    mission = await add_mission(client, staff, at(monday(), 10))
    await add_interpreter(client, staff)
    _, other = await create_organiser(conn, {"cefis": "organiser"})
    assert (await client.get(f"{MISSIONS}/{mission['id']}", headers=auth(other))).status_code == 404
    assert (await client.get(f"{MISSIONS}/{mission['id']}/candidates", headers=auth(other))).status_code == 404
    # a later page is refused the same way: the mission is checked before its ranking is read
    later = await client.get(f"{MISSIONS}/{mission['id']}/candidates?cursor=0.8.1", headers=auth(other))
    assert later.status_code == 404
    assert (
        await client.patch(f"{MISSIONS}/{mission['id']}", json={"urgency": "urgent"}, headers=auth(other))
    ).status_code == 404
    assert (await client.get("/api/organiser/interpreters", headers=auth(other))).json() == []
    foreign = await client.post("/api/organiser/interpreters", json=interpreter_body(), headers=auth(other))
    assert foreign.status_code == 404


async def test_an_interpreter_records_hours_only_on_their_own_begun_missions(client, conn, staff) -> None:
    mine, theirs = await add_interpreter(client, staff), await add_interpreter(client, staff)
    mission = await add_mission(client, staff, at(monday(), 10))
    await client.patch(f"{MISSIONS}/{mission['id']}", json={"interpreter": mine["id"]}, headers=auth(staff))
    token = mine["link"].rsplit("/", 1)[1]
    early = await client.post(f"/api/interpreters/{token}/missions/{mission['id']}/hours", json={"minutes": 75})
    assert early.status_code == 409
    # the mission is over: moved a month back, as time would
    await conn.execute(
        "UPDATE interpretation_missions SET starts_at = starts_at - interval '30 days', "
        "ends_at = ends_at - interval '30 days' WHERE id = $1",
        mission["id"],
    )
    other_token = theirs["link"].rsplit("/", 1)[1]
    assert (
        await client.post(f"/api/interpreters/{other_token}/missions/{mission['id']}/hours", json={"minutes": 75})
    ).status_code == 404
    done = await client.post(f"/api/interpreters/{token}/missions/{mission['id']}/hours", json={"minutes": 75})
    assert done.status_code == 200 and (done.json()["status"], done.json()["minutes_spent"]) == ("done", 75)


async def test_staff_record_and_correct_hours_of_a_begun_mission_of_their_own_organisation(client, conn, staff) -> None:
    interpreter = await add_interpreter(client, staff)
    mission = await add_mission(client, staff, at(monday(), 10))
    hours = f"{MISSIONS}/{mission['id']}/hours"
    # no interpreter yet, then not begun yet: refused, nothing recorded
    assert (await client.post(hours, json={"minutes": 60}, headers=auth(staff))).status_code == 409
    await client.patch(f"{MISSIONS}/{mission['id']}", json={"interpreter": interpreter["id"]}, headers=auth(staff))
    refused = await client.post(hours, json={"minutes": 60}, headers=auth(staff))
    assert refused.status_code == 409 and refused.json()["code"] == "mission_not_begun"
    await conn.execute(
        "UPDATE interpretation_missions SET starts_at = starts_at - interval '30 days', "
        "ends_at = ends_at - interval '30 days' WHERE id = $1",
        mission["id"],
    )
    # out of range, another organisation's staff, a viewer: refused
    assert (await client.post(hours, json={"minutes": -5}, headers=auth(staff))).status_code == 422
    _, other = await create_organiser(conn, {"cefis": "organiser"})
    assert (await client.post(hours, json={"minutes": 60}, headers=auth(other))).status_code == 404
    assert await conn.fetchval("SELECT minutes_spent FROM interpretation_missions WHERE id = $1", mission["id"]) is None
    done = await client.post(hours, json={"minutes": 90}, headers=auth(staff))
    assert done.status_code == 200 and (done.json()["status"], done.json()["minutes_spent"]) == ("done", 90)
    corrected = await client.post(hours, json={"minutes": 80}, headers=auth(staff))
    assert corrected.json()["minutes_spent"] == 80
    audited = await conn.fetch(
        "SELECT detail FROM audit_log WHERE action = 'mission_done' AND detail->>'mission' = $1 ORDER BY id",
        str(mission["id"]),
    )
    assert [(row["detail"]["minutes"], row["detail"]["corrected"]) for row in audited] == [(90, False), (80, True)]


async def test_taking_the_interpreter_off_a_mission_is_audited_as_such(client, conn, staff) -> None:
    interpreter = await add_interpreter(client, staff)
    mission = await add_mission(client, staff, at(monday(), 10))
    for body in ({"interpreter": interpreter["id"]}, {"interpreter": None}):
        assert (await client.patch(f"{MISSIONS}/{mission['id']}", json=body, headers=auth(staff))).status_code == 200
    actions = await conn.fetch(
        "SELECT action, detail->'interpreter' AS who FROM audit_log WHERE detail->>'mission' = $1 "
        "AND action <> 'mission_created' ORDER BY id",
        str(mission["id"]),
    )
    assert [(r["action"], r["who"]) for r in actions] == [
        ("mission_assigned", interpreter["id"]),
        ("mission_unassigned", None),
    ]


async def test_missions_lose_their_personal_data_after_the_retention_but_keep_their_figures(
    client,
    conn,
    settings,
    staff,
) -> None:
    from server.interpretation.retention import anonymise_missions

    interpreter = await add_interpreter(client, staff)
    asked = await client.post("/api/interpretation-requests", json=mission_body(at(monday(), 10)))
    mission_id, status_path = asked.json()["id"], asked.json()["status_url"].removeprefix("https://zesummen.test")
    await client.patch(f"{MISSIONS}/{mission_id}", json={"interpreter": interpreter["id"]}, headers=auth(staff))
    recent = await add_mission(client, staff, at(monday(), 14))
    assert await anonymise_missions(conn, settings) == 0
    # the first mission ended longer ago than registrations are kept after their event
    back = settings.anonymise_after + timedelta(days=30)
    await conn.execute(
        "UPDATE interpretation_missions SET starts_at = starts_at - $2::interval, "
        "ends_at = ends_at - $2::interval, minutes_spent = 70 WHERE id = $1",
        mission_id,
        back,
    )
    assert await anonymise_missions(conn, settings) == 1
    row = await conn.fetchrow("SELECT * FROM interpretation_missions WHERE id = $1", mission_id)
    assert (
        row["requester_contact"],
        row["requester_email"],
        row["requester_phone"],
        row["beneficiary_initials"],
        row["notes"],
        row["address"],
        row["status_hash"],
    ) == ("-", "", "", "", "", "", None)
    # what the agency reports stays: languages, field, requester type, hours, interpreter
    assert (row["from_language"], row["field"], row["requester_type"], row["minutes_spent"], row["interpreter_id"]) == (
        "ti",
        "social",
        "social_office",
        70,
        interpreter["id"],
    )
    assert (await client.get(status_path)).status_code == 404
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE status IN ('queued', 'retrying') AND (payload->>'mission')::bigint = $1",
            mission_id,
        )
        == 0
    )
    assert await conn.fetchval("SELECT anonymised_at FROM interpretation_missions WHERE id = $1", recent["id"]) is None
    assert await anonymise_missions(conn, settings) == 0
