"""The big database of bench_bigdata: events, series, registrations and sent mail made in SQL.

Everything is generated inside PostgreSQL with generate_series (no HTTP, no row-by-row Python), so
100,000 events and 1,000,000 registrations load in minutes. The shape follows the agency's: weekly
conversation-table series, web conferences and information sessions of a dozen organisations over
four past and two coming years; a few events far bigger than the rest; full events with waiting
lists; whole-series requests; registrations of events that ended long ago anonymised, as the
privacy job leaves them. The same code at a hundredth of the size gives the small database.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable

import asyncpg
import msgspec

from server.registrations.tokens import new_token

ORGANISATIONS = [
    ("asti", "ASTI"),
    ("clae", "CLAE"),
    ("cefis", "CEFIS"),
    ("caritas", "Caritas Luxembourg"),
    ("croix-rouge", "Croix-Rouge luxembourgeoise"),
    ("liser", "LISER"),
    ("ville-esch", "Ville d'Esch-sur-Alzette"),
    ("ville-luxembourg", "Ville de Luxembourg"),
    ("differdange", "Commune de Differdange"),
    ("amicale-cap-vert", "Amicale Cap-Vert"),
    ("maison-ukraine", "Maison de l'Ukraine"),
    ("lecture-lu", "Lëtzebuerger Liesclub"),
]

# titles by kind; the last info-session title is rare on purpose (the `q` filter looks for it)
TITLES = {
    "webconference": [
        {
            "fr": "Vivre ensemble au Luxembourg",
            "de": "Zusammenleben in Luxemburg",
            "lb": "Zesummeliewen zu Lëtzebuerg",
            "en": "Living together in Luxembourg",
            "pt": "Viver juntos no Luxemburgo",
        },
        {
            "fr": "Le bénévolat : comment s'engager",
            "de": "Ehrenamt: wie man sich engagiert",
            "lb": "Benevolat: wéi een sech engagéiert",
            "en": "Volunteering: how to get involved",
            "pt": "O voluntariado: como participar",
        },
        {
            "fr": "La protection internationale expliquée",
            "de": "Internationaler Schutz erklärt",
            "lb": "Den internationale Schutz erkläert",
            "en": "International protection explained",
            "pt": "A proteção internacional explicada",
        },
        {
            "fr": "Les Portugais de « seconde génération » au Luxembourg",
            "de": "Portugiesen der „zweiten Generation“ in Luxemburg",
            "lb": "Portugisen vun der „zweeter Generatioun“ zu Lëtzebuerg",
            "en": "“Second-generation” Portuguese in Luxembourg",
            "pt": "Os portugueses de «segunda geração» no Luxemburgo",
        },
    ],
    "info_session": [
        {
            "fr": "Accueillir des demandeurs de protection internationale",
            "de": "Antragsteller auf internationalen Schutz aufnehmen",
            "lb": "Demandeure vun internationalem Schutz ophuelen",
            "en": "Welcoming applicants for international protection",
            "pt": "Acolher requerentes de proteção internacional",
        },
        {
            "fr": "S'engager comme bénévole dans sa commune",
            "de": "Sich in der eigenen Gemeinde ehrenamtlich engagieren",
            "lb": "Sech als Benevole a senger Gemeng engagéieren",
            "en": "Volunteering in your commune",
            "pt": "Ser voluntário no seu município",
        },
        {
            "fr": "Le plan communal d'intégration",
            "de": "Der kommunale Integrationsplan",
            "lb": "De kommunalen Integratiounsplang",
            "en": "The communal integration plan",
            "pt": "O plano comunal de integração",
        },
        {
            "fr": "Nopeschfest : préparer la fête des voisins",
            "de": "Nopeschfest: das Nachbarschaftsfest vorbereiten",
            "lb": "Nopeschfest: d'Noperschaftsfest virbereeden",
            "en": "Nopeschfest: preparing the neighbours' party",
            "pt": "Nopeschfest: preparar a festa dos vizinhos",
        },
    ],
    "conversation_table": [
        {
            "fr": "Table de conversation en luxembourgeois",
            "de": "Luxemburgische Gesprächsrunde",
            "lb": "Konversatiounsdësch op Lëtzebuergesch",
            "en": "Luxembourgish conversation table",
            "pt": "Mesa de conversação em luxemburguês",
        },
        {
            "fr": "Table de conversation en français",
            "de": "Französische Gesprächsrunde",
            "lb": "Konversatiounsdësch op Franséisch",
            "en": "French conversation table",
            "pt": "Mesa de conversação em francês",
        },
    ],
}
RARE_WORD = "Nopeschfest"

SUMMARY = {
    "fr": "Une heure et demie d'échanges avec les associations partenaires, ouverte à toutes et à tous, "
    "sans connaissances préalables. Inscription gratuite, places limitées.",
    "de": "Anderthalb Stunden Austausch mit den Partnervereinen, offen für alle, ohne Vorkenntnisse. "
    "Die Anmeldung ist kostenlos, die Plätze sind begrenzt.",
    "lb": "Annerhallwer Stonn Austausch mat de Partnerassociatiounen, op fir jiddereen, ouni Virkenntnisser. "
    "D'Umeldung ass gratis, d'Plaze si limitéiert.",
    "en": "An hour and a half of exchange with the partner associations, open to everyone, no prior knowledge "
    "needed. Registration is free, places are limited.",
    "pt": "Uma hora e meia de troca com as associações parceiras, aberta a todos, sem conhecimentos prévios. "
    "A inscrição é gratuita, os lugares são limitados.",
}
DESCRIPTION = {
    "fr": (
        "Après une courte présentation, la parole est aux participants : questions, expériences, idées pour la "
        "commune. Les intervenants répondent en français ; une interprétation en portugais ou en anglais est "
        "possible sur demande lors de l'inscription. "
    )
    * 3,
    "de": (
        "Nach einer kurzen Einführung haben die Teilnehmenden das Wort: Fragen, Erfahrungen, Ideen für die "
        "Gemeinde. Die Referenten antworten auf Französisch; eine Verdolmetschung ins Portugiesische oder "
        "Englische ist auf Anfrage bei der Anmeldung möglich. "
    )
    * 3,
}
LANGUAGE_SETS = ["{fr}", "{fr,de}", "{lb,fr}", "{pt,fr}", "{en,fr}", "{de,lb}"]  # text[] literals
PEOPLE_LANGUAGES = ["fr", "de", "lb", "en", "pt"]


class Scale(msgspec.Struct, frozen=True, kw_only=True):
    """How big a database to make; `factor` divides every count of the big one."""

    events: int
    registrations: int
    series: int  # weekly series; each has OCCURRENCES rows among `events`
    big_event: int  # registrations of the one very big event (full, with a long waiting list)
    big_capacity: int
    popular: int  # events of unlimited capacity with `popular_each` registrations each
    popular_each: int
    sample_tokens: int  # registrations given a real manage token (the manage view is measured on them)

    @classmethod
    def of(cls, factor: int) -> Scale:
        """The big database (factor 1) or one `factor` times smaller."""
        return cls(
            events=100_000 // factor,
            registrations=1_000_000 // factor,
            series=max(1, 2_000 // factor),
            big_event=20_000 // factor,
            big_capacity=15_000 // factor,
            popular=max(1, 100 // factor),
            popular_each=2_000 // factor,
            sample_tokens=1_000,
        )


OCCURRENCES = 20
PAST_DAYS, SPAN_DAYS = 4 * 365, 6 * 365  # events from four years ago to two years ahead

INSERT_ORGANISATIONS = "INSERT INTO organisations (slug, name) SELECT * FROM unnest($1::text[], $2::text[])"

# $1 series, each weekly for $2 dates
INSERT_SERIES = """
INSERT INTO series (slug, rrule, created_at)
SELECT 'table-' || s, 'FREQ=WEEKLY;COUNT=' || $2::int, now() - interval '2 days' FROM generate_series(1, $1) s
"""

# $1 events, of which the first $2 * $3 are the dates of $2 series of $3 weekly dates; $4 title
# lists by kind (jsonb), $5 summary, $6 description, $7 language sets, $8 past days, $9 span in days.
# Singles spread over the span by a multiplicative hash of their number, so start order is not id order.
INSERT_EVENTS = """
WITH arg AS (
    SELECT $1::int AS events, $2::int AS series, $3::int AS dates, $4::jsonb AS titles, $5::jsonb AS summary,
           $6::jsonb AS description, $7::text[] AS language_sets, $8::int AS past_days, $9::int AS span
), org AS (SELECT array_agg(id ORDER BY id) AS ids FROM organisations),
commune AS (SELECT array_agg(name ORDER BY name) AS names FROM communes),
ser AS (SELECT array_agg(id ORDER BY id) AS ids FROM series),
numbered AS (
    SELECT g, g <= series * dates AS in_series, (g - 1) / dates + 1 AS s, (g - 1) % dates AS k, arg.*
    FROM arg, generate_series(1, arg.events) g
), shaped AS (
    SELECT n.*,
           CASE WHEN in_series THEN 'conversation_table'
                ELSE (ARRAY['webconference', 'info_session', 'conversation_table'])[1 + g % 3] END AS kind,
           CASE WHEN in_series THEN (s * 104729) % (span - 7 * dates) + 7 * k ELSE (g * 7919) % span END AS day,
           CASE WHEN in_series THEN s ELSE g END AS pick
    FROM numbered n
), timed AS (
    SELECT sh.*,
           (current_date - past_days + day) + CASE kind WHEN 'webconference' THEN time '12:15'
                                                      WHEN 'info_session' THEN time '18:30'
                                                      ELSE time '18:00' END AS local_start
    FROM shaped sh
), placed AS (
    SELECT t.*, t.local_start AT TIME ZONE 'Europe/Luxembourg' AS starts_at,
           (t.local_start + CASE kind WHEN 'info_session' THEN interval '2 hours' ELSE interval '90 minutes' END)
               AT TIME ZONE 'Europe/Luxembourg' AS ends_at,
           CASE WHEN in_series AND s % 33 = 0 THEN 'draft'
                WHEN in_series AND s % 10 = 0 AND k = 5 THEN 'cancelled'
                WHEN NOT in_series AND g % 33 = 0 THEN 'draft'
                WHEN NOT in_series AND g % 25 = 0 THEN 'cancelled'
                ELSE 'published' END AS status,
           titles -> kind -> (CASE WHEN kind = 'info_session' AND g % 200 = 7 THEN 3
                                      WHEN kind = 'info_session' THEN pick % 3
                                      ELSE pick % jsonb_array_length(titles -> kind) END)::int AS title
    FROM timed t
)
INSERT INTO events (
    slug, organisation_id, kind, status, title, summary, description, languages, starts_at, ends_at,
    capacity, confirmation_required, join_url, platform, venue, online, commune, practised_language, level,
    topics, series_id, recurrence_id, created_at, updated_at, published_at, cancelled_at)
