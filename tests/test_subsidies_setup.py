"""Administrators set organisations' kinds and the reviewer role in the back-office (issue 26): audit-logged,
errors next to the field, CSRF-checked, and missing for anyone who is not an administrator."""

from __future__ import annotations

import pytest

from tests.factories import create_organiser
from tests.test_backoffice_signin import with_password
from tests.test_pages import csrf_token, text_of
from tests.test_subsidies_pages import people, signed_in  # noqa: F401  (the fixture)

PAGE = "/organiser/subsidies/setup"


@pytest.fixture
async def admin(conn):
    person, _ = await create_organiser(conn, {}, is_admin=True)
    await with_password(conn, person.email)
    return person


async def audit(conn, action: str) -> list:
    return await conn.fetch("SELECT actor_id, organisation_id, detail FROM audit_log WHERE action = $1", action)


async def test_an_administrator_records_a_kind_and_cefis_may_then_apply(conn, settings, people, admin) -> None:  # noqa: F811
    async with signed_in(conn, settings, people["cefis"]) as http:
        assert "Start the draft" not in (await http.get("/organiser/subsidies")).text
    async with signed_in(conn, settings, admin, lang="fr") as http:
        listing = await http.get("/organiser/subsidies")
        assert f'href="{PAGE}"' in listing.text
        page = await http.get(PAGE)
        assert page.status_code == 200
        assert 'id="kind-cefis"' in page.text and "Autre type d'organisation" in text_of(page)
        saved = await http.post(
            f"{PAGE}/kinds", data={"csrf_token": csrf_token(page), "organisation": "cefis", "kind": "federation"}
        )
        assert saved.status_code == 303
        shown = await http.get(saved.headers["location"])
        assert "Le type de l'organisation est enregistré." in text_of(shown)
        assert '<option value="federation" selected>' in shown.text
    assert await conn.fetchval("SELECT kind FROM organisations WHERE slug = 'cefis'") == "federation"
    [row] = await audit(conn, "organisation_kind_set")
    assert row["actor_id"] == admin.id and row["detail"] == {"kind": "federation"}
    async with signed_in(conn, settings, people["cefis"]) as http:
        assert "Start the draft" in (await http.get("/organiser/subsidies")).text


async def test_a_kind_that_is_not_one_or_an_unknown_organisation_is_refused(conn, settings, people, admin) -> None:  # noqa: F811
    async with signed_in(conn, settings, admin) as http:
        token = csrf_token(await http.get(PAGE))
        refused = await http.post(f"{PAGE}/kinds", data={"csrf_token": token, "organisation": "cefis", "kind": "club"})
        assert refused.status_code == 422 and "Please choose a kind." in text_of(refused)
        missing = await http.post(f"{PAGE}/kinds", data={"csrf_token": token, "organisation": "nope", "kind": "asbl"})
        assert missing.status_code == 404
        forged = await http.post(f"{PAGE}/kinds", data={"organisation": "cefis", "kind": "asbl"})
        assert forged.status_code == 403
    assert await conn.fetchval("SELECT kind FROM organisations WHERE slug = 'cefis'") == "other"
    assert await audit(conn, "organisation_kind_set") == []


async def test_an_administrator_gives_and_takes_the_reviewer_role(conn, settings, people, admin) -> None:  # noqa: F811
    person = people["clae"]
    async with signed_in(conn, settings, admin) as http:
        page = await http.get(PAGE)
        assert people["reviewer"].email in text_of(page)
        unknown = await http.post(
            f"{PAGE}/reviewers", data={"csrf_token": csrf_token(page), "email": "nobody@example.lu"}
        )
        assert unknown.status_code == 422 and 'id="f-email-error"' in unknown.text
        assert 'value="nobody@example.lu"' in unknown.text  # nothing typed is lost
        added = await http.post(
            f"{PAGE}/reviewers", data={"csrf_token": csrf_token(unknown), "email": person.email.upper()}
        )
        assert added.status_code == 303
        assert await conn.fetchval("SELECT is_reviewer FROM organisers WHERE id = $1", person.id)
        shown = await http.get(added.headers["location"])
        assert "The person now reviews subsidy requests." in text_of(shown)
        assert f'action="{PAGE}/reviewers/{person.id}/remove"' in shown.text
        removed = await http.post(f"{PAGE}/reviewers/{person.id}/remove", data={"csrf_token": csrf_token(shown)})
        assert removed.status_code == 303
    assert not await conn.fetchval("SELECT is_reviewer FROM organisers WHERE id = $1", person.id)
    rows = await audit(conn, "reviewer_set")
    assert [row["detail"] for row in rows] == [
        {"organiser": person.id, "reviewer": True},
        {"organiser": person.id, "reviewer": False},
    ]
    assert all(row["actor_id"] == admin.id for row in rows)


@pytest.mark.parametrize("who", ["asti", "reviewer"])
async def test_the_page_is_missing_for_anyone_but_an_administrator(conn, settings, people, who) -> None:  # noqa: F811
    async with signed_in(conn, settings, people[who]) as http:
        listing = await http.get("/organiser/subsidies")
        assert PAGE not in listing.text
        token = csrf_token(listing)
        assert (await http.get(PAGE)).status_code == 404
        kind = await http.post(f"{PAGE}/kinds", data={"csrf_token": token, "organisation": "asti", "kind": "company"})
        assert kind.status_code == 404
        made = await http.post(f"{PAGE}/reviewers", data={"csrf_token": token, "email": people[who].email})
        assert made.status_code == 404
        removed = await http.post(f"{PAGE}/reviewers/{people['reviewer'].id}/remove", data={"csrf_token": token})
        assert removed.status_code == 404
    assert await conn.fetchval("SELECT kind FROM organisations WHERE slug = 'asti'") == "asbl"
    assert await conn.fetchval("SELECT count(*) FROM organisers WHERE is_reviewer") == 1
    assert await audit(conn, "reviewer_set") == [] and await audit(conn, "organisation_kind_set") == []
