"""The iCal feeds: which rows each one shows, its version, and a build only when that version changes."""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import random
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_start
from typing import Any, Literal

import asyncpg
import msgspec
from litestar.datastructures import State

from server.db import provide_connection
from server.errors import NotFound
from server.events.schemas import EventFilters
from server.feeds import queries as q
from server.feeds import texts
from server.feeds.cache import FeedCache, Known
from server.feeds.events import occurrence_feed_event, series_feed_events
from server.feeds.ical import build_calendar
from server.feeds.items import FeedEvent
from server.i18n import localise
from server.registrations.manage import registration_for_token
from server.registrations.tokens import join_url
from server.settings import Settings

# The window every feed covers: events that ended in the last FEED_PAST, and those to come within
# FEED_FUTURE (events are at most two years ahead, see events.recurrence.MAX_SERIES_SPAN). Counted in
# whole days, so that a feed's rows and version change at most once a day with the clock.
FEED_PAST = timedelta(days=90)
FEED_FUTURE = timedelta(days=2 * 366)
# Part of every ETag: bump it when the same rows are written differently (builder, texts, links).
FORMAT = "1"
# versions recorded in feed_versions and not renewed for this long are dropped
FORGET_AFTER = timedelta(days=90)

FeedKind = Literal["public", "event", "personal"]


class Feed(msgspec.Struct, frozen=True, kw_only=True):
    """One feed as asked for: its rows' queries, its language, its names, how it may be kept."""

    key: str  # the feed and its language; no personal data (feed_versions keeps it)
    kind: FeedKind
    slug: str = ""  # the event feed's slug
    organisation: str | None = None  # an organisation's feed: its slug
    lang: str
    args: tuple[Any, ...]  # the parameters of both its version and its items query
    name: str | None  # None: the event's own title
    description: str
    day: date
    record: bool  # feed_versions keeps its version (and Last-Modified): only bounded sets of keys
    share_body: bool  # and its body, for the other processes
    trust_memo: bool  # a remembered version may be trusted until a change notice


def window(day: date) -> tuple[datetime, datetime]:
    """[start, end) of the feeds on this day: midnight UTC, FEED_PAST back and FEED_FUTURE ahead."""
    midnight = datetime.combine(day, day_start(), UTC)
    return midnight - FEED_PAST, midnight + FEED_FUTURE


def today() -> date:
    return datetime.now(UTC).date()


def _key(*parts: object) -> str:
    return msgspec.json.encode(parts).decode()


def public_feed(filters: EventFilters, lang: str, settings: Settings) -> Feed:
    """Every published event matching the filters (those of /api/events), or one organisation's."""
    day = today()
    start, end = window(day)
    # from and to narrow the window, never widen it
    start = max(start, filters.from_) if filters.from_ else start
    end = min(end, filters.to) if filters.to else end
    free = filters.q is not None or filters.from_ is not None or filters.to is not None
    return Feed(
        key=_key(
            "public",
            settings.base,
            lang,
            filters.kind,
            filters.spoken,
            filters.commune,
            filters.organisation,
            filters.q,
            filters.from_ and filters.from_.isoformat(),
            filters.to and filters.to.isoformat(),
        ),
        kind="public",
        lang=lang,
        day=day,
        args=(start, end, filters.kind, filters.spoken, filters.commune, filters.organisation, filters.q),
        name=texts.ALL_EVENTS_NAME[lang],
        description=texts.ALL_EVENTS_DESCRIPTION[lang],
        # free text and instants make endless keys: such feeds are remembered by each process only
        record=not free,
        share_body=not free,
        trust_memo=True,
    )


def commune_feed(commune: str, lang: str, settings: Settings) -> Feed:
    """The published events held in a commune or aimed at it (the public feed's commune filter)."""
    feed = public_feed(EventFilters(commune=commune), lang, settings)
    return msgspec.structs.replace(feed, key=_key("commune", settings.base, lang, commune))


def organisation_feed(slug: str, lang: str, settings: Settings) -> Feed:
    """One organisation's published events; 404 (when read) for an unknown organisation."""
    feed = public_feed(EventFilters(organisation=slug), lang, settings)
    # its name is read with the version, so that a renamed organisation renames its feed
    return msgspec.structs.replace(
        feed, key=_key("organisation", settings.base, lang, slug), organisation=slug, name=None, description=""
    )


