"""Each interpreter's missions per month (interpreter_months, 0041): the count follows every change of a held
mission, in Luxembourg's months, under concurrent transactions too; the candidates keep their ranking.
"""

from __future__ import annotations

import asyncio
import secrets
from datetime import date, timedelta

import asyncpg
import msgspec
import pytest

from server.interpretation import service
from server.interpretation.pool import create_interpreter
from server.interpretation.schemas import InterpreterIn, MissionIn
from server.settings import Settings
from tests.factories import ADMIN, auth, create_organisation, create_organiser
from tests.interpretation_helpers import at, interpreter_body, mission_body, monday

MISSIONS = "/api/organiser/interpretation-missions"

# the held missions counted afresh, as the candidates query counted them before 0041
RECOUNT = """
SELECT interpreter_id, date_trunc('month', starts_at AT TIME ZONE 'Europe/Luxembourg')::date AS month, count(*)::int
FROM interpretation_missions WHERE status IN ('assigned', 'done') AND interpreter_id = ANY($1::bigint[])
GROUP BY 1, 2
"""
KEPT = "SELECT interpreter_id, month, missions FROM interpreter_months WHERE interpreter_id = ANY($1::bigint[])"


@pytest.fixture
async def staff(conn) -> str:
    """An organiser of ASTI, the agency."""
    await create_organisation(conn, "asti")
    _, token = await create_organiser(conn, {"asti": "organiser"})
    return token


async def add_interpreter(client, staff: str, **overrides) -> int:
    response = await client.post("/api/organiser/interpreters", json=interpreter_body(**overrides), headers=auth(staff))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def add_mission(client, staff: str, starts_at, **overrides) -> int:
    response = await client.post(MISSIONS, json=mission_body(starts_at, **overrides), headers=auth(staff))
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def change(client, staff: str, mission_id: int, **patch) -> None:
    response = await client.patch(f"{MISSIONS}/{mission_id}", json=patch, headers=auth(staff))
    assert response.status_code == 200, response.text


async def months(conn, *interpreters: int) -> dict[tuple[int, date], int]:
    """The counts kept, without the months gone back to zero; checked against a fresh count."""
    kept = {(r[0], r[1]): r[2] for r in await conn.fetch(KEPT, list(interpreters)) if r[2]}
    assert kept == {(r[0], r[1]): r[2] for r in await conn.fetch(RECOUNT, list(interpreters))}
    return kept


def month_of(day: date) -> date:
    return day.replace(day=1)


async def test_the_count_follows_assign_reassign_move_done_unassign_and_cancel(client, conn, staff) -> None:
    ana, ben = await add_interpreter(client, staff), await add_interpreter(client, staff)
    day = monday()
    later = day + timedelta(weeks=5)  # a Monday of a later month
    this, next_ = month_of(day), month_of(later)
    mission = await add_mission(client, staff, at(day, 10))
    assert await months(conn, ana, ben) == {}
    await change(client, staff, mission, interpreter=ana)
    assert await months(conn, ana, ben) == {(ana, this): 1}
    await change(client, staff, mission, interpreter=ben)
    assert await months(conn, ana, ben) == {(ben, this): 1}
    await change(client, staff, mission, starts_at=at(later, 10).isoformat(), ends_at=at(later, 11).isoformat())
    assert await months(conn, ana, ben) == {(ben, next_): 1}
    await change(client, staff, mission, status="done")
    assert await months(conn, ana, ben) == {(ben, next_): 1}
    other = await add_mission(client, staff, at(later, 14))
    await change(client, staff, other, interpreter=ben)
    assert await months(conn, ana, ben) == {(ben, next_): 2}
    await change(client, staff, other, interpreter=None)
    assert await months(conn, ana, ben) == {(ben, next_): 1}
    await change(client, staff, other, interpreter=ana)
    await change(client, staff, other, status="cancelled")
    assert await months(conn, ana, ben) == {(ben, next_): 1}
    # what the candidates show is the count kept
    third = await add_mission(client, staff, at(later, 16))
    ranked = (await client.get(f"{MISSIONS}/{third}/candidates", headers=auth(staff))).json()["items"]
    assert [(c["id"], c["missions_this_month"]) for c in ranked] == [(ana, 0), (ben, 1)]


