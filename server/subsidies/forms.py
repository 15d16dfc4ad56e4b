"""The subsidy pages' words and forms: labels, errors, and the form read into a draft and back."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

import msgspec

from server.errors import FieldError
from server.i18n import LANGUAGES, N_, gettext
from server.subsidies import deadlines, mails
from server.subsidies.schemas import ApplicationIn, ApplicationOut
from server.validation import Refused, checked

BLANK_BUDGET_ROWS = 3
MAX_BUDGET_ROWS = 60
_EUROS = re.compile(r"^\d{1,8}([.,]\d{1,2})?$")

FIELDS = {
    "organisation": N_("Association"),
    "title": N_("Title of the project"),
    "summary": N_("Summary"),
    "description": N_("Description"),
    "aims": N_("Aims"),
    "target_public": N_("Target public"),
    "theme": N_("Theme"),
    "starts_on": N_("First day of the project"),
    "ends_on": N_("Last day of the project"),
    "events": N_("Events on Zesummen"),
    "planned_events": N_("Other planned events"),
    "deliverables": N_("Deliverables"),
    "budget": N_("Provisional budget"),
    "documents": N_("Supporting documents"),
    "file": N_("File"),
    "kind": N_("Kind of document"),
    "contact_email": N_("Email address for the department's messages"),
    "language": N_("Language of the department's emails"),
    "body": N_("Message"),
    "outcome": N_("Decision"),
    "amount_granted": N_("Amount granted (EUR)"),
    "reason": N_("Reason"),
    "what_happened": N_("What happened"),
    "attendance": N_("Attendance"),
    "report": N_("Report"),
    "actual_budget": N_("Actual budget"),
    "status": N_("Status"),
    "themes": N_("Themes"),
    "organisation_kind": N_("Kind of organisation"),
    "reviewer_email": N_("Email address of the person's account"),
}

STATUSES = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted"),
    "awaiting_applicant": N_("Awaiting the association's answer"),
    "eligible": N_("Eligible"),
    "not_eligible": N_("Not eligible"),
    "closed": N_("Closed"),
}

BUDGET_KINDS = {
    "expense": N_("Expense"),
    "income": N_("Other income"),
    "own": N_("Own contribution"),
    "requested": N_("Amount requested"),
}

DOCUMENT_KINDS = {
    "statutes": N_("Statutes"),
    "accounts": N_("Last accounts"),
    "quote": N_("Quote"),
    "other": N_("Other document"),
}

ORGANISATION_KINDS = {
    "asbl": N_("Non-profit association (asbl)"),
    "federation": N_("Federation"),
    "foundation": N_("Foundation"),
    "public_body": N_("Public body"),
    "company": N_("Company"),
    "other": N_("Another kind of organisation"),
}

CHECKS = {
    "applicant_kind": N_("The applicant is an asbl or a federation"),
    "deadline": N_("Submitted at least six weeks before the start"),
    "documents": N_("Statutes and last accounts are attached"),
    "budget_balanced": N_("The budget balances"),
    "theme": N_("A theme is chosen"),
}

# what the page says for each field the service refuses
ERRORS = {
    "organisation": N_("Only an asbl or a federation may ask for a subsidy."),
    "title": N_("Please write the title in at least one language."),
    "summary": N_("Please write the summary in at least one language."),
    "description": N_("Please write the description in at least one language."),
    "aims": N_("Please write the project's aims."),
    "target_public": N_("Please say whom the project is for."),
    "theme": N_("Please choose a theme."),
    "starts_on": N_("Please give the first day as a date."),
    "ends_on": N_("Please give the last day, on or after the first."),
    "events": N_("Please choose events of your association."),
    "deliverables": N_("Please name the project's events or its deliverables."),
    "budget": N_(
        "The expenses must equal other income, own contribution and the amount requested, which must not be zero."
    ),
    "documents": N_("Please attach the statutes and the last accounts."),
    "file": N_("Please choose a PDF, PNG or JPEG file of at most 10 MB whose name matches its content."),
    "kind": N_("Please choose the kind of document."),
    "contact_email": N_("Please write a complete email address, such as name@example.lu."),
    "body": N_("Please write your message (at most 5,000 characters)."),
    "outcome": N_("Please choose a decision."),
    "amount_granted": N_("Please give an amount in euros, at most the amount requested."),
    "reason": N_("Please say why the project is not eligible."),
    "what_happened": N_("Please say what happened."),
    "attendance": N_("Please give a whole number."),
    "report": N_("The file is closed once the association has filed its report."),
    "actual_budget": N_("Please give each actual amount in euros, such as 1200 or 1 200,50, and choose its kind."),
    "status": N_("This step does not apply to the request as it stands."),
}
TOO_LATE = N_("Too late: a project starting on %(start)s had to be submitted by %(deadline)s, six weeks before.")
IN_THE_PAST = N_("The first day cannot be in the past.")
# the start date's hint, as the page shows it and as it changes while a day is typed
START_HINT = N_(
    "The request must be submitted at least six weeks before this day; the deadline shows once the draft is saved."
)
SUBMIT_BY = N_("Submit by %(deadline)s at the latest.")
TOO_LATE_NOW = N_(
    "Too late: the project starts in fewer than 42 days; the request had to be submitted by %(deadline)s."
)
DONE = {
    "saved": N_("The draft is saved."),
    "submitted": N_("The request is submitted to the Department of Integration."),
    "document": N_("The document is attached."),
    "removed": N_("The document is removed."),
    "sent": N_("The message is sent."),
    "decided": N_("The decision is recorded and the association is told by email."),
    "reported": N_("The report is filed."),
    "closed": N_("The file is closed."),
    "themes": N_("The themes are saved."),
}
THEMES_ERROR = N_(
    "Each theme needs a code of lower-case letters, digits and hyphens, used once, and a name in at least one language."
)
MAX_THEME_ROWS = 53


def labels(lang: str) -> dict[str, dict[str, str]]:
    """Every label of the subsidy pages in `lang`, by group."""
    groups = {
        "fields": FIELDS,
        "statuses": STATUSES,
        "budget_kinds": BUDGET_KINDS,
        "document_kinds": DOCUMENT_KINDS,
        "checks": CHECKS,
        "organisation_kinds": ORGANISATION_KINDS,
    }
    return {group: {code: gettext(lang, text) for code, text in names.items()} for group, names in groups.items()}


def euros_text(cents: int | None) -> str:
    """Cents as the form shows them (1200.50)."""
    return "" if cents is None else f"{cents // 100}.{cents % 100:02d}"


def parse_euros(text: str) -> int | None:
    """Euros typed as 1200, 1200.5 or 1 200,50 → cents; None if not an amount."""
    cleaned = text.replace(" ", "").replace("\u00a0", "").replace("\u202f", "")
    if not _EUROS.match(cleaned):
        return None
    try:
        return int(Decimal(cleaned.replace(",", ".")) * 100)
    except InvalidOperation:
        return None


def values_of(application: ApplicationOut) -> dict[str, Any]:
    """A stored request as the form's values."""
    values: dict[str, Any] = {
        name: getattr(application, name) or ""
        for name in ("aims", "target_public", "theme", "planned_events", "deliverables", "contact_email", "language")
    }
    for name in ("title", "summary", "description"):
        for lang in LANGUAGES:
            values[f"{name}_{lang}"] = getattr(application, name).get(lang, "")
    values["starts_on"] = application.starts_on.isoformat() if application.starts_on else ""
    values["ends_on"] = application.ends_on.isoformat() if application.ends_on else ""
    values["events"] = [event.slug for event in application.events]
    values["budget"] = [
        {"kind": line.kind, "category": line.category, "label": line.label, "amount": euros_text(line.amount_cents)}
        for line in application.budget
    ]
    return values


