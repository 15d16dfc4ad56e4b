"""`python -m server.notifications`: one notifier worker copy, until SIGTERM or SIGINT."""

from __future__ import annotations

import asyncio
import logging
import os

from server.dev.localdb import database_url
from server.notifications.worker import serve
from server.settings import load_settings


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # without DATABASE_URL, the private PostgreSQL under .data/ (started if `make run` is not running)
    with database_url() as url:
        os.environ["DATABASE_URL"] = url
        asyncio.run(serve(load_settings(database_url=url)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
