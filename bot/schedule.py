"""The service's clock: the daily digest and periodic jobs on one APScheduler.

APScheduler's in-memory job store forgets everything on restart, so digests missed while
the service was down are caught up from the database instead: at start, every day since
the last digest that went out (a week of them at most, oldest first) up to the latest
whose digest is due is sent unless the `digests` table says it went out. Sending checks
that table too, so the catch-up, the cron job and the retries of a failed send can never
send a day twice. A send that fails (a flood wait, the network) is retried every
`RETRY_S` until the day is sent or the next day's digest is due.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.config import DigestConfig
from bot.digest import Period

log = logging.getLogger(__name__)

DIGEST_JOB = "digest"
# A run delayed longer than this (event loop stalled, laptop asleep) is left to the
# start-up catch-up rather than fired late by APScheduler.
MISFIRE_GRACE_S = 3600
RETRY_S = 15 * 60
# Days of digests a start may catch up: a week's outage is worth a week's digests, a
# month's is not worth thirty messages at once.
CATCH_UP_DAYS = 7

Clock = Callable[[], datetime]
SendDay = Callable[[date], Awaitable[bool]]


def utc_now() -> datetime:
    return datetime.now(UTC)


def digest_trigger(settings: DigestConfig) -> CronTrigger:
    return CronTrigger(
        hour=settings.time.hour,
        minute=settings.time.minute,
        timezone=ZoneInfo(settings.timezone),
    )


def due_day(settings: DigestConfig, now: datetime) -> date:
    """The latest day whose digest is due at `now`: yesterday once today's run time has
    passed (local wall clock), the day before yesterday until then."""
    local = now.astimezone(ZoneInfo(settings.timezone))
    days_back = 1 if local.time().replace(tzinfo=None) >= settings.time else 2
    return local.date() - timedelta(days=days_back)


class DigestSchedule:
    """The digest's cron job and its start-up catch-up."""

    def __init__(self, settings: DigestConfig, send: SendDay, clock: Clock = utc_now) -> None:
        self._settings = settings
        self._send = send
        self._clock = clock
        self._scheduler: AsyncIOScheduler | None = None

    def install(self, scheduler: AsyncIOScheduler) -> None:
        self._scheduler = scheduler
        scheduler.add_job(
            self.run,
            digest_trigger(self._settings),
            id=DIGEST_JOB,
            name="daily digest",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=MISFIRE_GRACE_S,
            replace_existing=True,
        )

    async def catch_up(self, first_stored: datetime | None, last_sent: date | None) -> int:
        """At start, send the digests missed while the service was down; return how many
        went out. A day is owed only if something was stored before it ended (a first
        start owes none), and only the latest due day when no digest ever went out.
        Older days get one try each; the latest is retried like the cron job's."""
        due = due_day(self._settings, self._clock())
        oldest = due
        if last_sent is not None:
            oldest = max(last_sent + timedelta(days=1), due - timedelta(days=CATCH_UP_DAYS - 1))
        days = [oldest + timedelta(days=n) for n in range((due - oldest).days + 1)]
        zone = self._settings.timezone
        owed = [
            day
            for day in days
            if first_stored is not None and first_stored < Period.of(day, zone).end
        ]
        if not owed:
            log.info("no digest owed at start (due: %s, last sent: %s)", due, last_sent)
            return 0
        sent = 0
        for day in owed[:-1]:
            try:
                sent += await self._send(day)
            except Exception:
                log.exception("digest of %s failed; not retried, a newer day is due", day)
        return sent + await self.run()

    async def run(self) -> bool:
        """Send the due day's digest unless it was sent (the cron job)."""
        return await self._attempt(due_day(self._settings, self._clock()))

    async def _attempt(self, day: date) -> bool:
        if day != due_day(self._settings, self._clock()):
            log.warning("digest of %s given up: the next day's is due", day)
            return False
        try:
            return await self._send(day)
        except Exception:  # a failed digest must not kill the scheduler
            log.exception("digest of %s failed; retried in %d min", day, RETRY_S // 60)
            self._retry(day)
            return False

    def _retry(self, day: date) -> None:
        if self._scheduler is None:  # not installed: the next start catches it up
            return
        self._scheduler.add_job(
            self._attempt,
            DateTrigger(self._clock() + timedelta(seconds=RETRY_S)),
            args=[day],
            id=f"{DIGEST_JOB}-retry",
            name="daily digest, retry",
            misfire_grace_time=MISFIRE_GRACE_S,
            replace_existing=True,
        )


def add_interval_job(
    scheduler: AsyncIOScheduler,
    func: Callable[[], Awaitable[object]],
    *,
    minutes: float,
    job_id: str,
    start_now: bool = False,
) -> None:
    """A periodic job (live-blog polls, reconciliation) on the shared scheduler; a run
    that would overlap the previous one is skipped, missed runs collapse into one.
    `start_now` runs it once as soon as the scheduler starts."""
    scheduler.add_job(
        func,
        IntervalTrigger(minutes=minutes),
        id=job_id,
        name=job_id,
        coalesce=True,
        max_instances=1,
        replace_existing=True,
        **({"next_run_time": utc_now()} if start_now else {}),
    )


def make_scheduler(settings: DigestConfig) -> AsyncIOScheduler:
    """A scheduler in the digest's time zone; start it inside the running event loop."""
    return AsyncIOScheduler(timezone=ZoneInfo(settings.timezone))