async def test_the_month_is_luxembourgs(client, conn, staff) -> None:
    ana = await add_interpreter(client, staff)
    first = (month_of(monday()) + timedelta(days=62)).replace(day=1)  # a month's first day, weeks ahead
    # half past midnight on the first is still the evening before in UTC
    mission = await add_mission(client, staff, at(first, 0, 30), remote="phone", place=None)
    await change(client, staff, mission, interpreter=ana)
    assert await months(conn, ana) == {(ana, first): 1}


async def test_the_ranking_is_fewest_missions_this_month_then_levels_then_id(client, conn, staff) -> None:
    day = monday()
    native = [{"code": "fr", "level": "native"}, {"code": "ti", "level": "native"}]
    busy = await add_interpreter(client, staff, name="Native, one mission", languages=native)
    weak = await add_interpreter(
        client, staff, name="B2 both", languages=[{"code": "fr", "level": "B2"}, {"code": "ti", "level": "B2"}]
    )
    first = await add_interpreter(client, staff, name="Native", languages=native)
    second = await add_interpreter(client, staff, name="Native too", languages=native)
    mixed = await add_interpreter(
        client,
        staff,
        name="C1 and native",
        languages=[{"code": "fr", "level": "C1"}, {"code": "ti", "level": "native"}],
    )
    held = await add_mission(client, staff, at(day, 8), remote="phone", place=None)
    await change(client, staff, held, interpreter=busy)
    # a mission in another month counts for that month only
    elsewhere = await add_mission(client, staff, at(day + timedelta(weeks=5), 9), remote="phone", place=None)
    await change(client, staff, elsewhere, interpreter=first)
    mission = await add_mission(client, staff, at(day, 10))
    ranked = (await client.get(f"{MISSIONS}/{mission}/candidates", headers=auth(staff))).json()["items"]
    assert [c["id"] for c in ranked] == [first, second, mixed, weak, busy]
    assert [c["missions_this_month"] for c in ranked] == [0, 0, 0, 0, 1]


async def test_a_capped_interpreter_drops_out_when_the_month_fills(client, conn, staff) -> None:
    day = monday()
    capped = await add_interpreter(client, staff, monthly_cap=1)
    mission = await add_mission(client, staff, at(day, 10))
    ranked = (await client.get(f"{MISSIONS}/{mission}/candidates", headers=auth(staff))).json()["items"]
    assert [c["id"] for c in ranked] == [capped]
    held = await add_mission(client, staff, at(day, 8), remote="phone", place=None)
    await change(client, staff, held, interpreter=capped)
    assert (await client.get(f"{MISSIONS}/{mission}/candidates", headers=auth(staff))).json()["items"] == []
    await change(client, staff, held, status="cancelled")
    assert len((await client.get(f"{MISSIONS}/{mission}/candidates", headers=auth(staff))).json()["items"]) == 1


# ------------------------------------------------------------------ concurrent transactions (committed data)


@pytest.fixture
async def committed(pool: asyncpg.Pool, settings: Settings):
    """A committed organisation with two interpreters and missions made on demand; all deleted afterwards."""
    slug = f"load-{secrets.token_hex(4)}"
    async with pool.acquire() as conn:
        await create_organisation(conn, slug)

    async def interpreter() -> int:
        body = msgspec.convert(interpreter_body(organisation=slug), InterpreterIn)
        async with pool.acquire() as conn:
            return (await create_interpreter(conn, ADMIN, body, settings)).id

    async def mission(starts_at) -> int:
        body = msgspec.convert(mission_body(starts_at, organisation=slug, remote="video", place=None), MissionIn)
        async with pool.acquire() as conn:
            return (await service.create_mission(conn, ADMIN, body, settings)).id

    try:
        yield interpreter, mission
    finally:
        await pool.execute("DELETE FROM organisations WHERE slug = $1", slug)


ASSIGN = "UPDATE interpretation_missions SET status = 'assigned', interpreter_id = $2 WHERE id = $1"


async def blocked(task: asyncio.Task) -> bool:
    """Whether a statement is still waiting (for a lock) a moment after it was sent."""
    await asyncio.sleep(0.3)
    return not task.done()


async def test_two_first_missions_of_a_month_assigned_at_once_count_two(pool, committed) -> None:
    interpreter, mission = committed
    ana = await interpreter()
    day = monday(5)
    one, two = await mission(at(day, 9)), await mission(at(day, 14))
    async with pool.acquire() as first, pool.acquire() as second:
        first_tx, second_tx = first.transaction(), second.transaction()
        await first_tx.start()
        await first.execute(ASSIGN, one, ana)  # inserts the month's row, not yet committed
        await second_tx.start()
        waiting = asyncio.create_task(second.execute(ASSIGN, two, ana))
        assert await blocked(waiting)  # the second insert of that row waits for the first
        await first_tx.commit()
        await waiting  # then adds one to it
        await second_tx.commit()
    assert await months(pool, ana) == {(ana, month_of(day)): 2}