def read_budget(text: dict[str, str], prefix: str) -> tuple[list[dict[str, str]], list[dict[str, Any]], bool]:
    """(the rows as typed, the budget lines, whether every amount and kind reads) from `{prefix}_amount_{n}`…"""
    lines, rows, typed_well = [], [], True
    for n in range(MAX_BUDGET_ROWS):
        row = {key: text.get(f"{prefix}_{key}_{n}", "").strip() for key in ("kind", "category", "label", "amount")}
        if not row["amount"] and not row["category"] and not row["label"]:
            continue
        rows.append(row)
        cents = parse_euros(row["amount"])
        if cents is None or row["kind"] not in BUDGET_KINDS:
            typed_well = False
            continue
        lines.append(
            {"kind": row["kind"], "category": row["category"][:200], "label": row["label"][:200], "amount_cents": cents}
        )
    return rows, lines, typed_well


def actual_rows(application: ApplicationOut, typed: list[dict[str, str]] | None) -> list[dict[str, Any]]:
    """The report's actual budget rows, each with the provisional amount of its line (None for a new line):
    as typed, else as filed, else the provisional lines to fill in; and blank rows."""
    provisional: dict[tuple[str, str, str], int] = {}
    for line in application.budget:
        provisional.setdefault((line.kind, line.category, line.label), line.amount_cents)
    if typed is not None:
        rows = typed
    else:
        filed = application.report.actual_budget if application.report else []
        rows = [
            {"kind": line.kind, "category": line.category, "label": line.label, "amount": euros_text(line.amount_cents)}
            for line in filed
        ] or [
            {"kind": line.kind, "category": line.category, "label": line.label, "amount": ""}
            for line in application.budget
        ]
    blank = {"kind": "expense", "category": "", "label": "", "amount": ""}
    return [
        {**row, "provisional": provisional.get((row["kind"], row["category"], row["label"]))}
        for row in [*rows, *(dict(blank) for _ in range(BLANK_BUDGET_ROWS))]
    ]