def event_feed(slug: str, lang: str, settings: Settings) -> Feed:
    """One event's feed: the event, one date of a series, or with a series' slug the whole series."""
    return Feed(
        key=_key("event", settings.base, lang, slug),
        kind="event",
        slug=slug,
        lang=lang,
        day=today(),
        args=(slug,),
        name=None,
        description="",
        record=True,
        share_body=True,
        trust_memo=True,
    )


async def personal_feed(conn: asyncpg.Connection, token: str, lang: str | None, settings: Settings) -> Feed:
    """The token holder's confirmed events (same email as the token's registration); 404 for an unknown token."""
    registration = await registration_for_token(conn, token)
    if registration["email"] is None:  # anonymised: its token is gone too, but never show anything
        raise NotFound("This link is not valid (any more).")
    lang = lang or registration["language"]
    day = today()
    start, end = window(day)
    return Feed(
        # the registration's id, not the address: feed_versions keeps no personal data
        key=_key("personal", settings.base, lang, registration["id"]),
        kind="personal",
        lang=lang,
        day=day,
        args=(registration["email"], start, end),
        name=texts.PERSONAL_NAME[lang],
        description=texts.PERSONAL_DESCRIPTION[lang],
        # registrations send no change notice, and a person's events stay out of shared storage
        record=True,
        share_body=False,
        trust_memo=False,
    )


# ---------------------------------------------------------------------------- versions and builds

Connect = Callable[[], contextlib.AbstractAsyncContextManager[asyncpg.Connection]]


def connector(state: State) -> Connect:
    """Connections on demand: a poll answered from memory takes none from the pool."""
    return lambda: contextlib.asynccontextmanager(provide_connection)(state)


def feed_cache(state: State) -> FeedCache:
    """This app's cache (see server/feeds/cache.py); one without a listener trusts nothing."""
    cache = state.get("feed_cache")
    if cache is None:
        cache = state.feed_cache = FeedCache()
    return cache


async def current(
    cache: FeedCache, feed: Feed, connect: Connect, settings: Settings, *, needs_body: Callable[[Known], bool]
) -> Known:
    """The feed's version, ETag and Last-Modified, and its body when `needs_body` says the client lacks it."""
    known = cache.trusted(feed.key, feed.day) if feed.trust_memo else None
    if known is not None and (known.body is not None or not needs_body(known)):
        return known
    async with cache.lock(feed.key):
        # another request of this process may have done it while this one waited
        known = cache.trusted(feed.key, feed.day) if feed.trust_memo else None
        if known is not None and (known.body is not None or not needs_body(known)):
            return known
        generation = cache.generation  # before reading: a notice from now on makes this read stale
        async with connect() as conn:
            feed = await _named(conn, feed)
            known = await _read_version(conn, cache, feed, settings, generation)
            if known.body is None and needs_body(known):
                known = known._replace(body=await build(conn, feed, settings))
        cache.remember(feed.key, known)
        return known


async def _named(conn: asyncpg.Connection, feed: Feed) -> Feed:
    """An organisation's feed with the organisation's name as it is now; 404 for an unknown one."""
    if feed.organisation is None:
        return feed
    name = await conn.fetchval(q.ORGANISATION_NAME, feed.organisation)
    if name is None:
        raise NotFound(f"No organisation '{feed.organisation}'.")
    return msgspec.structs.replace(
        feed,
        name=texts.ORGANISATION_NAME[feed.lang].format(name=name),
        description=texts.ORGANISATION_DESCRIPTION[feed.lang].format(name=name),
    )


