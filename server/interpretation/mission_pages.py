"""The interpretation missions in the back-office: the list by status and date, a mission with its
ranked candidates and the form offering it to the ones ticked, its offers, the form recording the time
its interpreter spent, and the pool.

Thin handlers over the service (server/interpretation/service.py, overview.py): the page offers a
mission through the same `offer` as the API, so the first to accept still gets it, and records the time
spent through the same `hours.record_minutes`.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.exceptions import ClientException
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect

from server.backoffice.controllers import NotAllowed, StaffPages, read_form, render_page
from server.backoffice.service import Staff
from server.backoffice.web import staff_language
from server.errors import Conflict, Invalid, NotFound
from server.interpretation import hours, overview, pool, service
from server.interpretation.schemas import OffersIn, language_name
from server.interpretation.staff_labels import DONE, STATUSES, translated
from server.pages import csrf
from server.pages.translations import N_, gettext
from server.settings import Settings
from server.validation import local_today

ZONE = ZoneInfo("Europe/Luxembourg")
MissionId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
StatusFilter = Annotated[
    Literal["", "requested", "offered", "assigned", "done", "cancelled"] | None,
    QueryParameter(name="status", required=False),
]
Since = Annotated[date | None, QueryParameter(name="from", required=False)]
DoneCode = Annotated[str | None, QueryParameter(name="done", max_length=40, required=False)]
CandidatesAfter = Annotated[str | None, QueryParameter(name="candidates_after", max_length=40, required=False)]

OFFER_PROBLEMS = {
    "empty": N_("Please tick at least one interpreter (at most 50)."),
    "speaks": N_("An interpreter you ticked does not speak both languages at the level this mission needs."),
    "closed": N_("The mission is no longer open to offers."),
}

# why the time typed was not recorded; the service's Conflict codes name the last two
HOURS_PROBLEMS = {
    "empty": N_("Please enter the time spent, in hours and minutes."),
    "number": N_("Please enter the hours and minutes as whole numbers."),
    "range": N_("Please enter a time between 0 minutes and 24 hours."),
    "mission_not_begun": N_("The mission has not begun yet: its time is recorded once it has."),
    "mission_not_held": N_("The mission has no interpreter: its time is recorded once one is assigned."),
}
WHOLE = re.compile(r"-?[0-9]{1,6}")


def typed_minutes(hours_typed: str, minutes_typed: str) -> int | str:
    """The minutes typed as hours and minutes (either may be left empty), or the HOURS_PROBLEMS key saying why not."""
    parts = [hours_typed.strip(), minutes_typed.strip()]
    if not any(parts):
        return "empty"
    if not all(WHOLE.fullmatch(part) for part in parts if part):
        return "number"
    h, m = (int(part or 0) for part in parts)
    total = h * 60 + m
    return total if h >= 0 and m >= 0 and total <= 24 * 60 else "range"


def _pair(from_language: str, to_language: str, lang: str) -> str:
    return f"{language_name(from_language, lang)} → {language_name(to_language, lang)}"


class InterpretationMissionPages(StaffPages):
    """Missions, offers and the pool, for the staff of the organisations running them."""

    path = "/organiser/interpretation"

    @get("/")
    async def missions(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        status: StatusFilter = None,
        since: Since = None,
    ) -> Response:
        """The missions ending from a day on (today by default), in one status or any, soonest first."""
        lang = staff_language(request, staff)
        first = since or local_today()
        rows = await overview.list_missions(
            conn, staff.organiser, status, datetime.combine(first, time(0), ZONE).astimezone(UTC)
        )
        context = {
            "rows": [{**dict(r), "pair": _pair(r["from_language"], r["to_language"], lang)} for r in rows],
            "filters": {"status": status or "", "from": first.isoformat()},
            "statuses": STATUSES,
            "interp": translated(lang),
            "may_create": staff.organiser.is_admin or any(map(staff.organiser.can_write, staff.organiser.roles)),
        }
        return render_page(request, settings, "bo_interpretation_missions.html", context, lang=lang, staff=staff)

    @get("/interpreters")
    async def pool(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """The interpreters of the staff member's organisations: languages and levels, where, their monthly cap."""
        lang = staff_language(request, staff)
        people = [
            {
                "person": person,
                "languages": [(language_name(s.code, lang), s.level) for s in person.languages],
            }
            for person in await pool.list_interpreters(conn, staff.organiser)
        ]
        context = {"people": people, "interp": translated(lang)}
        return render_page(request, settings, "bo_interpretation_pool.html", context, lang=lang, staff=staff)

    @get("/missions/{mission_id:int}")
    async def mission(
        self,
        mission_id: MissionId,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        done: DoneCode = None,
        candidates_after: CandidatesAfter = None,
    ) -> Response:
        """A mission: when, where, who asked; its ranked candidates to offer it to, its offers, its hours."""
        lang = staff_language(request, staff)
        notice = gettext(lang, DONE[done]) if done in DONE else ""
        return await self._mission(
            request, staff, settings, conn, mission_id, lang, done=notice, candidates_after=candidates_after
        )

    async def _mission(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        mission_id: int,
        lang: str,
        *,
        done: str = "",
        ticked: list[int] | None = None,
        error: str = "",
        spent: dict[str, str] | None = None,
        spent_error: str = "",
        status_code: int = 200,
        candidates_after: str | None = None,
    ) -> Response:
        try:
            data = await overview.mission_page(conn, staff.organiser, mission_id, candidates_after)
        except Invalid:
            if status_code != 422:
                raise ClientException("This link to more interpreters is not one this service gave out.") from None
            # a refused offer posted with a forged page: shown from the first one (a viewer still gets 403 below)
            data = await overview.mission_page(conn, staff.organiser, mission_id)
        if status_code == 422 and not data["may_write"]:
            raise NotAllowed("Your role does not allow changes.")  # a viewer's forged post, refused before its faults
        mission = data["mission"]
        held = mission.interpreter is not None and mission.status in ("assigned", "done")
        if spent is None and mission.minutes_spent is not None:
            spent = {"hours": str(mission.minutes_spent // 60), "minutes": str(mission.minutes_spent % 60)}
        context: dict[str, Any] = {
            **data,
            "pair": (language_name(mission.from_language, lang), language_name(mission.to_language, lang)),
            "interp": translated(lang),
            "done": done,
            "ticked": ticked or [],
            "offer_error": error,
            # the form shows once the interpreter's mission has begun, and again with what was refused
            "may_record": data["may_write"] and bool(spent_error or (held and mission.starts_at <= datetime.now(UTC))),
            "spent": spent or {},
            "errors": {"spent": spent_error} if spent_error else {},
        }
        template = "bo_interpretation_mission.html"
        return render_page(request, settings, template, context, lang=lang, staff=staff, status_code=status_code)

    @post("/missions/{mission_id:int}/offers")
    async def offer(
        self, mission_id: MissionId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Offer the mission to the interpreters ticked; the first to accept gets it."""
        form = await request.form()
        csrf.check(request, form, settings)
        lang = staff_language(request, staff)
        await service.get_mission(conn, staff.organiser, mission_id)  # 404 for a mission not of theirs
        raw = [str(value) for value in form.getall("interpreter", [])]
        # the page of candidates the boxes were ticked on, shown again if the offer is refused
        candidates_after = str(form.get("candidates_after") or "") or None
        ticked = [int(value) for value in raw if value.isascii() and value.isdigit() and len(value) < 19]
        problem = ""
        try:
            data = msgspec.convert({"interpreters": ticked}, OffersIn)
            await service.offer(conn, staff.organiser, mission_id, data)
        except NotFound:
            # the mission is readable (above) but not writable: a viewer's forged post
            raise NotAllowed("Your role does not allow changes.") from None
        except msgspec.ValidationError:
            problem = "empty"
        except Invalid:
            problem = "speaks"
        except Conflict:
            problem = "closed"
        if problem:
            text = gettext(lang, OFFER_PROBLEMS[problem])
            return await self._mission(
                request,
                staff,
                settings,
                conn,
                mission_id,
                lang,
                ticked=ticked,
                error=text,
                status_code=422,
                candidates_after=candidates_after,
            )
        return Redirect(path=f"/organiser/interpretation/missions/{mission_id}?done=offered", status_code=303)

    @post("/missions/{mission_id:int}/hours")
    async def record_hours(
        self, mission_id: MissionId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Record the time the interpreter actually spent, typed as hours and minutes; a correction alike."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        await service.get_mission(conn, staff.organiser, mission_id)  # 404 for a mission not of theirs
        spent = {"hours": form.get("hours", "")[:10], "minutes": form.get("minutes", "")[:10]}
        minutes = typed_minutes(spent["hours"], spent["minutes"])
        problem = minutes if isinstance(minutes, str) else ""
        if not problem:
            try:
                await hours.record_minutes(conn, staff.organiser, mission_id, int(minutes))
            except NotFound:
                raise NotAllowed("Your role does not allow changes.") from None
            except Conflict as exc:
                if exc.code not in HOURS_PROBLEMS:
                    raise
                problem = exc.code
        if problem:
            text = gettext(lang, HOURS_PROBLEMS[problem])
            return await self._mission(
                request, staff, settings, conn, mission_id, lang, spent=spent, spent_error=text, status_code=422
            )
        return Redirect(path=f"/organiser/interpretation/missions/{mission_id}?done=hours", status_code=303)
