"""Issue 20, items 3, 4, 5 and part of 10, sent as the attacker sent them: email addresses that are
several or none, control characters in every one-line field, instants at the edge of the calendar,
RRULEs that never end, time zones that are not places, off-site links on the 404 page, and what a
taken slug reveals."""

from __future__ import annotations

import html
import re
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin, urlsplit
from zoneinfo import ZoneInfo

import httpx
import pytest

from server.notifications.worker import Notifier
from server.validation import LINES, LINES_NOT_BLANK
from tests.apps import app_on
from tests.factories import auth, create_event, create_organisation, create_organiser, event_body, registration_body
from tests.test_pages import csrf_token

UTC = UTC
LUX = ZoneInfo("Europe/Luxembourg")
HTML = {"accept": "text/html"}


# ---------------------------------------------------------------------------- email addresses

# what the review sent, and look-alikes: never a registration, whatever else the request holds
REFUSED_ADDRESSES = [
    "x1,victim@example.org",  # two recipients for a lax parser
    "ana@example.org,victim@example.org",
    'a"b@example.org',  # a quote
    '"ana victim"@example.org',  # a quoted local part
    "Ana <victim@example.org>",  # a display name
    "ana@example.org.",  # trailing dot
    "ana.@example.org",
    "an\u200ba@example.org",  # zero-width space in the local part
    "ana@exa\u200bmple.org",  # ... in the domain
    "ana@exa\u00admple.org",  # soft hyphen
    "\uff41na@example.org",  # fullwidth a: another mailbox that reads the same
    "ana\u202e@example.org",  # right-to-left override
    "ana@example.org\n",
    "ana@example.org victim@example.org",
    "ana@localhost",
]
# valid, and stored in the one canonical form
NORMALISED_ADDRESSES = [
    ("Ana@EXAMPLE.ORG", "ana@example.org"),
    ("ana@Bücher.LU", "ana@xn--bcher-kva.lu"),  # IDN domain: IDNA, lower-case
    ("ana@bu\u0308cher.lu", "ana@xn--bcher-kva.lu"),  # the same typed decomposed (NFD)
    ("ana@XN--BCHER-KVA.lu", "ana@xn--bcher-kva.lu"),
    ("ana@\uff45\uff58ample.org", "ana@example.org"),  # fullwidth letters of a domain fold (UTS 46)
]


async def _registrations_of(conn, slug: str) -> list[str]:
    return [
        r["email"]
        for r in await conn.fetch(
            "SELECT r.email FROM registrations r JOIN events e ON e.id = r.event_id WHERE e.slug = $1", slug
        )
    ]


@pytest.mark.parametrize("address", REFUSED_ADDRESSES)
async def test_a_loose_email_address_is_refused_by_the_api(client, conn, settings, address) -> None:
    event = await create_event(conn, settings)
    answer = await client.post(f"/api/events/{event.slug}/registrations", json=registration_body(email=address))
    assert answer.status_code == 422, answer.text
    assert [e["field"] for e in answer.json()["errors"]] == ["email"]
    assert await _registrations_of(conn, event.slug) == []


@pytest.mark.parametrize(("address", "stored"), NORMALISED_ADDRESSES)
async def test_a_valid_address_is_stored_in_its_canonical_form(client, conn, settings, address, stored) -> None:
    event = await create_event(conn, settings)
    answer = await client.post(f"/api/events/{event.slug}/registrations", json=registration_body(email=address))
    assert answer.status_code == 202, answer.text
    assert await _registrations_of(conn, event.slug) == [stored]
    # the outbox (daily caps, envelope) knows the same address
    assert {
        r["recipient"]
        for r in await conn.fetch(
            "SELECT recipient FROM outbox o JOIN events e ON e.id = o.event_id WHERE e.slug = $1", event.slug
        )
    } == {stored}


