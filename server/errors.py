"""Domain errors and their translation into RFC 9457 problem details."""

from __future__ import annotations

import logging
from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, NotAuthorizedException, ValidationException
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from server.validation import explain

log = logging.getLogger(__name__)
PROBLEM_JSON = "application/problem+json"


class FieldError(msgspec.Struct):
    """One bad field of a request: where it is and what is wrong with it."""

    field: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """An RFC 9457 problem details body."""

    status: int
    title: str
    detail: str = ""
    type: str = "about:blank"
    # machine-readable reason (e.g. `registration_closed`) so that pages can show a translated sentence
    code: str = ""
    errors: list[FieldError] | None = None


class DomainError(Exception):
    """A refusal the service explains to its caller; subclasses set the status."""

    status = 400
    title = "Bad request"
    code = ""

    def __init__(
        self,
        detail: str = "",
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        code: str | None = None,
    ):
        super().__init__(detail or self.title)
        self.detail = detail
        self.errors = errors
        self.headers = headers or {}
        if code is not None:
            self.code = code


class Unauthorized(DomainError):
    status, title = 401, "Authentication required"


class Forbidden(DomainError):
    status, title = 403, "Forbidden"


class NotFound(DomainError):
    status, title = 404, "Not found"


class Conflict(DomainError):
    status, title = 409, "Conflict"


class Gone(DomainError):
    status, title = 410, "Gone"


class Invalid(DomainError):
    status, title = 422, "Invalid request"

    @classmethod
    def field(cls, field: str, message: str) -> Invalid:
        """A 422 naming one field."""
        return cls(message, errors=[FieldError(field, message)])


class TooManyRequests(DomainError):
    status, title = 429, "Too many requests"


class ServiceUnavailable(DomainError):
    status, title = 503, "Service unavailable"


def problem_response(problem: Problem, headers: dict[str, str] | None = None) -> Response[Problem]:
    """A problem as an application/problem+json response."""
    return Response(problem, status_code=problem.status, media_type=PROBLEM_JSON, headers=headers)


def domain_error_handler(_: Request, exc: DomainError) -> Response[Problem]:
    return problem_response(Problem(exc.status, exc.title, exc.detail, code=exc.code, errors=exc.errors), exc.headers)


def _field_name(item: dict[str, Any]) -> str:
    """The bad field's name as the client wrote it (a query, path or body field); `body` for the whole."""
    source = item.get("source") or "body"
    # `from_`: Python's way around a keyword; the client wrote `from`
    return (item.get("key") or "").removesuffix("_") or getattr(source, "value", str(source))


def validation_error_handler(_: Request, exc: ValidationException) -> Response[Problem]:
    """Litestar's and msgspec's validation failures become 422s naming each field."""
    extra = exc.extra if isinstance(exc.extra, list) else []
    errors = [
        FieldError(_field_name(item), explain(str(item.get("message", "")))) for item in extra if isinstance(item, dict)
    ]
    if not errors:
        errors = [FieldError("body", exc.detail)]
    status = 422 if exc.status_code == 400 else exc.status_code
    detail = "; ".join(f"{e.field}: {e.message}" for e in errors)[:500]
    return problem_response(Problem(status, "Invalid request", detail, code="invalid_request", errors=errors))


def http_error_handler(_: Request, exc: HTTPException) -> Response[Problem]:
    """Litestar's own HTTP errors (404 route, 405, 413...) as problem details."""
    headers = dict(exc.headers or {})
    if isinstance(exc, NotAuthorizedException):
        headers.setdefault("WWW-Authenticate", "Bearer")
    return problem_response(Problem(exc.status_code, _title(exc.status_code), str(exc.detail)), headers)


def database_unavailable_handler(_: Request, exc: Exception) -> Response[Problem]:
    """The database is down or restarting: say so quickly rather than hang or 500."""
    log.warning("database unavailable: %r", exc)
    return problem_response(
        Problem(503, "Service unavailable", "The database is not reachable right now; please try again in a moment."),
        {"Retry-After": "5"},
    )


def unstorable_text_handler(_: Request, exc: Exception) -> Response[Problem]:
    """Text PostgreSQL cannot keep (a NUL character, in text or in JSON) is the client's to fix."""
    detail = "A text contains a character that cannot be stored (such as U+0000); remove it and send again."
    return problem_response(
        Problem(422, "Invalid request", detail, code="invalid_request", errors=[FieldError("body", detail)])
    )


def internal_error_handler(request: Request, exc: Exception) -> Response[Problem]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(Problem(HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error"))


def _title(status: int) -> str:
    from http import HTTPStatus

    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


# connection-level failures that mean "the database is away", not "the request is wrong"
DATABASE_DOWN = (
    OSError,
    asyncpg.exceptions.ConnectionDoesNotExistError,
    asyncpg.exceptions.CannotConnectNowError,
    asyncpg.exceptions.AdminShutdownError,
    asyncpg.exceptions.InterfaceError,
    # a connection cut in the middle of a query leaves asyncpg's protocol in an impossible state
    # ("cannot switch to state 12"); seen while PostgreSQL restarts
    asyncpg.exceptions.InternalClientError,
    TimeoutError,
)

exception_handlers = {
    DomainError: domain_error_handler,
    ValidationException: validation_error_handler,
    HTTPException: http_error_handler,
    **{exc: database_unavailable_handler for exc in DATABASE_DOWN},
    # 22021 and 22P05: the only data errors a client's text alone can cause
    asyncpg.exceptions.CharacterNotInRepertoireError: unstorable_text_handler,
    asyncpg.exceptions.UntranslatableCharacterError: unstorable_text_handler,
    Exception: internal_error_handler,
}
