"""Schemathesis against the OpenAPI schema of a real service process: every operation, organiser ones
authenticated, with the stateful phase. `make test` runs a bounded number of cases with a fixed seed;
`make fuzz` runs many more with a fresh seed (FUZZ_EXAMPLES, FUZZ_SEED).

Its hooks (tests/fuzz_hooks.py) put what the outside review sent among the generated inputs: control
characters in texts, paths and queries, instants at the edge of the calendar, loose email addresses,
endless RRULEs; its check fails any 2xx answer to them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import secrets
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import httpx
import msgspec
import pytest

from server.communes.asking import create_request
from server.communes.schemas import CommuneRequestIn
from server.db import create_database, drop_database, init_connection
from server.dev.demo import load_programme
from server.organisers.service import create_admin
from server.processes import running_web
from server.settings import ROOT, load_settings
from server.validation import local_today
from tests.factories import insert_registration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("FUZZ_SEED", "20261201")
REPORT_DIR = ROOT / "tests" / "artifacts" / "schemathesis"
CONFIG = REPORT_DIR / "schemathesis.toml"
HOOKS = ROOT / "tests" / "fuzz_hooks.py"
OPENAPI = REPORT_DIR / "openapi.json"
ATTACKS = REPORT_DIR / "attacks.txt"


async def _prepare(server_url: str, name: str) -> tuple[str, str]:
    """A database of its own with the demo programme and an administrator; returns (url, token)."""
    url = await create_database(server_url, name)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    settings = load_settings(database_url=url, secret_key="fuzz-secret")
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        await load_programme(conn, settings, local_today())
        tokens = [
            (await create_admin(conn, email, settings.token_ttl)).token
            for email in ("fuzz@example.lu", "logout@example.lu")
        ]
        # also one of the department's reviewers, so that the subsidies' review operations are fuzzed past 403
        await conn.execute("UPDATE organisers SET is_reviewer = true WHERE email = 'fuzz@example.lu'")
        # manage tokens reach people by mail only, so the fuzzer is handed one to go deeper than 404
        registration, manage = await insert_registration(
            conn, settings, "portugais-seconde-generation", status="pending"
        )
        # a commune's request, so that the staff's request operations are fuzzed past their 404
        await create_request(
            conn,
            msgspec.convert(
                {
                    "commune": "esch-sur-alzette",
                    "requester_type": "ccci",
                    "contact_name": "Fuzz",
                    "email": "fuzz@example.lu",
                    "subject": "testimonies",
                    "consent": True,
                },
                CommuneRequestIn,
            ),
            settings,
            "127.0.0.1",
        )
        request_id = await conn.fetchval("SELECT max(id) FROM commune_requests")
        CONFIG.write_text(
            f'[parameters]\n"path.token" = "{manage}"\n"path.registration_id" = {registration["id"]}\n'
            f'"path.request_id" = {request_id}\n'
        )
    finally:
        await conn.close()
    return url, tokens


@pytest.fixture(scope="module")
def fuzzed_service() -> Iterator[tuple[str, list[str]]]:
    """The service as `make run` runs it (granian), on a database the fuzzer may fill with anything."""
    server_url = os.environ["DATABASE_URL"]
    name = f"zesummen_fuzz_{secrets.token_hex(4)}"
    url, tokens = asyncio.run(_prepare(server_url, name))
    env = {"DATABASE_URL": url, "SECRET_KEY": "fuzz-secret", "NOTIFIER": "0", "BASE_URL": "https://fuzz.zesummen.test"}
    try:
        with running_web(env) as base_url:
            # the hooks read the schema to tell one-line texts from multi-line ones
            OPENAPI.write_bytes(httpx.get(f"{base_url}/schema/openapi.json", timeout=30).content)
            yield base_url, tokens
    finally:
        asyncio.run(drop_database(server_url, name))


def schemathesis(base_url: str, token: str, *selection: str) -> subprocess.CompletedProcess:
    """One schemathesis run with every check and phase, authenticated as an administrator."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).with_name("schemathesis")),
        "--config-file",
        str(CONFIG),
        "run",
        f"{base_url}/schema/openapi.json",
        # positive_data_acceptance wants every schema-valid request accepted; rules across fields
        # (registration closes after it opens, a session's commune is one of Luxembourg's) cannot
        # be written in JSON Schema, so their 422s are right and that check is left out
        "--checks",
        "all",
        "--exclude-checks",
        "positive_data_acceptance",
        "--phases",
        "examples,coverage,fuzzing,stateful",
        "--max-examples",
        str(EXAMPLES),
        "--seed",
        SEED,
        # one worker: CPython 3.11 can fail ast.parse run from two threads at once (SystemError seen here)
        "--workers",
        "1",
        "--header",
        f"Authorization: Bearer {token}",
        "--generation-database",
        "none",
        "--no-color",
        "--request-timeout",
        "20",
        "--report",
        "junit",
        "--report-dir",
        str(REPORT_DIR),
        *selection,
    ]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "FUZZ_OPENAPI": str(OPENAPI), "FUZZ_ATTACKS": str(ATTACKS)}
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=ROOT, env=env)


