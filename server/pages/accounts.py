"""The page behind an invitation mail's link, where a new staff member chooses their password."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.params import Parameter
from litestar.response import Redirect

from server.limits import client_address
from server.organisers import queries as org_q
from server.organisers import service as accounts
from server.pages import csrf
from server.pages.errors import page_exception_handlers
from server.pages.render import page_language, render
from server.pages.translations import N_, gettext
from server.settings import Settings

Token = Annotated[str, Parameter(max_length=200)]
MIN_PASSWORD, MAX_PASSWORD = 12, 1000
LABELS = {"password": N_("New password"), "password_confirm": N_("The same password again")}


def password_errors(password: str, confirm: str, lang: str) -> dict[str, str]:
    """What is wrong with the chosen password, by field, in the person's language."""
    if len(password) < MIN_PASSWORD:
        return {"password": gettext(lang, N_("Please choose a password of at least 12 characters."))}
    if len(password) > MAX_PASSWORD:
        return {"password": gettext(lang, N_("Please keep the password to at most 1000 characters."))}
    if password != confirm:
        return {"password_confirm": gettext(lang, N_("The two passwords are not the same."))}
    return {}


class InvitationPages(Controller):
    """Choosing one's password through an invitation's single-use link."""

    path = "/organiser"
    include_in_schema = False
    exception_handlers = page_exception_handlers
    opt = {"html": True}

    @get("/invitations/{token:str}")
    async def show(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response[str]:
        """The password form, or why the link no longer works."""
        lang, _ = page_language(request)
        invitation = await self._usable(conn, token, request, settings)
        if invitation is None:
            return self._page(request, settings, lang, None, status_code=410)
        return self._page(
            request,
            settings,
            lang,
            invitation,
            token,
            memberships=await conn.fetch(org_q.ACCOUNT_MEMBERSHIPS, invitation["organiser_id"]),
        )

    @post("/invitations/{token:str}")
    async def choose(self, token: Token, request: Request, conn: asyncpg.Connection, settings: Settings) -> Response:
        """Set the password; errors come back next to their field."""
        lang, _ = page_language(request)
        form = await request.form()
        csrf.check(request, form, settings)
        invitation = await self._usable(conn, token, request, settings)
        if invitation is None:
            return self._page(request, settings, lang, None, status_code=410)
        password, confirm = str(form.get("password", "")), str(form.get("password_confirm", ""))
        if errors := password_errors(password, confirm, lang):
            memberships = await conn.fetch(org_q.ACCOUNT_MEMBERSHIPS, invitation["organiser_id"])
            return self._page(
                request, settings, lang, invitation, token, errors=errors, memberships=memberships, status_code=422
            )
        try:
            await accounts.accept_invitation(conn, token, password)
        except (accounts.InvitationUnknown, accounts.InvitationSpent):  # spent meanwhile, by a twin request
            return self._page(request, settings, lang, None, status_code=410)
        return Redirect(path=f"/organiser/password-saved?lang={lang}", status_code=303)

    @get("/password-saved")
    async def saved(self, request: Request, settings: Settings) -> Response[str]:
        """Said once the password is chosen."""
        lang, _ = page_language(request)
        return self._page(request, settings, lang, None, done=True)

    async def _usable(self, conn: asyncpg.Connection, token: str, request: Request, settings: Settings) -> Any:
        """The usable invitation of the link, or None; a link that does not work counts as a failed sign-in.

        Like a login: past the limit of the client address, a good link waits for the window too.
        """
        keys, limits = accounts.sign_in_keys(settings, client_address(request, settings), f"invitation:{token[:60]}")
        await accounts.count_sign_in(conn, settings, keys, limits)
        invitation = await accounts.invitation_for_token(conn, token)
        if invitation is None or not invitation["usable"]:
            return None
        await accounts.give_back_sign_in(conn, settings, keys)
        return invitation

    def _page(
        self,
        request: Request,
        settings: Settings,
        lang: str,
        invitation: Any,
        token: str = "",
        *,
        errors: dict[str, str] | None = None,
        memberships: Any = (),
        status_code: int = 200,
        done: bool = False,
    ) -> Response[str]:
        form_token, cookies = csrf.issue(request, settings)
        context: dict[str, Any] = {
            "invitation": invitation,
            "token": token,
            "done": done,
            "memberships": [(m["name"], m["role"]) for m in memberships],
            "errors": errors or {},
            "labels": {name: gettext(lang, label) for name, label in LABELS.items()},
            "csrf_token": form_token,
            "hours": round(settings.invitation_ttl.total_seconds() / 3600),
            "min_password": MIN_PASSWORD,
            "max_password": MAX_PASSWORD,
        }
        path = request.url.path
        return render(
            request,
            "invitation.html",
            context,
            lang=lang,
            page_path=path,
            status_code=status_code,
            cookies=cookies,
            private=True,
        )
