"""create_app(settings): routes, dependencies, lifespan and error handlers."""

from __future__ import annotations

import gc

from litestar import Litestar, Request
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.middleware import DefineMiddleware
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme, Tag
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope

from server import health
from server.apidocs import LocalSwaggerPlugin
from server.backoffice.controllers import BackofficePages
from server.backoffice.editor.controllers import EventEditorPages
from server.backoffice.signin import SignInPages
from server.backoffice.web import authenticate_session
from server.bodies import StrictRequest, StrictStructSchemaPlugin
from server.communes.calendar import CommuneCalendarPages, CommuneFeedController
from server.communes.controllers import OrganiserCommuneRequestController, PublicCommuneRequestController
from server.communes.office import CommuneRequestOffice
from server.communes.office_pages import CommuneOfficePages
from server.communes.outcome_pages import OutcomePages
from server.communes.pages import CommuneRequestPages
from server.db import pool_lifespan_hooks, provide_connection
from server.errors import exception_handlers
from server.events.controllers import OrganiserEventController, PublicEventController
from server.feeds.cache import cache_lifespan_hooks
from server.feeds.controllers import FeedController, document_event_feed
from server.i18n import LanguageQuery, negotiate_language
from server.interpretation.controllers import (
    InterpreterController,
    OrganiserInterpretationController,
    PublicInterpretationController,
)
from server.interpretation.mission_pages import InterpretationMissionPages
from server.interpretation.pages import InterpreterCalendar, InterpreterPages
from server.interpretation.request_form import InterpretationRequestPages
from server.interpretation.staff_form import InterpretationMissionForm
from server.interpretation.staff_pages import InterpretationStaffPages
from server.notifications.controllers import OrganiserMessageController
from server.openapi import document_problems
from server.organisers.controllers import OrganiserAccountController, authenticate, provide_organiser
from server.pages.accounts import InvitationPages
from server.pages.controllers import PagesController
from server.pages.errors import with_html_for_browsers
from server.registrations.controllers import OrganiserRegistrationController, PublicRegistrationController
from server.reports.controllers import OrganiserReportController
from server.reports.pages import ReportPages
from server.roster.controllers import RosterPages
from server.roster.door import DoorPages
from server.security import install_log_redaction, security_headers
from server.settings import Settings
from server.subsidies.controllers import OrganiserSubsidyController
from server.subsidies.pages import SubsidyPages
from server.subsidies.setup import SubsidySetupPages
from server.transport import RequestGate

MAX_BODY_BYTES = 256 * 1024


def provide_language(request: Request, lang: LanguageQuery = None) -> str:
    """The answer's language: ?lang=, else Accept-Language, else French."""
    return negotiate_language(lang, request.headers.get("accept-language"))


def route_handlers() -> list:
    """Every domain's handlers, in one place."""
    return [
        health.healthz,
        health.readyz,
        PublicEventController,
        OrganiserEventController,
        OrganiserAccountController,
        PublicRegistrationController,
        OrganiserRegistrationController,
        OrganiserMessageController,
        PagesController,
        InvitationPages,
        SignInPages,
        BackofficePages,
        EventEditorPages,
        RosterPages,
        DoorPages,
        FeedController,
        OrganiserInterpretationController,
        InterpreterController,
        PublicInterpretationController,
        InterpreterPages,
        InterpreterCalendar,
        InterpretationRequestPages,
        InterpretationStaffPages,
        InterpretationMissionPages,
        InterpretationMissionForm,
        PublicCommuneRequestController,
        OrganiserCommuneRequestController,
        CommuneRequestPages,
        CommuneRequestOffice,
        CommuneCalendarPages,
        CommuneFeedController,
        OutcomePages,
        CommuneOfficePages,
        OrganiserReportController,
        ReportPages,
        OrganiserSubsidyController,
        SubsidyPages,
        SubsidySetupPages,
    ]


def create_app(settings: Settings) -> Litestar:
    """The ASGI app; its pool and feed cache open on start-up unless already in its state."""
    install_log_redaction()
    state = State({"settings": settings})
    open_pool, close_pool = pool_lifespan_hooks(settings)
    start_feed_cache, stop_feed_cache = cache_lifespan_hooks(settings.database_url)
    app = Litestar(
        route_handlers=route_handlers(),
        dependencies={
            "conn": Provide(provide_connection),
            "settings": Provide(lambda: settings, sync_to_thread=False),
            "language": Provide(provide_language, sync_to_thread=False),
            "organiser": Provide(provide_organiser),
        },
        state=state,
        on_startup=[open_pool, start_feed_cache],
        on_shutdown=[stop_feed_cache, close_pool],
        exception_handlers=with_html_for_browsers(exception_handlers),
        request_max_body_size=MAX_BODY_BYTES,
        # authentication, media type, the whole body in time, UTF-8: before any handler holds a connection
        middleware=[
            DefineMiddleware(
                RequestGate,
                body_timeout=settings.body_timeout.total_seconds(),
                max_body_bytes=MAX_BODY_BYTES,
                # the API's bearer token; the back-office's session cookie (never accepted by the API)
                authenticators={"organiser": authenticate, "staff": authenticate_session},
            )
        ],
        request_class=StrictRequest,
        plugins=[StrictStructSchemaPlugin()],
        openapi_config=OpenAPIConfig(
            title="Zesummen",
            version="1.0.0",
            description="Events, registrations and calendar feeds of the intercultural agency and its partners.",
            path="/schema",
            render_plugins=[LocalSwaggerPlugin()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="Organiser token")}
            ),
            tags=[
                Tag(name="events"),
                Tag(name="registrations"),
                Tag(name="organiser"),
                Tag(name="feeds"),
                Tag(name="health"),
                Tag(name="interpretation"),
                Tag(name="communes"),
                Tag(name="subsidies"),
            ],
        ),
        debug=False,
    )
    document_problems(app)
    document_event_feed(app)
    app.before_send.append(correct_allow_header(app))
    app.before_send.append(security_headers)
    return app


def correct_allow_header(app: Litestar):
    """A before_send hook: OPTIONS lists every method of the path (Litestar 2 lists one, issue #4169)."""
    allowed = {route.path: ", ".join(sorted(route.methods)) for route in app.routes if isinstance(route, HTTPRoute)}

    async def before_send(message: Message, scope: Scope) -> None:
        if message["type"] == "http.response.start" and scope["method"] == "OPTIONS" and message["status"] == 204:
            path = next(iter(scope["route_handler"].paths))
            if path in allowed:
                MutableScopeHeaders.from_message(message)["Allow"] = allowed[path]

    return before_send


def freeze_startup_heap() -> None:
    """A startup hook: what start-up built goes to the collector's permanent generation (gc.freeze)."""
    # what start-up built lives as long as the process; unfrozen, every full collection walks it
    # all, a pause in which the worker answers nobody (README, "Garbage collection")
    gc.collect()
    gc.freeze()


def app_from_env() -> Litestar:
    """Factory for the ASGI server: settings from the environment."""
    from server.settings import load_settings

    app = create_app(load_settings())
    app.on_startup.append(freeze_startup_heap)  # the process's own app only: tests build many
    return app
