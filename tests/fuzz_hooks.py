"""Schemathesis hooks and a check for tests/test_fuzz.py: what the outside review sent, among the generated inputs.

A generated request stays as schemathesis made it or has one value replaced by an attack: a control
character in a text, a path or a query value, an instant at the edge of the calendar, an email address
that is several or a look-alike, an RRULE that never ends. The check fails any 2xx answer to a request
that holds one of them (the rest of schemathesis' checks catch a 5xx). Loaded through
SCHEMATHESIS_HOOKS; FUZZ_OPENAPI names the service's OpenAPI document, saved by the test.
"""

from __future__ import annotations

import copy
import json
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import strategies as st

from server.validation import LINES, LINES_NOT_BLANK, canonical_email

SPEC = json.loads(Path(os.environ["FUZZ_OPENAPI"]).read_text())
MULTI_LINE = {LINES, LINES_NOT_BLANK}
# what single-line texts must refuse; multi-line ones keep \n and \t only
CONTROLS = ["\n", "\r", "\x00", "\x0b", "\x1b", "\x7f", "\x85", "\u2028", "\u2029", "\u202e", "\u2066"]
FORBIDDEN = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
FORBIDDEN_IN_LINES = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
INSTANTS = ["0001-01-01T00:00:00+23:59", "9999-12-31T23:59:59-23:59", "1969-12-31T23:59:59Z", "2200-01-01T00:00:00Z"]
DATES = ["0001-01-01", "9999-12-31", "1969-12-31"]
EMAILS = [
    "x1,victim@example.org",
    'a"b@example.org',
    "ana@example.org.",
    "an\u200ba@example.org",
    "\uff41na@example.org",
    "ana@example.org,bob@example.org",
]
RULES = [
    "FREQ=WEEKLY;INTERVAL=0;COUNT=3",
    "FREQ=WEEKLY;INTERVAL=99999;COUNT=3",
    "FREQ=WEEKLY;UNTIL=99991231",
    "FREQ=MONTHLY;INTERVAL=24;BYMONTHDAY=31;COUNT=200",
]
INSTANT_QUERIES = ("from", "to")


def _resolve(schema: dict) -> dict:
    while isinstance(schema, dict) and ("$ref" in schema or "allOf" in schema):
        if "allOf" in schema:
            schema = {**{k: v for k, v in schema.items() if k not in ("allOf", "examples")}, **schema["allOf"][0]}
        else:
            schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]]
    return schema if isinstance(schema, dict) else {}


def _branch(schema: dict) -> dict:
    """The schema of a value that is not null (`oneOf` of a type and null, as Optional fields are written)."""
    schema = _resolve(schema)
    for key in ("oneOf", "anyOf"):
        for branch in schema.get(key, []):
            if _resolve(branch).get("type") != "null":
                return {**{k: v for k, v in schema.items() if k != key}, **_resolve(branch)}
    return schema


def _operation(case_or_operation: Any) -> dict:
    operation = getattr(case_or_operation, "operation", case_or_operation)
    return SPEC["paths"].get(operation.path, {}).get(operation.method.lower(), {})


def _body_schema(operation: Any) -> dict:
    content = (_operation(operation).get("requestBody") or {}).get("content", {})
    return content.get("application/json", {}).get("schema", {})


