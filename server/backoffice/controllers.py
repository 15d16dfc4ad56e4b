"""The back-office pages: thin handlers over server/backoffice/service.py, every form with CSRF."""

from __future__ import annotations

from types import MappingProxyType
from typing import Annotated, Any, Literal

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.exceptions import ClientException
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect

from server.backoffice import dashboard, labels, series, service
from server.backoffice.service import ROLES, Staff
from server.backoffice.web import SignInRequired, provide_staff, render, sign_in_redirect, staff_language
from server.errors import Forbidden, Invalid, NotFound
from server.events import service as events
from server.i18n import LANGUAGES
from server.organisers.service import AccountOutOfReach, EmailRefused, account_email
from server.pages import csrf
from server.pages.errors import page_exception_handlers
from server.pages.render import language_links
from server.pages.translations import LANGUAGE_NAMES, N_, gettext
from server.registrations import checkin
from server.settings import Settings

Token = Annotated[str, Parameter(max_length=200)]
Slug = Annotated[str | None, QueryParameter(name="organisation", max_length=63, required=False)]
EventSlug = Annotated[str | None, QueryParameter(name="event", max_length=130, required=False)]
Next = Annotated[str | None, QueryParameter(name="next", max_length=1000, required=False)]
PersonId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
After = Annotated[str | None, QueryParameter(name="after", max_length=100, required=False)]
DraftsAfter = Annotated[str | None, QueryParameter(name="drafts_after", max_length=100, required=False)]
AttentionAfter = Annotated[str | None, QueryParameter(name="attention_after", max_length=100, required=False)]
EventPath = Annotated[str, Parameter(max_length=130)]
Action = Literal["publish", "cancel"]


class NotAllowed(Forbidden):
    """A write that the person's role does not allow."""

    code = "not_allowed"


def _not_allowed(request: Request, exc: Exception) -> Response:
    staff = request.scope.get("zesummen.staff")
    return render_page(
        request,
        request.app.state.settings,
        "bo_error.html",
        {},
        lang=staff_language(request, staff),
        staff=staff,
        status_code=403,
    )


BACKOFFICE_HANDLERS: dict[Any, Any] = {
    **page_exception_handlers,
    SignInRequired: sign_in_redirect,
    NotAllowed: _not_allowed,
}


class StaffPages(Controller):
    """The base of the back-office's page controllers: off the schema, HTML errors, the signed-in `staff`."""

    # read-only views: every subclass shares them, so none can change another's by mutating its own
    include_in_schema = False
    exception_handlers = MappingProxyType(BACKOFFICE_HANDLERS)
    dependencies = MappingProxyType({"staff": Provide(provide_staff)})
    opt = MappingProxyType({"html": True})


async def read_form(request: Request, settings: Settings) -> dict[str, str]:
    """The posted form, its CSRF token checked; fields as single strings."""
    form = await request.form()
    csrf.check(request, form, settings)
    return {key: str(value) for key, value in form.items()}


def render_page(
    request: Request,
    settings: Settings,
    template: str,
    context: dict[str, Any],
    *,
    lang: str,
    staff: Staff | None = None,
    status_code: int = 200,
    cookies: list | None = None,
) -> Response[str]:
    """A back-office page with its CSRF token and, before sign-in, links to the other languages."""
    token, jar = csrf.issue(request, settings)
    context = {
        "staff": staff,
        "csrf_token": token,
        "labels": labels.translated(lang),
        "switcher": language_links(request, request.url.path) if staff is None else [],
        **context,
    }
    return render(request, template, context, lang=lang, status_code=status_code, cookies=[*jar, *(cookies or [])])


