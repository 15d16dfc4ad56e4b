"""Staff changing an interpreter of their pool through HTTP: what they send, refusals naming the field, the audit."""

from __future__ import annotations

import pytest

from server.backoffice.labels import ACTIONS
from server.i18n import gettext
from tests.factories import auth, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday

INTERPRETERS = "/api/organiser/interpreters"
MISSIONS = "/api/organiser/interpretation-missions"


@pytest.fixture
async def staff(conn) -> str:
    """An organiser of ASTI, the agency."""
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


async def add_interpreter(client, staff: str, **overrides) -> dict:
    response = await client.post(INTERPRETERS, json=interpreter_body(**overrides), headers=auth(staff))
    assert response.status_code == 201, response.text
    return response.json()


async def test_staff_change_an_interpreter_and_the_change_is_audited(client, conn, staff) -> None:
    ana = await add_interpreter(client, staff, name="Ana Tesfay")
    changed = await client.patch(
        f"{INTERPRETERS}/{ana['id']}",
        headers=auth(staff),
        json={
            "name": "Ana Tesfay-Weber",
            "email": "Ana.Weber@Example.org",
            "phone": "+352 691 000 222",
            "languages": [
                {"code": "ti", "level": "native"},
                {"code": "fr", "level": "C1"},
                {"code": "uk", "level": "B2"},
            ],
            "communes": ["Differdange"],
            "availability": [{"weekday": 2, "starts": "09:00:00", "ends": "12:00:00"}],
        },
    )
    assert changed.status_code == 200, changed.text
    body = changed.json()
    assert (body["name"], body["email"], body["phone"]) == (
        "Ana Tesfay-Weber",
        "ana.weber@example.org",
        "+352 691 000 222",
    )
    assert body["languages"] == [
        {"code": "fr", "level": "C1"},
        {"code": "ti", "level": "native"},
        {"code": "uk", "level": "B2"},
    ]
    assert body["communes"] == ["Differdange"] and body["cantons"] == ["Luxembourg"]  # not sent: kept
    assert body["availability"] == [{"weekday": 2, "starts": "09:00:00", "ends": "12:00:00"}]
    assert body["active"] is True
    listed = {i["id"]: i for i in (await client.get(INTERPRETERS, headers=auth(staff))).json()}
    assert listed[ana["id"]] == body
    audit = await conn.fetch("SELECT action, actor_email, detail FROM audit_log WHERE action = 'interpreter_changed'")
    assert len(audit) == 1 and audit[0]["detail"] == {
        "interpreter": ana["id"],
        "fields": ["name", "email", "phone", "languages", "communes", "availability"],
    }
    # the audit page names the action in each language
    assert [gettext(lang, ACTIONS["interpreter_changed"]) for lang in ("fr", "de", "pt")] == [
        "A modifié un interprète du vivier",
        "Dolmetscherprofil geändert",
        "Alterou um intérprete da bolsa de intérpretes",
    ]


async def test_an_interpreter_taken_out_of_the_pool_is_no_longer_a_candidate_nor_offered(client, staff) -> None:
    ana = await add_interpreter(client, staff)
    mission = (await client.post(MISSIONS, json=mission_body(at(monday(), 10)), headers=auth(staff))).json()
    candidates = f"{MISSIONS}/{mission['id']}/candidates"
    assert [c["id"] for c in (await client.get(candidates, headers=auth(staff))).json()["items"]] == [ana["id"]]
    out = await client.patch(f"{INTERPRETERS}/{ana['id']}", headers=auth(staff), json={"active": False})
    assert out.status_code == 200 and out.json()["active"] is False
    assert (await client.get(candidates, headers=auth(staff))).json()["items"] == []
    offered = await client.post(
        f"{MISSIONS}/{mission['id']}/offers", headers=auth(staff), json={"interpreters": [ana["id"]]}
    )
    assert offered.status_code == 201 and offered.json() == []
    back = await client.patch(f"{INTERPRETERS}/{ana['id']}", headers=auth(staff), json={"active": True})
    assert back.json()["active"] is True
    assert [c["id"] for c in (await client.get(candidates, headers=auth(staff))).json()["items"]] == [ana["id"]]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"name": " "}, "name"),
        ({"email": "not an address"}, "email"),
        ({"phone": "call me"}, "phone"),
        ({"languages": []}, "languages"),
        ({"languages": [{"code": "xx", "level": "C1"}]}, "languages[0].code"),
        ({"languages": [{"code": "ti", "level": "C1"}, {"code": "ti", "level": "B2"}]}, "languages[1].code"),
        ({"communes": ["Atlantis"]}, "communes[0]"),
        ({"availability": [{"weekday": 8, "starts": "09:00:00", "ends": "12:00:00"}]}, "availability[0].weekday"),
        ({"availability": [{"weekday": 1, "starts": "12:00:00", "ends": "09:00:00"}]}, "availability[0].ends"),
        ({"active": "no"}, "active"),
    ],
)
async def test_bad_changes_are_refused_naming_the_field(client, conn, staff, change, field) -> None:
    ana = await add_interpreter(client, staff)
    refused = await client.patch(f"{INTERPRETERS}/{ana['id']}", headers=auth(staff), json=change)
    assert refused.status_code == 422, refused.text
    assert field in [e["field"] for e in refused.json()["errors"]], refused.json()
    assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'interpreter_changed'") == 0


async def test_an_unknown_field_is_refused_by_name(client, staff) -> None:
    ana = await add_interpreter(client, staff)
    refused = await client.patch(f"{INTERPRETERS}/{ana['id']}", headers=auth(staff), json={"salary": 10})
    assert refused.status_code == 422 and "`salary`" in refused.json()["detail"]


async def test_another_organisations_staff_find_no_such_interpreter(client, conn, staff) -> None:
    ana = await add_interpreter(client, staff)
    await add_interpreter(client, staff, email="luc@example.org")
    _, outsider = await create_organiser(conn, {"other": "admin"})
    _, viewer = await create_organiser(conn, {"asti": "viewer"})
    for token in (outsider, viewer):
        refused = await client.patch(f"{INTERPRETERS}/{ana['id']}", headers=auth(token), json={"name": "Mallory"})
        assert refused.status_code == 404, refused.text
    missing = await client.patch(f"{INTERPRETERS}/999999", headers=auth(staff), json={"name": "Nobody"})
    assert missing.status_code == 404
    taken = await client.patch(f"{INTERPRETERS}/{ana['id']}", headers=auth(staff), json={"email": "luc@example.org"})
    assert taken.status_code == 409 and taken.json()["errors"][0]["field"] == "email"
    assert (await conn.fetchval("SELECT name FROM interpreters WHERE id = $1", ana["id"])) != "Mallory"
