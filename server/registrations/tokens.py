"""Manage tokens: 256 bits derived from a random nonce and the server secret, kept only as a hash.

The token itself is never stored. Mail sent later (reminders, changes) must still carry the manage
link, so the notifier derives it again from the row's nonce and SECRET_KEY; without the secret the
database alone yields no working token. Erasing the nonce and hash makes the token useless.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets


def token_from_nonce(secret_key: str, nonce: bytes) -> str:
    """The manage token of a registration, from its nonce."""
    digest = hmac.new(secret_key.encode(), b"manage-token:" + nonce, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def hash_token(token: str) -> bytes:
    """What the database keeps and looks up: SHA-256 of the token."""
    return hashlib.sha256(token.encode()).digest()


def new_token(secret_key: str) -> tuple[bytes, str, bytes]:
    """A fresh (nonce, token, token hash) for a new registration."""
    nonce = secrets.token_bytes(16)
    token = token_from_nonce(secret_key, nonce)
    return nonce, token, hash_token(token)


def manage_url(base_url: str, token: str) -> str:
    """The public manage page of a registration."""
    return f"{base_url.rstrip('/')}/r/{token}"
