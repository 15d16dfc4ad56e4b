"""The event editor's pages: new, edit, duplicate, preview; thin handlers over editor/service.py."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect

from server.backoffice import labels, series
from server.backoffice.controllers import NotAllowed, StaffPages
from server.backoffice.editor import form
from server.backoffice.editor import service as editor
from server.backoffice.service import Staff
from server.backoffice.web import render, staff_language
from server.errors import Forbidden
from server.events.labels import LEVEL_NAMES
from server.i18n import LANGUAGES, gettext
from server.pages import csrf, forms
from server.pages import service as pages
from server.pages.controllers import event_page_context
from server.pages.render import CONTENT_SECURITY_POLICY
from server.pages.translations import LANGUAGE_NAMES, N_
from server.settings import Settings

EventPath = Annotated[str, Parameter(max_length=130)]
Organisation = Annotated[str | None, QueryParameter(name="organisation", max_length=63, required=False)]
Kind = Annotated[str | None, QueryParameter(name="kind", max_length=30, required=False)]
CopyOf = Annotated[str | None, QueryParameter(name="copy", max_length=130, required=False)]
Whole = Annotated[str | None, QueryParameter(name="series", max_length=3, required=False)]
PreviewLanguage = Annotated[str | None, QueryParameter(name="lang", max_length=5, required=False)]

PREVIEW_NOTE = N_("Preview: this is how the public page will read in this language. Its form sends nothing.")
# the preview's forms go nowhere: a click on "Register" must not register the organiser
PREVIEW_POLICY = CONTENT_SECURITY_POLICY.replace("form-action 'self'", "form-action 'none'")


async def _posted(request: Request, settings: Settings) -> dict[str, Any]:
    """The posted form, its CSRF token checked; lists for the fields posted several times."""
    posted = await request.form()
    csrf.check(request, posted, settings)
    return form.form_values(posted)


class EventEditorPages(StaffPages):
    """Create a draft, change an event, start from a copy, preview the public page."""

    path = "/organiser/events"

    @get("/new")
    async def new(
        self,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        organisation: Organisation = None,
        kind: Kind = None,
        copy: CopyOf = None,
        series_: Whole = None,
    ) -> Response:
        """The empty form, or a copy of an event (?copy=slug) or of its series (&series=1), with a free address."""
        lang = staff_language(request, staff)
        orgs = await self._organisations(conn, staff)
        if copy:
            values = await editor.copy_values(conn, staff.organiser, copy, series_ == "1")
            if values["organisation"] not in {org["slug"] for org in orgs}:
                raise NotAllowed("Your role does not allow creating events there.")
        else:
            chosen = organisation if organisation in {org["slug"] for org in orgs} else orgs[0]["slug"]
            values = form.empty_values(chosen, kind or "", lang)
        return await _editor(request, conn, settings, staff, lang, values, {}, orgs=orgs, copy_of=copy or "")

    @post("/new")
    async def create(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Create the draft; errors next to their fields, nothing typed lost."""
        values = await _posted(request, settings)
        lang = staff_language(request, staff)
        orgs = await self._organisations(conn, staff)
        if values.get("check_series"):  # the series in words first; nothing is created
            _, errors = form.read_new(values, lang)
            return await _editor(
                request, conn, settings, staff, lang, values, errors, orgs=orgs, status_code=422 if errors else 200
            )
        try:
            slug, errors = await editor.create(conn, staff.organiser, values, lang, settings)
        except Forbidden:
            raise NotAllowed("Your role does not allow creating events there.") from None
        if errors:
            return await _editor(request, conn, settings, staff, lang, values, errors, orgs=orgs, status_code=422)
        return Redirect(path=f"/organiser/events/{slug}?done=created", status_code=303)

    @get("/{slug:str}/edit")
    async def edit(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The form with the event's values, its series in words, its texts with the public's fallback."""
        row = await self._editable(conn, staff, slug)
        values = form.values_of(row, await editor.aimed_at(conn, row["id"]))
        return await _editor(request, conn, settings, staff, staff_language(request, staff), values, {}, event=row)

    @post("/{slug:str}/edit")
    async def change(
        self, slug: EventPath, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Save the changes through the events service (a new time or place of a published event tells people)."""
        values = await _posted(request, settings)
        lang = staff_language(request, staff)
        row = await self._editable(conn, staff, slug)
        try:
            errors = await editor.change(conn, staff.organiser, row, values, lang, settings)
        except Forbidden:
            raise NotAllowed("Your role does not allow changes.") from None
        if errors:
            return await _editor(request, conn, settings, staff, lang, values, errors, event=row, status_code=422)
        return Redirect(path=f"/organiser/events/{slug}?done=changed", status_code=303)

    @get("/{slug:str}/preview")
    async def preview(
        self,
        slug: EventPath,
        request: Request,
        staff: Staff,
        settings: Settings,
        conn: asyncpg.Connection,
        lang: PreviewLanguage = None,
    ) -> Response:
        """The public event page itself, in `?lang=`, as it reads (a draft: once published); read-only staff too."""
        shown = lang if lang in LANGUAGES else staff_language(request, staff)
        event = await editor.preview(conn, staff.organiser, slug, shown, settings)
        context = event_page_context(event, shown, await pages.communes(conn), settings, csrf_token="")
        staff_lang = staff_language(request, staff)
        context.update(
            {
                "preview_note": gettext(staff_lang, PREVIEW_NOTE),
                "staff_lang": staff_lang,
                "back_url": f"/organiser/events/{slug}",
                "back_label": gettext(staff_lang, N_("Back to the event")),
                "switcher": [
                    (code, LANGUAGE_NAMES[code], f"/organiser/events/{slug}/preview?lang={code}") for code in LANGUAGES
                ],
            }
        )
        response = render(request, "bo_preview.html", context, lang=shown)
        response.headers["Content-Security-Policy"] = PREVIEW_POLICY
        return response

    @staticmethod
    async def _organisations(conn: asyncpg.Connection, staff: Staff) -> list[Any]:
        orgs = await editor.writable_organisations(conn, staff.organiser)
        if not orgs:
            raise NotAllowed("Your role does not allow creating events.")
        return orgs

    @staticmethod
    async def _editable(conn: asyncpg.Connection, staff: Staff, slug: str) -> Any:
        try:
            return await editor.editable(conn, staff.organiser, slug)
        except Forbidden:
            raise NotAllowed("Your role does not allow changes.") from None


async def _editor(
    request: Request,
    conn: asyncpg.Connection,
    settings: Settings,
    staff: Staff,
    lang: str,
    values: dict[str, Any],
    errors: dict[str, str],
    *,
    orgs: list[Any] | None = None,
    event: Any = None,
    copy_of: str = "",
    status_code: int = 200,
) -> Response:
    """The editor page: a new event (`orgs`) or an existing one (`event`), with what was typed and its errors."""
    token, jar = csrf.issue(request, settings)
    names = {name: gettext(lang, text) for name, text in form.LABELS.items()}
    communes = [c.name for c in await pages.communes(conn)]
    reminders = list(dict.fromkeys([*form.REMINDER_CHOICES, *values.get("reminders", [])]))
    context = {
        "staff": staff,
        "csrf_token": token,
        "labels": labels.translated(lang),
        "switcher": [],
        "values": values,
        "errors": errors,
        "names": names,
        "event": event,
        "copy_of": copy_of,
        "organisations": [(org["slug"], org["name"]) for org in orgs or []],
        "kinds": [(kind, labels.translated(lang)["kinds"][kind]) for kind in form.KINDS],
        "language_options": [(code, LANGUAGE_NAMES[code]) for code in LANGUAGES],
        "practised_options": [(code, forms.language_name(code, lang)) for code in LANGUAGES],
        "levels": [(code, gettext(lang, LEVEL_NAMES[code])) for code in form.LEVELS],
        "reminder_options": [
            (code, gettext(lang, form.REMINDER_NAMES[code]) if code in form.REMINDER_NAMES else code)
            for code in reminders
        ],
        "repeats": [(code, gettext(lang, form.REPEAT_NAMES[code])) for code in series.REPEATS],
        "communes": communes,
        "texts": form.texts_with_fallback(values),
        "series_words": await series.series_words(conn, event, lang)
        if event is not None
        else editor.typed_series_words(values, lang)
        if values.get("repeat", "none") != "none"
        else "",
        "action": f"/organiser/events/{event['slug']}/edit" if event is not None else "/organiser/events/new",
    }
    return render(request, "bo_editor.html", context, lang=lang, status_code=status_code, cookies=jar)
