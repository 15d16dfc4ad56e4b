"""A request typed by staff in the back-office (a social office phoning in): the public form's fields and
checks, stored through the same `create_mission` as the API, so the requester gets the same confirmation.
"""

from __future__ import annotations

from typing import Any

import asyncpg
import msgspec
from litestar import Request, Response, get, post
from litestar.response import Redirect

from server.backoffice.controllers import NotAllowed, StaffPages, read_form, render_page
from server.backoffice.service import Staff, visible_organisations
from server.backoffice.web import staff_language
from server.errors import NotFound
from server.i18n import LANGUAGES
from server.interpretation import service
from server.interpretation.request_form import (
    FIELDS,
    LABELS,
    REFUSALS,
    choices,
    error_sentences,
    read,
    refused_fields,
)
from server.interpretation.schemas import MissionIn
from server.pages.translations import LANGUAGE_NAMES, N_, gettext
from server.settings import Settings
from server.validation import checked

STAFF_FIELDS = (*FIELDS, "language", "pool")
# where the public form says "you", staff type for someone else
STAFF_LABELS = {
    **LABELS,
    "organisation": N_("Requesting service"),
    "language": N_("Language of the emails to the requester"),
    "pool": N_("For the organisation"),
}
STAFF_ERRORS = {
    "organisation": N_("Please give the name of the requesting service."),
    "language": N_("Please choose one of the five languages."),
    "pool": N_("Please choose the organisation whose interpreters take the mission."),
    "email": N_("Please give an email address such as name@example.lu, or leave the field empty."),
    "phone": N_(
        "Please give a phone number such as +352 621 123 456, or an email address: "
        "the interpreter needs a way to reach the service."
    ),
}


async def writable_pools(conn: asyncpg.Connection, staff: Staff) -> list[asyncpg.Record]:
    """The organisations the person may enter missions for, by name; 403 when there is none."""
    orgs = [org for org in await visible_organisations(conn, staff.organiser) if staff.organiser.can_write(org["id"])]
    if not orgs:
        raise NotAllowed("Your role does not allow changes.")
    return orgs


class InterpretationMissionForm(StaffPages):
    """The form staff enter a request with; viewers are refused, another organisation's pool is missing."""

    path = "/organiser/interpretation/missions/new"

    @get("/")
    async def show(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """The empty form, for the agency's pool when the person may write to it."""
        lang = staff_language(request, staff)
        orgs = await writable_pools(conn, staff)
        slugs = [org["slug"] for org in orgs]
        values = {
            "urgency": "normal",
            "duration": "60",
            "language": lang,
            "pool": service.AGENCY if service.AGENCY in slugs else slugs[0],
        }
        return await self._page(request, staff, settings, conn, lang, orgs, values, {})

    @post("/")
    async def create(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Store the request and show its mission; refusals come back next to their fields, nothing lost."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        orgs = await writable_pools(conn, staff)
        values = {name: form.get(name, "") for name in STAFF_FIELDS}
        if not values["pool"] and len(orgs) == 1:
            values["pool"] = orgs[0]["slug"]
        if values["pool"] and values["pool"] not in {org["slug"] for org in orgs}:
            # another organisation's pool is refused like a missing one
            raise NotFound(f"No organisation '{values['pool'][:63]}' of yours.")
        body, errors = read(values)
        if not values["pool"]:
            errors["pool"] = "pool"
            body = None
        if body is not None:
            body["requester"]["language"] = values["language"]
            if not body["requester"]["email"]:
                del body["requester"]["email"]  # a request phoned in without one: no mail to the requester
            body["organisation"] = values["pool"]
            try:
                data = checked(msgspec.convert(body, MissionIn), MissionIn)
                mission = await service.create_mission(conn, staff.organiser, data, settings)
            except NotFound:
                raise  # the pool went away between the check and the write: missing, not a field's fault
            except REFUSALS as exc:
                errors.update(refused_fields(exc))
            else:
                return Redirect(path=f"/organiser/interpretation/missions/{mission.id}?done=created", status_code=303)
        shown = error_sentences(errors, lang, STAFF_ERRORS)
        return await self._page(request, staff, settings, conn, lang, orgs, values, shown, status_code=422)

    async def _page(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        lang: str,
        orgs: list[asyncpg.Record],
        values: dict[str, str],
        errors: dict[str, str],
        *,
        status_code: int = 200,
    ) -> Response:
        context: dict[str, Any] = {
            "values": values,
            "errors": errors,
            "labels": {name: gettext(lang, label) for name, label in STAFF_LABELS.items()},
            "pools": [(org["slug"], org["name"]) for org in orgs] if len(orgs) > 1 else [],
            "requester_languages": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
            **await choices(conn, lang),
        }
        template = "bo_interpretation_new.html"
        return render_page(request, settings, template, context, lang=lang, staff=staff, status_code=status_code)
