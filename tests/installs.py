"""One installer at a time: the suite runs in several pytest-xdist workers that may all find Chromium missing."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK = Path(__file__).resolve().parent / "artifacts" / ".installs.lock"


@contextmanager
def one_installer() -> Iterator[None]:
    """Holds an exclusive lock on a file beside the artefacts while installing."""
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    with LOCK.open("w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
