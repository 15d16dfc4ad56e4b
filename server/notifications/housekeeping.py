"""The periodic jobs the notifier runs on a timer, each by one worker copy at a time.

A job is `async def job(conn, settings) -> int` (how many things it did) and must be idempotent:
the lock only spares the database duplicate work, it is not what keeps the jobs correct.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

import asyncpg

from server.communes.reminders import remind_untouched
from server.interpretation.deadlines import alert_unanswered
from server.interpretation.retention import anonymise_missions
from server.notifications import queries as q
from server.notifications.reminders import plan_reminders
from server.registrations.jobs import anonymise_due, expire_holds
from server.settings import Settings
from server.subsidies.deadlines import remind_deadlines

log = logging.getLogger(__name__)

Job = Callable[[asyncpg.Connection, Settings], Awaitable[int]]

# the first key of the jobs' advisory locks (the second is the job's name hashed)
JOB_LOCK_SPACE = 7_261_004

# Every housekeeping job, in the order a round runs them: holds expire first so that the seats they
# free (and the people promoted into them) are settled before reminders are planned.
HOUSEKEEPING_JOBS: tuple[tuple[str, Job], ...] = (
    ("expire_holds", expire_holds),
    ("plan_reminders", plan_reminders),
    ("anonymise_due", anonymise_due),
    ("anonymise_missions", anonymise_missions),
    ("alert_unanswered_interpretation", alert_unanswered),
    ("remind_untouched_commune_requests", remind_untouched),
    ("remind_subsidy_deadlines", remind_deadlines),
)


async def run_housekeeping(
    pool: asyncpg.Pool, settings: Settings, jobs: tuple[tuple[str, Job], ...] = HOUSEKEEPING_JOBS
) -> dict[str, int | None]:
    """One round: each job whose lock is free runs; returns what each did (None: another copy had it)."""
    done: dict[str, int | None] = {}
    async with pool.acquire() as conn:
        for name, job in jobs:
            if not await conn.fetchval(q.TRY_JOB_LOCK, JOB_LOCK_SPACE, name):
                done[name] = None
                continue
            try:
                done[name] = await job(conn, settings)
            except Exception:
                # one job's bug must not stop the others, nor the sending of mail
                if conn.is_closed():
                    raise
                log.exception("housekeeping job %s failed", name)
                done[name] = None
            finally:
                if not conn.is_closed():
                    await conn.execute(q.JOB_UNLOCK, JOB_LOCK_SPACE, name)
    return done
