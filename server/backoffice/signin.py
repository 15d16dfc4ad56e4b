"""The back-office's sign-in pages: signing in and out, and choosing a new password by mail."""

from __future__ import annotations

from typing import Any

import asyncpg
from litestar import Request, Response, get, post
from litestar.response import Redirect

from server.backoffice import service

# the pages' shared plumbing (CSRF-checked forms, rendering, error handlers) stays with the other pages
from server.backoffice.controllers import Next, StaffPages, Token, read_form, render_page
from server.backoffice.service import Staff
from server.backoffice.web import SESSION_COOKIE, safe_next, session_cookie, staff_language
from server.errors import TooManyRequests, Unauthorized
from server.limits import client_address
from server.organisers.service import EmailRefused, account_email
from server.pages.accounts import MAX_PASSWORD, password_errors
from server.pages.translations import N_, gettext
from server.settings import Settings


class SignInPages(StaffPages):
    """Signing in and out, and choosing a new password by mail."""

    path = "/organiser"

    @get("/login")
    async def login_form(
        self, request: Request, settings: Settings, conn: asyncpg.Connection, next_: Next = None
    ) -> Response:
        """The sign-in form; someone signed in already goes on."""
        token = request.cookies.get(SESSION_COOKIE, "")
        if token and await service.staff_for_session(conn, token, settings):
            return Redirect(path=safe_next(next_), status_code=303)
        lang = staff_language(request, None)
        notice = "reset" if request.query_params.get("done") == "reset" else ""
        return render_page(
            request,
            settings,
            "login.html",
            {"values": {}, "errors": {}, "next": safe_next(next_), "notice": notice},
            lang=lang,
        )

    @post("/login")
    async def login(self, request: Request, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Check the password, open a session, go where the person was going."""
        form = await read_form(request, settings)
        lang = staff_language(request, None)
        email, target = form.get("email", "")[:320], safe_next(form.get("next"))
        values = {"email": email}
        try:
            token = await service.sign_in(
                conn,
                settings,
                email,
                form.get("password", "")[:MAX_PASSWORD],
                client_address(request, settings),
                request.headers.get("user-agent", ""),
                lang,
            )
        except TooManyRequests as exc:
            errors = {
                "form": gettext(
                    lang,
                    N_(
                        "Too many failed attempts from here or for this account. Please wait "
                        "a few minutes and try again."
                    ),
                )
            }
            response = render_page(
                request,
                settings,
                "login.html",
                {"values": values, "errors": errors, "next": target, "notice": ""},
                lang=lang,
                status_code=429,
            )
            response.headers.update(exc.headers or {})
            return response
        except Unauthorized:
            errors = {"password": gettext(lang, N_("The email address or the password is wrong."))}
            return render_page(
                request,
                settings,
                "login.html",
                {"values": values, "errors": errors, "next": target, "notice": ""},
                lang=lang,
                status_code=401,
            )
        if previous := request.cookies.get(SESSION_COOKIE):
            await service.sign_out(conn, previous)  # a browser holds one session: the one it signed in last
        return Redirect(path=target, status_code=303, cookies=[session_cookie(settings, token)])

    @post("/logout")
    async def logout(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """End this session."""
        await read_form(request, settings)
        await service.sign_out(conn, staff.token)
        return Redirect(path="/organiser/login", status_code=303, cookies=[session_cookie(settings, "", clear=True)])

    @post("/sign-out-everywhere")
    async def sign_out_everywhere(
        self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """End every session and API token of the account."""
        await read_form(request, settings)
        await service.sign_out_everywhere(conn, staff)
        return Redirect(path="/organiser/login", status_code=303, cookies=[session_cookie(settings, "", clear=True)])

    @post("/language")
    async def language(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Store the interface language the person chose and show the same page again."""
        form = await read_form(request, settings)
        await service.set_language(conn, staff, form.get("language", ""))
        return Redirect(path=safe_next(form.get("next")), status_code=303)

    @get("/password-reset")
    async def reset_form(self, request: Request, settings: Settings) -> Response:
        """Ask for a link to choose a new password."""
        lang = staff_language(request, None)
        return render_page(request, settings, "reset_ask.html", {"values": {}, "errors": {}, "sent": False}, lang=lang)

    @post("/password-reset")
    async def ask_reset(self, request: Request, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Mail a link if the account exists; the same answer whether or not it does."""
        form = await read_form(request, settings)
        lang = staff_language(request, None)
        email = form.get("email", "")[:320]
        try:
            account_email(email)
        except EmailRefused:
            errors = {"email": gettext(lang, N_("Please write a complete email address, such as name@example.lu."))}
            return render_page(
                request,
                settings,
                "reset_ask.html",
                {"values": {"email": email}, "errors": errors, "sent": False},
                lang=lang,
                status_code=422,
            )
        try:
            await service.ask_reset(conn, settings, email, lang, client_address(request, settings))
        except TooManyRequests as exc:
            errors = {
                "form": gettext(
                    lang,
                    N_("Too many attempts from here or for this account. Please wait a few minutes and try again."),
                )
            }
            response = render_page(
                request,
                settings,
                "reset_ask.html",
                {"values": {"email": email}, "errors": errors, "sent": False},
                lang=lang,
                status_code=429,
            )
            response.headers.update(exc.headers or {})
            return response
        return render_page(
            request,
            settings,
            "reset_ask.html",
            {"values": {}, "errors": {}, "sent": True, "minutes": _minutes(settings)},
            lang=lang,
        )

    @get("/password-reset/{token:str}")
    async def reset_password_form(
        self, token: Token, request: Request, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """The new password form, or why the link no longer works."""
        lang = staff_language(request, None)
        reset = await self._usable(conn, token, request, settings)
        return render_page(
            request,
            settings,
            "reset_set.html",
            {"reset": reset, "token": token, "errors": {}, "minutes": _minutes(settings)},
            lang=lang,
            status_code=200 if reset else 410,
        )

    @post("/password-reset/{token:str}")
    async def reset_password(
        self, token: Token, request: Request, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Set the new password; every session and token of the account ends."""
        form = await read_form(request, settings)
        lang = staff_language(request, None)
        reset = await self._usable(conn, token, request, settings)
        password, confirm = form.get("password", ""), form.get("password_confirm", "")
        if reset is not None and (errors := password_errors(password, confirm, lang)):
            return render_page(
                request,
                settings,
                "reset_set.html",
                {"reset": reset, "token": token, "errors": errors, "minutes": _minutes(settings)},
                lang=lang,
                status_code=422,
            )
        if reset is None or not await service.accept_reset(conn, token, password):
            return render_page(
                request,
                settings,
                "reset_set.html",
                {"reset": None, "token": token, "errors": {}, "minutes": _minutes(settings)},
                lang=lang,
                status_code=410,
            )
        return Redirect(
            path=f"/organiser/login?done=reset&lang={lang}",
            status_code=303,
            cookies=[session_cookie(settings, "", clear=True)],
        )

    @staticmethod
    async def _usable(conn: asyncpg.Connection, token: str, request: Request, settings: Settings) -> Any:
        """The usable reset of the link, or None; a dead link counts as a failed sign-in of the address."""
        keys, limits = service.accounts.sign_in_keys(settings, client_address(request, settings), f"reset:{token[:60]}")
        await service.accounts.count_sign_in(conn, settings, keys, limits)
        reset = await service.reset_for_token(conn, token)
        if reset is not None:
            await service.accounts.give_back_sign_in(conn, settings, keys)
        return reset


def _minutes(settings: Settings) -> int:
    return round(settings.password_reset_ttl.total_seconds() / 60)
