"""Headers every answer carries, and tokens kept out of every log line."""

from __future__ import annotations

import logging
import re
import traceback
from typing import Any

from litestar.datastructures import MutableScopeHeaders
from litestar.types import Message, Scope

# answers under these paths carry personal data (a registration, a person's feed, staff lists and
# exports, requesters' threads): no cache, shared or private, may keep them
PERSONAL_PREFIXES = ("/api/organiser/", "/api/registrations/", "/r/", "/j/", "/i/", "/requests/", "/organiser/")
# the API's documentation page runs Swagger UI from this service: its scripts, its styles, its
# requests to the schema and to "Try it out", its icons as data: images, nothing from elsewhere
SCHEMA_SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
}


async def security_headers(message: Message, scope: Scope) -> None:
    """A before_send hook: nosniff on every answer, no-store on personal ones, the CSP on the API's page."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    headers["X-Content-Type-Options"] = "nosniff"
    path = scope.get("path", "")
    if path.startswith(PERSONAL_PREFIXES):
        headers["Cache-Control"] = "no-store"
    is_page = (headers.get("content-type") or "").startswith("text/html")
    if is_page and (path == "/schema" or path.startswith("/schema/")):
        headers.update(SCHEMA_SECURITY_HEADERS)


# -------------------------------------------------------------------------------------------- logs

REDACTED = "[token]"
# the segment after a route whose segment is a secret (manage, join, invitation, request links)
_AFTER_TOKEN_ROUTE = re.compile(r"(/(?:r|j|i|requests|registrations|invitations)/)([^/?#\s\"'<>\\]{8,})")
# any other long path segment, redacted when it looks random rather than like a slug or a word
_LONG_SEGMENT = re.compile(r"(/)([A-Za-z0-9_%-]{20,})")
_HEX = re.compile(r"[0-9a-f]{24,}")


def _random_looking(segment: str) -> bool:
    return any(c.isupper() or c == "_" for c in segment) or _HEX.fullmatch(segment) is not None


def _route_token(match: re.Match[str]) -> str:
    segment = match.group(2)
    return match.group(0) if segment.isdigit() else match.group(1) + REDACTED


def _long_token(match: re.Match[str]) -> str:
    return match.group(1) + REDACTED if _random_looking(match.group(2)) else match.group(0)


def redact(text: str) -> str:
    """The text with every token-like path segment replaced by `[token]`."""
    if "/" not in text:
        return text
    return _LONG_SEGMENT.sub(_long_token, _AFTER_TOKEN_ROUTE.sub(_route_token, text))


def install_log_redaction() -> None:
    """Make every log record of this process redact tokens, whoever logs it (granian, Litestar, us); once."""
    previous = logging.getLogRecordFactory()
    if getattr(previous, "redacts_tokens", False):
        return

    def make_record(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = previous(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a broken format is logging's to report, with the record as it is
            return record
        record.msg, record.args = redact(message), None
        if record.exc_info and record.exc_info[0] is not None:
            # formatted now, redacted, and kept where every formatter looks before formatting its own
            record.exc_text = redact("".join(traceback.format_exception(*record.exc_info)).rstrip("\n"))
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return record

    make_record.redacts_tokens = True  # type: ignore[attr-defined]
    logging.setLogRecordFactory(make_record)
