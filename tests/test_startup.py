"""The production factory's start-up: what it built is frozen, so full collections stay short."""

from __future__ import annotations

import gc

import pytest
from litestar.testing import AsyncTestClient

from server.app import app_from_env


async def test_the_service_freezes_its_start_up_heap(database_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("BASE_URL", "https://zesummen.test")
    gc.unfreeze()  # count only what this start-up freezes
    try:
        async with AsyncTestClient(app_from_env()) as client:
            assert (await client.get("/readyz")).status_code == 200
            frozen = gc.get_freeze_count()
            gc.collect()
            # what a full collection still walks: the requests' objects, not the modules and the app
            assert frozen > 20_000
            assert len(gc.get_objects()) < frozen / 5
    finally:
        gc.unfreeze()
