"""The public request form /interpretation/request: plain HTML in five languages, no JavaScript needed.

Protected like the registration form (CSRF token, the rate limits of server/limits.py) plus a field
people never see (`website`): a robot that fills it is thanked and nothing is stored. Refusals come
back next to their field in the person's language, with everything they typed.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

import asyncpg
import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Redirect

from server.errors import DomainError
from server.i18n import collation_key
from server.interpretation import public
from server.interpretation import queries as q
from server.interpretation.schemas import RequestIn, language_name
from server.limits import client_address
from server.pages import csrf
from server.pages.errors import page_exception_handlers
from server.pages.render import page_language, render
from server.pages.translations import N_, gettext
from server.settings import Settings
from server.validation import LOCAL_ZONE, Refused, checked

FIELDS = (
    "date",
    "start",
    "duration",
    "mode",
    "commune",
    "address",
    "from_language",
    "to_language",
    "field",
    "initials",
    "urgency",
    "notes",
    "organisation",
    "type",
    "contact",
    "email",
    "phone",
)
LABELS = {
    "date": N_("Date"),
    "start": N_("Start time"),
    "duration": N_("Duration"),
    "mode": N_("Where"),
    "commune": N_("Commune"),
    "address": N_("Address"),
    "from_language": N_("From the language"),
    "to_language": N_("Into the language"),
    "field": N_("Field"),
    "initials": N_("The person's initials"),
    "urgency": N_("Urgency"),
    "notes": N_("Notes"),
    "organisation": N_("Your service"),
    "type": N_("Type of service"),
    "contact": N_("Contact person"),
    "email": N_("Email"),
    "phone": N_("Phone"),
}
# one sentence per field, whatever the reason (the API's 422 says it in detail)
ERRORS = {
    "date": N_("Please give a date and a time in the future."),
    "start": N_("Please give a date and a time in the future."),
    "duration": N_("Please choose a duration."),
    "mode": N_("Please choose on site, by phone or by video."),
    "commune": N_("For an appointment on site, please choose its commune; by phone or video, leave it empty."),
    "address": N_("Please keep this to at most 300 characters."),
    "from_language": N_("Please choose a language from the list."),
    "to_language": N_("Please choose two different languages from the list."),
    "field": N_("Please choose a field."),
    "initials": N_("Initials only, at most 8 characters, such as A.B."),
    "urgency": N_("Please choose the urgency."),
    "notes": N_("Please keep this to at most 1000 characters."),
    "organisation": N_("Please give the name of your service."),
    "type": N_("Please choose the type of your service."),
    "contact": N_("Please give the name of a contact person."),
    "email": N_("Please give an email address such as name@example.lu."),
    "phone": N_("Please give a phone number in digits, such as +352 621 123 456."),
}
# where each field of the API lands on the form
API_FIELDS = {
    "starts_at": "date",
    "ends_at": "duration",
    "place": "mode",
    "place.commune": "commune",
    "place.address": "address",
    "remote": "mode",
    "beneficiary_initials": "initials",
    "requester.organisation": "organisation",
    "requester.type": "type",
    "requester.contact": "contact",
    "requester.email": "email",
    "requester.phone": "phone",
    "requester.language": "language",
}
MODES = {"on_site": N_("On site"), "phone": N_("By phone"), "video": N_("By video")}
FIELD_NAMES = {
    "social": N_("Social"),
    "school": N_("School"),
    "health": N_("Health"),
    "administrative": N_("Administrative"),
    "legal": N_("Legal"),
}
TYPES = {
    "social_office": N_("Social office"),
    "school": N_("School"),
    "commune": N_("Commune"),
    "hospital": N_("Hospital or doctor"),
    "other": N_("Other service"),
}
URGENCIES = {"normal": N_("Normal"), "urgent": N_("Urgent")}
DURATIONS = (30, 60, 90, 120, 180, 240)
# the languages most asked for in Luxembourg; the API takes any ISO 639 code CLDR knows
FORM_LANGUAGES = (
    "fr",
    "de",
    "lb",
    "en",
    "pt",
    "ar",
    "fa",
    "prs",
    "ps",
    "ti",
    "am",
    "so",
    "uk",
    "ru",
    "kea",
    "tr",
    "ku",
    "sq",
    "sr",
    "it",
    "es",
    "zh",
)


def read(values: dict[str, str]) -> tuple[dict[str, Any] | None, dict[str, str]]:
    """The API body the form stands for, or the fields that cannot make one."""
    errors: dict[str, str] = {}
    try:
        day = date.fromisoformat(values["date"])
        start = time.fromisoformat(values["start"])
    except ValueError:
        errors["date"] = "date"
        return None, errors
    if not values["duration"].isdigit() or int(values["duration"]) not in DURATIONS:
        errors["duration"] = "duration"
        return None, errors
    starts_at = datetime.combine(day, start, LOCAL_ZONE)
    body: dict[str, Any] = {
        "starts_at": starts_at.isoformat(),
        "ends_at": (starts_at + timedelta(minutes=int(values["duration"]))).isoformat(),
        "from_language": values["from_language"],
        "to_language": values["to_language"],
        "field": values["field"],
        "beneficiary_initials": values["initials"].strip(),
        "urgency": values["urgency"],
        "notes": values["notes"].strip(),
        "requester": {
            "organisation": values["organisation"].strip(),
            "contact": values["contact"].strip(),
            "email": values["email"].strip(),
            "type": values["type"],
            "phone": values["phone"].strip(),
        },
    }
    if len(values["notes"]) > 1000:
        errors["notes"] = "notes"
    if values["mode"] == "on_site":
        body["place"] = {"commune": values["commune"], "address": values["address"].strip()}
    elif values["mode"] in ("phone", "video"):
        if values["commune"]:
            errors["commune"] = "commune"
        body["remote"] = values["mode"]
    else:
        errors["mode"] = "mode"
    return (None if errors else body), errors


def _form_field(api_field: str) -> str:
    api_field = api_field.removeprefix("$.").split("[")[0]
    return API_FIELDS.get(api_field, api_field if api_field in FIELDS else "form")


# what the service may refuse a request with; refused_fields() places each on the form
REFUSALS = (msgspec.ValidationError, Refused, DomainError)


def refused_fields(exc: Exception) -> dict[str, str]:
    """The form's fields a refusal names (an unnamed one under `form`); a server error is raised again."""
    if isinstance(exc, msgspec.ValidationError):
        return {_form_field(str(exc).rpartition("at `")[2].rstrip("`")): "x"}
    if isinstance(exc, Refused):
        return {_form_field(exc.field): "x"}
    if not isinstance(exc, DomainError) or exc.status >= 500:
        raise exc
    return {_form_field(error.field): "x" for error in exc.errors or []} or {"form": exc.detail}


