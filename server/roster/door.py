"""The door of an event, on a phone: find a name (narrowed as it is typed, with htmx), one tap, undo, walk-ins.

Thin handlers over roster/service.py, with the table's conventions (roster/controllers.py): plain forms
with the CSRF token that redirect back (303) with the search kept.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

import asyncpg
from litestar import Request, Response, get, post

from server.backoffice.controllers import NotAllowed, StaffPages, read_form, render_page
from server.backoffice.service import Staff
from server.backoffice.web import SESSION_COOKIE, authenticate_session, staff_language
from server.errors import Forbidden, Invalid
from server.pages.translations import N_, gettext
from server.registrations.refusals import EventCancelled, EventFull
from server.roster import service
from server.roster.controllers import DoneCode, EventPath, Search, back_to, writable
from server.roster.labels import DONE, translated
from server.settings import Settings

# a registration's number in a door's tap (anything else is a registration the event does not have)
_DOOR_NUMBER = re.compile(r"[0-9]{1,19}")


class DoorPages(StaffPages):
    """The door's page of an event, its taps and walk-ins: for the organisation's staff."""

    path = "/organiser/events/{slug:str}"

    @get("/checkin")
    async def door(
        self,
        slug: EventPath,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        q: Search = None,
        done: DoneCode = None,
    ) -> Response:
        """The phone page at the door: find a name, one tap marks present, undo, the running counts."""
        lang = staff_language(request, staff)
        search = " ".join((q or "").split())
        # htmx asking as a name is typed (not restoring its history): the list alone, for the page to swap in
        alone = request.headers.get("hx-request") == "true" and "hx-history-restore-request" not in request.headers
        answer = await self._door(
            request, staff, settings, conn, slug, lang, search, done=done, template="bo_door_list.html" if alone else ""
        )
        answer.headers["Vary"] = "Cookie, HX-Request"
        return answer

    async def _door(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        slug: str,
        lang: str,
        search: str,
        *,
        done: str | None = None,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
        template: str = "",
    ) -> Response:
        data = await service.door(conn, staff.organiser, slug, search)
        context = {
            **data,
            "search": search,
            "back": urlencode({"q": search}) if search else "",
            "done": done if done in DONE else "",
            "values": values or {},
            "errors": errors or {},
            "roster": translated(lang),
        }
        return render_page(
            request, settings, template or "bo_door.html", context, lang=lang, staff=staff, status_code=status_code
        )

    @post("/checkin/walk-in")
    async def walk_in(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Someone who did not register: a name, and they are present."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        search = " ".join(form.get("q", "").split())[:200]
        await writable(conn, staff, slug)
        name = " ".join(form.get("name", "").split())
        error = ""
        if not name or len(name) > 200:
            error = gettext(lang, N_("Please write the person's name (one line, at most 200 characters)."))
        else:
            try:
                await service.walk_in(conn, staff.organiser, slug, name, lang, settings)
            except (EventFull, Invalid):
                error = gettext(lang, N_("No place is free at this event: raise the capacity first."))
            except EventCancelled:
                error = gettext(lang, N_("This event is cancelled: nobody can be added."))
        if error:
            return await self._door(
                request,
                staff,
                settings,
                conn,
                slug,
                lang,
                search,
                values={"name": name},
                errors={"name": error},
                status_code=422,
            )
        return back_to(f"/organiser/events/{slug}/checkin", {"q": name}, "walked_in")

    @post("/checkin/{registration_id:str}/{action:str}")
    async def tap(
        self,
        slug: str,
        registration_id: str,
        action: str,
        request: Request,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """One tap: present, or undo; back to the list with the same search.

        The common tap (present, a good form) checks the session in its own statement; anything else takes
        the gate's way. The path is taken as any text: who may not see the event gets its 404 whatever they
        send (a made-up number or action, no form token), the input judged only after the access.
        """
        number = int(registration_id) if _DOOR_NUMBER.fullmatch(registration_id) else 0
        good = 1 <= number < 2**63 and action in ("present", "undo")
        refusal: Exception | None = None
        try:
            form = await read_form(request, settings)
        except Exception as exc:  # the form's refusal, told only to who may see the event (below)
            refusal, form = exc, {}
        search = " ".join(form.get("q", "").split())[:200]
        back = f"/organiser/events/{slug}/checkin"
        if refusal is None and good and action == "present":
            token = request.cookies.get(SESSION_COOKIE, "")
            if await service.mark_present_by_session(conn, token, slug, number, settings) is not None:
                return back_to(back, {"q": search} if search else {}, "present_done", f"#r{number}")
        staff = await authenticate_session(request)
        if refusal is not None or not good:
            await service.event_for(conn, staff.organiser, slug)  # the event's 404 first
            raise refusal or service.RegistrationNotHere("No such registration to tap at this event.")
        try:
            if action == "present":
                await service.mark_present(conn, staff.organiser, slug, number)
            else:
                await service.undo_present(conn, staff.organiser, slug, number)
        except Forbidden:
            raise NotAllowed("Your role does not allow changes.") from None
        done = "present_done" if action == "present" else "undo_done"
        return back_to(back, {"q": search} if search else {}, done, f"#r{number}")
