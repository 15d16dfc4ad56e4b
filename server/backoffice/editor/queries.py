"""SQL of the event editor."""

# the first occurrence of a series (a copy of the series starts from it)
FIRST_OF_SERIES = "SELECT slug FROM events WHERE series_id = $1 ORDER BY starts_at, id LIMIT 1"

# the communes an event is aimed at
AIMED_AT = "SELECT commune FROM event_communes WHERE event_id = $1 ORDER BY commune"

# an occurrence of series $1 and every later one ($2 its start) that can still change, in order
FOLLOWING_OF_SERIES = """
SELECT slug, starts_at, ends_at FROM events
WHERE series_id = $1 AND starts_at >= $2 AND status <> 'cancelled'
ORDER BY starts_at, id
"""
