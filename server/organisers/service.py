"""Accounts and tokens: password login, bearer lookup, roles."""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

import asyncpg
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from server.errors import Forbidden, NotFound, Unauthorized
from server.organisers import queries as q
from server.organisers.schemas import Organiser, OrganiserIn, OrganiserOut, TokenOut

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


async def login(conn: asyncpg.Connection, email: str, password: str, ttl: timedelta) -> TokenOut:
    """Check a password and hand out a token."""
    row = await conn.fetchrow(q.ORGANISER_FOR_LOGIN, email.lower())
    try:
        _hasher.verify(row["password_hash"] if row and row["password_hash"] else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        raise Unauthorized("Wrong email or password.") from None
    if row is None or not row["password_hash"]:
        raise Unauthorized("Wrong email or password.")
    return await issue_token(conn, row["id"], ttl)


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


async def create_admin(conn: asyncpg.Connection, email: str, ttl: timedelta) -> TokenOut:
    """Create or reset an administrator of every organisation; revokes their old tokens."""
    async with conn.transaction():
        organiser_id = await conn.fetchval(q.UPSERT_ORGANISER, email.lower(), "", None, True)
        await conn.execute(q.REVOKE_ALL_TOKENS, organiser_id)
        return await issue_token(conn, organiser_id, ttl)


async def save_organiser(conn: asyncpg.Connection, actor: Organiser, data: OrganiserIn) -> OrganiserOut:
    """Create or update a staff account; an organisation's admin may grant roles in it only."""
    async with conn.transaction():
        org_ids: list[int] = []
        for membership in data.memberships:
            org = await conn.fetchrow(q.ORGANISATION_BY_SLUG, membership.organisation)
            if org is None:
                raise NotFound(f"No organisation '{membership.organisation}'.")
            if not actor.can_manage(org["id"]):
                raise Forbidden(f"You cannot grant roles in '{membership.organisation}'.")
            org_ids.append(org["id"])
        if not data.memberships and not actor.is_admin:
            raise Forbidden("Only an administrator creates accounts without a role.")
        organiser_id = await conn.fetchval(
            q.UPSERT_ORGANISER, data.email.lower(), data.name, _hasher.hash(data.password), False
        )
        for org_id, membership in zip(org_ids, data.memberships):
            await conn.execute(q.UPSERT_MEMBERSHIP, organiser_id, org_id, membership.role)
    return OrganiserOut(id=organiser_id, email=data.email.lower(), name=data.name, memberships=data.memberships)


async def save_organisation(conn: asyncpg.Connection, actor: Organiser, slug: str, name: str) -> asyncpg.Record:
    """Create or rename an organisation (administrators only)."""
    if not actor.is_admin:
        raise Forbidden("Only an administrator creates organisations.")
    return await conn.fetchrow(q.UPSERT_ORGANISATION, slug, name)