SELECT
    CASE WHEN in_series THEN 'table-' || s || '-' || to_char(local_start, 'YYYY-MM-DD') ELSE 'event-' || g END,
    org.ids[1 + pick % cardinality(org.ids)], kind, status, title, summary, description,
    language_sets[1 + pick % cardinality(language_sets)]::text[],
    starts_at, ends_at,
    CASE WHEN in_series THEN 12
         WHEN kind = 'webconference' THEN (ARRAY[NULL, 100, 250, 500])[1 + (g / 3) % 4]
         WHEN kind = 'info_session' THEN (ARRAY[30, 60, 6])[1 + (g / 3) % 3]
         ELSE 8 END,
    g % 4 <> 0,
    CASE WHEN kind = 'webconference' THEN 'https://meet.example.org/room-' || g END,
    CASE WHEN kind = 'webconference' THEN (ARRAY['Webex', 'Zoom', 'Jitsi'])[1 + g % 3] END,
    CASE WHEN kind = 'info_session' THEN 'Centre culturel, salle ' || (1 + g % 4)
         WHEN kind = 'conversation_table' THEN (1 + pick % 90) || ', rue de Strasbourg' END,
    false,
    CASE WHEN kind = 'info_session' THEN commune.names[1 + g % cardinality(commune.names)] END,
    CASE WHEN kind = 'conversation_table' THEN (ARRAY['lb', 'fr'])[1 + pick % 2] END,
    CASE WHEN kind = 'conversation_table' THEN (ARRAY['A1', 'A2', 'B1', 'all'])[1 + pick % 4] END,
    CASE WHEN kind = 'info_session' THEN ARRAY['intégration', 'bénévolat'] ELSE '{}' END,
    CASE WHEN in_series THEN ser.ids[s] END,
    CASE WHEN in_series THEN starts_at END,
    least(starts_at - interval '60 days', now() - interval '2 days'),
    least(starts_at - interval '60 days', now() - interval '2 days'),
    CASE WHEN status <> 'draft' THEN least(starts_at - interval '59 days', now() - interval '2 days') END,
    CASE WHEN status = 'cancelled' THEN least(starts_at - interval '3 days', now() - interval '1 day') END