def read_form(form: Any) -> tuple[dict[str, Any], ApplicationIn | None, dict[str, str]]:
    """(values as typed, the draft or None, {field: code of the problem}) from the posted form."""
    text = {key: str(value).replace("\r\n", "\n") for key, value in form.items() if isinstance(value, str)}
    values: dict[str, Any] = {
        name: text.get(name, "").strip()
        for name in (
            "aims",
            "target_public",
            "theme",
            "planned_events",
            "deliverables",
            "contact_email",
            "language",
            "starts_on",
            "ends_on",
        )
    }
    for name in ("title", "summary", "description"):
        for lang in LANGUAGES:
            values[f"{name}_{lang}"] = text.get(f"{name}_{lang}", "").strip()
    values["events"] = [str(v) for v in form.getall("events", [])] if hasattr(form, "getall") else []
    problems: dict[str, str] = {}
    rows, lines, typed_well = read_budget(text, "budget")
    if not typed_well:
        problems["budget"] = "amount"
    values["budget"] = rows
    data: dict[str, Any] = {
        "title": {lang: values[f"title_{lang}"][:200] for lang in LANGUAGES if values[f"title_{lang}"]},
        "summary": {lang: values[f"summary_{lang}"] for lang in LANGUAGES if values[f"summary_{lang}"]},
        "description": {lang: values[f"description_{lang}"] for lang in LANGUAGES if values[f"description_{lang}"]},
        "aims": values["aims"],
        "target_public": values["target_public"],
        "theme": values["theme"] or None,
        "planned_events": values["planned_events"],
        "deliverables": values["deliverables"],
        "events": values["events"],
        "budget": lines,
        "language": values["language"] if values["language"] in LANGUAGES else None,
        "contact_email": values["contact_email"] or None,
    }
    for name in ("starts_on", "ends_on"):
        try:
            data[name] = date.fromisoformat(values[name]).isoformat() if values[name] else None
        except ValueError:
            problems[name] = "date"
    if problems:
        return values, None, problems
    try:
        return values, checked(msgspec.convert(data, ApplicationIn), ApplicationIn), {}
    except Refused as exc:
        name = exc.field.split(".")[0].split("[")[0]
    except msgspec.ValidationError as exc:
        # msgspec names the path as `$.field[...]`
        path = re.search(r"`\$\.(\w+)", str(exc))
        name = path.group(1) if path else ""
    return values, None, {name if name in ERRORS else "form": "invalid"}


def deadline_hint(starts_on: date | None, lang: str) -> tuple[str, bool]:
    """(the start date's hint in `lang`, whether it is a problem): the rule `submit` applies, today."""
    if starts_on is None:
        return gettext(lang, START_HINT), False
    problem = deadlines.lead_time(starts_on, deadlines.today_in_luxembourg())
    if problem == "past":
        return gettext(lang, IN_THE_PAST), True
    deadline = mails.full_date(deadlines.deadline_for(starts_on), lang)
    if problem == "late":
        return gettext(lang, TOO_LATE_NOW) % {"deadline": deadline}, True
    return gettext(lang, SUBMIT_BY) % {"deadline": deadline}, False


def page_errors(errors: list[FieldError] | dict[str, str], lang: str, starts_on: date | None) -> dict[str, str]:
    """The service's refusals (or the form's problems) as sentences in `lang`, by field."""
    items = [(e.field, e.message) for e in errors] if isinstance(errors, list) else list(errors.items())
    shown: dict[str, str] = {}
    for field, message in items:
        name = field.split(".")[0].split("[")[0]
        if name == "amount_granted_cents":
            name = "amount_granted"
        if name == "starts_on" and starts_on and "submitted by" in message:
            shown[name] = gettext(lang, TOO_LATE) % {
                "start": mails.long_date(starts_on, lang),
                "deadline": mails.long_date(deadlines.deadline_for(starts_on), lang),
            }
        elif name == "starts_on" and "past" in message:
            shown[name] = gettext(lang, IN_THE_PAST)
        elif name in ERRORS:
            shown.setdefault(name, gettext(lang, ERRORS[name]))
        else:
            shown.setdefault("form", gettext(lang, ERRORS["status"]))
    return shown
