"""Private links of interpretation: the interpreter's and the requester's, as tokens and URLs."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from server.registrations.tokens import hash_token


def link_token(secret_key: str, purpose: bytes, nonce: bytes) -> str:
    """A private link's token, derived from its row's nonce and the server secret (never stored)."""
    digest = hmac.new(secret_key.encode(), purpose + b":" + nonce, hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


def new_link(secret_key: str, purpose: bytes) -> tuple[bytes, str, bytes]:
    """A fresh (nonce, token, token hash)."""
    nonce = secrets.token_bytes(16)
    token = link_token(secret_key, purpose, nonce)
    return nonce, token, hash_token(token)


def interpreter_url(base_url: str, token: str) -> str:
    """An interpreter's private page."""
    return f"{base_url.rstrip('/')}/i/{token}"


def status_url(base_url: str, token: str) -> str:
    """Where a requester follows their request."""
    return f"{base_url.rstrip('/')}/api/interpretation-requests/{token}"