FROM placed, org, commune, ser
"""

# the very big event: an upcoming published web conference of capacity $1, renamed for the report
MAKE_BIG_EVENT = """
UPDATE events SET slug = 'big-webconference', capacity = $1, confirmation_required = true
WHERE id = (SELECT id FROM events WHERE series_id IS NULL AND kind = 'webconference' AND status = 'published'
            AND starts_at > now() + interval '14 days' ORDER BY starts_at, id LIMIT 1)
RETURNING id, slug
"""

# $1 popular events: upcoming published singles of unlimited capacity, registration open
MAKE_POPULAR_EVENTS = """
UPDATE events SET capacity = NULL
WHERE id IN (SELECT id FROM events WHERE series_id IS NULL AND status = 'published' AND slug <> 'big-webconference'
             AND starts_at > now() + interval '7 days' ORDER BY id LIMIT $1)
RETURNING id, slug
"""

# who registers where, in order of arrival (n); the statuses follow from the order and the capacity
CREATE_PLAN = """
CREATE TEMP TABLE registration_plan (
    n bigint GENERATED ALWAYS AS IDENTITY, event_id bigint NOT NULL, email text NOT NULL, request_id uuid
) ON COMMIT DROP
"""

# $1 people at event $2, with addresses from a pool of $3 people
PLAN_BIG_EVENT = """
INSERT INTO registration_plan (event_id, email)
SELECT $2, 'person' || (g % $3) || '@example.lu' FROM generate_series(1, $1) g
"""

# $1 people round the events $2 (arrays), addresses from a pool of $3 people offset by $4
PLAN_ROUND = """
INSERT INTO registration_plan (event_id, email)
SELECT ($2::bigint[])[1 + (g - 1) % cardinality($2::bigint[])], 'person' || ((g + $4) % $3) || '@example.lu'
FROM generate_series(1, $1) g
"""

# two people per series take every published date of it in one whole-series request each
PLAN_WHOLE_SERIES = """
INSERT INTO registration_plan (event_id, email, request_id)
SELECT e.id, 'series' || e.series_id || '-' || p || '@example.lu', md5(e.series_id || '/' || p)::uuid
FROM events e CROSS JOIN generate_series(1, 2) p
WHERE e.series_id IS NOT NULL AND e.status = 'published'
ORDER BY e.series_id, p, e.starts_at
"""

# events that get the rest of the registrations: every non-draft one but the big and popular ones
OTHER_EVENT_IDS = "SELECT array_agg(id ORDER BY id) FROM events WHERE status <> 'draft' AND NOT id = ANY($1::bigint[])"

PLANNED = "SELECT count(*) FROM registration_plan"

# The registrations of the plan. Per event, the first `capacity` arrivals hold a seat (pending while
# a hold runs, else confirmed) and later ones wait, or cancelled; an event never goes past its
# capacity and a waiting list exists only at a full event, as the service keeps it. Events of
# unlimited or unreached capacity lose some people to cancellations and expired holds. Past events
# have attendance; those that ended more than 90 days ago are anonymised. Rows are written in
# random order, so one event's registrations are spread over the table as they would be.
INSERT_REGISTRATIONS = """
INSERT INTO registrations (
    event_id, token_nonce, token_hash, name, email, language, status, commune, interpretation, accessibility,
    whole_series, request_id, attendance, source, consent_at, hold_expires_at, waitlisted_at, confirmed_at,
    email_confirmed_at, cancelled_at, anonymised_at, created_at, updated_at)
