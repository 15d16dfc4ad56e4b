"""Back-office rules: browser sessions, password reset by mail, the dashboard, people and roles.

Sign-in counts its failures against the same counters as the API's login (server/organisers/service.py),
so guessing through one door does not reset the other's count. A session token lives only in the
person's cookie; the database keeps its SHA-256.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Any

import asyncpg
import msgspec

from server import audit
from server.backoffice import queries as q
from server.errors import Forbidden, NotFound, Unauthorized
from server.i18n import LANGUAGES
from server.organisers import queries as org_q
from server.organisers import service as accounts
from server.organisers.schemas import InvitationIn, MembershipIn, Organiser
from server.outbox import enqueue
from server.registrations import checkin
from server.settings import Settings

SESSION_TOKEN_LENGTH = 43
ROLES = ("admin", "organiser", "viewer")


class Staff(msgspec.Struct, frozen=True):
    """A signed-in person: who they are, what they may touch, their interface language, their session."""

    organiser: Organiser
    language: str | None
    token: str


# ---------------------------------------------------------------------------- sessions


async def sign_in(
    conn: asyncpg.Connection,
    settings: Settings,
    email: str,
    password: str,
    client_ip: str,
    user_agent: str,
    lang: str,
) -> str:
    """A session token for the right password; Unauthorized or SignInLimited otherwise.

    An account that never chose a language gets the one it signed in with, until the person chooses another.
    """
    try:
        email = accounts.account_email(email)
    except accounts.EmailRefused:
        email = email.strip().lower()  # no such account; counted and answered like any other
    keys, limits = accounts.sign_in_keys(settings, client_ip, email)
    await accounts.count_sign_in(conn, settings, keys, limits)
    row = await conn.fetchrow(q.ACCOUNT_FOR_SIGN_IN, email)
    if not await accounts.password_matches(row["password_hash"] if row else None, password):
        if row is not None:
            await audit.record(
                conn,
                None,
                "sign_in_failed",
                actor_id=row["id"],
                actor_email=row["email"],
                detail={"via": "back-office"},
            )
        raise Unauthorized("Wrong email or password.")
    await accounts.give_back_sign_in(conn, settings, keys)
    token = secrets.token_urlsafe(32)
    async with conn.transaction():
        await conn.execute(
            q.INSERT_SESSION, row["id"], accounts.hash_token(token), user_agent[:300], settings.session_ttl
        )
        await conn.execute(q.SET_LANGUAGE_IF_NONE, row["id"], lang)
        await audit.record(
            conn, None, "sign_in", actor_id=row["id"], actor_email=row["email"], detail={"via": "back-office"}
        )
    return token


async def staff_for_session(conn: asyncpg.Connection, token: str, settings: Settings) -> Staff | None:
    """The person behind a live session cookie, or None; a used session lives on, an idle one dies."""
    if len(token) != SESSION_TOKEN_LENGTH:
        return None
    row = await conn.fetchrow(q.STAFF_BY_SESSION, accounts.hash_token(token))
    if row is None:
        return None
    if row["stale"]:
        await conn.execute(q.TOUCH_SESSION, row["session_id"], settings.session_ttl)
    roles = {int(org_id): role for org_id, role in row["roles"].items()}
    organiser = Organiser(id=row["id"], email=row["email"], name=row["name"], is_admin=row["is_admin"], roles=roles)
    return Staff(organiser=organiser, language=row["language"], token=token)


async def sign_out(conn: asyncpg.Connection, token: str) -> None:
    """End this session."""
    await conn.execute(q.REVOKE_SESSION, accounts.hash_token(token))


async def sign_out_everywhere(conn: asyncpg.Connection, staff: Staff) -> None:
    """End every session and bearer token of the account, this one included."""
    async with conn.transaction():
        await accounts.revoke_credentials(conn, staff.organiser.id)
        await audit.record(conn, staff.organiser, "sign_out_everywhere")


async def set_language(conn: asyncpg.Connection, staff: Staff, lang: str) -> None:
    """Store the interface language the person chose."""
    if lang in LANGUAGES:
        await conn.execute(q.SET_LANGUAGE, staff.organiser.id, lang)


# ---------------------------------------------------------------------------- password reset by mail


def reset_token(secret_key: str, nonce: bytes) -> str:
    """The token of a reset link, from its nonce."""
    digest = hmac.new(secret_key.encode(), b"password-reset-token:" + nonce, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def reset_url(settings: Settings, token: str, lang: str) -> str:
    """The page where a person chooses a new password."""
    return f"{settings.base}/organiser/password-reset/{token}?lang={lang}"


async def ask_reset(conn: asyncpg.Connection, settings: Settings, email: str, lang: str, client_ip: str) -> None:
    """Mail a single-use link to the account of `email`, if there is one; the caller answers the same either way.

    Counted like a sign-in (per address and per account), so that nobody floods a mailbox with links.
    """
    try:
        email = accounts.account_email(email)
    except accounts.EmailRefused:
        return
    keys, limits = accounts.sign_in_keys(settings, client_ip, f"reset:{email}")
    await accounts.count_sign_in(conn, settings, keys, limits)
    row = await conn.fetchrow(q.ACCOUNT_FOR_SIGN_IN, email)
    if row is None:
        return
    async with conn.transaction():
        await conn.execute(q.SPEND_RESETS, row["id"])
        nonce = secrets.token_bytes(16)
        token = reset_token(settings.secret_key, nonce)
        reset = await conn.fetchrow(
            q.INSERT_RESET, row["id"], nonce, accounts.hash_token(token), settings.password_reset_ttl
        )
        await enqueue(
            conn,
            "organiser_password_reset",
            event_id=None,
            recipient=row["email"],
            language=row["language"] or lang,
            payload={"reset": reset["id"]},
        )
        await audit.record(conn, None, "password_reset_asked", actor_id=row["id"], actor_email=row["email"])


async def reset_for_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record | None:
    """The usable reset behind a link, or None."""
    if len(token) != SESSION_TOKEN_LENGTH:
        return None
    row = await conn.fetchrow(q.RESET_BY_TOKEN, accounts.hash_token(token))
    return row if row is not None and row["usable"] else None


async def accept_reset(conn: asyncpg.Connection, token: str, password: str) -> bool:
    """Set the password through a reset link, once; every session, token and link of the account dies."""
    async with conn.transaction():
        row = (
            await conn.fetchrow(q.RESET_BY_TOKEN_FOR_UPDATE, accounts.hash_token(token))
            if len(token) == SESSION_TOKEN_LENGTH
            else None
        )
        if row is None or not row["usable"]:
            return False
        await accounts.store_password(conn, row["organiser_id"], password, keep_token=None)
        await audit.record(
            conn, None, "password_set", actor_id=row["organiser_id"], actor_email=row["email"], detail={"via": "reset"}
        )
    return True


# ---------------------------------------------------------------------------- what a person may see


async def visible_organisations(conn: asyncpg.Connection, who: Organiser) -> list[asyncpg.Record]:
    """The organisations the person has a role in (every one, for an administrator), by name."""
    ids = [r["id"] for r in await conn.fetch(q.ALL_ORGANISATION_IDS)] if who.is_admin else list(who.roles)
    return list(await conn.fetch(q.ORGANISATIONS_BY_ID, ids))


async def managed_organisation(
    conn: asyncpg.Connection, who: Organiser, slug: str | None
) -> tuple[asyncpg.Record, list[asyncpg.Record]]:
    """(the organisation asked for, every one the person administers); 404 for one they do not administer."""
    managed = [org for org in await visible_organisations(conn, who) if who.can_manage(org["id"])]
    if not managed:
        raise NotFound("No organisation you administer.")
    if slug is None:
        return managed[0], managed
    for org in managed:
        if org["slug"] == slug:
            return org, managed
    raise NotFound(f"No organisation '{slug[:63]}'.")


# ---------------------------------------------------------------------------- people and roles


async def people(conn: asyncpg.Connection, who: Organiser, org: asyncpg.Record) -> list[dict[str, Any]]:
    """The people of an organisation, each with whether the person may change them (may_change)."""
    result = []
    for row in await conn.fetch(q.PEOPLE_OF_ORGANISATION, org["id"]):
        roles = {int(k): v for k, v in row["roles"].items()}
        result.append({**dict(row), "changeable": row["id"] != who.id and accounts.may_change(who, row, roles)})
    return result


async def invite(
    conn: asyncpg.Connection,
    who: Organiser,
    org: asyncpg.Record,
    email: str,
    name: str,
    role: str,
    lang: str,
    settings: Settings,
) -> None:
    """Invite a person to one organisation through the accounts' invitation service (which audits it)."""
    await accounts.invite(
        conn,
        who,
        InvitationIn(
            email=email,
            name=name,
            language=lang,  # type: ignore[arg-type]
            memberships=[MembershipIn(org["slug"], role)],
        ),
        settings,
    )


