"""Friendly HTML error pages, in the person's language, for the pages and for browsers lost elsewhere.

The API keeps its problem+json answers: the pages' controller has these handlers of its own, and
`with_html_for_browsers` only answers with a page when a browser asks for a path that is no route
at all (outside /api/ and the feeds).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from server.errors import DATABASE_DOWN, DomainError
from server.pages.render import page_language, render
from server.pages.translations import N_

log = logging.getLogger(__name__)

# (heading, explanation) by HTTP status
STATUS_TEXTS: dict[int, tuple[str, str]] = {
    400: (N_("We could not read this request"), N_("The address or the form was not complete. Go back and try again.")),
    403: (
        N_("This form could not be accepted"),
        N_(
            "For your safety, forms are only accepted from this site and with cookies allowed. "
            "Go back, reload the page and send the form again."
        ),
    ),
    404: (
        N_("Page not found"),
        N_("We cannot find this page. The event may have been removed, or the address may be incomplete."),
    ),
    405: (
        N_("Page not found"),
        N_("We cannot find this page. The event may have been removed, or the address may be incomplete."),
    ),
    409: (
        N_("This is no longer possible"),
        N_("The registration has changed in the meantime. Open the manage page again to see where it stands."),
    ),
    410: (
        N_("This link no longer works"),
        N_("The link has expired, or the registration behind it has been cancelled or erased."),
    ),
    413: (N_("We could not read this request"), N_("The form was too long. Shorten the texts and try again.")),
    422: (N_("We could not read this request"), N_("The address or the form was not complete. Go back and try again.")),
    429: (
        N_("Too many attempts"),
        N_("There were many requests from your connection in a short time. Please wait a few minutes and try again."),
    ),
    500: (N_("Something went wrong on our side"), N_("Please try again later. We have been told about the problem.")),
    503: (N_("The service is not available right now"), N_("Please try again in a few minutes.")),
}

# sentences for the registrations domain's refusal codes (contract.md), shown instead of the status's
CODE_TEXTS: dict[str, str] = {
    "token_unknown": N_(
        "This manage link is unknown or no longer valid. If you registered, the email we sent you has the right link."
    ),
    "registration_not_open": N_("Registration for this event is not open yet."),
    "registration_closed": N_("Registration for this event is closed."),
    "event_cancelled": N_("This event has been cancelled."),
    "rate_limited": N_(
        "There were many registrations from your connection or for your address in a short time. "
        "Please wait a while and try again."
    ),
    "consent_required": N_("Please agree to the privacy notice so that we may keep your registration."),
    "csrf": N_(
        "For your safety, forms are only accepted from this site and with cookies allowed. "
        "Go back, reload the page and send the form again."
    ),
}

NOT_HTML_PREFIXES = ("/api/", "/api", "/schema", "/healthz", "/readyz", "/static/", "/calendar.ics")


def explanation(status: int, code: str) -> tuple[str, str]:
    """The (heading, text) message ids for a status and an optional refusal code."""
    heading, text = STATUS_TEXTS.get(status, STATUS_TEXTS[500 if status >= 500 else 400])
    return heading, CODE_TEXTS.get(code, text)


def error_page(request: Request, status: int, code: str = "", headers: dict[str, str] | None = None) -> Response[str]:
    """The error page for a status, in the person's language."""
    lang, _ = page_language(request)
    heading, text = explanation(status, code)
    response = render(
        request,
        "error.html",
        {"status": status, "heading": heading, "text": text},
        lang=lang,
        page_path=None if request.method == "GET" else "/",
        status_code=status,
        private=True,
    )
    response.headers.update(headers or {})
    return response


def _domain_error(request: Request, exc: DomainError) -> Response[str]:
    return error_page(request, exc.status, getattr(exc, "code", "") or "", exc.headers)


def _http_error(request: Request, exc: HTTPException) -> Response[str]:
    return error_page(
        request, exc.status_code, "", {k: v for k, v in (exc.headers or {}).items() if k.lower() == "allow"}
    )


def _validation_error(request: Request, _: ValidationException) -> Response[str]:
    return error_page(request, 400)


def _database_down(request: Request, exc: Exception) -> Response[str]:
    log.warning("database unavailable: %r", exc)
    return error_page(request, 503, "", {"Retry-After": "5"})


def _internal_error(request: Request, exc: Exception) -> Response[str]:
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_page(request, 500)


# for the pages' controller: every failure of an HTML route becomes a page
page_exception_handlers: dict[Any, Callable[..., Response]] = {
    DomainError: _domain_error,
    ValidationException: _validation_error,
    HTTPException: _http_error,
    **{exc: _database_down for exc in DATABASE_DOWN},
    Exception: _internal_error,
}


def wants_html(request: Request) -> bool:
    """A browser asking for a page (not the API, a feed or a probe)."""
    path = request.url.path
    if path.startswith(NOT_HTML_PREFIXES) or path.endswith(".ics"):
        return False
    return "text/html" in request.headers.get("accept", "")


def with_html_for_browsers(handlers: dict[Any, Callable[..., Response]]) -> dict[Any, Callable[..., Response]]:
    """The app's handlers, answering a browser lost outside the API (an unknown path) with a page."""
    wrapped: dict[Any, Callable[..., Response]] = {}
    for exc_type, original in handlers.items():
        page = next(h for t, h in page_exception_handlers.items() if issubclass(exc_type, t))

        def handler(request: Request, exc: Exception, _original=original, _page=page) -> Response:
            return _page(request, exc) if wants_html(request) else _original(request, exc)

        wrapped[exc_type] = handler
    return wrapped
