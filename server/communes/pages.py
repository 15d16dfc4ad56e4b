"""The public pages of commune requests: the form, the page after sending it, and the requester's status page."""

from __future__ import annotations

import typing
from datetime import date
from typing import Annotated, Any

import asyncpg
import msgspec
from babel.dates import format_date
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect

from server.communes import asking, directory, texts
from server.communes import queries as q
from server.communes.schemas import REQUESTER_TYPES, SUBJECTS, CommuneRequestIn
from server.communes.texts import ERRORS, LABELS, STATUSES
from server.communes.texts import REQUESTER_TYPES as REQUESTER_LABELS
from server.errors import DomainError
from server.i18n import BABEL_LOCALE, format_day, format_when
from server.limits import client_address
from server.pages import csrf, forms
from server.pages.errors import page_exception_handlers
from server.pages.render import page_language, render
from server.pages.translations import N_, gettext
from server.settings import Settings
from server.validation import LOCAL_ZONE, Refused, checked, local_today

Token = Annotated[str, Parameter(max_length=200)]
HONEYPOT = "website"
PERIODS = 3
_HINTS = typing.get_type_hints(CommuneRequestIn, include_extras=True)
TEXT_FIELDS = (
    "commune",
    "requester_type",
    "contact_name",
    "email",
    "phone",
    "language",
    "subject",
    "audience_size",
    "venue",
    "step_free",
    "message",
    "consent",
)
LIST_FIELDS = ("audience_languages", "interpretation")
PERIOD_FIELDS = tuple(f"preferred_{end}_{n}" for n in range(1, PERIODS + 1) for end in ("from", "to"))
MESSAGE_MAX = 5000


def long_date(day: date, lang: str) -> str:
    """A day as a reader of `lang` writes it (28 décembre 2026)."""
    return format_date(day, "long", locale=BABEL_LOCALE[lang])


def _label(lang: str, name: str) -> str:
    return gettext(lang, LABELS[name])


def form_values(form: Any) -> dict[str, Any]:
    """What was typed, as text (and lists for the language choices), for showing it again."""
    values: dict[str, Any] = {name: str(form.get(name, "") or "") for name in (*TEXT_FIELDS, *PERIOD_FIELDS)}
    for name in LIST_FIELDS:
        values[name] = [str(v) for v in form.getall(name, [])] if hasattr(form, "getall") else []
    return values


def _field_value(name: str, raw: str) -> Any:
    """A form text as the API's JSON value of the field."""
    text = raw.replace("\r\n", "\n").strip()
    if name in ("consent",):
        return raw == "yes"
    if name == "step_free":
        return {"yes": True, "no": False}.get(raw)
    if name == "audience_size":
        return int(text) if text.isdigit() and len(text) < 7 else (text or None)
    return text


def read_request(values: dict[str, Any], lang: str, earliest: date) -> tuple[CommuneRequestIn | None, dict[str, str]]:
    """(request, {}) or (None, {field: sentence in `lang`}); every field is checked, not only the first."""
    data: dict[str, Any] = {}
    errors: dict[str, str] = {}
    for name in (*TEXT_FIELDS, *LIST_FIELDS):
        raw = values.get(name, [] if name in LIST_FIELDS else "")
        value = [str(v) for v in raw] if name in LIST_FIELDS else _field_value(name, raw)
        left_empty = value == "" if name in ("phone", "venue", "message") else value is None
        if left_empty and name in ("phone", "venue", "message", "audience_size", "step_free"):
            continue
        if "\x00" in str(raw):
            errors[name] = gettext(lang, ERRORS[name])
            continue
        try:
            data[name] = checked(msgspec.convert(value, _HINTS[name]), _HINTS[name], name)
        except (msgspec.ValidationError, Refused):
            errors[name] = gettext(lang, ERRORS[name])
    periods = []
    for n in range(1, PERIODS + 1):
        start, end = values.get(f"preferred_from_{n}", "").strip(), values.get(f"preferred_to_{n}", "").strip()
        if not start and not end:
            continue
        try:
            first = date.fromisoformat(start)
            last = date.fromisoformat(end) if end else first
        except ValueError:
            errors["preferred"] = ""
            continue
        periods.append({"from": first.isoformat(), "to": last.isoformat()})
        if first < earliest or last < first:
            errors["preferred"] = ""
    data["preferred"] = periods
    if "preferred" in errors:
        errors["preferred"] = gettext(lang, ERRORS["preferred"]) % {"earliest": long_date(earliest, lang)}
    if not data.get("consent") and "consent" not in errors:
        errors["consent"] = gettext(lang, ERRORS["consent"])
    if errors:
        return None, errors
    return msgspec.convert(data, CommuneRequestIn), {}


def refusal_errors(exc: DomainError, lang: str, earliest: date) -> dict[str, str]:
    """The service's refusal of fields as {form field: sentence}."""
    errors: dict[str, str] = {}
    for error in exc.errors or []:
        name = error.field.split("[")[0].split(".")[0]
        if name in ERRORS:
            values = {"earliest": long_date(earliest, lang)} if name == "preferred" else {}
            errors[name] = gettext(lang, ERRORS[name]) % values
    if errors:
        return errors
    from server.pages.errors import explanation

    return {"form": gettext(lang, explanation(exc.status, exc.code)[1])}


