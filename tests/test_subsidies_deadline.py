"""The deadline as a start date is typed (issue 26): the htmx fragment at the 41/42/43-day edges and across
summer time, in the staff member's language, and the same hint on the page without JavaScript."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest

from server.subsidies import deadlines
from tests.apps import app_on
from tests.test_backoffice_signin import browser
from tests.test_pages import text_of
from tests.test_subsidies_pages import form, people, signed_in, start_draft  # noqa: F401  (the fixture)

NOW = datetime(2027, 1, 20, 12, 0, tzinfo=UTC)  # Wednesday 20 January 2027 in Luxembourg


async def hint(http, starts_on: date | str) -> tuple[int, str]:
    value = starts_on if isinstance(starts_on, str) else starts_on.isoformat()
    answer = await http.get(
        "/organiser/subsidies/deadline", params={"starts_on": value}, headers={"HX-Request": "true"}
    )
    assert answer.headers["content-type"].startswith("text/html")
    return answer.status_code, " ".join(answer.text.split())


@pytest.mark.parametrize(
    ("days", "expected"),
    [
        (
            41,
            "Too late: the project starts in fewer than 42 days; the request had to be submitted by "
            "Tuesday, 19 January 2027.",
        ),
        (42, "Submit by Wednesday, 20 January 2027 at the latest."),
        (43, "Submit by Thursday, 21 January 2027 at the latest."),
    ],
)
async def test_the_fragment_names_the_deadline_at_its_edges(conn, settings, people, monkeypatch, days, expected):  # noqa: F811
    monkeypatch.setattr(deadlines, "current_time", lambda: NOW)
    async with signed_in(conn, settings, people["asti"]) as http:
        status, text = await hint(http, date(2027, 1, 20) + timedelta(days=days))
    assert status == 200 and expected in text
    assert ("<strong>" in text) == (days == 41)  # too late stands out
    # the same rule as the submission's
    late = deadlines.lead_time_error(date(2027, 1, 20) + timedelta(days=days), date(2027, 1, 20)) is not None
    assert late == (days == 41)


@pytest.mark.parametrize(
    ("now", "accepted"),
    [
        (datetime(2027, 3, 1, 22, 59, tzinfo=UTC), True),  # 23:59 on 1 March in Luxembourg
        (datetime(2027, 3, 1, 23, 0, tzinfo=UTC), False),  # already 2 March there
    ],
)
async def test_the_fragment_counts_luxembourg_days_across_summer_time(
    conn, settings, people, monkeypatch, now, accepted
):  # noqa: F811
    monkeypatch.setattr(deadlines, "current_time", lambda: now)
    async with signed_in(conn, settings, people["asti"], lang="de") as http:
        status, text = await hint(http, date(2027, 4, 12))  # summer time begins on 28 March
    assert status == 200
    if accepted:
        assert "Spätestens am Montag, 1. März 2027 einzureichen." in text
    else:
        assert "Zu spät: Das Projekt beginnt in weniger als 42 Tagen" in text and "Montag, 1. März 2027" in text


async def test_the_fragment_speaks_the_staff_members_language_and_refuses_what_is_not_a_date(
    conn,
    settings,
    people,  # noqa: F811
    monkeypatch,
) -> None:
    monkeypatch.setattr(deadlines, "current_time", lambda: NOW)
    async with signed_in(conn, settings, people["asti"], lang="fr") as http:
        assert await hint(http, date(2027, 3, 10)) == (200, "À déposer au plus tard le mercredi 27 janvier 2027.")
        assert await hint(http, date(2027, 1, 19)) == (
            200,
            "<strong>Le premier jour ne peut pas être dans le passé.</strong>",
        )
        status, text = await hint(http, "")
        assert status == 200 and "six semaines" in text
        for typed in ("31/12/2027", "2027-02-30", "x" * 41):
            status, _ = await hint(http, typed)
            assert status in (400, 422), typed
        status, text = await hint(http, "2027-13-01")
        assert status == 422 and "Veuillez indiquer le premier jour sous forme de date." in text


async def test_the_fragment_is_for_signed_in_staff_only(conn, settings, people) -> None:  # noqa: F811
    async with browser(app_on(settings, conn)) as http:
        answer = await http.get("/organiser/subsidies/deadline", params={"starts_on": "2027-03-10"})
    assert answer.status_code in (302, 303) and "/organiser/login" in answer.headers["location"]


async def test_without_javascript_the_page_shows_the_same_hint_once_saved(conn, settings, people) -> None:  # noqa: F811
    starts_on = deadlines.today_in_luxembourg() + timedelta(days=41)
    async with signed_in(conn, settings, people["asti"]) as http:
        application_id, token = await start_draft(http)
        path = f"/organiser/subsidies/{application_id}"
        blank = await http.get(path)
        assert 'hx-get="/organiser/subsidies/deadline"' in blank.text and 'hx-target="#f-starts_on-hint"' in blank.text
        saved = await http.post(path, data=form(token, starts_on))
        assert saved.status_code == 303
        page = await http.get(path)
        _, fragment = await hint(http, starts_on)
    assert "Too late: the project starts in fewer than 42 days" in text_of(page)
    assert fragment.replace("<strong>", "").replace("</strong>", "") in text_of(page)