async def test_spellings_of_one_address_get_one_seat(client, conn, settings) -> None:
    event = await create_event(conn, settings, capacity=10)
    for address in ("ana@bücher.lu", "ANA@BÜCHER.LU", "ana@xn--bcher-kva.lu", "Ana@Bu\u0308cher.lu", "ana@ｂücher.lu"):
        answer = await client.post(f"/api/events/{event.slug}/registrations", json=registration_body(email=address))
        assert answer.status_code == 202, (address, answer.text)
    assert await _registrations_of(conn, event.slug) == ["ana@xn--bcher-kva.lu"]


async def test_the_organisers_api_takes_the_same_addresses(client, conn, settings) -> None:
    event = await create_event(conn, settings)
    _, token = await create_organiser(conn, {"asti": "organiser"})
    url = f"/api/organiser/events/{event.slug}/registrations"
    refused = await client.post(url, headers=auth(token), json={"name": "Ana", "email": "x1,victim@example.org"})
    assert refused.status_code == 422 and refused.json()["errors"][0]["field"] == "email"
    added = await client.post(url, headers=auth(token), json={"name": "Ana", "email": "Ana@Bücher.LU", "notify": False})
    assert added.status_code == 201 and added.json()["email"] == "ana@xn--bcher-kva.lu"
    patched = await client.patch(
        f"/api/organiser/registrations/{added.json()['id']}",
        headers=auth(token),
        json={"email": "ana@example.org\u200b"},
    )
    assert patched.status_code == 422 and patched.json()["errors"][0]["field"] == "email"
    login = await client.post("/api/organiser/login", json={"email": "a,b@example.org", "password": "x"})
    assert login.status_code == 422 and login.json()["errors"][0]["field"] == "email"


@pytest.fixture
async def pages(conn, settings) -> AsyncIterator[httpx.AsyncClient]:
    app = app_on(settings, conn)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="https://testserver", headers=HTML
    ) as http:
        yield http


async def _form(pages: httpx.AsyncClient, slug: str, lang: str, **fields: str) -> httpx.Response:
    page = await pages.get(f"/events/{slug}", params={"lang": lang})
    data = {"csrf_token": csrf_token(page), "name": "Ana Silva", "language": "pt", "consent": "yes", **fields}
    return await pages.post(f"/events/{slug}/register?lang={lang}", data=data)


# (the form strips the spaces and line breaks around what was typed, as it does for every field)
@pytest.mark.parametrize(
    "address",
    [
        "x1,victim@example.org",
        'a"b@example.org',
        "ana@example.org.",
        "an\u200ba@example.org",
        "\uff41na@example.org",
        "ana\u202e@example.org",
    ],
)
async def test_the_form_refuses_a_loose_address_next_to_the_field_in_the_persons_language(
    pages, conn, settings, address
) -> None:
    event = await create_event(conn, settings)
    answer = await _form(pages, event.slug, "de", email=address)
    assert answer.status_code == 422
    error = re.search(r'<p class="field-error" id="f-email-error">.*?</p>', answer.text, re.S)
    assert error and "Bitte geben Sie eine E-Mail-Adresse wie name@example.lu an." in html.unescape(error.group(0))
    assert await _registrations_of(conn, event.slug) == []


async def test_the_form_stores_a_valid_address_normalised(pages, conn, settings) -> None:
    event = await create_event(conn, settings)
    for address in ("Ana@Bücher.LU", " ana@xn--bcher-kva.lu ", "ANA@BU\u0308CHER.LU"):
        assert (await _form(pages, event.slug, "fr", email=address)).status_code == 303
    assert await _registrations_of(conn, event.slug) == ["ana@xn--bcher-kva.lu"]


@pytest.fixture
async def notifier_api(notifier_conn, notifier_settings) -> AsyncIterator[httpx.AsyncClient]:
    app = app_on(notifier_settings, notifier_conn)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as http:
        yield http


