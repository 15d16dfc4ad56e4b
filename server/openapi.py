"""The OpenAPI schema's account of errors: every operation lists the problem details it can answer."""

from __future__ import annotations

import inspect

from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from server.errors import PROBLEM_JSON, Problem

_DESCRIPTIONS = {
    400: "The body is not JSON (or not the JSON type the operation takes)",
    401: "No token, or an expired or revoked one",
    403: "Your role does not allow this",
    404: "Nothing there (or nothing you may see)",
    409: "The request conflicts with the current state",
    413: "The body is too large",
    422: "A field is wrong: `errors` names each one",
    503: "The database cannot be reached right now; retry after `Retry-After` seconds",
}


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    """The OpenAPI response of a problem+json answer with this status."""
    return ResponseSpec(data_container=Problem, media_type=PROBLEM_JSON, description=description or _DESCRIPTIONS[status],
                        generate_examples=False)


def _used_names(handler) -> set[str]:
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


def _codes(handler, path: str) -> set[int]:
    """The problem statuses an operation can answer, read off what it takes."""
    used = _used_names(handler)
    parameters = handler.parsed_fn_signature.parameters
    codes: set[int] = set()
    if "conn" in used:
        codes.add(503)
    if "organiser" in used:
        codes |= {401, 403}
    if "{" in path:
        codes.add(404)
    if used - {"conn", "settings", "request", "state", "organiser", "scope"}:
        # a query or path value of the wrong type; Litestar would document it as a JSON 400
        codes |= {400, 422}
    if "data" in parameters:
        # a body may name another resource (a membership's organisation) that is not there
        codes |= {400, 404, 413, 422}
    if handler.http_methods & {"POST", "PATCH", "PUT", "DELETE"}:
        codes.add(409)
    return codes


def document_problems(app: Litestar) -> None:
    """Give each operation the problem responses it can answer; a handler's own `responses` win."""
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            if not handler.include_in_schema:
                continue
            defaults = {status: problem_response(status) for status in sorted(_codes(handler, route.path))}
            handler.responses = {**defaults, **(handler.responses or {})}
