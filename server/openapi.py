"""The OpenAPI schema's account of errors: every operation lists the problem details it can answer."""

from __future__ import annotations

from litestar import Litestar
from litestar.openapi.datastructures import ResponseSpec
from litestar.routes import HTTPRoute

from server.errors import PROBLEM_JSON, Problem
from server.transport import dependency_names

_DESCRIPTIONS = {
    400: "The body is not JSON (or not the JSON type the operation takes), or path, query or body is not UTF-8",
    401: "No token, or an expired or revoked one",
    403: "Your role does not allow this",
    404: "Nothing there (or nothing you may see)",
    408: "The body did not arrive in full in time",
    409: "The request conflicts with the current state",
    413: "The body is too large",
    415: "The body is not `application/json`",
    422: "A field is wrong: `errors` names each one",
    503: "The database cannot be reached right now; retry after `Retry-After` seconds",
}


def problem_response(status: int, description: str | None = None) -> ResponseSpec:
    """The OpenAPI response of a problem+json answer with this status."""
    return ResponseSpec(
        data_container=Problem,
        media_type=PROBLEM_JSON,
        description=description or _DESCRIPTIONS[status],
        generate_examples=False,
    )


def _codes(handler, path: str) -> set[int]:
    """The problem statuses an operation can answer, read off what it takes."""
    used = dependency_names(handler)
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
        codes |= {400, 404, 408, 413, 415, 422}
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
