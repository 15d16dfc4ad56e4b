"""The HTML pages fuzzed with hypothesis: they are not in the OpenAPI schema (they are no API), so
schemathesis (test_fuzz.py) does not reach them. Any path, query string or form a browser or a bot
can send gets an answer below 500, as an HTML page, and the data behind the forms stays sound."""

from __future__ import annotations

import re
from urllib.parse import quote

import asyncpg
import httpx
from hypothesis import HealthCheck, Phase, event, example, given
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st

from server.settings import Settings
from tests.apps import app_on
from tests.factories import create_event
from tests.test_pages import client_for, csrf_token

# any text an HTTP client can send: every plane, controls and NUL included, no lone surrogates
anything = st.text(st.characters(exclude_categories=("Cs",)), max_size=80)
# values the pages know, mixed with anything, so that the fuzzer also gets past the first check
known = st.sampled_from(
    [
        "fr",
        "de",
        "lb",
        "en",
        "pt",
        "xx",
        "webconference",
        "info_session",
        "conversation_table",
        "Esch-sur-Alzette",
        "yes",
        "no",
        "",
        "1759000000000000.1",
        "confirmed",
        "pending",
        "series",
    ]
)
value = st.one_of(known, anything)
query = st.dictionaries(
    st.sampled_from(
        ["lang", "kind", "spoken", "commune", "cursor", "outcome", "done", "whole_series", "q", "limit", "from"]
    ),
    value,
    max_size=5,
)
FIELDS = [
    "name",
    "email",
    "language",
    "consent",
    "commune",
    "interpretation",
    "accessibility",
    "whole_series",
    "confirm_erase",
    "csrf_token",
    "website",
]
form = st.dictionaries(st.sampled_from(FIELDS), value, max_size=len(FIELDS))
segment = st.one_of(known, anything, st.just("a" * 300), st.just(".ics"))
FUZZ = hypothesis_settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    phases=(Phase.explicit, Phase.generate),
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def assert_page(answer: httpx.Response) -> None:
    """Below 500, and a page with its language when it is HTML."""
    assert answer.status_code < 500, (answer.request.method, str(answer.request.url), answer.text[:500])
    if answer.headers.get("content-type", "").startswith("text/html"):
        assert re.search(r'<html lang="(fr|de|lb|en|pt)"', answer.text), answer.text[:300]


@FUZZ
@given(
    path=st.sampled_from(
        ["/", "/events/{}", "/events/{}/registered", "/r/{}", "/privacy", "/erased", "/static/{}", "/events/{}.ics"]
    ),
    part=segment,
    params=query,
    accept_language=st.one_of(st.none(), anything, known),
)
async def test_any_get_of_a_page_is_answered_below_500(
    conn: asyncpg.Connection,
    settings: Settings,
    path: str,
    part: str,
    params: dict[str, str],
    accept_language: str | None,
) -> None:
    # as UTF-8 bytes, as some clients send them; CR, LF and NUL never get past a real server
    header = accept_language.encode() if accept_language is not None else None
    headers = {"accept-language": header} if header is not None and not set(header) & {0, 10, 13} else {}
    async with client_for(app_on(settings, conn)) as pages:
        try:
            answer = await pages.get(path.format(quote(part, safe="")), params=params, headers=headers)
        except httpx.InvalidURL:  # a URL the client itself refuses to send (too long a component...)
            return
    assert_page(answer)


VALID = {"name": " Ana Silva ", "email": "Ana.Silva@Example.org", "language": "pt", "consent": "yes"}
# a valid form with some fields changed or left out, so that the accepted path is fuzzed as well
registration_form = st.builds(
    lambda changed, dropped: {k: v for k, v in {**VALID, **changed}.items() if k not in dropped},
    form,
    st.sets(st.sampled_from(list(VALID))),
)


@FUZZ
@given(fields=registration_form, params=query, with_token=st.booleans())
@example(fields=VALID, params={}, with_token=True)
@example(fields={**VALID, "name": "Ana\x00"}, params={}, with_token=True)
async def test_any_registration_form_is_answered_below_500_and_writes_only_sound_rows(
    conn: asyncpg.Connection,
    settings: Settings,
    fields: dict[str, str],
    params: dict[str, str],
    with_token: bool,
) -> None:
    # each example in a savepoint of the test's transaction, so that one cannot hide another's failure
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        slug = await fuzz_event(conn, settings)
        async with client_for(app_on(settings, conn)) as pages:
            page = await pages.get(f"/events/{slug}")
            if with_token:  # past the CSRF check, so that the form's own checks are fuzzed
                fields = {**fields, "csrf_token": csrf_token(page)}
            answer = await pages.post(f"/events/{slug}/register", params=params, data=fields)
        assert_page(answer)
        event(f"answered {answer.status_code}")  # --hypothesis-show-statistics shows how many got past each check
        assert answer.status_code in (303, 403, 404, 409, 422, 429), answer.status_code
        # what the form wrote is what the rules allow: a name, an address, a known language, a
        # seat only while there is one
        rows = await conn.fetch(
            "SELECT r.name, r.email, r.language, r.status FROM registrations r "
            "JOIN events e ON e.id = r.event_id WHERE e.slug = $1",
            slug,
        )
    finally:
        await savepoint.rollback()
    if answer.status_code == 303:
        # accepted: one row, holding what the person typed, tidied as the rules say
        [row] = rows
        assert row["name"] == fields["name"].strip() and row["email"] == fields["email"].strip().lower()
        assert row["language"] == fields["language"] and row["status"] == "pending"
    else:  # refused: nothing written
        assert rows == []


@FUZZ
@given(action=st.sampled_from(["confirm", "cancel", "erase"]), token=segment, fields=form, params=query)
async def test_any_manage_form_is_answered_below_500(
    conn: asyncpg.Connection,
    settings: Settings,
    action: str,
    token: str,
    fields: dict[str, str],
    params: dict[str, str],
) -> None:
    savepoint = conn.transaction()
    await savepoint.start()
    try:
        async with client_for(app_on(settings, conn)) as pages:
            # a form token from any page passes the CSRF check of every form (it is bound to the cookie)
            page = await pages.get(f"/events/{await fuzz_event(conn, settings)}")
            fields = {**fields, "csrf_token": csrf_token(page)}
            try:
                answer = await pages.post(f"/r/{quote(token, safe='')}/{action}", params=params, data=fields)
            except httpx.InvalidURL:
                return
    finally:
        await savepoint.rollback()
    assert_page(answer)


async def fuzz_event(conn: asyncpg.Connection, settings: Settings) -> str:
    """A small event for one example."""
    return (await create_event(conn, settings, title={"fr": "Fuzz des formulaires"}, capacity=3)).slug
