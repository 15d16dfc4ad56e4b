"""SQL of the event editor."""

# a series' rule and dates left out, and the starts of its occurrences
SERIES_OF_EVENT = """
SELECT s.slug, s.rrule, s.exdates, array_agg(e.starts_at ORDER BY e.starts_at) AS starts
FROM series s JOIN events e ON e.series_id = s.id
WHERE s.id = $1
GROUP BY s.id
"""

# the first occurrence of a series (a copy of the series starts from it)
FIRST_OF_SERIES = "SELECT slug FROM events WHERE series_id = $1 ORDER BY starts_at, id LIMIT 1"

# the communes an event is aimed at
AIMED_AT = "SELECT commune FROM event_communes WHERE event_id = $1 ORDER BY commune"