async def test_the_smtp_envelope_is_exactly_the_stored_address(
    notifier_api, notifier_conn, notifier_pool, notifier_settings, smtp_server
) -> None:
    event = await create_event(notifier_conn, notifier_settings)
    # a name that a header parser could read as more addresses
    body = registration_body(name='Ana, victim@example.org "<other@example.org>"', email="Ana@Bücher.LU")
    assert (await notifier_api.post(f"/api/events/{event.slug}/registrations", json=body)).status_code == 202
    stored = await notifier_conn.fetchval("SELECT email FROM registrations")
    assert stored == "ana@xn--bcher-kva.lu"
    await Notifier(notifier_settings).drain(notifier_pool)
    received = await smtp_server.wait_for(1)
    assert received and all(m.rcpt_tos == [stored] for m in received), [m.rcpt_tos for m in received]
    assert all(m.message["To"].addresses[0].addr_spec == stored for m in received)


# ---------------------------------------------------------------------------- control characters

BAD_CHARACTERS = ["\n", "\r", "\x00", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\u2066"]
# what a valid value of a string schema may be, tried in order against its pattern and lengths
CANDIDATES = [
    "ana.silva@example.org",
    "Europe/Luxembourg",
    "https://example.org/x",
    "FREQ=WEEKLY;COUNT=2",
    "2027-01-12T18:30:00+01:00",
    "PT1H",
    "asti",
    "fr",
    "A text",
    "x" * 12,
]


def _resolve(spec: dict, schema: dict) -> dict:
    while "$ref" in schema or "allOf" in schema:
        if "allOf" in schema:  # a body with examples: allOf of its one $ref
            schema = {**{k: v for k, v in schema.items() if k not in ("allOf", "examples")}, **schema["allOf"][0]}
        else:
            schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema


def _branches(spec: dict, schema: dict) -> list[dict]:
    schema = _resolve(spec, schema)
    branches = schema.get("oneOf") or schema.get("anyOf")
    if branches:
        return [
            {**{k: v for k, v in schema.items() if k not in ("oneOf", "anyOf")}, **_resolve(spec, b)}
            for b in branches
            if _resolve(spec, b).get("type") != "null"
        ]
    return [schema]


def _valid(spec: dict, schema: dict) -> Any:
    """A value the schema takes (decoding at least; rules across fields are the service's)."""
    schema = _branches(spec, schema)[0]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object":
        required = set(schema.get("required", []))
        return {name: _valid(spec, sub) for name, sub in schema.get("properties", {}).items() if name in required}
    if kind == "array":
        return [_valid(spec, schema["items"]) for _ in range(schema.get("minItems", 0))]
    if kind == "boolean":
        return True
    if kind == "integer":
        return max(schema.get("minimum", 1), 1)
    formats = {"date-time": "2027-01-12T18:30:00+01:00", "duration": "PT1H", "date": "2027-01-12"}
    if schema.get("format") in formats:
        return formats[schema["format"]]
    for candidate in [*schema.get("examples", []), *CANDIDATES]:
        if (
            isinstance(candidate, str)
            and len(candidate) >= schema.get("minLength", 0)
            and len(candidate) <= schema.get("maxLength", 10**9)
            and re.search(schema.get("pattern", ""), candidate)
        ):
            return candidate
    raise AssertionError(f"no valid value known for {schema}")


def _string_fields(spec: dict, schema: dict, path: str = "") -> list[tuple[str, dict]]:
    """(path such as `title.fr` or `topics[0]`, schema) of every string a body may hold, at any depth."""
    found = []
    for branch in _branches(spec, schema):
        kind = branch.get("type")
        if kind == "object":
            for name, sub in branch.get("properties", {}).items():
                found += _string_fields(spec, sub, f"{path}.{name}" if path else name)
        elif kind == "array":
            found += _string_fields(spec, branch["items"], f"{path}[0]")
        elif kind == "string" and "enum" not in branch and branch.get("format") not in ("date-time", "duration"):
            found.append((path, branch))
    return found


def _with(body: Any, spec: dict, schema: dict, path: str, value: str) -> Any:
    """`body` with the string at `path` set to `value` (and what leads to it made up)."""
    parts = re.findall(r"[^.\[\]]+|\[0\]", path)
    root = {"body": body}
    node, key, current = root, "body", schema
    for part in parts:
        current = _branches(spec, current)[0]
        if node[key] is None:
            node[key] = _valid(spec, current)
        if part == "[0]":
            if not node[key]:
                node[key] = [_valid(spec, current["items"])]
            node, key, current = node[key], 0, current["items"]
        else:
            node[key].setdefault(part, _valid(spec, current["properties"][part]))
            node, key, current = node[key], part, current["properties"][part]
    node[key] = value
    return root["body"]


async def test_no_single_line_field_of_any_json_body_takes_a_control_character(client, conn) -> None:
    """Every operation of the OpenAPI schema with a JSON body, every string in it: a field added later is covered."""
    _, token = await create_organiser(conn, is_admin=True)
    spec = (await client.get("/schema/openapi.json")).json()
    tried: list[str] = []
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            content = (operation.get("requestBody") or {}).get("content", {})
            if "application/json" not in content:
                continue
            schema = content["application/json"]["schema"]
            url = re.sub(r"\{[^}]*id\}", "1", re.sub(r"\{slug\}|\{token\}", "x", route)).replace("{year}", "2027")
            for n, (field, field_schema) in enumerate(_string_fields(spec, schema)):
                multi_line = field_schema.get("pattern") in (LINES, LINES_NOT_BLANK)
                for bad in (
                    ["\x0b", "\x00", "\u2028", "\u202e"]
                    if multi_line
                    else ["\n", BAD_CHARACTERS[n % len(BAD_CHARACTERS)]]
                ):
                    body = _with(_valid(spec, schema), spec, schema, field, f"ok{bad}ok")
                    answer = await client.request(method.upper(), url, json=body, headers=auth(token))
                    assert answer.status_code == 422, (method, route, field, repr(bad), answer.text)
                    assert field in [e["field"] for e in answer.json()["errors"]], (route, field, answer.text)
                    assert "\\A" not in answer.text  # words, not a regular expression
                tried.append(f"{method} {route} {field}")
    # the fields the review named, among the many covered
    for expected in (
        "post /api/organiser/events join_url",
        "post /api/organiser/events slug",
        "post /api/organiser/events title.fr",
        "post /api/organiser/events venue",
        "post /api/organiser/events commune",
        "post /api/organiser/events recurrence.rrule",
        "post /api/organiser/events topics[0]",
        "patch /api/organiser/events/{slug} join_url",
        "post /api/events/{slug}/registrations name",
        "post /api/events/{slug}/registrations email",
        "post /api/organiser/organisations name",
        "post /api/organiser/events/{slug}/messages subject",
        "post /api/organiser/events/{slug}/messages body",
    ):
        assert expected in tried, expected
    assert len(tried) > 50, tried


async def test_multi_line_fields_keep_line_breaks_and_tabs(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    body = event_body(description={"fr": "Première ligne\n\tdeuxième ligne"}, summary={"fr": "Un\nrésumé"})
    answer = await client.post("/api/organiser/events", json=body, headers=auth(token))
    assert answer.status_code == 201, answer.text
    assert answer.json()["description"]["fr"] == "Première ligne\n\tdeuxième ligne"


async def test_a_join_link_ending_in_a_newline_is_refused_and_feeds_stay_up(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    answer = await client.post(
        "/api/organiser/events", json=event_body(join_url="https://meet.example.org/x\n"), headers=auth(token)
    )
    assert answer.status_code == 422 and answer.json()["errors"][0]["field"] == "join_url"
    assert "an http or https URL" in answer.json()["errors"][0]["message"]
    event = await create_event(conn, settings)
    patched = await client.patch(
        f"/api/organiser/events/{event.slug}", json={"join_url": "https://x.example/\r\n"}, headers=auth(token)
    )
    assert patched.status_code == 422
    slug = await client.post("/api/organiser/events", json=event_body(slug="evening\n"), headers=auth(token))
    assert slug.status_code == 422 and slug.json()["errors"][0]["field"] == "slug"
    assert (await client.get("/calendar.ics")).status_code == 200


CONTROLLED_QUERIES = [
    ("/api/events", {"q": "caf\n"}),
    ("/api/events", {"commune": "Esch\x00"}),
    ("/api/events", {"organisation": "asti\n"}),
    ("/api/events", {"lang": "fr\u2028"}),
    ("/api/events", {"cursor": "1.2\n"}),
    ("/calendar.ics", {"q": "a\u202eb"}),
    ("/calendar.ics", {"commune": "x\x85"}),
    ("/api/events/x%0A", {}),
    ("/api/registrations/abc%0A", {}),
    ("/organisations/asti%0A/calendar.ics", {}),
    ("/api/registrations/abc%0A/calendar.ics", {}),
]


async def test_control_characters_in_a_query_or_path_are_a_422(client) -> None:
    for path, params in CONTROLLED_QUERIES:
        answer = await client.get(path, params=params)
        assert answer.status_code == 422, (path, params, answer.text)
        assert answer.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------------------- instants

EXTREMES = [
    "0001-01-01T00:00:00+23:59",
    "9999-12-31T23:59:59-23:59",
    "1969-12-31T23:59:59Z",
    "2200-01-01T00:00:00Z",
    "0001-01-01",
    "9999-12-31",
]


@pytest.mark.parametrize("path", ["/api/events", "/calendar.ics"])
async def test_an_instant_at_the_edge_of_the_calendar_is_a_422_in_words(client, path) -> None:
    for name in ("from", "to"):
        for value in EXTREMES:
            answer = await client.get(path, params={name: value})
            assert answer.status_code == 422, (name, value, answer.text)
            [error] = answer.json()["errors"]
            assert error["field"] == name
            assert "a date such as 2026-12-01, between 1970 and 2200" in error["message"]
            assert "\\A" not in answer.text and "[0-9]" not in answer.text


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"registration_opens_at": "0001-01-01T00:00:00+23:59"}, "registration_opens_at"),
        ({"registration_closes_at": "9999-12-31T23:59:59-23:59"}, "registration_closes_at"),
        ({"starts_at": "9999-12-31T23:59:59-23:59"}, "starts_at"),
        ({"ends_at": "0001-01-01T00:00:00+23:59"}, "ends_at"),
        (
            {"recurrence": {"rrule": "FREQ=WEEKLY;COUNT=3", "exdates": ["9999-12-31T23:59:59-23:59"]}},
            "recurrence.exdates[0]",
        ),
        (
            {"recurrence": {"rrule": "FREQ=WEEKLY;COUNT=3", "exdates": ["0001-01-01T00:00:00+23:59"]}},
            "recurrence.exdates[0]",
        ),
    ],
)
async def test_event_instants_outside_1970_to_2200_are_refused(client, conn, change, field) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    answer = await client.post("/api/organiser/events", json=event_body(**change), headers=auth(token))
    assert answer.status_code == 422, answer.text
    assert answer.json()["errors"][0]["field"] == field
    if not field.startswith("recurrence"):  # the body is refused before the event is looked for
        patched = await client.patch("/api/organiser/events/any", json=change, headers=auth(token))
        assert patched.status_code == 422 and patched.json()["errors"][0]["field"] == field


