"""Thin handlers of the public pages; the forms post here and are answered with a redirect (PRG)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

import asyncpg
from litestar import Controller, HttpMethod, Request, Response, get, post, route
from litestar.params import Parameter
from litestar.response import Redirect

from server.errors import DomainError, NotFound
from server.events.labels import KINDS, kind_label, level_label
from server.events.listing import get_public
from server.events.schemas import EventOut
from server.feeds.controllers import event_feed_response
from server.i18n import LANGUAGES, collation_key, format_day
from server.pages import csrf, forms, service
from server.pages.errors import CODE_TEXTS, page_exception_handlers
from server.pages.render import asset, page_language, render, with_query
from server.pages.translations import N_, gettext, load_all
from server.registrations import joins, manage, qr
from server.registrations import service as registrations
from server.registrations.controllers import client_address
from server.settings import Settings

Slug = Annotated[str, Parameter(max_length=140)]
Token = Annotated[str, Parameter(max_length=200)]
YEAR = 365 * 24 * 3600
# the catalogs are read when the app is built: a broken .po file stops the start, not a request
load_all()

# what the manage page says after a redirect, by ?done=
DONE_MESSAGES = {
    "confirmed": N_("Thank you: your email address is confirmed."),
    "cancelled": N_("Your registration is cancelled. Thank you for telling us."),
    # refusals of confirm/cancel that leave the registration readable: said on the manage page
    "hold_expired": N_("The place held for you was given back because the registration was not confirmed in time."),
    "registration_cancelled": N_("This registration was cancelled, so it cannot be confirmed any more."),
    "event_cancelled": CODE_TEXTS["event_cancelled"],
}
STATUS_LABELS = {
    "pending": N_("waiting for your confirmation"),
    "confirmed": N_("confirmed"),
    "waitlisted": N_("on the waiting list"),
    "cancelled": N_("cancelled"),
    "expired": N_("expired"),
}
# what the page after registering says, by what the request got (the API's answer, which is the
# same for a known address as for a new one, so the page tells no stranger who is registered)
OUTCOMES = {
    "pending": N_(
        "Check your mailbox: we have sent you an email. Open the link in it to confirm your registration "
        "and keep your place."
    ),
    "confirmed": N_("You are registered. We have sent you an email with the details and your personal link."),
    "waitlisted": N_(
        "The event is full: you are on the waiting list. We have sent you an email and will write again "
        "as soon as a place becomes free."
    ),
    "series": N_(
        "We have sent you one email listing every date with the state of your registration. Open the link "
        "in it to confirm."
    ),
}

# what a join link that does not lead to the conference says, by refusal (registrations/joins.py),
# with the page's status: the person's link is fine but the conference is not for them (now)
JOIN_REFUSALS = {
    "unknown": (
        404,
        N_("This link does not work"),
        N_(
            "This join link is not valid or no longer works, for example because the registration's data "
            "was erased. If you are registered, use the link in your most recent email."
        ),
    ),
    "cancelled": (
        410,
        N_("Your registration is cancelled"),
        N_(
            "This registration was cancelled, so this link no longer leads to the web conference. "
            "You can register again as long as registration is open."
        ),
    ),
    "expired": (
        410,
        N_("Your registration was not confirmed"),
        N_(
            "This registration was not confirmed in time, so this link does not lead to the web conference. "
            "You can register again as long as registration is open."
        ),
    ),
    "not_confirmed": (
        409,
        N_("Your registration is not confirmed yet"),
        N_(
            "This link will lead to the web conference once your registration is confirmed. "
            "We will write to you as soon as it is."
        ),
    ),
    "event_cancelled": (
        410,
        N_("This event has been cancelled"),
        N_(
            "The organisers have cancelled this web conference, so there is nothing to join. "
            "We are sorry for the trouble."
        ),
    ),
    "no_link": (
        409,
        N_("The web conference is not open yet"),
        N_(
            "The organisers have not given the link to the web conference yet. "
            "Please try this link again a little before the start."
        ),
    ),
}


def paragraphs(text: str) -> list[str]:
    """Plain text split at blank lines."""
    return [part.strip() for part in re.split(r"\n\s*\n", text or "") if part.strip()]


async def event_form_page(
    request: Request,
    conn: asyncpg.Connection,
    settings: Settings,
    slug: str,
    lang: str,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    headers: dict[str, str] | None = None,
) -> Response[str]:
    """The event page with its form (again with the person's values and errors after a refusal)."""
    event = await get_public(conn, slug, lang, settings)
    token, cookies = csrf.issue(request, settings)
    context = event_page_context(
        event, lang, await service.communes(conn), settings, csrf_token=token, values=values, errors=errors
    )
    response = render(
        request,
        "event.html",
        context,
        lang=lang,
        page_path=f"/events/{event.slug}",
        status_code=status_code,
        cookies=cookies,
        private=True,
    )
    response.headers.update(headers or {})
    return response


def event_page_context(
    event: EventOut,
    lang: str,
    communes: list[Any],
    settings: Settings,
    *,
    csrf_token: str,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
) -> dict[str, Any]:
    """What event.html shows of an event in `lang` (the public page, and the back-office's preview of it)."""
    opens_on = None
    if not event.registration_open and event.registration_opens_at and event.registration_opens_at > datetime.now(UTC):
        opens_on = format_day(event.registration_opens_at, event.timezone, lang)
    return {
        "event": event,
        "kind_label": kind_label(event.kind, lang),
        "spoken": [forms.language_name(code, lang) for code in event.languages],
        "practised": forms.language_name(event.practised_language, lang) if event.practised_language else "",
        "level": level_label(event.level, lang) if event.level else "",
        "paragraphs": paragraphs(event.description or event.summary),
        "opens_on": opens_on,
        "csrf_token": csrf_token,
        "values": values or {"language": lang},
        "errors": errors or {},
        "labels": forms.labels(lang),
        "summary_labels": forms.summary_labels(lang),
        "email_languages": forms.email_language_options(),
        "interpretation_languages": forms.interpretation_options(lang),
        "commune_groups": [("", [(c.name, c.name) for c in communes])],
        "accessibility_max": 1000,
        "anonymise_days": settings.anonymise_after.days,
    }


def see_other(path: str) -> Redirect:
    """The answer to a form post: go and GET this page (Post/Redirect/Get)."""
    return Redirect(path=path, status_code=303)


class PagesController(Controller):
    """The public HTML pages: list, event, registering, managing, privacy notice."""

    include_in_schema = False
    exception_handlers = page_exception_handlers
    opt = {"html": True}

    @get("/")
    async def upcoming(self, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response[str]:
        """Upcoming events grouped by day, with filters and the matching iCal feed."""
        lang, _ = page_language(request)
        params = dict(request.query_params)
        filters = service.read_filters(params)
        cursor = params.get("cursor") or None
        try:
            page = await service.upcoming(conn, filters, lang, settings, cursor)
        except DomainError:  # a cursor this service did not give out: start from the beginning
            page = await service.upcoming(conn, filters, lang, settings, None)
        filter_query = {"kind": filters.kind, "spoken": filters.spoken, "commune": filters.commune}
        context = {
            "upcoming": page,
            "filters": filters,
            "filtered": any(filter_query.values()),
            "kinds": [(kind, kind_label(kind, lang)) for kind in KINDS],
            "spoken_options": sorted(
                ((code, forms.language_name(code, lang)) for code in LANGUAGES),
                key=lambda option: collation_key(option[1]),
            ),
            "communes": await service.communes(conn),
            "next_url": with_query("/", {**filter_query, "cursor": page.next_cursor}),
        }
        return render(request, "index.html", context, lang=lang)

    @route("/events/{slug:str}", http_method=[HttpMethod.GET, HttpMethod.HEAD])
    async def event(self, slug: str, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """One event, its places and the registration form; `{slug}.ics` is the event's iCal feed."""
        lang, _ = page_language(request)
        if slug.endswith(".ics"):
            # Litestar cannot route a parameter followed by ".ics", so /events/{slug}.ics arrives here;
            # the slug is not checked first, so that every answer to a calendar app is problem+json
            return await event_feed_response(request, slug.removesuffix(".ics"), lang, conn)
        return await event_form_page(request, conn, settings, slug, lang)

    @post("/events/{slug:str}/register")
    async def register(self, slug: Slug, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """Register from the form; errors come back next to their fields."""
        lang, _ = page_language(request)
        form = await request.form()
        csrf.check(request, form, settings)
        values = forms.form_values(form)
        data, errors = forms.read_registration(values, lang)
        if data is None:
            return await event_form_page(
                request, conn, settings, slug, lang, values=values, errors=errors, status_code=422
            )
        try:
            accepted = await registrations.register(
                conn, slug, data, settings, client_ip=client_address(request, settings)
            )
        except DomainError as exc:
            if exc.status == 404 or exc.status >= 500:
                raise
            return await event_form_page(
                request,
                conn,
                settings,
                slug,
                lang,
                values=values,
                errors=forms.refusal_errors(exc, lang),
                status_code=exc.status,
                headers=exc.headers,
            )
        outcome = "series" if len(accepted.dates) > 1 else accepted.dates[0].status
        return see_other(f"/events/{slug}/registered?outcome={outcome}&lang={lang}")

    @get("/events/{slug:str}/registered")
    async def registered(
        self, slug: Slug, request: Request, conn: asyncpg.Connection, settings: Settings
    ) -> Response[str]:
        """What happens next, after registering."""
        lang, _ = page_language(request)
        event = await get_public(conn, slug, lang, settings)
        outcome = OUTCOMES.get(request.query_params.get("outcome", ""), OUTCOMES["pending"])
        return render(request, "registered.html", {"event": event, "outcome": outcome}, lang=lang, private=True)

    @get("/r/{token:str}")
    async def manage(
        self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings
    ) -> Response[str]:
        """The manage page behind the link in every email."""
        lang, chosen = page_language(request)
        registration = await manage.view(conn, token, lang, settings)
        if not chosen and registration.language != lang:
            # a first visit from the email reads in the language the person registered in
            lang = registration.language
            registration = await manage.view(conn, token, lang, settings)
        return manage_page(
            request, settings, token, registration, lang, checkin=await manage.checkin_url_for(conn, token, settings)
        )

    @post("/r/{token:str}/confirm")
    async def confirm(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Redirect:
        """Confirm the email address (double opt-in)."""
        lang, _ = page_language(request)
        csrf.check(request, await request.form(), settings)
        return await after_change(token, lambda: manage.confirm(conn, token, lang, settings), "confirmed", lang)

    @post("/r/{token:str}/cancel")
    async def cancel(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Redirect:
        """Cancel the registration; the seat goes to the waiting list."""
        lang, _ = page_language(request)
        csrf.check(request, await request.form(), settings)
        every_date = request.query_params.get("whole_series") == "yes"
        return await after_change(
            token, lambda: manage.cancel(conn, token, lang, settings, whole_series=every_date), "cancelled", lang
        )

    @post("/r/{token:str}/erase")
    async def erase(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """Erase the person's data (GDPR); the link dies with it."""
        lang, _ = page_language(request)
        form = await request.form()
        csrf.check(request, form, settings)
        if form.get("confirm_erase") != "yes":
            registration = await manage.view(conn, token, lang, settings)
            errors = {
                "confirm_erase": gettext(lang, N_("Please tick the box to confirm that your data may be erased."))
            }
            return manage_page(request, settings, token, registration, lang, errors=errors, status_code=422)
        await manage.erase(conn, token, settings)
        return see_other(f"/erased?lang={lang}")

    @get("/j/{token:str}")
    async def join(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """A confirmed person's personal link to a web conference: records the join, then 303 to it."""
        outcome = await joins.follow(conn, token, settings)
        if outcome.url is not None:
            # no-store comes from server/security.py; no Referer takes this page's token to the conference
            return Redirect(path=outcome.url, status_code=303, headers={"Referrer-Policy": "no-referrer"})
        lang, chosen = page_language(request)
        if not chosen and outcome.language:
            lang = outcome.language
        status, heading, text = JOIN_REFUSALS[outcome.refusal or "unknown"]
        return render(
            request,
            "join.html",
            {"heading": heading, "text": text},
            lang=lang,
            page_path=f"/j/{token}",
            status_code=status,
            private=True,
        )

    @get("/erased")
    async def erased(self, request: Request) -> Response[str]:
        """Said once the data is gone."""
        lang, _ = page_language(request)
        return render(request, "erased.html", {}, lang=lang, private=True)

    @get("/privacy")
    async def privacy(self, request: Request, settings: Settings) -> Response[str]:
        """What is kept, why and for how long."""
        lang, _ = page_language(request)
        context = {
            "anonymise_days": settings.anonymise_after.days,
            "hold_hours": max(int(settings.hold_duration.total_seconds() // 3600), 1),
            "rate_window_minutes": max(int(settings.rate_limit_window.total_seconds() // 60), 1),
        }
        return render(request, "privacy.html", context, lang=lang)

    @get("/static/{name:str}", opt={"html": False})
    async def static(self, name: str) -> Response[bytes]:
        """The stylesheet or htmx; a name changes with its content, so it may be kept for a year."""
        found = asset(name)
        if found is None:
            raise NotFound("No such file.")
        return Response(
            found.body,
            media_type=found.media_type,
            headers={"Cache-Control": f"public, max-age={YEAR}, immutable", "X-Content-Type-Options": "nosniff"},
        )


def manage_page(
    request: Request,
    settings: Settings,
    token: str,
    registration: Any,
    lang: str,
    *,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
    checkin: str | None = None,
) -> Response[str]:
    """The manage page of one registration, with the check-in QR code (inline SVG) when `checkin` is given."""
    form_token, cookies = csrf.issue(request, settings)
    done = DONE_MESSAGES.get(request.query_params.get("done", ""))
    personal_feed = registration.calendar_url
    context = {
        "registration": registration,
        "event": registration.event,
        "token": token,
        "status_label": gettext(lang, STATUS_LABELS[registration.status]),
        "series_labels": {status: gettext(lang, label) for status, label in STATUS_LABELS.items()},
        "done": done,
        "errors": errors or {},
        "labels": forms.labels(lang),
        "summary_labels": forms.summary_labels(lang),
        "csrf_token": form_token,
        "personal_feed": personal_feed,
        "personal_webcal": re.sub(r"^https?://", "webcal://", personal_feed),
        "checkin_qr": None,
    }
    # the door's QR code for a confirmed place; a web conference marks its own attendance (/j/)
    if checkin and registration.status == "confirmed" and registration.event.kind != "webconference":
        context["checkin_qr"] = qr.svg(checkin, gettext(lang, N_("Your check-in code")))
    return render(
        request,
        "manage.html",
        context,
        lang=lang,
        page_path=f"/r/{token}",
        status_code=status_code,
        cookies=cookies,
        private=True,
    )


async def after_change(token: str, change: Any, done: str, lang: str) -> Redirect:
    """Run a confirm or cancel; a refusal that leaves the registration readable is said on its page."""
    try:
        await change()
    except DomainError as exc:
        if exc.code not in DONE_MESSAGES:
            raise
        done = exc.code
    return see_other(f"/r/{token}?done={done}&lang={lang}")
