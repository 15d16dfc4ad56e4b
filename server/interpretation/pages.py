"""The interpreter's private page (phone first, no JavaScript): their offers with accept and decline
buttons, their missions, and their calendar feed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg
from icalendar import Calendar, Event
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from server.errors import Conflict, NotFound
from server.feeds.ical import PRODID
from server.i18n import format_day, format_time, format_when
from server.interpretation import answers
from server.interpretation import queries as q
from server.interpretation.controllers import Token
from server.interpretation.schemas import language_name
from server.openapi import problem_response
from server.pages import csrf
from server.pages.errors import page_exception_handlers
from server.pages.render import page_language, render
from server.pages.translations import N_, gettext
from server.settings import Settings

ZONE = "Europe/Luxembourg"
# what the page says after an answer, by the `done` of its address
NOTICES = {
    "accepted": (N_("The mission is yours. It is now in your missions and in your calendar."), "success"),
    "declined": (N_("You declined the offer."), "success"),
    "taken": (N_("Someone else accepted this mission first."), "warning"),
    "busy": (N_("You already hold a mission at that time, or too close to it to travel."), "warning"),
}


def _described(row: Any, lang: str) -> dict[str, Any]:
    where = {"phone": N_("By phone"), "video": N_("By video")}.get(row["mode"])
    return {
        "id": row["id"],
        "starts_at": row["starts_at"].isoformat(),
        "when": format_when(row["starts_at"], row["ends_at"], ZONE, lang),
        "pair": f"{language_name(row['from_language'], lang)} – {language_name(row['to_language'], lang)}",
        "where": gettext(lang, where) if where else ", ".join(p for p in (row["address"], row["commune"]) if p),
        "answer_by": _deadline(row["answer_by"], lang) if "answer_by" in row.keys() else "",
    }


def _deadline(moment: Any, lang: str) -> str:
    """Until when an offer may be accepted, e.g. `8 déc. 2026, 14 h 30`."""
    return f"{format_day(moment, ZONE, lang, 'medium')}, {format_time(moment, ZONE, lang)}"


class InterpreterPages(Controller):
    """/i/{token}: what an interpreter sees and answers."""

    path = "/i/{token:str}"
    include_in_schema = False
    exception_handlers = page_exception_handlers
    opt = {"html": True}

    @get("/")
    async def show(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response[str]:
        """Their open offers and their missions."""
        lang, _ = page_language(request)
        interpreter = await answers.interpreter_for_token(conn, token)
        offers = [_described(r, lang) for r in await conn.fetch(q.OPEN_OFFERS, interpreter["id"])]
        missions = [_described(r, lang) for r in await conn.fetch(q.HELD_MISSIONS, interpreter["id"])]
        notice, kind = NOTICES.get(request.query_params.get("done", ""), ("", ""))
        form_token, cookies = csrf.issue(request, settings)
        return render(
            request,
            "interpreter.html",
            {
                "name": interpreter["name"],
                "token": token,
                "offers": offers,
                "missions": missions,
                "notice": gettext(lang, notice) if notice else "",
                "notice_kind": kind,
                "csrf_token": form_token,
                "calendar_url": f"/api/interpreters/{token}/calendar.ics",
            },
            lang=lang,
            page_path=f"/i/{token}",
            cookies=cookies,
            private=True,
        )

    @post("/offers/{offer_id:int}/{answer:str}")
    async def answer(
        self,
        token: Token,
        offer_id: int,
        answer: str,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
    ) -> Redirect:
        """Accept or decline from the page; back to it with what happened."""
        lang, _ = page_language(request)
        csrf.check(request, dict(await request.form()), settings)
        if answer not in ("accept", "decline"):
            raise NotFound("No such answer.")
        try:
            await answers.answer_offer(conn, token, offer_id, accept=answer == "accept")
            done = "accepted" if answer == "accept" else "declined"
        except Conflict as refused:
            done = "busy" if refused.code == "interpreter_busy" else "taken"
        return Redirect(path=f"/i/{token}?lang={lang}&done={done}", status_code=303)


class InterpreterCalendar(Controller):
    """An interpreter's missions as an iCalendar feed, for their calendar app."""

    path = "/api/interpreters/{token:str}"
    tags = ["interpretation"]

    @get(
        "/calendar.ics",
        media_type="text/calendar",
        responses={404: problem_response(404, "No interpreter has this link")},
    )
    async def calendar(self, token: Token, conn: asyncpg.Connection, settings: Settings) -> Response[bytes]:
        """Their missions from a month ago on (only their own)."""
        interpreter = await answers.interpreter_for_token(conn, token)
        calendar = Calendar()
        calendar.add("prodid", PRODID)
        calendar.add("version", "2.0")
        calendar.add("calscale", "GREGORIAN")
        host = urlsplit(settings.base_url).hostname or "zesummen"
        lang = interpreter["language"]
        now = datetime.now(UTC).replace(microsecond=0)
        for row in await conn.fetch(q.HELD_MISSIONS, interpreter["id"]):
            described = _described(row, lang)
            event = Event()
            event.add("uid", f"interpretation-{row['id']}@{host}")
            event.add("sequence", row["sequence"])
            event.add("dtstamp", now)
            event.add("dtstart", row["starts_at"].astimezone(UTC))
            event.add("dtend", row["ends_at"].astimezone(UTC))
            event.add("summary", described["pair"])
            event.add("location", described["where"])
            event.add(
                "description",
                ", ".join(
                    p for p in (row["requester_contact"], row["requester_organisation"], row["requester_phone"]) if p
                ),
            )
            calendar.add_component(event)
        return Response(
            calendar.to_ical(),
            media_type="text/calendar; charset=utf-8",
            headers={"Cache-Control": "private, no-cache"},
        )