@pytest.mark.parametrize(("day", "season"), [((2027, 1, 15), "winter"), ((2027, 7, 1), "summer")])
async def test_a_plain_date_is_the_start_of_that_day_in_luxembourg(client, conn, settings, day, season) -> None:
    midnight = datetime(*day, tzinfo=LUX)
    org = await create_organisation(conn)

    async def event_starting(at: datetime) -> str:
        return (
            await create_event(
                conn,
                settings,
                organisation=org["slug"],
                starts_at=at.isoformat(),
                ends_at=(at + timedelta(minutes=15)).isoformat(),
            )
        ).slug

    # half an hour before and after midnight in Luxembourg: both before midnight UTC, so a date read
    # in UTC would put both on the same side
    before = await event_starting(midnight - timedelta(minutes=30))
    after = await event_starting(midnight + timedelta(minutes=30))
    text = midnight.date().isoformat()
    # `from`: events ending after that instant
    listed = await client.get("/api/events", params={"from": text, "organisation": org["slug"], "limit": 100})
    assert listed.status_code == 200, listed.text
    assert [item["slug"] for item in listed.json()["items"]] == [after], season
    # `to`: events starting before it
    starting = await client.get("/api/events", params={"to": text, "from": "2026-12-08", "organisation": org["slug"]})
    assert [item["slug"] for item in starting.json()["items"]] == [before], season
    feed = await client.get("/calendar.ics", params={"from": text})
    assert feed.status_code == 200