async def change_role(
    conn: asyncpg.Connection, who: Organiser, org: asyncpg.Record, person_id: int, role: str, settings: Settings
) -> None:
    """Give a member another role in the organisation (the may_change rule); 404 for a non-member."""
    async with conn.transaction():
        account = await conn.fetchrow(org_q.ACCOUNT_BY_ID_FOR_UPDATE, person_id)
        roles = (
            {r["organisation_id"]: r["role"] for r in await conn.fetch(org_q.ACCOUNT_MEMBERSHIPS, person_id)}
            if account
            else {}
        )
        if account is None or org["id"] not in roles:
            raise NotFound("This person has no role in this organisation.")
        if person_id == who.id or not accounts.may_change(who, account, roles):
            raise Forbidden("Only an administrator can change this account.")
        await conn.execute(org_q.UPSERT_MEMBERSHIP, person_id, org["id"], role)
        await audit.record(
            conn,
            who,
            "role_changed",
            organisation_id=org["id"],
            detail={"person": account["email"], "from": roles[org["id"]], "to": role},
        )


async def remove(conn: asyncpg.Connection, who: Organiser, org: asyncpg.Record, person_id: int) -> None:
    """Take a person's role in the organisation away (remove_member's rule, which audits it)."""
    if person_id == who.id:
        raise Forbidden("You cannot remove yourself.")
    await accounts.remove_member(conn, who, org["slug"], person_id)


