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


# ---------------------------------------------------------------------------- join and check-in tokens
# A registration's personal join link (/j/) and check-in QR (/organiser/checkin/) carry tokens of their
# own: the registration's id followed by an HMAC of its nonce for that purpose alone. Nothing new is
# stored or indexed (registering writes no more than before), the id finds the row by its primary key,
# the HMAC is compared in constant time, and erasing the nonce kills every token of the row. A leaked
# join or check-in token gives neither the manage page nor the other link.
_ID_BYTES = 8
_TAG_BYTES = 24
SCOPED_TOKEN_LENGTH = 43  # base64url of 8 + 24 bytes, unpadded
PURPOSES = ("join", "checkin")


def _tag(secret_key: str, purpose: str, registration_id: int, nonce: bytes) -> bytes:
    message = f"{purpose}-token:{registration_id}:".encode() + bytes(nonce)
    return hmac.new(secret_key.encode(), message, hashlib.sha256).digest()[:_TAG_BYTES]


def scoped_token(secret_key: str, purpose: str, registration_id: int, nonce: bytes) -> str:
    """The join or check-in token of a registration, from its id and nonce."""
    assert purpose in PURPOSES
    raw = registration_id.to_bytes(_ID_BYTES, "big") + _tag(secret_key, purpose, registration_id, nonce)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def scoped_token_id(token: str) -> int | None:
    """The registration id a join or check-in token names, or None when it is no such token (not yet checked)."""
    if len(token) != SCOPED_TOKEN_LENGTH or not token.isascii():
        return None
    try:
        raw = base64.urlsafe_b64decode(token + "=")
    except ValueError:
        return None
    if len(raw) != _ID_BYTES + _TAG_BYTES or base64.urlsafe_b64encode(raw).decode().rstrip("=") != token:
        return None
    registration_id = int.from_bytes(raw[:_ID_BYTES], "big")
    return registration_id if 0 < registration_id < 2**63 else None


def scoped_token_matches(secret_key: str, purpose: str, token: str, registration_id: int, nonce: bytes | None) -> bool:
    """Whether `token` is the `purpose` token of this registration (constant-time; False once erased)."""
    if nonce is None:
        return False
    return hmac.compare_digest(token, scoped_token(secret_key, purpose, registration_id, bytes(nonce)))


def join_url(base_url: str, secret_key: str, registration_id: int, nonce: bytes) -> str:
    """A confirmed person's personal link to a web conference: records the join, then goes on to it."""
    return f"{base_url.rstrip('/')}/j/{scoped_token(secret_key, 'join', registration_id, nonce)}"


def checkin_url(base_url: str, secret_key: str, registration_id: int, nonce: bytes) -> str:
    """The check-in URL in a registration's QR code: a signed-in organiser opening it marks the person present."""
    return f"{base_url.rstrip('/')}/organiser/checkin/{scoped_token(secret_key, 'checkin', registration_id, nonce)}"
