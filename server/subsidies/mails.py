"""Mail to an association about its subsidy request, in the request's language.

Written at send time from the current request row; one template per kind and format
(`templates/subsidy_<kind>_to_applicant.*.j2`), words from the pages' catalogs.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import asyncpg
import msgspec
from babel.dates import format_date
from babel.numbers import format_currency

from server import mails as shared_mails
from server.i18n import BABEL_LOCALE, DEFAULT_LANGUAGE, LANGUAGES, localise
from server.settings import Settings
from server.subsidies import queries as q
from server.subsidies.deadlines import REMINDER_DAYS, deadline_for, today_in_luxembourg


def long_date(day: Any, lang: str) -> str:
    """A day as a reader of `lang` writes it (28 décembre 2026)."""
    return format_date(day, "long", locale=BABEL_LOCALE[lang])


def full_date(day: Any, lang: str) -> str:
    """A day with its weekday, as a reader of `lang` writes it (mardi 2 mars 2027)."""
    return format_date(day, "full", locale=BABEL_LOCALE[lang])


def euros(cents: int, lang: str) -> str:
    """An amount as a reader of `lang` writes euros (1 500,00 €)."""
    return format_currency(cents / 100, "EUR", locale=BABEL_LOCALE[lang])


def application_url(settings: Settings, application_id: int) -> str:
    """The request in the back-office."""
    return f"{settings.base}/organiser/subsidies/{application_id}"


async def build_delivery(
    conn: asyncpg.Connection,
    row: Mapping[str, Any],
    settings: Settings,
) -> tuple[EmailMessage, str]:
    """The mail of a subsidy request's outbox row and its stored recipient; Skip when it no longer applies."""
    payload = row["payload"]
    if isinstance(payload, (str, bytes)):  # a connection without the jsonb codec
        payload = msgspec.json.decode(payload)
    application = await conn.fetchrow(q.APPLICATION, int(payload["application"]))
    if application is None:
        raise shared_mails.Skip("the request no longer exists")
    kind = row["kind"]
    if kind == "subsidy_deadline_reminder" and (
        application["status"] != "draft"
        or application["starts_on"] is None
        or deadline_for(application["starts_on"]) < today_in_luxembourg()
    ):
        raise shared_mails.Skip("the request was submitted, or its deadline has passed")
    lang = application["language"] if application["language"] in LANGUAGES else DEFAULT_LANGUAGE
    title, _ = localise(application["title"], lang)
    context: dict[str, Any] = {
        "lang": lang,
        "name": application["organisation_name"],
        "title": title or "–",
        "link": application_url(settings, application["id"]),
        "body": "",
        "eligible": application["status"] in ("eligible", "closed") and application["amount_granted_cents"] is not None,
        "amount": "",
        "reason": application["decision_reason"] or "",
        "deadline": "",
        "starts": "",
        "days": REMINDER_DAYS,
    }
    if application["amount_granted_cents"] is not None:
        context["amount"] = euros(application["amount_granted_cents"], lang)
    if application["starts_on"] is not None:
        context["deadline"] = long_date(deadline_for(application["starts_on"]), lang)
        context["starts"] = long_date(application["starts_on"], lang)
    if "message" in payload:
        body = await conn.fetchval(q.MESSAGE_BODY, int(payload["message"]), application["id"])
        if body is None:
            raise shared_mails.Skip("the message no longer exists")
        context["body"] = body
    if kind == "subsidy_decision" and application["decided_at"] is None:
        raise shared_mails.Skip("the request has no decision")
    subject, text, html = shared_mails.render(f"{kind}_to_applicant", lang, context)
    address = application["contact_email"]
    return shared_mails.standalone_mail(settings, lang, subject, text, html, context["name"], address), address