async def audit_rows(conn: asyncpg.Connection, org: asyncpg.Record, event_slug: str | None) -> list[asyncpg.Record]:
    """The organisation's latest audit rows, optionally of one event."""
    return list(await conn.fetch(q.AUDIT_OF_ORGANISATION, org["id"], event_slug or None, 500))


# ---------------------------------------------------------------------------- one event

TEXT_FIELDS = ("title", "summary", "description")


def texts_side_by_side(row: asyncpg.Record) -> dict[str, dict[str, tuple[str, str]]]:
    """{field: {language: (text the public reads, language it is in)}}: where one is missing, the fallback."""
    from server.i18n import localise

    return {field: {lang: localise(row[field], lang, row["languages"]) for lang in LANGUAGES} for field in TEXT_FIELDS}


async def event_page(conn: asyncpg.Connection, who: Organiser, slug: str) -> dict[str, Any]:
    """An event the person may read (404 otherwise), its fill, its texts, and who a cancellation would tell."""
    from server.events.reading import readable_event

    row = await readable_event(conn, who, slug)
    fill = await conn.fetchrow(q.EVENT_FILL, row["id"])
    audience = [(r["language"], r["people"]) for r in await conn.fetch(q.AUDIENCE_BY_LANGUAGE, row["id"])]
    return {
        "event": {**dict(row), **dict(fill)},
        "texts": texts_side_by_side(row),
        "audience": audience,
        "audience_total": sum(n for _, n in audience),
        # "7 fr, 3 pt, 2 de": who gets the mail in which language
        "audience_text": ", ".join(f"{n} {code}" for code, n in audience),
        "may_write": who.can_write(row["organisation_id"]),
    }


async def check_in(
    conn: asyncpg.Connection,
    staff: Staff,
    token: str,
    lang: str,
    settings: Settings,
) -> checkin.CheckedIn:
    """Mark the person behind a check-in code present, with its audit row in the same transaction."""
    async with conn.transaction():
        done = await checkin.check_in(conn, staff.organiser, token, lang, settings)
        where = await conn.fetchrow(q.REGISTRATION_EVENT, done.registration_id)
        await audit.record(
            conn,
            staff.organiser,
            "attendance",
            organisation_id=where["organisation_id"],
            event_id=where["event_id"],
            detail={"registration": done.registration_id, "already_present": done.already_present},
        )
    return done