SELECT r.event_id,
       CASE WHEN NOT r.anonymised THEN uuid_send(gen_random_uuid()) END,
       CASE WHEN NOT r.anonymised THEN sha256(uuid_send(gen_random_uuid())) END,
       CASE WHEN NOT r.anonymised THEN 'Person ' || r.n END,
       CASE WHEN NOT r.anonymised THEN r.email END,
       (ARRAY['fr', 'de', 'lb', 'en', 'pt'])[1 + r.n % 5],
       r.status,
       CASE WHEN r.n % 5 < 3 THEN c.names[1 + r.n % cardinality(c.names)] END,
       CASE WHEN r.n % 23 = 0 THEN 'pt' END,
       CASE WHEN r.n % 41 = 0 AND NOT r.anonymised THEN 'Accès en fauteuil roulant' END,
       r.request_id IS NOT NULL, r.request_id,
       CASE WHEN r.past AND r.status = 'confirmed' THEN
            CASE WHEN r.n % 5 = 0 THEN 'absent' WHEN r.n % 11 = 0 THEN 'excused' ELSE 'present' END END,
       CASE WHEN r.n % 50 = 0 THEN 'organiser' ELSE 'public' END,
       CASE WHEN r.n % 50 <> 0 THEN r.created_at END,
       CASE WHEN r.status = 'pending' THEN least(now() + interval '1 day', r.starts_at) END,
       CASE WHEN r.status = 'waitlisted' THEN r.created_at END,
       CASE WHEN r.status = 'confirmed' THEN r.created_at END,
       CASE WHEN r.status IN ('confirmed', 'cancelled') AND r.n % 50 <> 0 THEN r.created_at END,
       CASE WHEN r.status = 'cancelled' THEN r.created_at + interval '1 hour' END,
       CASE WHEN r.anonymised THEN r.ends_at + interval '90 days' END,
       r.created_at, r.created_at