# the run grows with every endpoint (about 150 s alone, 240 s on a busy machine): the subprocess's own
# timeout above guards against a hang, so the suite's 300 s must not cut a slow but sound run
@pytest.mark.timeout(900)
def test_no_operation_answers_5xx_contradicts_its_schema_or_takes_bad_input(fuzzed_service) -> None:
    base_url, (token, logout_token) = fuzzed_service
    ATTACKS.unlink(missing_ok=True)
    # logging out revokes the token the rest of the run uses, and the reviewers' list can take the run's
    # account off it (then closing a subsidy file is refused outright): each gets a run of its own, after it
    logout, reviewers = "/api/organiser/logout", "/api/organiser/subsidies/reviewers/{organiser_id}"
    for done in (
        schemathesis(base_url, token, "--exclude-path", logout, "--exclude-path", reviewers),
        schemathesis(base_url, token, "--include-path", reviewers),
        schemathesis(base_url, logout_token, "--include-path", logout),
    ):
        print(done.stdout[done.stdout.find("API Operations:") :])
        assert done.returncode == 0, f"schemathesis found problems:\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}"
        # the token works everywhere; the login's own 401s (no account has a password here) are its answer
        refused = done.stdout.partition("Authentication failed")[2].partition("💡")[0]
        assert set(re.findall(r"- ([A-Z]+ /\S+)", refused)) <= {"POST /api/organiser/login"}, refused
    # the review's inputs were among the cases, on public and organiser operations, and were checked
    sent = {tuple(line.split(" ", 3)) for line in ATTACKS.read_text().splitlines()}
    kinds = {(method, path, what) for method, path, _, what in sent}
    for expected in [
        ("GET", "/api/events", "an instant out of range"),
        ("GET", "/calendar.ics", "an instant out of range"),
        ("GET", "/api/events", "a control character"),
        ("POST", "/api/events/{slug}/registrations", "a control character"),
        ("POST", "/api/events/{slug}/registrations", "an email address that is not one"),
        ("POST", "/api/organiser/events", "a control character"),
        ("POST", "/api/organiser/events", "an instant out of range"),
        ("PATCH", "/api/organiser/events/{slug}", "a control character"),
    ]:
        assert expected in kinds, (expected, sorted(kinds))
    print(f"{len(sent)} kinds of attack sent (operation, status, attack)")


def test_the_fuzzers_check_would_flag_what_the_review_sent(tmp_path, monkeypatch) -> None:
    """The check is not vacuous: each input of the review, answered 2xx, is a failure."""
    from server.app import create_app

    app = create_app(load_settings(database_url="postgresql://unused/unused", secret_key="fuzz-secret"))
    (tmp_path / "openapi.json").write_text(json.dumps(app.openapi_schema.to_schema()))
    monkeypatch.setenv("FUZZ_OPENAPI", str(tmp_path / "openapi.json"))
    from tests.fuzz_hooks import bad_inputs

    class Operation:
        def __init__(self, method: str, path: str):
            self.method, self.path = method, path

    class Case:
        def __init__(self, method: str, path: str, body=None, query=None, path_parameters=None):
            self.operation = Operation(method, path)
            self.body, self.query, self.path_parameters = body, query, path_parameters

    flagged = [
        Case("POST", "/api/organiser/events", body={"join_url": "https://meet.example.org/x\n"}),
        Case("POST", "/api/organiser/events", body={"slug": "evening\n"}),
        Case("POST", "/api/organiser/events", body={"registration_opens_at": "0001-01-01T00:00:00+23:59"}),
        Case(
            "POST",
            "/api/organiser/events",
            body={"recurrence": {"rrule": "FREQ=WEEKLY;INTERVAL=0;COUNT=3", "exdates": ["9999-12-31T23:59:59-23:59"]}},
        ),
        Case("POST", "/api/events/{slug}/registrations", body={"email": "x1,victim@example.org"}),
        Case("GET", "/api/events", query={"from": "0001-01-01T00:00:00+23:59"}),
        Case("GET", "/calendar.ics", query={"to": "9999-12-31T23:59:59-23:59"}),
        Case("GET", "/api/events/{slug}", path_parameters={"slug": "x\n"}),
    ]
    for case in flagged:
        assert list(bad_inputs(case)), (case.operation.path, case.body, case.query)
    fine = Case(
        "POST",
        "/api/organiser/events",
        body={"description": {"fr": "Two\nlines\tand a tab"}, "starts_at": "2027-01-12T18:30:00+01:00"},
    )
    assert list(bad_inputs(fine)) == []
    # OPTIONS reads no body: a body schemathesis sends along is not the service's to refuse
    assert list(bad_inputs(Case("OPTIONS", "/api/organiser/login", body={"email": "0@0.0"}))) == []
