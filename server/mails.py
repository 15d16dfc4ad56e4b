"""Mail rendering shared by every domain that writes mail: templates in the recipient's language, the policy, parts."""

from __future__ import annotations

import email.policy
import re
import secrets
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from email.headerregistry import Address, HeaderRegistry
from email.message import EmailMessage
from email.utils import format_datetime
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from server.i18n import apply_n_rule, translations
from server.settings import Settings

TEMPLATES = Path(__file__).parent / "notifications" / "templates"

# Our own templates write bare tags; these inline styles are put in afterwards so that every client
# (Outlook's Word engine ignores most <style>) shows the same. Escaped user text never holds a raw tag.
_INLINE_STYLES = {
    "<p>": '<p style="margin:0 0 16px 0;">',
    "<ul>": '<ul style="margin:0 0 16px 0; padding:0 0 0 20px;">',
    "<li>": '<li style="margin:0 0 8px 0;">',
    "<a href=": '<a style="color:#1a5c8a; text-decoration:underline;" href=',
}


class _HeaderClasses(HeaderRegistry):
    """email's header registry, keeping the class it makes for each header name.

    The stock one makes a new class whenever a header is set or its count checked, several dozen
    times per message, though the class depends on the name alone.
    """

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type] = {}

    def __getitem__(self, name: str) -> type:
        key = name.lower()
        made = self._classes.get(key)
        if made is None:
            made = self._classes[key] = super().__getitem__(name)
        return made


# email.policy.default (what EmailMessage() uses) with that registry: the same headers, the same bytes
MAIL_POLICY = email.policy.default.clone(header_factory=_HeaderClasses())


class Skip(Exception):
    """The message no longer applies; the worker records the row as skipped with this reason."""


@cache
def environment(lang: str, *, autoescape: bool) -> jinja2.Environment:
    """The templates with `lang`'s translations installed: one environment per language and format."""
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=autoescape,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        auto_reload=False,
        extensions=["jinja2.ext.i18n"],
    )
    catalog = translations(lang)

    # Jinja's new-style gettext, with the n-rule put in before the values in Luxembourgish
    @jinja2.pass_context
    def gettext(context: Any, message: str, **values: Any) -> str:
        return _fill(context, catalog.gettext(message), values)

    @jinja2.pass_context
    def ngettext(context: Any, singular: str, plural: str, num: int, **values: Any) -> str:
        values.setdefault("num", num)
        return _fill(context, catalog.ngettext(singular, plural, num), values)

    def _fill(context: Any, translated: str, values: dict[str, Any]) -> str:
        if lang == "lb":
            translated = apply_n_rule(translated, values)
        if context.eval_ctx.autoescape:
            return Markup(translated) % values  # the values are escaped, the message is ours
        return translated % values

    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.globals.update(gettext=gettext, _=gettext, ngettext=ngettext)
    return env


# ---------------------------------------------------------------------------- rendering


def render(name: str, lang: str, context: Mapping[str, Any]) -> tuple[str, str, str]:
    """(subject, plain text, HTML) from `name`.subject.txt.j2, .txt.j2 and .html.j2, in the recipient's `lang`."""
    text_env, html_env = environment(lang, autoescape=False), environment(lang, autoescape=True)
    subject = one_line(text_env.get_template(f"{name}.subject.txt.j2").render(context))
    text = text_env.get_template(f"{name}.txt.j2").render(context, subject=subject)
    html = html_env.get_template(f"{name}.html.j2").render(context, subject=subject)
    return subject, tidy_text(text), inline_styles(html)


def standalone_mail(
    settings: Settings,
    lang: str,
    subject: str,
    text: str,
    html: str,
    name: str,
    address: str,
    calendar: tuple[str, str] | None = None,
) -> EmailMessage:
    """A mail that is about no registration (accounts, communes, interpretation) to one stored address.

    `calendar` is (the .ics text, its METHOD): sent as an inline invitation and as an attachment.
    """
    message = EmailMessage(policy=MAIL_POLICY)
    message["Subject"] = subject
    message["From"] = settings.mail_from
    message["To"] = recipient(name, address)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Auto-Submitted"] = "auto-generated"
    message["X-Auto-Response-Suppress"] = "OOF, AutoReply"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    if calendar is not None:
        ics, method = calendar
        message.add_alternative(ics, maintype="text", subtype="calendar", params={"method": method, "charset": "utf-8"})
        message.add_attachment(
            ics, maintype="application", subtype="ics", filename="invite.ics", params={"name": "invite.ics"}
        )
    message["Content-Language"] = lang
    set_boundaries(message)
    return message


def one_line(text: str) -> str:
    """A header value: line breaks and runs of spaces become one space (no-break spaces stay)."""
    return re.sub(r"[ \t\r\n\f\v\u2028\u2029]+", " ", text).strip()


def tidy_text(text: str) -> str:
    """No trailing spaces (the "-- " signature line excepted), at most one blank line in a row."""
    lines = [line if line == "-- " else line.rstrip() for line in text.splitlines()]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip() + "\n"


def inline_styles(html: str) -> str:
    for bare, styled in _INLINE_STYLES.items():
        html = html.replace(bare, styled)
    return re.sub(r"\n\s*\n", "\n", html).strip() + "\n"


def set_boundaries(message: EmailMessage) -> None:
    """A random boundary for each multipart, in the form email's generator writes, checked against the parts.

    Left to the generator, each one costs a regular expression compiled for it and a search of the
    whole flattened text, a tenth of writing a mail. A boundary it does not choose itself must not
    occur in the content: the leaves hold all of it (the multiparts' own headers are ours), and
    `in` looks for it there.
    """
    leaves = [part.get_payload() for part in message.walk() if not part.is_multipart()]
    for part in message.walk():
        if part.is_multipart():
            while True:
                boundary = "=" * 15 + f"{secrets.randbelow(sys.maxsize):019d}" + "=="
                if not any(boundary in leaf for leaf in leaves if isinstance(leaf, str)):
                    break
            part.set_boundary(boundary)


def recipient(name: str, email: str) -> Address | str:
    display = re.sub(r"[\x00-\x1f\x7f\"<>@,;:\\]", " ", name)
    try:
        return Address(display_name=" ".join(display.split())[:80], addr_spec=email)
    except (ValueError, IndexError):
        return email
