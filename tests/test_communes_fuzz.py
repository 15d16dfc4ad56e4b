"""The commune request's HTML forms fuzzed with hypothesis (schemathesis does not reach pages): any form
a browser or a bot sends gets a page below 500, and a request is stored only when it is sound."""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import quote

import asyncpg
from hypothesis import example, given
from hypothesis import strategies as st

from server.settings import Settings
from server.validation import local_today
from tests.apps import app_on
from tests.factories import create_organisation
from tests.test_pages import client_for, csrf_token
from tests.test_pages_fuzz import FUZZ, anything, assert_page, query, segment

SOON = (local_today() + timedelta(days=40)).isoformat()
known = st.sampled_from(
    [
        "fr",
        "de",
        "xx",
        "",
        "yes",
        "no",
        "esch-sur-alzette",
        "Esch-sur-Alzette",
        "atlantis",
        "ccci",
        "testimonies",
        "ar",
        "12",
        "-3",
        "9999999",
        SOON,
        "2020-01-01",
        "1 rue de la Gare",
    ]
)
value = st.one_of(known, anything)
FIELDS = [
    "commune",
    "requester_type",
    "contact_name",
    "email",
    "phone",
    "language",
    "subject",
    "audience_size",
    "audience_languages",
    "interpretation",
    "venue",
    "step_free",
    "message",
    "consent",
    "website",
    "preferred_from_1",
    "preferred_to_1",
    "preferred_from_3",
]
VALID = {
    "commune": "esch-sur-alzette",
    "requester_type": "ccci",
    "contact_name": " Ana ",
    "email": "Ana@Example.lu",
    "language": "pt",
    "subject": "testimonies",
    "consent": "yes",
    "preferred_from_1": SOON,
}
request_form = st.builds(
    lambda changed, dropped: {k: v for k, v in {**VALID, **changed}.items() if k not in dropped},
    st.dictionaries(st.sampled_from(FIELDS), value, max_size=6),
    st.sets(st.sampled_from(list(VALID))),
)


@FUZZ
@given(fields=request_form, params=query)
@example(fields=VALID, params={})
@example(fields={**VALID, "contact_name": "Ana\x00"}, params={})
async def test_any_request_form_is_answered_below_500_and_stores_only_sound_requests(
    conn: asyncpg.Connection,
    settings: Settings,
    fields: dict[str, str],
    params: dict[str, str],
) -> None:
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        await create_organisation(conn, "asti", "ASTI")
        async with client_for(app_on(settings, conn)) as pages:
            page = await pages.get("/communes/request")
            answer = await pages.post(
                "/communes/request", params=params, data={**fields, "csrf_token": csrf_token(page)}
            )
        rows = await conn.fetch("SELECT contact_name, email, commune, preferred FROM commune_requests")
    finally:
        await savepoint.rollback()
    assert_page(answer)
    assert answer.status_code in (303, 422, 429), answer.status_code
    if answer.status_code == 303 and not fields.get("website"):
        [row] = rows
        assert row["contact_name"] == fields["contact_name"].strip() and row["commune"] == "Esch-sur-Alzette"
        assert row["email"] == fields["email"].strip().lower()
    else:
        assert rows == []


@FUZZ
@given(token=segment, body=value, params=query)
async def test_any_answer_on_a_status_page_is_answered_below_500(
    conn: asyncpg.Connection,
    settings: Settings,
    token: str,
    body: str,
    params: dict[str, str],
) -> None:
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        async with client_for(app_on(settings, conn)) as pages:
            page = await pages.get("/communes/request")
            try:
                answer = await pages.post(
                    f"/requests/{quote(token, safe='')}/reply",
                    params=params,
                    data={"body": body, "csrf_token": csrf_token(page)},
                )
                shown = await pages.get(f"/requests/{quote(token, safe='')}", params=params)
            except Exception as exc:  # a URL the client itself refuses to send
                if type(exc).__name__ != "InvalidURL":
                    raise
                return
    finally:
        await savepoint.rollback()
    assert_page(answer)
    assert_page(shown)