class CommuneRequestPages(Controller):
    """Asking the agency for a session without an account, and following the request."""

    include_in_schema = False
    exception_handlers = page_exception_handlers
    opt = {"html": True}

    @get("/communes/request")
    async def form(self, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response[str]:
        """The request form, in the person's language."""
        lang, _ = page_language(request)
        return await self._form_page(request, conn, settings, lang)

    @post("/communes/request")
    async def send(self, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """Send the form; errors come back next to their fields with everything typed kept."""
        lang, _ = page_language(request)
        form = await request.form()
        csrf.check(request, form, settings)
        if str(form.get(HONEYPOT, "") or ""):  # only a robot fills the hidden field: it is told what a person is
            return Redirect(path=f"/communes/request/sent?lang={lang}", status_code=303)
        values = form_values(form)
        earliest = local_today() + settings.commune_request_lead_time
        data, errors = read_request(values, lang, earliest)
        if data is None:
            return await self._form_page(request, conn, settings, lang, values=values, errors=errors, status_code=422)
        try:
            await asking.create_request(conn, data, settings, client_address(request, settings))
        except DomainError as exc:
            if exc.status not in (422, 429):
                raise
            errors = (
                refusal_errors(exc, lang, earliest)
                if exc.status == 422
                else {"form": gettext(lang, N_("Too many requests from here. Please try again in a few minutes."))}
            )
            response = await self._form_page(
                request, conn, settings, lang, values=values, errors=errors, status_code=exc.status
            )
            response.headers.update(exc.headers)
            return response
        return Redirect(path=f"/communes/request/sent?lang={lang}", status_code=303)

    @get("/communes/request/sent")
    async def sent(self, request: Request) -> Response[str]:
        """Said after sending, whatever the commune (and to the robot that filled the hidden field)."""
        lang, _ = page_language(request)
        return render(request, "commune_request_sent.html", {}, lang=lang, private=True)

    @get("/requests/{token:str}")
    async def status(
        self,
        token: Token,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
    ) -> Response[str]:
        """The requester's page: where the request stands, the thread, the sessions it led to."""
        lang, chosen = page_language(request)
        row = await asking.request_for_token(conn, token)
        if not chosen:
            lang = row["language"]
        return await self._status_page(request, conn, settings, token, row, lang)

    @post("/requests/{token:str}/reply")
    async def answer(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """The requester's answer joins the thread; the agency is told."""
        lang, _ = page_language(request)
        form = await request.form()
        csrf.check(request, form, settings)
        row = await asking.request_for_token(conn, token)
        body = str(form.get("body", "") or "").replace("\r\n", "\n").strip()
        if not body or len(body) > MESSAGE_MAX or "\x00" in body:
            errors = {"body": gettext(lang, ERRORS["body"])}
            return await self._status_page(
                request, conn, settings, token, row, lang, body=body, errors=errors, status_code=422
            )
        try:
            checked(body, _HINTS["message"], "body")
        except Refused:
            errors = {"body": gettext(lang, ERRORS["body"])}
            return await self._status_page(
                request, conn, settings, token, row, lang, body=body, errors=errors, status_code=422
            )
        await asking.reply(conn, token, body)
        return Redirect(path=f"/requests/{token}?lang={lang}&done=sent", status_code=303)

    async def _form_page(
        self,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
        lang: str,
        *,
        values: dict[str, Any] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        token, cookies = csrf.issue(request, settings)
        names = await directory.communes_by_slug(conn)
        earliest = local_today() + settings.commune_request_lead_time
        context = {
            "csrf_token": token,
            "values": values or {"language": lang, "audience_languages": [], "interpretation": []},
            "errors": errors or {},
            "labels": {name: _label(lang, name) for name in LABELS},
            "communes": [(slug, name) for slug, name in sorted(names.items(), key=lambda item: item[1])],
            "requester_types": [(code, gettext(lang, REQUESTER_LABELS[code])) for code in REQUESTER_TYPES],
            "subjects": [(code, texts.subject_label(code, lang)) for code in SUBJECTS],
            "email_languages": forms.email_language_options(),
            "languages": forms.interpretation_options(lang),
            "periods": range(1, PERIODS + 1),
            "earliest": earliest.isoformat(),
            "earliest_text": long_date(earliest, lang),
            "lead_days": settings.commune_request_lead_time.days,
            "honeypot": HONEYPOT,
        }
        return render(
            request,
            "commune_request.html",
            context,
            lang=lang,
            page_path="/communes/request",
            status_code=status_code,
            cookies=cookies,
            private=True,
        )

    async def _status_page(
        self,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
        token: str,
        row: Any,
        lang: str,
        *,
        body: str = "",
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        form_token, cookies = csrf.issue(request, settings)
        events = [
            {
                "when": format_when(e["starts_at"], e["ends_at"], e["timezone"], lang),
                "url": f"/events/{e['slug']}?lang={lang}",
            }
            for e in await conn.fetch(q.LINKED_EVENTS, row["id"])
            if e["status"] == "published"
        ]
        context = {
            "request_row": row,
            "token": token,
            "subject_label": texts.subject_label(row["subject"], lang),
            "status_label": gettext(lang, STATUSES[row["status"]]),
            "thread": [
                {
                    "staff": m["author"] == "staff",
                    "body": m["body"],
                    "when": format_day(m["created_at"], LOCAL_ZONE.key, lang, "medium"),
                }
                for m in await conn.fetch(q.MESSAGES, row["id"])
            ],
            "events": events,
            "body": body,
            "errors": errors or {},
            "labels": {name: _label(lang, name) for name in LABELS},
            "sent": request.query_params.get("done") == "sent",
            "csrf_token": form_token,
        }
        return render(
            request,
            "commune_request_status.html",
            context,
            lang=lang,
            page_path=f"/requests/{token}",
            status_code=status_code,
            cookies=cookies,
            private=True,
        )
