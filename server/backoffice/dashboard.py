"""The back-office's dashboard: what needs attention, the coming events page by page, the drafts."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from urllib.parse import urlencode

import asyncpg

from server.backoffice import queries as q
from server.backoffice.service import visible_organisations
from server.organisers.schemas import Organiser

COMING_PAGE = 25
DRAFTS_PAGE = 10
ATTENTION_MOST = 25
MAX_ID = 2**63 - 1

Cursor = tuple[datetime, int]


class BadCursor(ValueError):
    """A paging cursor this service did not give out."""


def parse_cursor(text: str | None) -> Cursor | None:
    """`<starts_at ISO>,<id>` as the dashboard's links write it; None for none; BadCursor otherwise."""
    if not text:
        return None
    when, _, ident = text.rpartition(",")
    try:
        starts_at = datetime.fromisoformat(when)
    except ValueError:
        raise BadCursor(text) from None
    if starts_at.tzinfo is None or not ident.isascii() or not ident.isdigit() or int(ident) > MAX_ID:
        raise BadCursor(text)
    return starts_at, int(ident)


def cursor_text(cursor: Cursor) -> str:
    """The cursor as the dashboard's links write it."""
    return f"{cursor[0].isoformat()},{cursor[1]}"


def _href(**cursors: Cursor | None) -> str:
    """The dashboard's address with these cursors (after, drafts_after, attention_after)."""
    return "/organiser/?" + urlencode({k: cursor_text(v) for k, v in cursors.items() if v is not None})


async def _page(
    conn: asyncpg.Connection, ids: list[int], status: str, after: Cursor | None, size: int
) -> tuple[list[dict[str, Any]], Cursor | None]:
    """One page of the coming events of `status`, and the cursor of the next one (None at the end)."""
    starts_at, ident = after or (None, None)
    rows = await conn.fetch(q.DASHBOARD_PAGE, ids, status, starts_at, ident, size + 1)
    last = rows[size - 1] if len(rows) > size else None
    return [dict(r) for r in rows[:size]], (last["starts_at"], last["id"]) if last else None


async def dashboard(
    conn: asyncpg.Connection,
    who: Organiser,
    after: Cursor | None = None,
    drafts_after: Cursor | None = None,
    attention_after: Cursor | None = None,
) -> dict[str, Any]:
    """What needs attention, a page of the coming events and one of the drafts, of the person's organisations."""
    organisations = await visible_organisations(conn, who)
    ids = [o["id"] for o in organisations]
    coming, later = await _page(conn, ids, "published", after, COMING_PAGE)
    drafts, more_drafts = await _page(conn, ids, "draft", drafts_after, DRAFTS_PAGE)
    drafts_left = await conn.fetchval(q.DASHBOARD_COUNT_AFTER, ids, "draft", *more_drafts) if more_drafts else 0
    starts_at, ident = attention_after or (None, None)
    attention = [dict(r) for r in await conn.fetch(q.DASHBOARD_ATTENTION, ids, ATTENTION_MOST, starts_at, ident)]
    attention_more = attention[0]["total"] - len(attention) if attention else 0
    cursors = {"after": after, "drafts_after": drafts_after, "attention_after": attention_after}
    return {
        "organisations": organisations,
        "attention": attention,
        "attention_more": attention_more,
        "more_attention_href": (
            _href(**{**cursors, "attention_after": (attention[-1]["starts_at"], attention[-1]["id"])})
            if attention_more
            else None
        ),
        "coming": coming,
        "later_href": _href(**{**cursors, "after": later}) if later else None,
        "drafts": drafts,
        "more_drafts_href": _href(**{**cursors, "drafts_after": more_drafts}) if more_drafts else None,
        "drafts_left": drafts_left,
    }