FROM (
    SELECT p.*, e.starts_at, e.ends_at, e.ends_at < now() AS past, e.ends_at < now() - interval '90 days' AS anonymised,
           least(e.created_at + k * interval '1 minute', e.starts_at - interval '1 hour',
                 now() - interval '1 day') AS created_at,
           CASE
               WHEN e.capacity IS NULL OR total <= e.capacity THEN
                   CASE WHEN k % 10 = 0 THEN 'cancelled'
                        WHEN k % 13 = 0 AND e.starts_at > now() THEN 'expired'
                        WHEN k % 7 = 0 AND e.confirmation_required AND e.starts_at > now() + interval '1 day'
                             THEN 'pending'
                        ELSE 'confirmed' END
               WHEN k <= e.capacity THEN
                   CASE WHEN k % 7 = 0 AND e.confirmation_required AND e.starts_at > now() + interval '1 day'
                        THEN 'pending' ELSE 'confirmed' END
               WHEN k % 4 = 0 THEN 'cancelled'
               ELSE 'waitlisted' END AS status
    FROM (SELECT *, row_number() OVER w AS k, count(*) OVER (PARTITION BY event_id) AS total
          FROM registration_plan WINDOW w AS (PARTITION BY event_id ORDER BY n)) p
    JOIN events e ON e.id = p.event_id
) r, communes_list c
ORDER BY random()
"""

COMMUNES_LIST = (
    "CREATE TEMP TABLE communes_list ON COMMIT DROP AS SELECT array_agg(name ORDER BY name) AS names FROM communes"
)

# the triggers of migration 0024 keep the counters per statement; a bulk load sets them once instead
COUNT_SEATS = """
UPDATE event_seats e SET seats_taken = c.held, waitlist_length = c.waiting
FROM (SELECT event_id, count(*) FILTER (WHERE status IN ('pending', 'confirmed')) AS held,
             count(*) FILTER (WHERE status = 'waitlisted') AS waiting
      FROM registrations GROUP BY event_id) c
