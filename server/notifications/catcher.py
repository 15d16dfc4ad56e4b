"""The local mail catcher for development: an SMTP server (aiosmtpd) that writes each message it
receives as an .eml file (any mail program opens one) instead of delivering it.

`make run` starts it when SMTP_HOST is unset; on its own: `python -m server.notifications.catcher --port 1025`.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import logging
import os
import re
import signal
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.smtp import SMTP, Envelope, Session

log = logging.getLogger(__name__)


class EmlWriter:
    """An aiosmtpd handler that stores every message under `directory` as <time>-<n>-<message id>.eml."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._numbers = itertools.count(1)

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        content = envelope.original_content or b""
        headers = BytesHeaderParser().parsebytes(content)
        tag = re.sub(r"[^A-Za-z0-9.-]+", "_", str(headers.get("Message-ID", "")).strip("<> "))[:80]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S.%fZ")
        path = self.directory / f"{stamp}-{os.getpid()}-{next(self._numbers)}{'-' + tag if tag else ''}.eml"
        temporary = path.with_suffix(".part")
        # the envelope recipients first, so that the file shows who it went to even for Bcc
        recipients = "".join(f"X-Envelope-To: {address}\r\n" for address in envelope.rcpt_tos).encode()
        temporary.write_bytes(recipients + content)
        temporary.replace(path)  # a reader never sees half a file
        return "250 Message written to " + path.name


class Catcher:
    """A running catcher: where it listens and how to stop it."""

    def __init__(self, server: asyncio.Server, directory: Path):
        self.server = server
        self.directory = directory
        self.port: int = server.sockets[0].getsockname()[1]

    def close(self) -> None:
        self.server.close()


async def start_catcher(host: str, port: int, directory: str | Path) -> Catcher:
    """Listen on host:port (0: any free port) in the running event loop."""
    handler = EmlWriter(directory)
    # aiosmtpd logs every connection at INFO; for a development catcher that is noise
    logging.getLogger("mail.log").setLevel(logging.WARNING)
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            handler, hostname="mail-catcher.zesummen.local", ident="Zesummen mail catcher", enable_SMTPUTF8=True
        ),
        host,
        port,
    )
    return Catcher(server, handler.directory)


async def _serve(host: str, port: int, directory: str) -> None:
    catcher = await start_catcher(host, port, directory)
    print(f"mail catcher: SMTP on {host}:{catcher.port}, each message written under {catcher.directory}/", flush=True)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()
    catcher.close()


def main(argv: list[str] | None = None) -> int:
    from server.settings import DATA_DIR

    parser = argparse.ArgumentParser(prog="python -m server.notifications.catcher", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1025)
    parser.add_argument("--dir", default=os.environ.get("MAIL_DIR") or str(DATA_DIR / "mail"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    asyncio.run(_serve(args.host, args.port, args.dir))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