def _leaves(value: Any, schema: dict, path: tuple = ()) -> Iterator[tuple[tuple, str, dict]]:
    """(path, text, schema) of every string in a body, with the schema of where it stands."""
    schema = _branch(schema)
    if isinstance(value, dict):
        properties = schema.get("properties", {})
        for key, item in value.items():
            yield from _leaves(item, properties.get(key, {}), (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _leaves(item, schema.get("items", {}), (*path, index))
    elif isinstance(value, str):
        yield path, value, schema


def _replaced(body: Any, path: tuple, text: str) -> Any:
    body = copy.deepcopy(body)
    node = body
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = text
    return body


def _attacks(text: str, schema: dict, name: Any) -> list[str]:
    """What the review would have put in place of this value."""
    if schema.get("format") == "date-time":
        return INSTANTS
    if name == "email":
        return EMAILS
    if name == "rrule":
        return RULES
    controls = [c for c in CONTROLS if c != "\n"] if schema.get("pattern") in MULTI_LINE else CONTROLS
    # at the end, where `$` let a newline through, and in the middle
    return [text + c for c in controls] + [text[:1] + c + text[1:] for c in controls[:4]]


@schemathesis.hook
def flatmap_body(context, body):
    """The generated body, or the same with one string replaced by an attack."""
    leaves = list(_leaves(body, _body_schema(context.operation))) if isinstance(body, dict) else []
    if not leaves:
        return st.just(body)
    mutated = st.sampled_from(leaves).flatmap(
        lambda leaf: st.sampled_from(_attacks(leaf[1], leaf[2], leaf[0][-1])).map(
            lambda attack: _replaced(body, leaf[0], attack)
        )
    )
    return st.one_of(st.just(body), mutated)


def _query_names(operation: Any) -> list[str]:
    return [p["name"] for p in _operation(operation).get("parameters", []) if p.get("in") == "query"]


@schemathesis.hook
def flatmap_query(context, query):
    """The generated query, or the same with one value replaced (from and to: instants out of range)."""
    names = _query_names(context.operation)
    if not names:
        return st.just(query)
    base = dict(query or {})

    def attacks(name: str) -> list[str]:
        if name in INSTANT_QUERIES:
            return INSTANTS + DATES
        return [str(base.get(name, "x")) + c for c in CONTROLS]

    # the instants as often as all other values together: they are what made the list and feeds fail
    instants = [name for name in names if name in INSTANT_QUERIES]
    chosen = st.one_of(st.sampled_from(instants), st.sampled_from(names)) if instants else st.sampled_from(names)
    mutated = chosen.flatmap(lambda name: st.sampled_from(attacks(name)).map(lambda attack: {**base, name: attack}))
    return st.one_of(st.just(query), mutated)


@schemathesis.hook
def flatmap_path_parameters(context, path_parameters):
    """The generated path values, or one string among them with a control character."""
    texts = [name for name, value in (path_parameters or {}).items() if isinstance(value, str)]
    if not texts:
        return st.just(path_parameters)
    mutated = st.tuples(st.sampled_from(texts), st.sampled_from(CONTROLS)).map(
        lambda pick: {**path_parameters, pick[0]: path_parameters[pick[0]] + pick[1]}
    )
    return st.one_of(st.just(path_parameters), mutated)


def _out_of_range(text: str) -> bool:
    """An instant (or a date) that exists but lies outside 1970-2200."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return False
    if moment.tzinfo is None:
        return not 1970 <= moment.year < 2200
    try:
        return not 1970 <= moment.astimezone(UTC).year < 2200
    except OverflowError:
        return True


def _not_one_address(text: str) -> bool:
    try:
        canonical_email(text)
    except ValueError:
        return True
    return False


def bad_inputs(case) -> Iterator[str]:
    """What in a request no endpoint may accept."""
    body_schema = _body_schema(case)
    # a body sent where the operation takes none (OPTIONS, HEAD) is not read
    if isinstance(case.body, dict) and body_schema:
        for path, text, schema in _leaves(case.body, body_schema):
            where = ".".join(map(str, path))
            forbidden = FORBIDDEN_IN_LINES if schema.get("pattern") in MULTI_LINE else FORBIDDEN
            if forbidden.search(text):
                yield f"a control character in {where}: {text!r}"
            elif schema.get("format") == "date-time" and _out_of_range(text):
                yield f"an instant out of range in {where}: {text!r}"
            elif path[-1] == "email" and _not_one_address(text):
                yield f"an email address that is not one in {where}: {text!r}"
            elif path[-1] == "rrule" and re.search(r"INTERVAL=(0|[0-9]{3,})\b|UNTIL=9", text, re.I):
                yield f"an RRULE out of bounds in {where}: {text!r}"
    declared = set(_query_names(case))
    for name, value in (case.query or {}).items():
        if name not in declared:
            continue  # ignored by the service, as any parameter it does not know
        if isinstance(value, str) and FORBIDDEN.search(value):
            yield f"a control character in the query's {name}: {value!r}"
        elif name in INSTANT_QUERIES and isinstance(value, str) and _out_of_range(value):
            yield f"an instant out of range in the query's {name}: {value!r}"
    for name, value in (case.path_parameters or {}).items():
        if isinstance(value, str) and FORBIDDEN.search(value):
            yield f"a control character in the path's {name}: {value!r}"


@schemathesis.check
def refuses_control_characters_bad_instants_and_loose_addresses(ctx, response, case):
    """No 2xx for a request holding what the review sent (control characters, instants out of range...)."""
    found = list(bad_inputs(case))
    if found and os.environ.get("FUZZ_ATTACKS"):
        # which operations got which attacks, for the test to see that they were sent
        with open(os.environ["FUZZ_ATTACKS"], "a") as record:
            record.write(f"{case.method} {case.path} {response.status_code} {found[0].split(' in ')[0]}\n")
    if found and 200 <= response.status_code < 300:
        raise AssertionError(f"{case.method} {case.path} answered {response.status_code} to {found[0]}")