# ---------------------------------------------------------------------------- recurrence

BAD_RULES = [
    "FREQ=WEEKLY;INTERVAL=0;COUNT=3",
    "FREQ=WEEKLY;INTERVAL=-1;COUNT=3",
    "FREQ=WEEKLY;INTERVAL=99999;COUNT=3",
    "FREQ=MONTHLY;INTERVAL=53;COUNT=3",
    "FREQ=WEEKLY;COUNT=0",
    "FREQ=WEEKLY;COUNT=201",
    "FREQ=WEEKLY;UNTIL=99991231",
    "FREQ=WEEKLY;UNTIL=00010101",
    "FREQ=WEEKLY;UNTIL=20270230",
    "FREQ=WEEKLY;COUNT=3;UNTIL=20271231",
    "FREQ=WEEKLY;COUNT=3;COUNT=4",
    "FREQ=WEEKLY;COUNT=3;BYHOUR=25",
    "FREQ=WEEKLY;COUNT=3;BYMONTHDAY=0",
    "FREQ=WEEKLY;COUNT=3\n",
    "FREQ=WEEKLY;;COUNT=3",
]


async def test_an_rrule_out_of_bounds_is_a_422(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    for rule in BAD_RULES:
        answer = await client.post(
            "/api/organiser/events", json=event_body(recurrence={"rrule": rule}), headers=auth(token)
        )
        assert answer.status_code == 422, (rule, answer.text)
        assert answer.json()["errors"][0]["field"] == "recurrence.rrule"


async def test_an_rrule_that_rarely_matches_is_read_for_two_years_at_most(client, conn) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    started = time.monotonic()
    # the 31st of every 24th month from a month of 30 days: never within the series' span
    start = datetime(2027, 4, 30, 18, 0, tzinfo=LUX)
    body = event_body(
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=1)).isoformat(),
        recurrence={"rrule": "FREQ=MONTHLY;INTERVAL=24;BYMONTHDAY=31;COUNT=200"},
    )
    answer = await client.post("/api/organiser/events", json=body, headers=auth(token))
    assert answer.status_code == 422 and "no occurrence" in answer.json()["detail"], answer.text
    assert time.monotonic() - started < 2


