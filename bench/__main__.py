"""`python -m bench [--soak] [NAME...]`: run the benchmarks, print one table, write bench/results.json.

A module with `SOAK = True` takes long (big data, long runs): `make bench` leaves it out and
`make soak` (`--soak`) runs those alone, writing bench/soak-results.json.
"""

from __future__ import annotations

import argparse
import asyncio
import importlib
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import msgspec

from bench.harness import Context, Result
from server.db import create_database

BENCH_DIR = Path(__file__).resolve().parent
RESULTS = BENCH_DIR / "results.json"
SOAK_RESULTS = BENCH_DIR / "soak-results.json"


def available() -> list[str]:
    """The benchmark modules, by name (bench_<name>.py)."""
    return sorted(path.stem.removeprefix("bench_") for path in BENCH_DIR.glob("bench_*.py"))


def is_soak(name: str) -> bool:
    """Whether a benchmark is a long one, for `make soak` only (its module says SOAK = True)."""
    return getattr(importlib.import_module(f"bench.bench_{name}"), "SOAK", False)


def machine() -> dict[str, object]:
    """What the figures were measured on."""
    cpu = ""
    try:
        cpu = next(
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        )
    except (OSError, StopIteration):
        cpu = platform.processor()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.release()}",
        "machine": platform.machine(),
    }


def table(rows: list[tuple[str, Result]]) -> str:
    """The results as a Markdown table (the README shows the latest one)."""
    lines = ["| benchmark | figure | ceiling | ratio | target | met |", "|---|---|---|---|---|---|"]
    for module, r in rows:
        sign = "≥" if r.better == "higher" else "≤"
        lines.append(
            f"| {module}: {r.name} | {r.figure:,.1f} {r.unit} | {r.ceiling:,.1f} {r.unit} ({r.ceiling_name}) "
            f"| {r.ratio:.2f} | {sign} {r.target:g} | {'yes' if r.meets_target else 'NO'} |"
        )
    return "\n".join(lines)


async def run(names: list[str]) -> list[tuple[str, Result]]:
    server_url = os.environ.get("DATABASE_URL")
    if not server_url:
        raise SystemExit("DATABASE_URL is not set: run `make bench`, which provides a local PostgreSQL")
    rows: list[tuple[str, Result]] = []
    for name in names:
        module = importlib.import_module(f"bench.bench_{name}")
        print(f"bench {name}: running", file=sys.stderr, flush=True)
        started = time.monotonic()
        context = Context(name, await create_database(server_url, f"zesummen_bench_{name}"))
        for result in await module.run(context):
            rows.append((name, result))
            print(
                f"  {result.name}: {result.figure:,.1f} {result.unit} vs {result.ceiling:,.1f} "
                f"({result.ceiling_name}) -> ratio {result.ratio:.2f}",
                file=sys.stderr,
                flush=True,
            )
        print(f"bench {name}: done in {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "names", nargs="*", help=f"benchmarks to run (default all but the soak ones: {', '.join(available())})"
    )
    parser.add_argument("--soak", action="store_true", help="run the long benchmarks (SOAK = True) instead")
    args = parser.parse_args()
    unknown = sorted(set(args.names) - set(available()))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)}")
    names = args.names or [name for name in available() if is_soak(name) == args.soak]
    results = SOAK_RESULTS if all(is_soak(name) for name in names) else RESULTS
    rows = asyncio.run(run(names))
    print(table(rows))
    results.write_bytes(
        msgspec.json.format(
            msgspec.json.encode(
                {
                    "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
                    "machine": machine(),
                    "results": [
                        {
                            "benchmark": module,
                            **msgspec.to_builtins(r),
                            "ratio": round(r.ratio, 3),
                            "meets_target": r.meets_target,
                        }
                        for module, r in rows
                    ],
                }
            )
        )
    )
    print(f"\nwritten to {results.relative_to(BENCH_DIR.parent)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
