"""Accounts and tokens: password login, bearer lookup, roles, invitations.

Who may change an account: a global administrator any; an organisation's admin only an account
whose every role lies in organisations they administer (and which is no global administrator),
and only its roles in those organisations. Nobody sets another person's password: a new account's
owner chooses it through the single-use link of an invitation mail. Setting a password revokes
the account's other credentials (revoke_credentials).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
from datetime import datetime, timedelta
from typing import Any, NoReturn

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from msgspec import UNSET

from server import audit
from server.errors import (
    Forbidden,
    Gone,
    Invalid,
    NotFound,
    TooManyRequests,
    Unauthorized,
)
from server.limits import client_key, count_attempts, digest, give_back_attempts
from server.organisers import queries as q
from server.organisers.schemas import (
    InvitationIn,
    InvitationOut,
    MembershipIn,
    Organiser,
    OrganiserIn,
    OrganiserOut,
    TokenOut,
)
from server.outbox import enqueue
from server.settings import Settings
from server.validation import canonical_email

_hasher = PasswordHasher()
# verifying against a fixed hash keeps the timing the same whether or not the email exists
_DUMMY_HASH = _hasher.hash("not a real password")


def hash_token(token: str) -> bytes:
    """SHA-256 of a bearer or manage token: what the database keeps."""
    return hashlib.sha256(token.encode()).digest()


async def issue_token(conn: asyncpg.Connection, organiser_id: int, ttl: timedelta) -> TokenOut:
    """A new bearer token for an organiser."""
    token = secrets.token_urlsafe(32)
    expires_at = await conn.fetchval(q.INSERT_TOKEN, organiser_id, hash_token(token), ttl)
    return TokenOut(token=token, expires_at=expires_at)


async def logout(conn: asyncpg.Connection, token: str) -> None:
    """Revoke the token used for this request."""
    await conn.execute(q.REVOKE_TOKEN, hash_token(token))


async def organiser_for_token(conn: asyncpg.Connection, token: str) -> Organiser:
    """The organiser behind a bearer token, or 401."""
    row = await conn.fetchrow(q.ORGANISER_BY_TOKEN, hash_token(token))
    if row is None:
        raise Unauthorized("The token is missing, expired or revoked.", headers={"WWW-Authenticate": "Bearer"})
    roles = {int(org_id): role for org_id, role in row["roles"].items()}
    return Organiser(id=row["id"], email=row["email"], name=row["name"], is_admin=row["is_admin"], roles=roles)


async def save_organisation(conn: asyncpg.Connection, actor: Organiser, slug: str, name: str) -> asyncpg.Record:
    """Create or rename an organisation (administrators only)."""
    if not actor.is_admin:
        raise Forbidden("Only an administrator creates organisations.")
    return await conn.fetchrow(q.UPSERT_ORGANISATION, slug, name)


# ---------------------------------------------------------------------------- email addresses


class EmailRefused(Invalid):
    code = "email_invalid"


def account_email(raw: str) -> str:
    """An account's email in its one stored form (validation.canonical_email), or 422 on `email`."""
    try:
        return canonical_email(raw.strip())
    except ValueError as exc:
        raise EmailRefused.field("email", str(exc)) from None


# ---------------------------------------------------------------------------- sign-in limits


class SignInLimited(TooManyRequests):
    code = "sign_in_limited"


def sign_in_keys(settings: Settings, client_ip: str, email: str) -> tuple[list[str], list[int]]:
    """The failure counters of a sign-in (per client address, per account email) and their limits."""
    keys = [f"sign-in-address:{digest(settings, client_key(client_ip))}", f"sign-in-account:{digest(settings, email)}"]
    return keys, [settings.sign_in_failures_per_address, settings.sign_in_failures_per_account]


def _refuse_sign_in(retry_after: int) -> NoReturn:
    # the same words for a known account as for an unknown one
    raise SignInLimited(
        "Too many failed attempts from here or for this account; try again later.",
        headers={"Retry-After": str(retry_after)},
    )


