"""Abuse limits kept in PostgreSQL (table rate_limits): who a request comes from and how often it came.

Registrations and sign-ins count against them; every app process sees the same counts.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from datetime import timedelta

import asyncpg
from litestar import Request

from server.settings import Settings

# counts one attempt for each key in the current window of length {window}; returns each key's
# attempts and the seconds left in its window. Keys lock in the order given (address, then email).
_COUNT_ATTEMPTS = """
INSERT INTO rate_limits AS l (key, window_start)
SELECT k.key, date_bin({window}::interval, now(), TIMESTAMPTZ 'epoch')
FROM unnest({keys}::text[]) WITH ORDINALITY AS k(key, n)
ORDER BY k.n
ON CONFLICT (key, window_start) DO UPDATE SET hits = l.hits + 1
RETURNING l.key, l.hits,
          greatest(1, ceil(extract(epoch FROM l.window_start + {window}::interval - now())))::int AS retry_after
"""
COUNT_ATTEMPTS = _COUNT_ATTEMPTS.format(keys="$1", window="$2")

# takes back one attempt of each key $1 in the current window of length $2 (one that turned out fine)
GIVE_BACK_ATTEMPTS = """
UPDATE rate_limits SET hits = hits - 1
WHERE key = ANY($1::text[]) AND window_start = date_bin($2::interval, now(), TIMESTAMPTZ 'epoch') AND hits > 0
"""


def client_address(request: Request, settings: Settings) -> str:
    """The address the request came from (the rate limits' key), seen through trusted proxies."""
    peer = request.client.host if request.client else "unknown"
    forwarded = [part.strip() for part in request.headers.get("x-forwarded-for", "").split(",") if part.strip()]
    # walk back from the nearest hop: the first address not of a trusted proxy is the client's
    for address in [*reversed(forwarded), None]:
        if not _trusted(peer, settings.trusted_proxies) or address is None:
            return peer
        peer = address
    return peer


def _trusted(address: str, proxies: tuple[str, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
        return any(ip in ipaddress.ip_network(proxy, strict=False) for proxy in proxies)
    except ValueError:
        return False


def digest(settings: Settings, value: str) -> str:
    """A keyed hash: the counters never hold an address in the clear."""
    return hmac.new(settings.secret_key.encode(), value.encode(), hashlib.sha256).hexdigest()[:32]


def client_key(client_ip: str) -> str:
    """An IPv6 client is limited by its /64, which one household or phone usually has to itself."""
    try:
        address = ipaddress.ip_address(client_ip)
    except ValueError:
        return client_ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.ip_network(f"{address}/64", strict=False))
    return str(address)


async def count_attempts(conn: asyncpg.Connection, keys: list[str], limits: list[int], window: timedelta) -> int:
    """Count one attempt against each key; the seconds to wait when any is past its limit, else 0."""
    most = dict(zip(keys, limits, strict=True))
    rows = await conn.fetch(COUNT_ATTEMPTS, keys, window)
    return max((row["retry_after"] for row in rows if row["hits"] > most[row["key"]]), default=0)


async def give_back_attempts(conn: asyncpg.Connection, keys: list[str], window: timedelta) -> None:
    """Take back the attempt just counted against each key (it was not a failure)."""
    await conn.execute(GIVE_BACK_ATTEMPTS, keys, window)
