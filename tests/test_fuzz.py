"""Schemathesis against the OpenAPI schema of a real service process: every operation, organiser ones
authenticated, with the stateful phase. `make test` runs a bounded number of cases with a fixed seed;
`make fuzz` runs many more with a fresh seed (FUZZ_EXAMPLES, FUZZ_SEED)."""

from __future__ import annotations

import asyncio
import os
import secrets
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from server.db import create_database, drop_database, init_connection
from server.demo import load_programme
from server.organisers.service import create_admin
from server.processes import running_web
from server.settings import ROOT, load_settings
from tests.factories import insert_registration

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "25"))
SEED = os.environ.get("FUZZ_SEED", "20261201")
REPORT_DIR = ROOT / "tests" / "artifacts" / "schemathesis"
CONFIG = REPORT_DIR / "schemathesis.toml"


async def _prepare(server_url: str, name: str) -> tuple[str, str]:
    """A database of its own with the demo programme and an administrator; returns (url, token)."""
    url = await create_database(server_url, name)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    settings = load_settings(database_url=url, secret_key="fuzz-secret")
    conn = await asyncpg.connect(url)
    await init_connection(conn)
    try:
        await load_programme(conn, settings, date.today())
        tokens = [(await create_admin(conn, email, settings.token_ttl)).token
                  for email in ("fuzz@example.lu", "logout@example.lu")]
        # manage tokens reach people by mail only, so the fuzzer is handed one to go deeper than 404
        registration, manage = await insert_registration(conn, settings, "portugais-seconde-generation", status="pending")
        CONFIG.write_text(f'[parameters]\n"path.token" = "{manage}"\n"path.registration_id" = {registration["id"]}\n')
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
            yield base_url, tokens
    finally:
        asyncio.run(drop_database(server_url, name))


def schemathesis(base_url: str, token: str, *selection: str) -> subprocess.CompletedProcess:
    """One schemathesis run with every check and phase, authenticated as an administrator."""
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    command = [
        str(Path(sys.executable).with_name("schemathesis")), "--config-file", str(CONFIG),
        "run", f"{base_url}/schema/openapi.json",
        # positive_data_acceptance wants every schema-valid request accepted; rules across fields
        # (registration closes after it opens, a session's commune is one of Luxembourg's) cannot
        # be written in JSON Schema, so their 422s are right and that check is left out
        "--checks", "all", "--exclude-checks", "positive_data_acceptance",
        "--phases", "examples,coverage,fuzzing,stateful",
        "--max-examples", str(EXAMPLES), "--seed", SEED,
        # one worker: CPython 3.11 can fail ast.parse run from two threads at once (SystemError seen here)
        "--workers", "1",
        "--header", f"Authorization: Bearer {token}",
        "--generation-database", "none", "--no-color", "--request-timeout", "20",
        "--report", "junit", "--report-dir", str(REPORT_DIR), *selection,
    ]
    return subprocess.run(command, capture_output=True, text=True, timeout=1800, cwd=ROOT)


def test_no_operation_answers_5xx_contradicts_its_schema_or_takes_bad_input(fuzzed_service) -> None:
    base_url, (token, logout_token) = fuzzed_service
    # logging out revokes the token the rest of the run uses, so logout gets a run and a token of its own
    for done in (schemathesis(base_url, token, "--exclude-path", "/api/organiser/logout"),
                 schemathesis(base_url, logout_token, "--include-path", "/api/organiser/logout")):
        print(done.stdout[done.stdout.find("API Operations:"):])
        assert done.returncode == 0, f"schemathesis found problems:\n{done.stdout[-20000:]}\n{done.stderr[-5000:]}"
        assert "Authentication failed" not in done.stdout, done.stdout[-5000:]
