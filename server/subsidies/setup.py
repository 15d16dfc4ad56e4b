"""The administrators' page of subsidy requests: which organisations may apply, and who reviews."""

from __future__ import annotations

from types import MappingProxyType
from typing import Annotated, Any

from litestar import Response, get, post
from litestar.di import Provide
from litestar.params import Parameter
from litestar.response import Redirect

from server.backoffice.controllers import StaffPages
from server.errors import Invalid, NotFound
from server.i18n import N_, gettext
from server.subsidies import forms, review
from server.subsidies.views import Page, provide_page, read_form

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


class SubsidySetupPages(StaffPages):
    """Organisation kinds and the reviewer role, for administrators; the page is missing for anyone else."""

    path = HERE
    dependencies = MappingProxyType({**StaffPages.dependencies, "page": Provide(provide_page)})

    @get("")
    async def setup(self, page: Page) -> Response:
        """Every organisation with its kind, and the department's reviewers."""
        _require_admin(page)
        return await _setup_page(page)

    @post("/kinds")
    async def set_kind(self, page: Page) -> Response:
        """Record an organisation's kind (audit-logged); an unknown organisation is missing."""
        _require_admin(page)
        form = await read_form(page.request, page.settings)
        slug, kind = form.get("organisation", "")[:63], form.get("kind", "")
        if kind not in forms.ORGANISATION_KINDS:
            errors = {"form": gettext(page.lang, ERRORS["kind"])}
            return await _setup_page(page, errors=errors, status_code=422)
        await review.set_organisation_kind(page.conn, page.staff.organiser, slug, kind)
        return Redirect(path=f"{HERE}?done=kind#kinds-title", status_code=303)

    @post("/reviewers")
    async def add_reviewer(self, page: Page) -> Response:
        """Make an account a reviewer by its email; an unknown email comes back next to the field."""
        _require_admin(page)
        form = await read_form(page.request, page.settings)
        email = form.get("email", "").strip()[:320]
        try:
            await review.set_reviewer_by_email(page.conn, page.staff.organiser, email)
        except Invalid:
            errors = {"email": gettext(page.lang, ERRORS["email"])}
            return await _setup_page(page, values={"email": email}, errors=errors, status_code=422)
        return Redirect(path=f"{HERE}?done=added#reviewers-title", status_code=303)

    @post("/reviewers/{person_id:int}/remove")
    async def remove_reviewer(self, person_id: PersonId, page: Page) -> Response:
        """Take the reviewer role away (audit-logged)."""
        _require_admin(page)
        await read_form(page.request, page.settings)
        await review.set_reviewer(page.conn, page.staff.organiser, person_id, False)
        return Redirect(path=f"{HERE}?done=removed#reviewers-title", status_code=303)


def _require_admin(page: Page) -> None:
    if not page.staff.organiser.is_admin:
        raise NotFound("No such page.")


async def _setup_page(
    page: Page,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    status_code: int = 200,
) -> Response:
    lang = page.lang
    organisations, reviewers = await review.applicants_and_reviewers(page.conn)
    done = page.request.query_params.get("done")
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
    return page.render("subsidy_setup.html", context, status_code)