class BackofficePages(StaffPages):
    """The dashboard, people and roles, the audit log: for signed-in staff only."""

    path = "/organiser"

    @get("/")
    async def dashboard(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        after: After = None,
        drafts_after: DraftsAfter = None,
        attention_after: AttentionAfter = None,
    ) -> Response:
        """What needs attention, a page of the coming events and of the drafts, for the person's organisations."""
        try:
            cursors = [dashboard.parse_cursor(c) for c in (after, drafts_after, attention_after)]
        except dashboard.BadCursor:
            raise ClientException("This link to a page of events is not one this service gave out.") from None
        data = await dashboard.dashboard(conn, staff.organiser, *cursors)
        return render_page(request, settings, "dashboard.html", data, lang=staff_language(request, staff), staff=staff)

    @get("/people")
    async def people(
        self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection, organisation: Slug = None
    ) -> Response:
        """The people of an organisation the person administers, with what they may change."""
        org, managed = await _managed(conn, staff, organisation)
        lang = staff_language(request, staff)
        context = await _people_context(conn, staff, org, managed, lang, {"role": "organiser"}, {})
        context["request_done"] = (
            gettext(lang, DONE[request.query_params["done"]]) if request.query_params.get("done") in DONE else ""
        )
        return render_page(request, settings, "people.html", context, lang=lang, staff=staff)

    @post("/people")
    async def invite(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Invite a person to the organisation; errors next to their field, nothing typed lost."""
        form = await read_form(request, settings)
        lang = staff_language(request, staff)
        org, managed = await _managed(conn, staff, form.get("organisation") or None)
        values = {name: form.get(name, "")[:320] for name in ("email", "name", "role", "language")}
        errors: dict[str, str] = {}
        if not " ".join(values["name"].split()):
            errors["name"] = gettext(lang, N_("Please write the person's name."))
        if values["role"] not in ROLES:
            errors["role"] = gettext(lang, N_("Please choose a role."))
        if values["language"] not in LANGUAGES:
            values["language"] = lang
        try:
            account_email(values["email"])
        except EmailRefused:
            errors["email"] = gettext(lang, N_("Please write a complete email address, such as name@example.lu."))
        if not errors:
            try:
                await service.invite(
                    conn,
                    staff.organiser,
                    org,
                    values["email"],
                    values["name"][:200],
                    values["role"],
                    values["language"],
                    settings,
                )
            except AccountOutOfReach:
                errors["email"] = gettext(
                    lang,
                    N_(
                        "This person has roles in organisations you do not administer: "
                        "only an administrator can change their account."
                    ),
                )
            except Invalid:
                errors["email"] = gettext(lang, N_("Please write a complete email address, such as name@example.lu."))
        if errors:
            context = await _people_context(conn, staff, org, managed, lang, values, errors)
            return render_page(request, settings, "people.html", context, lang=lang, staff=staff, status_code=422)
        return Redirect(path=f"/organiser/people?organisation={org['slug']}&done=invited", status_code=303)

    @post("/people/{person_id:int}/role")
    async def change_role(
        self, person_id: PersonId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Give a member another role."""
        form = await read_form(request, settings)
        org, _ = await _managed(conn, staff, form.get("organisation") or None)
        role = form.get("role", "")
        if role not in ROLES:
            raise Invalid.field("role", "Choose admin, organiser or viewer.")
        try:
            await service.change_role(conn, staff.organiser, org, person_id, role, settings)
        except Forbidden:
            raise NotAllowed("Only an administrator can change this account.") from None
        return Redirect(path=f"/organiser/people?organisation={org['slug']}&done=changed", status_code=303)

    @post("/people/{person_id:int}/remove")
    async def remove(
        self, person_id: PersonId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Take a member's role in the organisation away."""
        form = await read_form(request, settings)
        org, _ = await _managed(conn, staff, form.get("organisation") or None)
        try:
            await service.remove(conn, staff.organiser, org, person_id)
        except Forbidden:
            raise NotAllowed("Only an administrator can change this account.") from None
        return Redirect(path=f"/organiser/people?organisation={org['slug']}&done=removed", status_code=303)

    @get("/events/{slug:str}")
    async def event(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """One event: its figures and its texts in the five languages, with the fallback the public sees."""
        data = await service.event_page(conn, staff.organiser, slug)
        lang = staff_language(request, staff)
        done = request.query_params.get("done")
        data["request_done"] = gettext(lang, EVENT_DONE[done]) if done in EVENT_DONE else ""
        data["series_words"] = await series.series_words(conn, data["event"], lang)
        return render_page(request, settings, "bo_event.html", data, lang=lang, staff=staff)

    @get("/events/{slug:str}/{action:str}")
    async def confirm(
        self,
        slug: EventPath,
        action: Action,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """Publish or cancel: first say who will be told."""
        data = await self._writable(conn, staff, slug, action)
        return render_page(
            request,
            settings,
            "bo_confirm.html",
            {**data, "action": action},
            lang=staff_language(request, staff),
            staff=staff,
        )

    @post("/events/{slug:str}/{action:str}")
    async def act(
        self,
        slug: EventPath,
        action: Action,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
    ) -> Response:
        """Publish or cancel through the events service, as the JSON API does."""
        await read_form(request, settings)
        await self._writable(conn, staff, slug, action)
        try:
            if action == "publish":
                await events.publish_event(conn, staff.organiser, slug, settings)
            else:
                await events.cancel_event(conn, staff.organiser, slug, settings)
        except Forbidden:
            raise NotAllowed("Your role does not allow changes.") from None
        done = "published" if action == "publish" else "cancelled"
        return Redirect(path=f"/organiser/events/{slug}?done={done}", status_code=303)

    @staticmethod
    async def _writable(conn: asyncpg.Connection, staff: Staff, slug: str, action: str) -> dict[str, Any]:
        """The event page's data if the person may change it (404 unseen, 403 a viewer) and the action applies."""
        data = await service.event_page(conn, staff.organiser, slug)
        if not data["may_write"]:
            raise NotAllowed("Your role does not allow changes.")
        status = data["event"]["status"]
        if (action == "publish" and status != "draft") or (action == "cancel" and status == "cancelled"):
            raise NotFound("Nothing to do.")
        return data

    @get("/checkin/{token:str}")
    async def checkin_form(
        self, token: Token, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The URL in a registration's QR code: who and which event, and a button to mark them present."""
        lang = staff_language(request, staff)
        try:
            person = await checkin.preview(conn, staff.organiser, token, lang, settings)
        except Forbidden:
            return _checkin_refused(request, settings, staff, lang)
        except checkin.NotCheckable:
            return render_page(
                request,
                settings,
                "bo_checkin.html",
                {"person": None, "token": token, "done": False},
                lang=lang,
                staff=staff,
                status_code=409,
            )
        return render_page(
            request,
            settings,
            "bo_checkin.html",
            {"person": person, "token": token, "done": False},
            lang=lang,
            staff=staff,
        )

    @post("/checkin/{token:str}")
    async def check_in(
        self, token: Token, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Mark the person present (only on this POST with the form's CSRF token) and say so."""
        await read_form(request, settings)
        lang = staff_language(request, staff)
        try:
            person = await service.check_in(conn, staff, token, lang, settings)
        except Forbidden:
            return _checkin_refused(request, settings, staff, lang)
        except checkin.NotCheckable:
            return render_page(
                request,
                settings,
                "bo_checkin.html",
                {"person": None, "token": token, "done": False},
                lang=lang,
                staff=staff,
                status_code=409,
            )
        return render_page(
            request,
            settings,
            "bo_checkin.html",
            {"person": person, "token": token, "done": True},
            lang=lang,
            staff=staff,
        )

    @get("/audit")
    async def audit(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        organisation: Slug = None,
        event: EventSlug = None,
    ) -> Response:
        """Who did what in an organisation the person administers, optionally for one event."""
        org, managed = await _managed(conn, staff, organisation)
        rows = await service.audit_rows(conn, org, event)
        context = {"organisation": org, "managed": managed, "rows": rows, "event": event or ""}
        return render_page(request, settings, "audit.html", context, lang=staff_language(request, staff), staff=staff)


def _checkin_refused(request: Request, settings: Settings, staff: Staff, lang: str) -> Response:
    """A viewer of the event's organisation: the back-office's 403 page, saying who may mark people present."""
    reason = gettext(
        lang,
        N_("With read-only access you cannot mark people present. Ask an organiser or an admin of the organisation."),
    )
    return render_page(request, settings, "bo_error.html", {"reason": reason}, lang=lang, staff=staff, status_code=403)


EVENT_DONE = {
    "created": N_("The draft is saved. Nobody sees it until you publish it."),
    "changed": N_("The changes are saved."),
    "published": N_("The event is published."),
    "cancelled": N_("The event is cancelled. The registered people will get an email."),
}

DONE = {
    "invited": N_("The invitation is on its way. A person without an account gets an email to choose a password."),
    "changed": N_("The role is changed."),
    "removed": N_("The person no longer has a role in this organisation."),
}


async def _people_context(
    conn: asyncpg.Connection,
    staff: Staff,
    org: Any,
    managed: list[Any],
    lang: str,
    values: dict[str, str],
    errors: dict[str, str],
) -> dict[str, Any]:
    """What the people page shows: the members, the invitation form with what was typed."""
    names = labels.translated(lang)["roles"]
    return {
        "organisation": org,
        "managed": managed,
        "people": await service.people(conn, staff.organiser, org),
        "roles": ROLES,
        "values": values,
        "errors": errors,
        "request_done": "",
        "roles_options": [(code, names[code]) for code in ROLES],
        "language_options": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
    }


async def _managed(conn: asyncpg.Connection, staff: Staff, slug: str | None) -> tuple[Any, list[Any]]:
    """The organisation asked for among those the person administers: 404 for another's, 403 for a non-admin role."""
    try:
        return await service.managed_organisation(conn, staff.organiser, slug)
    except NotFound:
        visible = await service.visible_organisations(conn, staff.organiser)
        if any(slug is None or org["slug"] == slug for org in visible):
            raise NotAllowed("Only an organisation's admins manage its people.") from None
        raise