def error_sentences(errors: dict[str, str], lang: str, sentences: dict[str, str] | None = None) -> dict[str, str]:
    """One sentence in `lang` per field refused (`sentences` first, then the public form's)."""
    known = {**ERRORS, **(sentences or {})}
    return {name: (gettext(lang, known[name]) if name in known else message) for name, message in errors.items()}


async def choices(conn: asyncpg.Connection, lang: str) -> dict[str, Any]:
    """The options of the form's lists in `lang`, sorted as a reader of it expects."""
    languages = sorted(
        ((code, language_name(code, lang)) for code in FORM_LANGUAGES), key=lambda item: collation_key(item[1])
    )
    communes = sorted(
        ((r["name"], r["name"]) for r in await conn.fetch(q.ALL_COMMUNES)), key=lambda item: collation_key(item[0])
    )
    return {
        "durations": [(str(m), f"{m // 60} h {m % 60:02d}" if m >= 60 else f"{m} min") for m in DURATIONS],
        "modes": [(k, gettext(lang, v)) for k, v in MODES.items()],
        "communes": communes,
        "spoken_languages": languages,
        "fields": [(k, gettext(lang, v)) for k, v in FIELD_NAMES.items()],
        "types": [(k, gettext(lang, v)) for k, v in TYPES.items()],
        "urgencies": [(k, gettext(lang, v)) for k, v in URGENCIES.items()],
    }


class InterpretationRequestPages(Controller):
    """The form, and what it says once sent."""

    path = "/interpretation/request"
    include_in_schema = False
    exception_handlers = page_exception_handlers
    opt = {"html": True}

    @get("/")
    async def show(self, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response[str]:
        """The empty form, or the thanks once sent."""
        lang, _ = page_language(request)
        return await self._page(request, conn, settings, lang, sent=request.query_params.get("sent") == "1")

    @post("/")
    async def send(self, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """Store the request; refusals come back next to their fields."""
        lang, _ = page_language(request)
        form = await request.form()
        csrf.check(request, form, settings)
        values = {name: str(form.get(name, "") or "") for name in FIELDS}
        values["language"] = lang
        if str(form.get("website", "") or ""):  # only a robot sees this field
            return Redirect(path=f"/interpretation/request?sent=1&lang={lang}", status_code=303)
        body, errors = read(values)
        if body is not None:
            body["requester"]["language"] = lang
            try:
                data = checked(msgspec.convert(body, RequestIn), RequestIn)
                await public.request(conn, data, settings, client_address(request, settings))
            except REFUSALS as exc:
                errors.update(refused_fields(exc))
                if isinstance(exc, DomainError) and exc.status == 429:
                    return await self._page(
                        request, conn, settings, lang, values=values, errors=errors, status_code=429
                    )
            else:
                return Redirect(path=f"/interpretation/request?sent=1&lang={lang}", status_code=303)
        shown = error_sentences(errors, lang)
        return await self._page(request, conn, settings, lang, values=values, errors=shown, status_code=422)

    async def _page(
        self,
        request: Request,
        conn: asyncpg.Connection,
        settings: Settings,
        lang: str,
        *,
        sent: bool = False,
        values: dict[str, str] | None = None,
        errors: dict[str, str] | None = None,
        status_code: int = 200,
    ) -> Response[str]:
        form_token, cookies = csrf.issue(request, settings)
        context = {
            "sent": sent,
            "values": values or {"urgency": "normal", "duration": "60"},
            "errors": errors or {},
            "labels": {name: gettext(lang, label) for name, label in LABELS.items()},
            "csrf_token": form_token,
            **await choices(conn, lang),
        }
        return render(
            request,
            "interpretation_request.html",
            context,
            lang=lang,
            status_code=status_code,
            cookies=cookies,
            private=True,
        )