WHERE e.event_id = c.event_id
"""

# what the trigger would have refused: more seats held than the capacity
OVERBOOKED = (
    "SELECT count(*) FROM events e JOIN event_seats s ON s.event_id = e.id "
    "WHERE capacity IS NOT NULL AND seats_taken > capacity"
)

# the mail every registration caused, sent long ago (the daily cap and the organiser mail views read it)
INSERT_SENT_MAIL = """
INSERT INTO outbox (kind, event_id, registration_id, recipient, language, status, due_at, attempts, sent_at,
                    last_attempt_at, created_at)
SELECT CASE status WHEN 'waitlisted' THEN 'registration_waitlisted' WHEN 'pending' THEN 'registration_received'
                   ELSE 'registration_confirmed' END,
       event_id, id, email, language, 'sent', created_at, 1, created_at, created_at, created_at
FROM registrations
"""

# live registrations of upcoming published events at random: $1 on their own, $2 of whole-series
# requests, $3 on a waiting list (the manage view reads more for those two)
SAMPLE_LIVE = """
WITH live AS (
    SELECT r.id, r.status, r.request_id IS NOT NULL AS of_series
    FROM registrations r JOIN events e ON e.id = r.event_id
    WHERE r.status IN ('pending', 'confirmed', 'waitlisted') AND e.status = 'published' AND e.starts_at > now()
)
(SELECT id, 'seat' AS kind FROM live WHERE NOT of_series AND status <> 'waitlisted' ORDER BY random() LIMIT $1)
UNION ALL
(SELECT id, 'whole series' FROM live WHERE of_series ORDER BY random() LIMIT $2)
UNION ALL
(SELECT id, 'waitlisted' FROM live WHERE NOT of_series AND status = 'waitlisted' ORDER BY random() LIMIT $3)
"""

# the events whose registrations are all anonymised, marked done as the privacy job marks them
MARK_ANONYMISED_EVENTS = """
UPDATE events e SET registrations_anonymised_at = e.ends_at + interval '90 days'
WHERE e.ends_at < now() - interval '90 days'
  AND NOT EXISTS (SELECT 1 FROM registrations r WHERE r.event_id = e.id AND r.anonymised_at IS NULL)