# ---------------------------------------------------------------------------- time zones


async def test_a_time_zone_is_an_iana_name(client, conn, settings) -> None:
    _, token = await create_organiser(conn, {"asti": "organiser"})
    event = await create_event(conn, settings)
    for zone in (
        "localtime",
        "Factory",
        "posixrules",
        "../etc/passwd",
        "/etc/localtime",
        "Europe/Luxembourg\n",
        "Mars/Olympus_Mons",
        "posix/Europe/Paris",
    ):
        created = await client.post("/api/organiser/events", json=event_body(timezone=zone), headers=auth(token))
        assert created.status_code == 422 and created.json()["errors"][0]["field"] == "timezone", (zone, created.text)
        patched = await client.patch(
            f"/api/organiser/events/{event.slug}", json={"timezone": zone}, headers=auth(token)
        )
        assert patched.status_code == 422 and patched.json()["errors"][0]["field"] == "timezone", (zone, patched.text)
    fine = await client.post(
        "/api/organiser/events", json=event_body(timezone="America/Sao_Paulo"), headers=auth(token)
    )
    assert fine.status_code == 201, fine.text


# ---------------------------------------------------------------------------- the 404 page and taken slugs


async def test_the_404_pages_links_stay_on_this_site(pages) -> None:
    for path in (
        "//evil.example/x",
        "/\\evil.example",
        "/%2F%2Fevil.example",
        "/%5Cevil.example/x",
        "///evil.example",
        "/\\/evil.example",
    ):
        answer = await pages.get(httpx.URL("https://testserver" + path))
        assert answer.status_code == 404, path
        hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]*)"', answer.text)]
        languages = [h for h in hrefs if "lang=" in h]
        assert len(languages) == 5, (path, hrefs)
        for href in hrefs:
            assert not href.startswith(("//", "/\\", "\\")), (path, href)
            assert urlsplit(urljoin("https://testserver/a/b", href)).netloc == "testserver", (path, href)


