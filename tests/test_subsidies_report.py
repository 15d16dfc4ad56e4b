"""The actual budget of the after-project report on the page (issue 26): the provisional lines to fill in,
shown against the provisional amounts, a mistyped amount next to its field with everything kept."""

from __future__ import annotations

from datetime import timedelta

from server.subsidies import deadlines
from tests.test_pages import csrf_token, text_of
from tests.test_subsidies_pages import form, people, signed_in, start_draft  # noqa: F401  (the fixture)


async def eligible_request(conn, http) -> int:
    """A draft saved through the page (1,200.50 € of expenses), then found eligible."""
    application_id, token = await start_draft(http)
    saved = await http.post(
        f"/organiser/subsidies/{application_id}", data=form(token, deadlines.today_in_luxembourg() + timedelta(days=50))
    )
    assert saved.status_code == 303
    await conn.execute(
        "UPDATE subsidy_applications SET status = 'eligible', submitted_at = now(), amount_granted_cents = 90000 "
        "WHERE id = $1",
        application_id,
    )
    return application_id


def report(token: str, **changes: str) -> dict[str, str]:
    data = {
        "csrf_token": token,
        "what_happened": "Quatre soirées.",
        "attendance": "40",
        "actual_kind_0": "expense",
        "actual_category_0": "Salle",
        "actual_amount_0": "1300",
        "actual_kind_1": "own",
        "actual_category_1": "Fonds propres",
        "actual_amount_1": "350",
        "actual_kind_2": "requested",
        "actual_category_2": "Demande",
        "actual_amount_2": "1000",
        "actual_kind_3": "expense",
        "actual_category_3": "Affiches",
        "actual_amount_3": "50,00",
    }
    data.update(changes)
    return data


async def test_the_report_form_lists_the_provisional_lines_and_files_the_actual_budget(conn, settings, people) -> None:  # noqa: F811
    async with signed_in(conn, settings, people["asti"]) as http:
        application_id = await eligible_request(conn, http)
        path = f"/organiser/subsidies/{application_id}"
        page = await http.get(path)
        assert 'name="actual_category_0" value="Salle"' in page.text
        assert 'name="actual_amount_0" value=""' in page.text  # the provisional lines, to fill in
        assert "Provisional (EUR)" in page.text and "€1,200.50" in text_of(page)
        filed = await http.post(f"{path}/report", data=report(csrf_token(page)))
        assert filed.status_code == 303 and filed.headers["location"].endswith("done=reported")
        shown = await http.get(path)
        text = text_of(shown)
        assert "Actual expenses: €1,350.00 (provisional budget: €1,200.50)." in text
        # each line against its provisional amount; the new line has none
        assert "Expense Salle — €1,200.50 1300.00" in text and "Expense Affiches — — 50.00" in text
    lines = await conn.fetch(
        "SELECT kind, category, amount_cents FROM subsidy_budget_lines WHERE application_id = $1 AND phase = 'actual' "
        "ORDER BY position",
        application_id,
    )
    assert [tuple(line) for line in lines] == [
        ("expense", "Salle", 130000),
        ("own", "Fonds propres", 35000),
        ("requested", "Demande", 100000),
        ("expense", "Affiches", 5000),
    ]


async def test_a_mistyped_actual_amount_comes_back_next_to_the_budget_with_everything_typed(
    conn,
    settings,
    people,  # noqa: F811
) -> None:
    async with signed_in(conn, settings, people["asti"], lang="de") as http:
        application_id = await eligible_request(conn, http)
        path = f"/organiser/subsidies/{application_id}"
        page = await http.get(path)
        refused = await http.post(
            f"{path}/report", data=report(csrf_token(page), actual_amount_1="-350", what_happened="Gardé")
        )
        assert refused.status_code == 422
        assert 'id="f-actual_budget-error"' in refused.text
        assert "Bitte geben Sie jeden tatsächlichen Betrag in Euro an" in text_of(refused)
        assert 'name="actual_amount_1" value="-350"' in refused.text
        assert 'name="actual_category_3" value="Affiches"' in refused.text and ">Gardé</textarea>" in refused.text
        too_much = await http.post(f"{path}/report", data=report(csrf_token(refused), actual_amount_0="99999999"))
        assert too_much.status_code == 422 and 'id="f-actual_budget-error"' in too_much.text
    assert await conn.fetchval("SELECT count(*) FROM subsidy_reports WHERE application_id = $1", application_id) == 0