"""

SET_TOKENS = """
UPDATE registrations r SET token_nonce = t.nonce, token_hash = t.hash
FROM unnest($1::bigint[], $2::bytea[], $3::bytea[]) AS t(id, nonce, hash)
WHERE r.id = t.id
"""


def _prime_at_least(n: int) -> int:
    """A prime pool of people: the round-robin of PLAN_ROUND then never gives one address twice to an event."""
    while any(n % d == 0 for d in range(2, int(n**0.5) + 1)):
        n += 1
    return n


class Loaded(msgspec.Struct, kw_only=True):
    """What the measurements need to know of a loaded database."""

    seconds: float
    phases: dict[str, float]
    events: int
    registrations: int
    outbox: int
    big_event: str
    popular: list[str]
    tokens: list[str]  # manage tokens of sampled live registrations, in random order
    token_of: dict[str, str]  # one token of each kind: "seat", "whole series", "waitlisted"
    size_mb: float


async def load(conn: asyncpg.Connection, scale: Scale, secret_key: str, log: Callable[[str], None] = print) -> Loaded:
    """Fill an empty migrated database at this scale; returns what was made and how long each phase took."""
    phases: dict[str, float] = {}
    started = last = time.perf_counter()

    def phase(name: str) -> None:
        nonlocal last
        now = time.perf_counter()
        phases[name] = round(now - last, 1)
        log(f"    {name}: {now - last:.1f} s")
        last = now

    async with conn.transaction():
        await conn.execute(INSERT_ORGANISATIONS, [s for s, _ in ORGANISATIONS], [n for _, n in ORGANISATIONS])
        await conn.execute(INSERT_SERIES, scale.series, OCCURRENCES)
        await conn.execute(
            INSERT_EVENTS,
            scale.events,
            scale.series,
            OCCURRENCES,
            TITLES,
            SUMMARY,
            DESCRIPTION,
            LANGUAGE_SETS,
            PAST_DAYS,
            SPAN_DAYS,
        )
        big = await conn.fetchrow(MAKE_BIG_EVENT, scale.big_capacity)
        popular = await conn.fetch(MAKE_POPULAR_EVENTS, scale.popular)
    phase(f"{scale.events:,} events")

    people = _prime_at_least(scale.registrations * 3 // 10)
    async with conn.transaction():
        # the window and the shuffle of a million rows sort in memory rather than in temporary files
        await conn.execute("SET LOCAL work_mem = '256MB'")
        await conn.execute(CREATE_PLAN)
        await conn.execute(COMMUNES_LIST)
        await conn.execute(PLAN_BIG_EVENT, scale.big_event, big["id"], people)
        await conn.execute(
            PLAN_ROUND, scale.popular * scale.popular_each, [r["id"] for r in popular], people, scale.big_event
        )
        await conn.execute(PLAN_WHOLE_SERIES)
        others = await conn.fetchval(OTHER_EVENT_IDS, [big["id"], *(r["id"] for r in popular)])
        rest = scale.registrations - await conn.fetchval(PLANNED)
        await conn.execute(PLAN_ROUND, rest, others, people, scale.big_event + scale.popular * scale.popular_each)
        # the seat counters are set once below; the foreign keys and constraints still check every row
        # (the counting triggers of migration 0008 would hold a million-row transition table)
        # (so would the trigger of 0012, which has nothing to undo in a new database)
        for trigger in ("registrations_count_seats_insert", "registrations_reopen_anonymisation"):
            await conn.execute(f"ALTER TABLE registrations DISABLE TRIGGER {trigger}")
        await conn.execute(INSERT_REGISTRATIONS)
        for trigger in ("registrations_count_seats_insert", "registrations_reopen_anonymisation"):
            await conn.execute(f"ALTER TABLE registrations ENABLE TRIGGER {trigger}")
        await conn.execute(COUNT_SEATS)
        await conn.execute(MARK_ANONYMISED_EVENTS)
        if overbooked := await conn.fetchval(OVERBOOKED):
            raise RuntimeError(f"the generated data overbooks {overbooked} events")
    phase(f"{scale.registrations:,} registrations")

    await conn.execute(INSERT_SENT_MAIL)
    phase("their mail")

    # what autovacuum would have done by the time a database is this big: statistics, visibility map
    await conn.execute("VACUUM (ANALYZE) organisations, series, events, event_seats, registrations, outbox")
    phase("vacuum and analyze")

    n = scale.sample_tokens
    sample = await conn.fetch(SAMPLE_LIVE, n - n // 5 - n // 10, n // 5, n // 10)
    made = [new_token(secret_key) for _ in sample]
    await conn.execute(SET_TOKENS, [r["id"] for r in sample], [m[0] for m in made], [m[2] for m in made])
    token_of = {r["kind"]: m[1] for r, m in zip(sample, made, strict=False)}
    tokens = [m[1] for m in made]
    random.Random(7).shuffle(tokens)
    phase(f"{len(sample)} manage tokens")

    counts = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM events) AS events, (SELECT count(*) FROM registrations) AS registrations, "
        "(SELECT count(*) FROM outbox) AS outbox, pg_database_size(current_database()) / 1e6 AS size_mb"
    )
    if counts["registrations"] != scale.registrations or counts["events"] != scale.events:
        raise RuntimeError(f"loaded {dict(counts)}, wanted {scale}")
    return Loaded(
        seconds=round(time.perf_counter() - started, 1),
        phases=phases,
        events=counts["events"],
        registrations=counts["registrations"],
        outbox=counts["outbox"],
        big_event=big["slug"],
        popular=[r["slug"] for r in popular],
        tokens=tokens,
        token_of=token_of,
        size_mb=round(counts["size_mb"], 1),
    )
