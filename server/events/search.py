"""How the public list finds the events of a search: through the word index, or by reading the list in order.

Both ways give the same page; which is faster depends on how many events hold the words. The word
index yields every event that matches, which then has to be ordered: right for a rare word, and
slow for a common one ("table" is in most events: 270 ms on 100,000 events). Reading the list in
order and checking each event's words (kept with it, migration 0013) costs a fixed price per event
read, a few times that of a match from the index, and stops as soon as the page is full: right for
a common word. PostgreSQL cannot tell them apart for prefix searches (it read the list in order for
a rare word, 1.4 s), so the choice is made here, from the frequencies of the commonest words that
ANALYZE keeps for the column (pg_stats, read again every few minutes).
"""

from __future__ import annotations

import math
import re
import time

import asyncpg

# the commonest words of the index with the share of events holding each, and the events counted
WORD_STATS = """
SELECT coalesce(s.most_common_elems::text::text[], '{}') AS words,
       coalesce(s.most_common_elem_freqs, '{}') AS shares,
       (SELECT greatest(reltuples, 0) FROM pg_class WHERE oid = 'events'::regclass) AS events
FROM (SELECT 1) one
LEFT JOIN pg_stats s ON s.schemaname = current_schema() AND s.tablename = 'events' AND s.attname = 'search_words'
"""

STATS_TTL = 300.0  # seconds a process keeps the statistics it read
# the cost of reading one event of the list in order and checking its words, in matches from the
# index (measured on the big database of `make soak`: about 5.5 µs against 1.3 to 4.4 µs)
IN_ORDER_COST = 3.0
# events read in order at most (about 8 ms), and how many more than expected: a search that finds
# too few among them asks the index after all (events/service.py)
READ_MARGIN, MOST_READ = 3, 1500


class WordStats:
    """The index's commonest words and their shares, as ANALYZE last measured them."""

    def __init__(self, shares: dict[str, float], least: float, events: float):
        self.shares, self.least, self.events = shares, least, events

    def share(self, typed: str) -> float:
        """The estimated share of events holding every word typed (each as the start of a word)."""
        words = re.findall(r"\w+", typed.lower())
        if not words:
            return 0.0
        # a word no common one begins with is rarer than the rarest of them
        return min(min(1.0, sum(s for word, s in self.shares.items() if word.startswith(typed_word)))
                   or self.least / 2 for typed_word in words)

    def events_to_read(self, typed: str, rows: int) -> int | None:
        """How many coming events to read in order to find `rows` matches; None when the index costs less."""
        share = self.share(typed)
        if share <= 0:
            return None
        expected = rows / share
        if expected * IN_ORDER_COST >= share * self.events or expected * READ_MARGIN > MOST_READ:
            return None
        # read a margin more: the words may be rarer among the coming events than overall
        return math.ceil(expected * READ_MARGIN)


_cached: tuple[float, WordStats] | None = None


async def word_stats(conn: asyncpg.Connection) -> WordStats:
    """This process's copy of the word statistics, read again after STATS_TTL."""
    global _cached
    now = time.monotonic()
    if _cached is None or now - _cached[0] > STATS_TTL:
        row = await conn.fetchrow(WORD_STATS)
        # most_common_elem_freqs ends with the least and greatest share and the share of NULLs
        shares = dict(zip(row["words"], row["shares"]))
        least = row["shares"][len(row["words"])] if len(row["shares"]) > len(row["words"]) else 0.0
        _cached = (now, WordStats(shares, least, float(row["events"] or 0)))
    return _cached[1]


def forget_word_stats() -> None:
    """Read the statistics again at the next search (tests, after an ANALYZE)."""
    global _cached
    _cached = None
