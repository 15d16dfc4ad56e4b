"""The documented commands: migrate and create-admin, run as a newcomer runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import httpx

from server.db import migration_files
from server.settings import ROOT
from tests.apps import app_on


def run_cli(database_url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "server", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": database_url},
    )


async def test_migrate_is_idempotent_and_records_every_file(database_url, pool) -> None:
    result = run_cli(database_url, "migrate")
    assert result.returncode == 0, result.stderr
    assert "applied 0 migration(s)" in result.stdout
    recorded = [r["name"] for r in await pool.fetch("SELECT name FROM schema_migrations ORDER BY name")]
    assert recorded == [path.name for path in migration_files()]


async def test_create_admin_prints_a_working_token_on_its_last_line(database_url, pool, settings) -> None:
    result = run_cli(database_url, "create-admin", "Admin@Example.LU")
    assert result.returncode == 0, result.stderr
    token = result.stdout.strip().splitlines()[-1]
    try:
        async with pool.acquire() as conn:
            http = httpx.AsyncClient(transport=httpx.ASGITransport(app=app_on(settings, conn)), base_url="http://test")
            me = await http.get("/api/organiser/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200 and me.json()["is_admin"] is True
            assert me.json()["email"] == "admin@example.lu"
            # a reset revokes the earlier token
            again = run_cli(database_url, "create-admin", "admin@example.lu")
            assert again.returncode == 0
            old = await http.get("/api/organiser/me", headers={"Authorization": f"Bearer {token}"})
            assert old.status_code == 401
            await http.aclose()
    finally:
        await pool.execute("DELETE FROM organisers WHERE email = 'admin@example.lu'")


def test_create_admin_refuses_a_non_email() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "server", "create-admin", "not-an-email"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "DATABASE_URL": "postgresql://unused/x"},
    )
    assert result.returncode == 2 and "not an email address" in result.stderr
