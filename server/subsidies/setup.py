"""The administrators' page of subsidy requests: which organisations may apply, and who reviews."""

from __future__ import annotations

from typing import Annotated, Any

import asyncpg
from litestar import Controller, Request, Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect

from server.backoffice.controllers import BACKOFFICE_HANDLERS, render_page
from server.backoffice.service import Staff
from server.backoffice.web import provide_staff, staff_language
from server.errors import Invalid, NotFound
from server.i18n import N_, gettext
from server.settings import Settings
from server.subsidies import forms, review
from server.subsidies.pages import read_form

PersonId = Annotated[int, Parameter(ge=1, le=2**63 - 1)]
ERRORS = {
    "kind": N_("Please choose a kind."),
    "email": N_("No account has this email address: invite the person on the page of people and roles first."),
}
DONE = {
    "kind": N_("The kind of the organisation is saved."),
    "added": N_("The person now reviews subsidy requests."),
    "removed": N_("The person no longer reviews subsidy requests."),
}
HERE = "/organiser/subsidies/setup"


class SubsidySetupPages(Controller):
    """Organisation kinds and the reviewer role, for administrators; the page is missing for anyone else."""

    path = HERE
    include_in_schema = False
    exception_handlers = BACKOFFICE_HANDLERS
    dependencies = {"staff": Provide(provide_staff)}
    opt = {"html": True}

    @get("")
    async def setup(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Every organisation with its kind, and the department's reviewers."""
        _require_admin(staff)
        return await _page(request, staff, settings, conn)

    @post("/kinds")
    async def set_kind(self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection) -> Response:
        """Record an organisation's kind (audit-logged); an unknown organisation is missing."""
        _require_admin(staff)
        form = await read_form(request, settings)
        slug, kind = form.get("organisation", "")[:63], form.get("kind", "")
        if kind not in forms.ORGANISATION_KINDS:
            errors = {"form": gettext(staff_language(request, staff), ERRORS["kind"])}
            return await _page(request, staff, settings, conn, errors=errors, status_code=422)
        await review.set_organisation_kind(conn, staff.organiser, slug, kind)
        return Redirect(path=f"{HERE}?done=kind#kinds-title", status_code=303)

    @post("/reviewers")
    async def add_reviewer(
        self, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Make an account a reviewer by its email; an unknown email comes back next to the field."""
        _require_admin(staff)
        form = await read_form(request, settings)
        email = form.get("email", "").strip()[:320]
        try:
            await review.set_reviewer_by_email(conn, staff.organiser, email)
        except Invalid:
            errors = {"email": gettext(staff_language(request, staff), ERRORS["email"])}
            return await _page(request, staff, settings, conn, values={"email": email}, errors=errors, status_code=422)
        return Redirect(path=f"{HERE}?done=added#reviewers-title", status_code=303)

    @post("/reviewers/{person_id:int}/remove")
    async def remove_reviewer(
        self, person_id: PersonId, request: Request, staff: Staff, settings: Settings, conn: asyncpg.Connection
    ) -> Response:
        """Take the reviewer role away (audit-logged)."""
        _require_admin(staff)
        await read_form(request, settings)
        await review.set_reviewer(conn, staff.organiser, person_id, False)
        return Redirect(path=f"{HERE}?done=removed#reviewers-title", status_code=303)


def _require_admin(staff: Staff) -> None:
    if not staff.organiser.is_admin:
        raise NotFound("No such page.")


async def _page(
    request: Request,
    staff: Staff,
    settings: Settings,
    conn: asyncpg.Connection,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lang = staff_language(request, staff)
    organisations, reviewers = await review.applicants_and_reviewers(conn)
    done = request.query_params.get("done")
    context = {
        "organisations": organisations,
        "reviewers": reviewers,
        "values": values or {},
        "errors": errors or {},
        "sub": forms.labels(lang),
        "fields": {
            "kind": gettext(lang, forms.FIELDS["organisation_kind"]),
            "email": gettext(lang, forms.FIELDS["reviewer_email"]),
        },
        "request_done": gettext(lang, DONE[done]) if done in DONE else "",
    }
    return render_page(
        request, settings, "subsidy_setup.html", context, lang=lang, staff=staff, status_code=status_code
    )
