"""What a request must be before its handler runs: authenticated, of the right media type, whole, in UTF-8.

Litestar decodes a handler's body before it resolves the handler's dependencies, and the pages read
their form inside a handler that already holds a pooled connection. So a stranger could make the
service validate a body before asking who sends it, and a slow body could hold a connection for as
long as its sender liked. This middleware runs after routing and before everything else of the
route: it authenticates the handlers that need a staff member, refuses a JSON handler's body of any
other media type (a cross-site form or `text/plain` post), reads the whole body within a deadline and
a size, checks that path, query and body are UTF-8, and only then lets the handler run.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple
from urllib.parse import unquote_to_bytes

from litestar import Request
from litestar.enums import RequestEncodingType
from litestar.exceptions import ClientException, HTTPException
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import DomainError, FieldError

# a check of the request's credentials that raises (401) when they are missing or wrong
Authenticate = Callable[[Request], Awaitable[Any]]
# bodies read as text: each must be UTF-8
_TEXT_MEDIA = ("application/json", "application/x-www-form-urlencoded", "multipart/form-data", "text/")


class BodyTimeout(HTTPException):
    """The body did not arrive in full within the deadline."""

    status_code = 408


class UnsupportedMediaType(HTTPException):
    """A JSON endpoint was sent something else."""

    status_code = 415


class BodyTooLarge(DomainError):
    """An upload past what the gate will even drain: 413, naming the form field that carried it."""

    status, title, code = 413, "Content too large", "too_large"


# An upload route's body over its limit is read to its end and thrown away, chunk by chunk, up to this
# size: the handler then answers 422 naming the field (and a browser, its upload finished, reads the
# answer). Past it the body is absurd: 413, and the rest is not read.
DRAIN_BYTES = 64 * 1024 * 1024
# the scope key the gate sets when it dropped an upload route's body; see body_dropped
_DROPPED = "zesummen.body_dropped"


def body_dropped(request: Request) -> bool:
    """Whether the gate threw this upload's body away as over the route's limit (the handler says 422)."""
    return bool(request.scope.get(_DROPPED))  # type: ignore[call-overload]


class Policy(NamedTuple):
    """What the gate checks for one route handler."""

    authenticate: Authenticate | None
    takes_json: bool
    # a route may allow a larger body (uploads) with opt={"max_body_bytes": n, "body_field": "file"}
    max_body_bytes: int
    body_field: str


def dependency_names(handler: Any) -> set[str]:
    """The parameters of the handler and, transitively, of the dependencies it uses."""
    available = handler.resolve_dependencies()
    used: set[str] = set()
    pending = list(handler.parsed_fn_signature.parameters)
    while pending:
        name = pending.pop()
        if name in used:
            continue
        used.add(name)
        if name in available:
            pending += inspect.signature(available[name].dependency).parameters
    return used


def _takes_json(handler: Any) -> bool:
    data = handler.parsed_fn_signature.parameters.get("data")
    if data is None:
        return False
    media_type = getattr(data.kwarg_definition, "media_type", RequestEncodingType.JSON)
    return media_type == RequestEncodingType.JSON


def is_json(content_type: str) -> bool:
    """`application/json`, with no parameter but an UTF-8 charset."""
    media_type, *parameters = content_type.split(";")
    if media_type.strip().lower() != "application/json":
        return False
    for parameter in parameters:
        name, _, value = parameter.partition("=")
        if name.strip().lower() != "charset" or value.strip().strip('"').lower() not in ("utf-8", "utf8"):
            return False
    return True


def is_utf8(data: bytes, *, percent_encoded: bool = False) -> bool:
    """Whether the bytes (after %-decoding, for a path, query or form) are valid UTF-8."""
    if percent_encoded:
        data = unquote_to_bytes(data.replace(b"+", b" "))
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


class RequestGate:
    """The middleware: see the module's docstring. One instance wraps each route handler's app."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        body_timeout: float,
        max_body_bytes: int,
        authenticators: dict[str, Authenticate],
    ) -> None:
        self.app = app
        self.body_timeout = body_timeout
        self.max_body_bytes = max_body_bytes
        self.authenticators = authenticators
        self.policies: dict[Any, Policy] = {}

    def policy(self, handler: Any) -> Policy:
        if handler not in self.policies:
            names = dependency_names(handler)
            check = next((check for name, check in self.authenticators.items() if name in names), None)
            limit = int(handler.opt.get("max_body_bytes", self.max_body_bytes))
            self.policies[handler] = Policy(check, _takes_json(handler), limit, handler.opt.get("body_field", ""))
        return self.policies[handler]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        policy = self.policy(scope["route_handler"])
        if policy.authenticate is not None:
            # before anything of the body is read or judged: a stranger learns nothing from it
            await policy.authenticate(Request(scope))
        if not is_utf8(scope.get("raw_path") or b"", percent_encoded=True):
            raise ClientException("The path is not valid UTF-8.")
        if not is_utf8(scope.get("query_string") or b"", percent_encoded=True):
            raise ClientException("The query string is not valid UTF-8.")
        headers = {
            name.decode("latin-1"): value
            for name, value in scope["headers"]
            if name in (b"content-type", b"content-length", b"transfer-encoding")
        }
        content_type = headers.get("content-type", b"").decode("latin-1")
        has_body = self._has_body(scope, headers)
        if policy.takes_json and (content_type or has_body) and not is_json(content_type):
            raise UnsupportedMediaType(detail="Send the body as application/json (UTF-8).")
        if not has_body:
            await self.app(scope, receive, send)
            return
        body = await self._read_body(receive, headers, policy)
        if body is None:
            return  # the client went away
        if body is _TOO_LARGE:
            scope[_DROPPED] = True  # type: ignore[literal-required]
            await self.app(scope, _replay(b"", receive), send)
            return
        # an upload route's multipart body carries binary files; its text fields are the handler's to check
        if (
            not policy.body_field
            and content_type.lower().startswith(_TEXT_MEDIA)
            and not is_utf8(body, percent_encoded=content_type.lower().startswith("application/x-www-form-urlencoded"))
        ):
            raise ClientException("The body is not valid UTF-8.")
        await self.app(scope, _replay(body, receive), send)

    @staticmethod
    def _has_body(scope: Scope, headers: dict[str, bytes]) -> bool:
        if "transfer-encoding" in headers:
            return True
        if "content-length" in headers:
            return headers["content-length"].strip() != b"0"
        # HTTP/2 may send a body without announcing its length; HTTP/1 may not
        return scope.get("http_version") not in ("1.0", "1.1")

    async def _read_body(self, receive: Receive, headers: dict[str, bytes], policy: Policy) -> bytes | None:
        """The whole body; _TOO_LARGE for an upload drained past its limit; 413 past the size (or the
        drain's), 408 past the deadline; None if the client left."""
        max_body_bytes = policy.max_body_bytes
        # an upload route drains a body over its limit (never keeping it) so that its handler may say 422
        ceiling = max(DRAIN_BYTES, max_body_bytes) if policy.body_field else max_body_bytes
        detail = f"The body is larger than {ceiling} bytes."
        too_large: Exception = HTTPException(status_code=413, detail=detail)
        if policy.body_field:
            too_large = BodyTooLarge(detail, errors=[FieldError(policy.body_field, detail)])
        declared = headers.get("content-length", b"").strip()
        if declared.isdigit() and int(declared) > ceiling:
            raise too_large
        chunks: list[bytes] = []
        size = 0
        try:
            async with asyncio.timeout(self.body_timeout):
                while True:
                    message = await receive()
                    if message["type"] == "http.disconnect":
                        return None
                    chunk = message.get("body", b"")
                    size += len(chunk)
                    if size > ceiling:
                        raise too_large
                    if size > max_body_bytes:
                        chunks.clear()  # past the route's limit nothing is kept
                    else:
                        chunks.append(chunk)
                    if not message.get("more_body", False):
                        return _TOO_LARGE if size > max_body_bytes else b"".join(chunks)
        except TimeoutError:
            raise BodyTimeout(
                detail=f"The body did not arrive within {self.body_timeout:g} s.", headers={"Connection": "close"}
            ) from None


# what _read_body gives for an upload drained past its limit (compared by identity, never sent on)
_TOO_LARGE = b"<dropped>"


def _replay(body: bytes, receive: Receive) -> Receive:
    """A receive that gives the body read beforehand, then whatever the client sends next (its leaving)."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay
