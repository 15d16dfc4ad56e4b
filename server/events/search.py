"""How the public list finds the events of a search: through the word index, or by reading the list in order.

Both ways give the same page; which is faster depends on how many events hold the words. The word
index yields every event that matches, which then has to be ordered: right for a rare word, and
slow for a common one ("table" is in most events: 270 ms on 100,000 events). Reading the list in
order and checking each event's words (kept with it, migration 0013) costs a fixed price per event
read, a few times that of a match from the index, and stops as soon as the page is full: right for
a common word. PostgreSQL cannot tell them apart for prefix searches (it read the list in order for
a rare word, 1.4 s), so the choice is made here, from the frequencies of the commonest words that
ANALYZE keeps for the column, and the shares of the filters' values (pg_stats, read again every few
minutes). Filters may exclude a word that the statistics of no single column show excluded (no
event in Portuguese says "vivre"): then the index's matches are counted first, when that costs less
than the reading it may spare (events/service.py).
"""

from __future__ import annotations

import math
import re
import time
from collections.abc import Mapping

import asyncpg

# what ANALYZE keeps of the columns a search asks (pg_stats), and the events counted: for the words
# and the spoken languages the commonest elements of their arrays, for the others the commonest values
COLUMN_STATS = """
SELECT s.attname AS name, s.null_frac, s.n_distinct,
       coalesce(s.most_common_vals::text::text[], '{}') AS vals, coalesce(s.most_common_freqs, '{}') AS freqs,
       coalesce(s.most_common_elems::text::text[], '{}') AS elems, coalesce(s.most_common_elem_freqs, '{}') AS elem_freqs
FROM pg_stats s
WHERE s.schemaname = current_schema() AND s.tablename = 'events'
  AND s.attname IN ('search_words', 'kind', 'languages', 'commune', 'organisation_id')
"""
EVENTS_COUNTED = "SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'events'::regclass"
ORGANISATION_IDS = "SELECT id::text, slug FROM organisations"

STATS_TTL = 300.0  # seconds a process keeps the statistics it read
# What reading one event of the list in order and checking its words costs, in matches from the
# index. Measured on the big database of `make soak`: 3.7 µs an event read in order, 2.8 µs a
# match (q=vivre with spoken=pt, and with kind=webconference), and the index's plan about 1.5 ms
# more (planned for the word, in a transaction of its own). Counted high on purpose: a search
# read in order that finds too few pays for the index after it.
IN_ORDER_COST = 3.0
# events read in order at most (about 8 ms), and how many more than expected: a search that finds
# too few among them asks the index after all (events/service.py)
READ_MARGIN, MOST_READ = 3, 1500
# What one match costs in the bitmap of the index's count (queries.search_matches), in matches of
# the index's page: 0.35 µs (1.6 ms for the 4,546 events of "vivre" among the web conferences)
# against 2.8 µs.
BITMAP_COST = 0.125
# The events read in order are one of these counts (rounded up, at most 41 % more), each written
# into its statement as a constant (queries.public_event_page). Given as a parameter, the count made
# PostgreSQL price the generic plan for a tenth of the list, and on the big database it planned
# every search again (1.2 ms a statement, 0.7 with the constant).
READ_STEPS = tuple(sorted({min(round(16 * 2 ** (k / 2)), MOST_READ) for k in range(15)}))


class Shares:
    """A column's commonest values with the share of events holding each, and the share of any other."""

    def __init__(self, shares: dict[str, float], other: float):
        self.shares, self.other = shares, other

    def share(self, value: object) -> float:
        return self.shares.get(str(value), self.other)

    @classmethod
    def of_values(cls, row: asyncpg.Record, events: float, names: dict[str, str] | None = None) -> Shares:
        """From a scalar column's statistics; `names` renames its values (organisation ids to slugs)."""
        shares = {(names or {}).get(v, v): f for v, f in zip(row["vals"], row["freqs"])}
        distinct = row["n_distinct"] if row["n_distinct"] > 0 else -row["n_distinct"] * events
        rest = max(1.0 - sum(shares.values()) - row["null_frac"], 0.0)
        others = distinct - len(shares)
        # a value the commonest do not hold is rarer than the rarest of them
        fallback = min(shares.values(), default=1.0) / 2
        return cls(shares, min(rest / others, fallback) if others >= 1 and rest > 0 else fallback)

    @classmethod
    def of_elements(cls, row: asyncpg.Record) -> Shares:
        """From an array column's statistics: the share of events whose array holds each element."""
        shares, least = elements(row)
        return cls(shares, least / 2)


def elements(row: asyncpg.Record) -> tuple[dict[str, float], float]:
    """An array column's commonest elements with the share of events holding each, and the least of those shares."""
    shares = dict(zip(row["elems"], row["elem_freqs"]))
    # most_common_elem_freqs ends with the least and greatest share and the share of NULLs
    return shares, row["elem_freqs"][len(shares)] if len(row["elem_freqs"]) > len(shares) else 0.0


# the search's filters (EventFilters fields) by the column whose statistics tell their share
FILTER_COLUMNS = {"kind": "kind", "spoken": "languages", "commune": "commune", "organisation": "organisation_id"}


class WordStats:
    """The index's commonest words and their shares, and the filters' columns, as ANALYZE last measured them."""

    def __init__(self, shares: dict[str, float], least: float, events: float, columns: dict[str, Shares] | None = None):
        self.shares, self.least, self.events = shares, least, events
        self.columns = columns or {}

    def share(self, typed: str) -> float:
        """The estimated share of events holding every word typed (each as the start of a word)."""
        words = re.findall(r"\w+", typed.lower())
        if not words:
            return 0.0
        # a word no common one begins with is rarer than the rarest of them
        return min(min(1.0, sum(s for word, s in self.shares.items() if word.startswith(typed_word)))
                   or self.least / 2 for typed_word in words)

    def filters_share(self, filters: Mapping[str, object]) -> float:
        """The estimated share of events passing these filters, each taken as independent of the others."""
        share = 1.0
        for name, value in filters.items():
            if (column := FILTER_COLUMNS.get(name)) in self.columns:
                share *= self.columns[column].share(value)
        return share

    def _expected(self, typed: str, rows: int, filters: Mapping[str, object]) -> tuple[float, float, float]:
        """(share of the words, events passing the filters read in order to find `rows`, the index's matches)."""
        share = self.share(typed)
        if share <= 0:
            return share, math.inf, 0.0
        # as if the words were as common among the events passing the filters as among all
        return share, rows / share, share * self.filters_share(filters) * self.events

    def events_to_read(self, typed: str, rows: int, filters: Mapping[str, object] | None = None) -> int | None:
        """How many coming events passing `filters` to read in order to find `rows` matches; None when the index costs less."""
        share, expected, matches = self._expected(typed, rows, filters or {})
        if share <= 0:
            return None
        if expected * IN_ORDER_COST >= share * self.events or expected * READ_MARGIN > MOST_READ:
            return None
        # Read a margin more, since the words may be rarer among the coming events than overall,
        # but no more than what the index would have cost: with filters they may be rarer still,
        # or absent (q=vivre&spoken=pt), which no statistic of a single column shows. The index
        # then costs what it would have, and this reading a part of that; if they are commoner
        # among the filtered events instead (q=vivre&kind=webconference: all of them), the index
        # would have read every match (4,546, 13 ms) where this reads 80 (0.7 ms).
        reads = min(math.ceil(expected * READ_MARGIN), math.ceil(matches / IN_ORDER_COST))
        return next(step for step in READ_STEPS if step >= reads) if reads >= rows else None

    def count_first(self, typed: str, rows: int, filters: Mapping[str, object]) -> bool:
        """Whether to count the index's matches before reading the list in order (events/service.py).

        With filters, a word may be rare or absent among the events they pass, which no statistic
        of a single column shows; reading in order then finds too few, and the index is asked
        after all. Counting first is right when its bitmap costs less than the reading it may
        spare: not for a common word (q=table among the web conferences: 11,900 matches expected,
        35 events to read), but for a word of a few per cent (q=vivre&spoken=pt: 800, and 420).
        """
        _, expected, matches = self._expected(typed, rows, filters)
        return bool(filters) and matches * BITMAP_COST < expected * IN_ORDER_COST


_cached: tuple[float, WordStats] | None = None


async def word_stats(conn: asyncpg.Connection) -> WordStats:
    """This process's copy of the search's statistics, read again after STATS_TTL."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > STATS_TTL:
        rows = {row["name"]: row for row in await conn.fetch(COLUMN_STATS)}
        events = float(await conn.fetchval(EVENTS_COUNTED) or 0)
        organisations = dict(await conn.fetch(ORGANISATION_IDS))
        columns = {name: Shares.of_elements(rows[name]) if name == "languages"
                   else Shares.of_values(rows[name], events, organisations if name == "organisation_id" else None)
                   for name in FILTER_COLUMNS.values() if name in rows}
        shares, least = elements(rows["search_words"]) if "search_words" in rows else ({}, 0.0)
        _cached = (now, WordStats(shares, least, events, columns))
    return _cached[1]


def forget_word_stats() -> None:
    """Read the statistics again at the next search (tests, after an ANALYZE)."""
    global _cached
    _cached = None