async def test_a_taken_slug_says_only_that_it_is_not_available_and_proposes_a_free_one(client, conn, settings) -> None:
    await create_event(conn, settings, organisation="clae", slug="secret-plan", publish=False)  # another's draft
    mine = await create_event(conn, settings, organisation="asti", slug="our-evening")  # one's own, published
    _, token = await create_organiser(conn, {"asti": "organiser"})
    answers = [
        await client.post("/api/organiser/events", json=event_body(slug=slug), headers=auth(token))
        for slug in ("secret-plan", mine.slug)
    ]
    for answer, slug in zip(answers, ("secret-plan", mine.slug), strict=True):
        assert answer.status_code == 409, answer.text
        problem = answer.json()
        assert problem["code"] == "slug_unavailable"
        assert problem["detail"] == f"This slug is not available; '{slug}-2' is."
        assert not re.search(r"draft|taken|clae|organisation", answer.text, re.I)
    # both answers have the same form: nothing tells a draft elsewhere from one's own event
    assert answers[0].json().keys() == answers[1].json().keys()
    proposed = await client.post("/api/organiser/events", json=event_body(slug="secret-plan-2"), headers=auth(token))
    assert proposed.status_code == 201, proposed.text


async def test_a_real_token_or_slug_followed_by_a_newline_finds_nothing(client, pages, conn, settings) -> None:
    from tests.factories import insert_registration

    event = await create_event(conn, settings)
    _, token = await insert_registration(conn, settings, event.slug)
    assert (await client.get(f"/api/registrations/{token}")).status_code == 200
    assert (await client.get(f"/api/registrations/{token}%0A")).status_code == 422
    assert (await pages.get(f"/r/{token}%0A")).status_code == 404  # `$` once matched before the newline
    assert (await client.get(f"/api/events/{event.slug}%0A")).status_code == 422
    assert (await pages.get(f"/events/{event.slug}%0A")).status_code == 404
    page = await pages.get(f"/events/{event.slug}")
    posted = await pages.post(
        f"/events/{event.slug}%0A/register",
        data={"csrf_token": csrf_token(page), "name": "Ana", "email": "ana@example.org", "consent": "yes"},
    )
    assert posted.status_code in (400, 404, 422)
    assert "ana@example.org" not in await _registrations_of(conn, event.slug)
