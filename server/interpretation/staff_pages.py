"""The interpretation an event's registrants asked for, in the back-office, and the form asking for it."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect

from server.backoffice.controllers import NotAllowed, StaffPages, read_form, render_page
from server.backoffice.service import Staff
from server.backoffice.web import staff_language
from server.errors import Conflict, Forbidden, Invalid
from server.interpretation import demand
from server.interpretation.staff_labels import translated
from server.organisers.schemas import Organiser
from server.pages.translations import N_, gettext
from server.settings import Settings

EventPath = Annotated[str, Parameter(max_length=130)]

# why the service refused to ask for an event's interpreter, by the field it named
ASK_PROBLEMS = {
    "starts_at": N_("The event has begun or is over: a mission must start in the future."),
    "ends_at": N_("An interpretation mission lasts at most 12 hours, and this event is longer."),
    "language": N_("The interpretation service has no interpreters for this language."),
    "place": N_("The event has neither a commune nor an online link: say where it takes place first."),
    "place.commune": N_("The event has neither a commune nor an online link: say where it takes place first."),
    "field": N_("Please choose a field."),
    "to_language": N_("The event is held in this language already."),
    "status": N_("The event is cancelled: it needs no interpreter."),
}
ASKED_ALREADY = N_("Interpretation into this language is asked for already.")


async def demand_context(
    conn: asyncpg.Connection,
    organiser: Organiser,
    slug: str,
    lang: str,
    *,
    values: dict[str, str] | None = None,
    error: str = "",
) -> dict[str, Any]:
    """What bo_interpretation_demand.html shows, for this page and the event's registrations page."""
    data = await demand.event_demand(conn, organiser, slug, lang)
    return {**data, "labels": translated(lang), "ask_values": values or {}, "ask_error": error}


class InterpretationStaffPages(StaffPages):
    """An event's interpretation wishes and the form asking for them; viewers read, other organisations get 404."""

    path = "/organiser"

    @get("/events/{slug:str}/interpretation")
    async def event_demand(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The languages the event's registrants asked for, each with its mission or the form asking for one."""
        return await self._demand(request, staff, settings, conn, slug)

    async def _demand(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        slug: str,
        *,
        values: dict[str, str] | None = None,
        error: str = "",
        status_code: int = 200,
    ) -> Response:
        lang = staff_language(request, staff)
        data = await demand_context(conn, staff.organiser, slug, lang, values=values, error=error)
        context = {"event": data["event"], "interpretation": data}
        return render_page(
            request, settings, "bo_interpretation_event.html", context, lang=lang, staff=staff, status_code=status_code
        )

    @post("/events/{slug:str}/interpretation")
    async def ask(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Ask for an interpreter into one language for the event, pre-filled from it; then show the mission."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        code, field = form.get("language", "")[:35], form.get("field", "")[:20]
        try:
            mission_id = await demand.ask_for_event(conn, staff.organiser, slug, code, field, settings, lang=lang)
        except Forbidden:
            raise NotAllowed("Your role does not allow changes.") from None
        except (Invalid, Conflict) as exc:
            named = exc.errors[0].field if exc.errors else ""
            text = ASKED_ALREADY if isinstance(exc, demand.AskedAlready) else ASK_PROBLEMS.get(named)
            if text is None:
                raise
            values = {"language": code, "field": field}
            return await self._demand(
                request, staff, settings, conn, slug, values=values, error=gettext(lang, text), status_code=422
            )
        return Redirect(path=f"/organiser/interpretation/missions/{mission_id}?done=created", status_code=303)