async def count_sign_in(conn: asyncpg.Connection, settings: Settings, keys: list[str], limits: list[int]) -> None:
    """Count an attempt as failed ahead of the check (give_back_sign_in when it succeeds); 429 past a limit.

    Counting first keeps concurrent guesses from all passing a check before any failure is counted,
    and past a limit even the right password is refused until the window ends.
    """
    if retry_after := await count_attempts(conn, keys, limits, settings.sign_in_window):
        _refuse_sign_in(retry_after)


async def give_back_sign_in(conn: asyncpg.Connection, settings: Settings, keys: list[str]) -> None:
    """The attempt succeeded: it is no failure."""
    await give_back_attempts(conn, keys, settings.sign_in_window)


def _verify(password_hash: str | None, password: str) -> bool:
    try:
        _hasher.verify(password_hash or _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return False
    return password_hash is not None


async def password_matches(password_hash: str | None, password: str) -> bool:
    """argon2id verification, off the event loop; an account without a password is checked against a dummy
    hash, so that the answer takes as long as for a real one."""
    return await asyncio.to_thread(_verify, password_hash, password)


async def login(conn: asyncpg.Connection, email: str, password: str, settings: Settings, client_ip: str) -> TokenOut:
    """Check a password and hand out a token; failures are limited per account and per client address."""
    try:
        email = account_email(email)
    except EmailRefused:
        email = email.strip().lower()  # no such account; counted and answered like any other
    keys, limits = sign_in_keys(settings, client_ip, email)
    # each statement its own transaction: a failure's count must outlive the refusal
    await count_sign_in(conn, settings, keys, limits)
    row = await conn.fetchrow(q.ORGANISER_FOR_LOGIN, email)
    if not await password_matches(row["password_hash"] if row else None, password):
        raise Unauthorized("Wrong email or password.")
    await give_back_sign_in(conn, settings, keys)
    return await issue_token(conn, row["id"], settings.token_ttl)


# ---------------------------------------------------------------------------- credentials


async def revoke_credentials(conn: asyncpg.Connection, organiser_id: int, *, keep_token: str | None = None) -> None:
    """Revoke every token of an account but `keep_token`, every back-office session and every reset link."""
    await conn.execute(q.REVOKE_OTHER_TOKENS, organiser_id, hash_token(keep_token) if keep_token else None)
    await conn.execute(q.REVOKE_SESSIONS, organiser_id)
    await conn.execute(q.SPEND_PASSWORD_RESETS, organiser_id)


async def store_password(
    conn: asyncpg.Connection,
    organiser_id: int,
    password: str,
    *,
    keep_token: str | None,
) -> None:
    """Set a password (in the caller's transaction): other credentials and open invitations die with the old one."""
    await conn.execute(q.SET_PASSWORD, organiser_id, _hasher.hash(password))
    await revoke_credentials(conn, organiser_id, keep_token=keep_token)
    await conn.execute(q.SPEND_INVITATIONS, organiser_id)


async def change_password(
    conn: asyncpg.Connection,
    actor: Organiser,
    token: str,
    current: str,
    new: str,
    settings: Settings,
    client_ip: str,
) -> None:
    """Set one's own password, proven by the current one; every other token of the account is revoked."""
    keys, limits = sign_in_keys(settings, client_ip, actor.email)
    await count_sign_in(conn, settings, keys, limits)
    if not await password_matches(await conn.fetchval(q.PASSWORD_HASH, actor.id), current):
        raise Invalid.field("current_password", "The current password is wrong.")
    await give_back_sign_in(conn, settings, keys)
    async with conn.transaction():
        await store_password(conn, actor.id, new, keep_token=token)
        await audit.record(conn, actor, "password_set", detail={"via": "api"})


async def create_admin(conn: asyncpg.Connection, email: str, ttl: timedelta) -> TokenOut:
    """Create or reset an administrator of every organisation; revokes their old tokens."""
    async with conn.transaction():
        organiser_id = await conn.fetchval(q.UPSERT_ORGANISER, account_email(email), "", None, True)
        await revoke_credentials(conn, organiser_id)
        return await issue_token(conn, organiser_id, ttl)


# ---------------------------------------------------------------------------- who may change whom


class AccountOutOfReach(Forbidden):
    code = "account_out_of_reach"


def may_change(actor: Organiser, account: asyncpg.Record, roles: dict[int, str]) -> bool:
    """A global administrator, or an admin of every organisation the account has a role in (and it none itself)."""
    return actor.is_admin or (not account["is_admin"] and all(actor.can_manage(org_id) for org_id in roles))


def _refuse_out_of_reach() -> NoReturn:
    raise AccountOutOfReach(
        "This account is an administrator's or has roles in organisations you do not "
        "administer: only an administrator can change it."
    )


async def _roles(conn: asyncpg.Connection, organiser_id: int) -> list[asyncpg.Record]:
    return list(await conn.fetch(q.ACCOUNT_MEMBERSHIPS, organiser_id))


async def _organisations_to_grant(
    conn: asyncpg.Connection,
    actor: Organiser,
    memberships: list[MembershipIn],
) -> list[int]:
    """The ids of the organisations of `memberships`; 404 for an unknown one, 403 for one the actor does not manage."""
    if len({m.organisation for m in memberships}) != len(memberships):
        raise Invalid.field("memberships", "Name each organisation once.")
    ids = []
    for membership in memberships:
        org = await conn.fetchrow(q.ORGANISATION_BY_SLUG, membership.organisation)
        if org is None:
            raise NotFound(f"No organisation '{membership.organisation[:63]}'.")
        if not actor.can_manage(org["id"]):
            raise Forbidden(f"You cannot grant roles in '{membership.organisation}'.")
        ids.append(org["id"])
    if not memberships and not actor.is_admin:
        raise Forbidden("Only an administrator invites people without a role.")
    return ids


def invitation_token(secret_key: str, nonce: bytes) -> str:
    """The token of an invitation's link, from its nonce."""
    digest_ = hmac.new(secret_key.encode(), b"invitation-token:" + nonce, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest_).decode().rstrip("=")


def invitation_url(settings: Settings, token: str, lang: str) -> str:
    """The page where an invited person chooses their password."""
    return f"{settings.base}/organiser/invitations/{token}?lang={lang}"


async def invite(conn: asyncpg.Connection, actor: Organiser, data: InvitationIn, settings: Settings) -> InvitationOut:
    """Give a person roles in the actor's organisations; a new account's owner gets a mail to choose a password.

    An existing account only gains or changes roles: its name and password stay as they are.
    """
    email = account_email(data.email)
    name = " ".join(data.name.split())
    async with conn.transaction():
        org_ids = await _organisations_to_grant(conn, actor, data.memberships)
        try:
            created = await conn.fetchval(q.INSERT_ACCOUNT, email, name)
        except asyncpg.CheckViolationError:  # PostgreSQL's lower() disagrees with Python's
            raise EmailRefused.field("email", "Write the email address in plain characters, without spaces.") from None
        account = await conn.fetchrow(q.ACCOUNT_FOR_UPDATE, email)
        if created is None:
            roles = {r["organisation_id"]: r["role"] for r in await _roles(conn, account["id"])}
            if not may_change(actor, account, roles):
                _refuse_out_of_reach()
        for org_id, membership in zip(org_ids, data.memberships, strict=True):
            await conn.execute(q.UPSERT_MEMBERSHIP, account["id"], org_id, membership.role)
        expires_at = None
        if not account["has_password"]:
            expires_at = await _send_invitation(conn, actor, account, data, settings)
        for org_id, membership in zip(org_ids, data.memberships, strict=True):
            await audit.record(
                conn,
                actor,
                "person_invited",
                organisation_id=org_id,
                detail={"person": account["email"], "role": membership.role, "mail_sent": expires_at is not None},
            )
        held = await _roles(conn, account["id"])
    return InvitationOut(
        id=account["id"],
        email=account["email"],
        name=account["name"],
        memberships=[MembershipIn(r["slug"], r["role"]) for r in held],
        invitation_sent=expires_at is not None,
        invitation_expires_at=expires_at,
    )


async def _send_invitation(
    conn: asyncpg.Connection,
    actor: Organiser,
    account: asyncpg.Record,
    data: InvitationIn,
    settings: Settings,
) -> datetime:
    """A new invitation (earlier open ones end) and its mail, in the caller's transaction; returns its expiry."""
    await conn.execute(q.SPEND_INVITATIONS, account["id"])
    nonce = secrets.token_bytes(16)
    token = invitation_token(settings.secret_key, nonce)
    row = await conn.fetchrow(
        q.INSERT_INVITATION, account["id"], actor.id or None, nonce, hash_token(token), settings.invitation_ttl
    )
    names = {r["slug"]: r["name"] for r in await conn.fetch(q.ALL_ORGANISATIONS)}
    payload: dict[str, Any] = {
        "invitation": row["id"],
        "inviter": actor.name or actor.email,
        "memberships": [{"organisation": names[m.organisation], "role": m.role} for m in data.memberships],
    }
    await enqueue(
        conn, "organiser_invitation", event_id=None, recipient=account["email"], language=data.language, payload=payload
    )
    return row["expires_at"]


async def save_organiser(
    conn: asyncpg.Connection,
    actor: Organiser,
    data: OrganiserIn,
    settings: Settings,
) -> OrganiserOut:
    """The older way to invite (in French); a password in the body is refused."""
    if data.password is not UNSET:
        raise Invalid.field(
            "password",
            "Nobody sets another person's password: leave `password` out; a new "
            "account's owner gets an invitation mail to choose one.",
        )
    invited = await invite(
        conn,
        actor,
        InvitationIn(email=data.email, name=data.name.strip() or data.email, memberships=data.memberships),
        settings,
    )
    return OrganiserOut(id=invited.id, email=invited.email, name=invited.name, memberships=invited.memberships)


async def remove_member(conn: asyncpg.Connection, actor: Organiser, slug: str, organiser_id: int) -> None:
    """Take a person's role in an organisation away (the same reach rule as for granting)."""
    org = await conn.fetchrow(q.ORGANISATION_BY_SLUG, slug)
    if org is None:
        raise NotFound(f"No organisation '{slug[:63]}'.")
    if not actor.can_manage(org["id"]):
        raise Forbidden(f"You cannot remove people from '{slug}'.")
    async with conn.transaction():
        account = await conn.fetchrow(q.ACCOUNT_BY_ID_FOR_UPDATE, organiser_id)
        roles = {r["organisation_id"]: r["role"] for r in await _roles(conn, organiser_id)} if account else {}
        if account is None or org["id"] not in roles:
            raise NotFound("This person has no role in this organisation.")
        if not may_change(actor, account, roles):
            _refuse_out_of_reach()
        await conn.execute(q.DELETE_MEMBERSHIP, organiser_id, org["id"])
        await audit.record(
            conn,
            actor,
            "person_removed",
            organisation_id=org["id"],
            detail={"person": account["email"], "role": roles[org["id"]]},
        )


# ---------------------------------------------------------------------------- the invitation's link


class InvitationUnknown(NotFound):
    code = "invitation_unknown"


class InvitationSpent(Gone):
    code = "invitation_spent"


async def invitation_for_token(conn: asyncpg.Connection, token: str) -> asyncpg.Record | None:
    """The invitation behind a link (usable or not), or None."""
    if len(token) != 43:
        return None
    return await conn.fetchrow(q.INVITATION_BY_TOKEN, hash_token(token))


async def accept_invitation(conn: asyncpg.Connection, token: str, password: str) -> asyncpg.Record:
    """Set the password of an invited account through its link, once; the link and other credentials die."""
    async with conn.transaction():
        row = await conn.fetchrow(q.INVITATION_BY_TOKEN_FOR_UPDATE, hash_token(token)) if len(token) == 43 else None
        if row is None:
            raise InvitationUnknown("This invitation link is unknown.")
        if not row["usable"]:
            raise InvitationSpent("This invitation link was used already, was replaced, or expired.")
        await store_password(conn, row["organiser_id"], password, keep_token=None)
        await audit.record(
            conn,
            None,
            "password_set",
            actor_id=row["organiser_id"],
            actor_email=row["email"],
            detail={"via": "invitation"},
        )
    return row