async def test_missions_swapping_interpreters_at_once_keep_the_counts(pool, committed) -> None:
    """Each swap moves one count down and one up; two at once touch the same two rows in opposite directions."""
    interpreter, mission = committed
    ana, ben = await interpreter(), await interpreter()
    day = monday(5)
    one, two = await mission(at(day, 9)), await mission(at(day, 14))
    await pool.execute(ASSIGN, one, ana)
    await pool.execute(ASSIGN, two, ben)
    async with pool.acquire() as first, pool.acquire() as second:
        for turn in range(40):
            holders = (ben, ana) if turn % 2 == 0 else (ana, ben)
            await asyncio.gather(first.execute(ASSIGN, one, holders[0]), second.execute(ASSIGN, two, holders[1]))
    assert await months(pool, ana, ben) == {(ana, month_of(day)): 1, (ben, month_of(day)): 1}


async def test_the_languages_spoken_follow_the_pool(client, conn, staff) -> None:
    """The candidates read each interpreter's levels from `speaks`, kept from interpreter_languages."""
    ana = await add_interpreter(client, staff, languages=[{"code": "fr", "level": "B2"}, {"code": "ti", "level": "C1"}])

    async def speaks() -> dict[str, str]:
        return await conn.fetchval("SELECT speaks FROM interpreters WHERE id = $1", ana)

    assert await speaks() == {"fr": "B2", "ti": "C1"}
    languages = [{"code": "fr", "level": "native"}, {"code": "ar", "level": "C2"}]
    answer = await client.patch(
        f"/api/organiser/interpreters/{ana}", json={"languages": languages}, headers=auth(staff)
    )
    assert answer.status_code == 200, answer.text
    assert await speaks() == {"fr": "native", "ar": "C2"}
    await conn.execute("UPDATE interpreter_languages SET level = 'B1' WHERE interpreter_id = $1 AND code = 'ar'", ana)
    await conn.execute("DELETE FROM interpreter_languages WHERE interpreter_id = $1 AND code = 'fr'", ana)
    assert await speaks() == {"ar": "B1"}
    mission = await add_mission(client, staff, at(monday(), 10), from_language="ar")
    assert (await client.get(f"{MISSIONS}/{mission}/candidates", headers=auth(staff))).json()["items"] == []
    await conn.execute("INSERT INTO interpreter_languages VALUES ($1, 'fr', 'C1')", ana)
    await conn.execute("UPDATE interpreter_languages SET level = 'C2' WHERE interpreter_id = $1 AND code = 'ar'", ana)
    ranked = (await client.get(f"{MISSIONS}/{mission}/candidates", headers=auth(staff))).json()["items"]
    assert [(c["id"], c["from_level"], c["to_level"]) for c in ranked] == [(ana, "C2", "C1")]


async def test_changing_languages_holds_no_assignment_back(pool, committed) -> None:
    """Staff changing an interpreter's languages let a mission be assigned to them meanwhile (0042); the
    control, the row locked FOR UPDATE as 0041's trigger did, holds the assignment's foreign-key check."""
    interpreter, mission = committed
    ana = await interpreter()
    day = monday(5)
    one, two = await mission(at(day, 9)), await mission(at(day, 14))
    level = "UPDATE interpreter_languages SET level = 'C2' WHERE interpreter_id = $1 AND code = 'fr'"
    async with pool.acquire() as editing, pool.acquire() as assigning:
        async with editing.transaction():
            await editing.execute("SELECT 1 FROM interpreters WHERE id = $1 FOR UPDATE", ana)
            waiting = asyncio.create_task(assigning.execute(ASSIGN, one, ana))
            assert await blocked(waiting)  # the control: the wait is seen
        await waiting
        async with editing.transaction():
            await editing.execute(level, ana)  # the trigger locks the interpreter and rewrites `speaks`
            going = asyncio.create_task(assigning.execute(ASSIGN, two, ana))
            assert not await blocked(going)
            await going
    assert await pool.fetchval("SELECT speaks->>'fr' FROM interpreters WHERE id = $1", ana) == "C2"
    assert await months(pool, ana) == {(ana, month_of(day)): 2}
