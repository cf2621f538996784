"""The digest clock: 08:00 Kyiv time across DST, catch-up after downtime, shared jobs."""

import io
import re
from datetime import UTC, date, datetime, time, timedelta

import pytest

from bot.config import parse_config
from bot.digest_send import ConsoleDigestSender, DigestPublisher
from bot.schedule import (
    CATCH_UP_DAYS,
    DIGEST_JOB,
    DigestSchedule,
    add_interval_job,
    digest_trigger,
    due_day,
    make_scheduler,
)
from storage import Store

CONFIG = parse_config({"digest": {"time": "08:00", "timezone": "Europe/Kyiv"}})
KYIV = CONFIG.digest


@pytest.mark.parametrize(
    ("after", "fires"),
    [
        # Spring forward on 29 March 2026 (03:00 -> 04:00): 08:00 is 05:00 UTC from then on.
        (datetime(2026, 3, 28, 6, 0, tzinfo=UTC), datetime(2026, 3, 29, 5, 0, tzinfo=UTC)),
        (datetime(2026, 3, 27, 6, 0, tzinfo=UTC), datetime(2026, 3, 28, 6, 0, tzinfo=UTC)),
        # Fall back on 25 October 2026 (04:00 -> 03:00): 06:00 UTC again.
        (datetime(2026, 10, 24, 5, 0, tzinfo=UTC), datetime(2026, 10, 25, 6, 0, tzinfo=UTC)),
    ],
)
def test_digest_fires_at_eight_local_across_dst(after, fires):
    trigger = digest_trigger(KYIV)
    got = trigger.get_next_fire_time(after, after)
    assert got == fires
    assert got.astimezone(trigger.timezone).time() == time(8, 0)


def test_the_due_day_turns_at_the_digest_time():
    before = datetime(2026, 3, 29, 4, 59, tzinfo=UTC)  # 07:59 Kyiv
    assert due_day(KYIV, before) == date(2026, 3, 27)
    assert due_day(KYIV, datetime(2026, 3, 29, 5, 0, tzinfo=UTC)) == date(2026, 3, 28)


SERVING_SINCE = datetime(2026, 3, 20, tzinfo=UTC)  # when the service stored its first post


async def restart(
    db, now: datetime, out: io.StringIO, first_stored: datetime | None = SERVING_SINCE
) -> bool:
    """A service start: a fresh store and publisher, then the start-up catch-up."""
    store = await Store.open(db)
    try:
        publisher = DigestPublisher(store, CONFIG, [ConsoleDigestSender(out)], chart=False)
        schedule = DigestSchedule(KYIV, publisher.send, clock=lambda: now)
        return await schedule.catch_up(first_stored, await store.digests.last_sent())
    finally:
        await store.close()


async def test_a_missed_digest_is_sent_once_after_restart(tmp_path):
    db, out = tmp_path / "cw.db", io.StringIO()
    down_through_eight = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)  # 12:30 Kyiv
    assert await restart(db, down_through_eight, out)
    assert "Sun 29 Mar" not in out.getvalue() and "Sat 28 Mar 2026" in out.getvalue()
    assert not await restart(db, down_through_eight.replace(hour=10), out)
    assert out.getvalue().count("Daily digest") == 1


async def test_every_day_missed_since_the_last_digest_is_caught_up_oldest_first(tmp_path):
    db, out = tmp_path / "cw.db", io.StringIO()
    assert await restart(db, datetime(2026, 3, 25, 9, 0, tzinfo=UTC), out) == 1  # the 24th
    down_four_days = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)
    assert await restart(db, down_four_days, out) == 4
    days = re.findall(r"Daily digest[^\n]*?(\w{3} \d\d Mar)", out.getvalue())
    assert days == ["Tue 24 Mar", "Wed 25 Mar", "Thu 26 Mar", "Fri 27 Mar", "Sat 28 Mar"]
    assert await restart(db, down_four_days, out) == 0


async def test_a_long_outage_catches_up_a_week_at_most(tmp_path):
    db, out = tmp_path / "cw.db", io.StringIO()
    assert await restart(
        db, datetime(2026, 3, 2, 9, 0, tzinfo=UTC), out, SERVING_SINCE.replace(day=1)
    )
    assert await restart(db, datetime(2026, 3, 29, 9, 30, tzinfo=UTC), out) == CATCH_UP_DAYS
    assert "Sat 21 Mar" not in out.getvalue() and "Sun 22 Mar" in out.getvalue()


async def test_a_first_start_owes_no_digest(tmp_path):
    out = io.StringIO()
    now = datetime(2026, 3, 29, 9, 30, tzinfo=UTC)  # due: Sat 28 Mar, Kyiv
    assert not await restart(tmp_path / "a.db", now, out, first_stored=None)
    started_today = datetime(2026, 3, 29, 6, 0, tzinfo=UTC)
    assert not await restart(tmp_path / "b.db", now, out, first_stored=started_today)
    assert out.getvalue() == ""
    started_on_the_day = datetime(2026, 3, 28, 20, 0, tzinfo=UTC)  # 23:00 Kyiv on the 28th
    assert await restart(tmp_path / "c.db", now, out, first_stored=started_on_the_day)


async def test_jobs_share_one_scheduler_in_the_digest_zone(tmp_path):
    store = await Store.open(tmp_path / "cw.db")
    publisher = DigestPublisher(store, CONFIG, [], chart=False)
    scheduler = make_scheduler(KYIV)

    async def poll() -> None:
        return None

    DigestSchedule(KYIV, publisher.send).install(scheduler)
    add_interval_job(scheduler, poll, minutes=5, job_id="liveblog")
    scheduler.start(paused=True)
    try:
        digest = scheduler.get_job(DIGEST_JOB)
        assert digest.coalesce and digest.trigger.timezone.key == "Europe/Kyiv"
        assert scheduler.get_job("liveblog").trigger.interval.total_seconds() == 300
    finally:
        scheduler.shutdown(wait=False)
        await store.close()


async def test_a_failed_send_is_retried_until_the_next_day_is_due():
    now = datetime(2026, 3, 29, 5, 0, tzinfo=UTC)  # 08:00 Kyiv: Sat 28 Mar is due
    sent: list[date] = []
    failures = [ConnectionError("flood wait"), ConnectionError("network")]

    async def send(day: date) -> bool:
        if failures:
            raise failures.pop(0)
        sent.append(day)
        return True

    scheduler = make_scheduler(KYIV)
    schedule = DigestSchedule(KYIV, send, clock=lambda: now)
    schedule.install(scheduler)
    scheduler.start(paused=True)
    try:
        assert not await schedule.run()
        for _ in range(2):  # the retry is a one-off job 15 min later, replaced each time
            retry = scheduler.get_job(f"{DIGEST_JOB}-retry")
            assert retry.next_run_time == now + timedelta(minutes=15)
            done = await retry.func(*retry.args)
        assert done and sent == [date(2026, 3, 28)]

        failures.append(ConnectionError("again"))
        assert not await schedule.run()
        now += timedelta(days=1)  # a day later the retry gives the old day up
        retry = scheduler.get_job(f"{DIGEST_JOB}-retry")
        assert not await retry.func(*retry.args) and sent == [date(2026, 3, 28)]
    finally:
        scheduler.shutdown(wait=False)
