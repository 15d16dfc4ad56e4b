"""The door's list narrowed as a name is typed (issue 22 point 9): the same URL answers htmx with the list
alone and anyone else (and htmx restoring its history) with the whole page; the plain search form stays."""

from __future__ import annotations

import pytest

from tests.apps import app_on
from tests.test_backoffice_pages import signed_in, world  # noqa: F401  (the fixture)
from tests.test_backoffice_registrations import desk  # noqa: F401  (the fixture)
from tests.test_pages import csrf_token, text_of

HTMX = {"HX-Request": "true", "HX-Current-URL": "http://localhost/", "HX-Target": "door-list"}


@pytest.fixture
def app(conn, settings):
    return app_on(settings, conn)


async def test_the_door_page_enhances_a_plain_search_form(app, world, desk) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        page = await http.get(desk["base"] + "/checkin", params={"q": "silv"})
    assert page.status_code == 200 and page.headers["vary"] == "Cookie, HX-Request"
    # the form works without JavaScript (a GET of q) and htmx replaces the list alone as one types
    assert f'<form class="door-search" method="get" action="{desk["base"]}/checkin" role="search">' in page.text
    assert f'hx-get="{desk["base"]}/checkin" hx-trigger="input changed delay:250ms, search"' in page.text
    assert 'hx-target="#door-list"' in page.text and '<div id="door-list" aria-live="polite">' in page.text
    assert "hx-on" not in page.text and "<script>" not in page.text
    assert "Ana Silva is here" in text_of(page) and "Bruno" not in page.text


async def test_htmx_gets_the_list_alone_narrowed_to_the_name_typed(app, world, desk) -> None:
    async with signed_in(app, world["organiser"], "en") as http:
        token = csrf_token(await http.get(desk["base"] + "/checkin"))
        bit = await http.get(desk["base"] + "/checkin", params={"q": "  weB "}, headers=HTMX)
        everyone = await http.get(desk["base"] + "/checkin", headers=HTMX)
        nobody = await http.get(desk["base"] + "/checkin", params={"q": "zzz"}, headers=HTMX)
        restored = await http.get(
            desk["base"] + "/checkin", params={"q": "web"}, headers={**HTMX, "HX-History-Restore-Request": "true"}
        )
    assert bit.status_code == 200 and "<html" not in bit.text and "door-counts" not in bit.text
    assert bit.text.lstrip().startswith('<ul class="door-people">')
    assert "Bruno Weber is here" in text_of(bit) and "Ana" not in bit.text
    # its taps carry the search typed and a valid form token
    assert '<input type="hidden" name="q" value="weB">' in bit.text and f'value="{token}"' in bit.text
    assert "Ana Silva is here" in text_of(everyone) and "Bruno Weber is here" in text_of(everyone)
    assert "Carla" not in everyone.text  # the waiting list has no place at the door
    assert "Nobody with a place matches “zzz”." in text_of(nobody)
    assert "<html" in restored.text and "door-counts" in restored.text


async def test_the_list_alone_refuses_other_organisations_as_the_page_does(app, world, desk) -> None:
    async with signed_in(app, world["caritas_admin"], "en") as http:
        theirs = await http.get(desk["base"] + "/checkin", params={"q": "a"}, headers=HTMX)
        missing = await http.get("/organiser/events/no-such-event/checkin", params={"q": "a"}, headers=HTMX)
    assert theirs.status_code == missing.status_code == 404
    assert "Ana" not in theirs.text and text_of(theirs) == text_of(missing)