async def _read_version(
    conn: asyncpg.Connection, cache: FeedCache, feed: Feed, settings: Settings, generation: int
) -> Known:
    """The version from the database; Last-Modified and body from this process, feed_versions or a build."""
    version_query = {
        "public": q.PUBLIC_FEED_VERSION,
        "event": q.EVENT_FEED_VERSION,
        "personal": q.PERSONAL_FEED_VERSION,
    }[feed.kind]
    row = await conn.fetchrow(version_query, *feed.args)
    if feed.kind == "event" and row["size"] == 0:
        raise NotFound(f"No published event '{feed.slug}'.")
    # the feed's own name is part of it (an organisation's feed is named after it, see _named)
    version = f"{row['version']}|{feed.name}"
    etag = _etag(feed, version)
    fresh = dict(generation=generation, checked_at=time.monotonic(), day=feed.day)
    old = cache.get(feed.key)
    if old is not None and old.version == version and (old.body is not None or not feed.share_body):
        return old._replace(**fresh)
    # an empty feed of free filters is not worth a row; a recorded feed is, even empty
    if not feed.record:
        return Known(version=version, etag=etag, last_modified=None, body=None, **fresh)
    recorded = await conn.fetchrow(q.RECORDED_VERSION, feed.key)
    if recorded is not None and recorded["version"] == version:
        return Known(
            version=version, etag=etag, last_modified=recorded["last_modified"], body=recorded["body"], **fresh
        )
    # a version nobody recorded yet: build it once, for every process (public feeds)
    body = await build(conn, feed, settings)
    last_modified = await conn.fetchval(q.RECORD_VERSION, feed.key, version, body if feed.share_body else None)
    if last_modified is None:  # another process recorded it meanwhile
        recorded = await conn.fetchrow(q.RECORDED_VERSION, feed.key)
        last_modified = recorded["last_modified"] if recorded is not None else None
    if random.random() < 1 / 64:  # now and then, by whoever records
        await conn.execute(q.FORGET_OLD_VERSIONS, FORGET_AFTER)
    return Known(version=version, etag=etag, last_modified=last_modified, body=body, **fresh)


def _etag(feed: Feed, version: str) -> str:
    """A strong ETag: equal versions of one feed are equal bytes (the build is deterministic)."""
    digest = hashlib.sha256(f"{FORMAT}|{feed.key}|{version}".encode()).digest()
    return '"' + base64.urlsafe_b64encode(digest[:18]).decode() + '"'


async def build(conn: asyncpg.Connection, feed: Feed, settings: Settings) -> bytes:
    """The feed's bytes, from its rows as they are now."""
    items_query = {"public": q.PUBLIC_FEED_ITEMS, "event": q.EVENT_FEED_ITEMS, "personal": q.PERSONAL_FEED_ITEMS}[
        feed.kind
    ]
    rows = await conn.fetch(items_query, *feed.args)
    # the build is pure computation: off the event loop, so that polls of other feeds go on
    return await asyncio.to_thread(render, feed, rows, settings)


def render(feed: Feed, rows: list[asyncpg.Record], settings: Settings) -> bytes:
    """The VCALENDAR of these rows."""
    name, description = feed.name, feed.description
    if feed.kind == "personal":
        # each item carries the person's own join link (/j/), never the conference's
        items = [
            occurrence_feed_event(
                row,
                feed.lang,
                settings,
                with_join_url=row["status"] == "published" and row["registration_nonce"] is not None,
                join_url=row["registration_nonce"]
                and join_url(
                    settings.base, settings.secret_key, row["registration_id"], bytes(row["registration_nonce"])
                ),
            )
            for row in rows
        ]
    elif feed.kind == "event" and rows and rows[0]["slug"] == feed.slug:
        # one date of a series is that date alone, with the UID its invitation mail carries
        items = [occurrence_feed_event(rows[0], feed.lang, settings)]
    else:
        items = feed_items(rows, feed.lang, settings)
    if name is None:
        name = localise(rows[0]["title"], feed.lang, list(rows[0]["languages"]))[0] if rows else ""
    return build_calendar(items, name=name, description=description, lang=feed.lang)


def feed_items(rows: list[Any], lang: str, settings: Settings) -> list[FeedEvent]:
    """Single events as they are, each series as one item with its overrides, in order of first start."""
    series: dict[int, list[Any]] = {}
    ordered: list[Any] = []
    for row in rows:
        if row["series_id"] is None:
            ordered.append(row)
        elif row["series_id"] not in series:
            series[row["series_id"]] = [row]
            ordered.append(row["series_id"])
        else:
            series[row["series_id"]].append(row)
    items: list[FeedEvent] = []
    for entry in ordered:
        if isinstance(entry, int):
            group = series[entry]
            items += series_feed_events(group[0]["rrule"], entry, group, lang, settings)
        else:
            items.append(occurrence_feed_event(entry, lang, settings))
    return items
