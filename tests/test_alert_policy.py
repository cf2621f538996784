"""Alerts an analyst is spared: muted channels, quiet hours, the per-claim cool-down,
posts long after their claim.
Held alerts are kept (status `held` with a reason) for the digest, never dropped."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest

from bot.alert_policy import AlertPolicy
from bot.config import ConfigError, parse_config
from bot.delivery import DeliveryWorker
from bot.digest import build_digest
from bot.digest_render import render_text
from monitors.models import Claim, Match
from storage import NewPost
from storage.dates import now_db, to_db
from tests.conftest import T0, make_post


class Recorder:
    name = "chat"
    interrupts = True  # a chat: the policy applies

    def __init__(self) -> None:
        self.sent: list[int] = []

    async def send(self, alert) -> str:
        self.sent.append(alert.id)
        return str(alert.id)

    async def close(self) -> None:
        pass


async def raise_alerts(
    store,
    *minutes: int,
    channel_id: int = 100,
    destinations=("chat",),
    published: datetime | None = None,
) -> list[int]:
    """One alert of claim `c` per post, posted `minutes` after T0, each its own story."""
    await store.claims.upsert([Claim(id="c", text="a claim", published=published)])
    ids = []
    for n, minute in enumerate(minutes, 1):
        post = make_post(channel_id, n, f"post {n}", cluster_id=f"{channel_id}/{n}")
        post.date = T0 + timedelta(minutes=minute)
        async with store.transaction():
            stored = await store.posts.insert([NewPost(post, f"h{n}", "none")], now_db())
            ids += await store.alerts.record(
                stored[post.key], post.cluster_id, [Match("c", 0.9, True)], destinations, now_db()
            )
    return ids


def worker(store, alerts: dict, tz: str = "UTC") -> tuple[DeliveryWorker, Recorder]:
    config = parse_config({"alerts": alerts, "digest": {"timezone": tz}})
    sink = Recorder()
    return DeliveryWorker(store, [sink], policy=AlertPolicy(store, config)), sink


async def held(store) -> list[tuple[int, str]]:
    return await store.alerts.held(T0 - timedelta(days=1), T0 + timedelta(days=1))


async def test_the_cooldown_holds_later_alerts_of_a_claim_by_post_time(store):
    first, soon, later = await raise_alerts(store, 0, 20, 90)
    outbox, sink = worker(store, {"cooldown_minutes": 60})
    assert await outbox.deliver_due() == 3
    assert sink.sent == [first, later]  # 20 minutes after the first: held
    assert await held(store) == [(soon, "cooldown")]


async def test_no_cooldown_by_default(store):
    await raise_alerts(store, 0, 1, 2)
    outbox, sink = worker(store, {})
    await outbox.deliver_due()
    assert len(sink.sent) == 3 and await held(store) == []


@pytest.mark.parametrize(
    ("start", "end", "quiet"),
    [("22:00", "07:00", True), ("07:00", "22:00", False), ("01:00", "03:00", False)],
)
async def test_quiet_hours_in_the_digest_zone_hold_alerts(store, start, end, quiet):
    [alert_id] = await raise_alerts(store, 0)
    config = {"alerts": {"quiet_hours": {"start": start, "end": end}}}
    policy = AlertPolicy(store, parse_config({**config, "digest": {"timezone": "Europe/Kyiv"}}))
    night = datetime(2026, 1, 10, 21, 30, tzinfo=UTC)  # 23:30 in Kyiv
    [alert] = await store.alerts.load([alert_id])
    assert (await policy.hold_reason(alert, "chat", night) == "quiet_hours") is quiet


def hours_from_now(start_h: int, end_h: int) -> dict:
    now = datetime.now(UTC)
    start, end = (now + timedelta(hours=h) for h in (start_h, end_h))
    return {"quiet_hours": {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}}


async def test_what_quiet_hours_held_goes_out_when_they_end(store):
    """Analysts asked not to be woken at night, not to read the night's alerts in the
    next digest, a day later; an alert held for two days was in a digest already."""
    tonight, older, muted = await raise_alerts(store, 0, 1, 2)
    policy = AlertPolicy(store, parse_config({"alerts": hours_from_now(-1, 1)}))  # quiet now
    sink = Recorder()
    outbox = DeliveryWorker(store, [sink], policy=policy)
    assert await outbox.deliver_due() == 3 and sink.sent == []
    async with store.transaction():
        two_days_ago = to_db(datetime.now(UTC) - timedelta(days=2))
        await store.db.execute(
            "UPDATE alerts SET created_at = ? WHERE id = ?", (two_days_ago, older)
        )
        await store.db.execute("UPDATE deliveries SET held = 'muted' WHERE alert_id = ?", (muted,))
    assert await outbox.deliver_due() == 0  # still quiet: nothing released

    policy.config = parse_config({"alerts": hours_from_now(2, 3)})  # reloaded: not quiet now
    assert await outbox.deliver_due() == 1
    assert sink.sent == [tonight]
    assert await held(store) == [(older, "quiet_hours"), (muted, "muted")]


async def test_a_start_outside_quiet_hours_sends_what_they_held(store):
    [alert_id] = await raise_alerts(store, 0)
    outbox, sink = worker(store, hours_from_now(-1, 1))
    await outbox.deliver_due()
    restarted, sink = worker(store, hours_from_now(2, 3))
    assert await restarted.deliver_due() == 1 and sink.sent == [alert_id]


async def test_a_muted_channel_is_held_until_the_mute_ends(store):
    mine, other = await raise_alerts(store, 0), await raise_alerts(store, 0, channel_id=200)
    async with store.transaction():
        await store.mutes.mute(100, datetime.now(UTC) + timedelta(hours=1), "@olena", now_db())
        await store.mutes.mute(200, datetime.now(UTC) - timedelta(hours=1), "@olena", now_db())
    outbox, sink = worker(store, {})
    await outbox.deliver_due()
    assert sink.sent == other  # the expired mute no longer holds
    assert await held(store) == [(mine[0], "muted")]
    assert [channel for channel, _ in await store.mutes.active(datetime.now(UTC))] == [100]


def test_quiet_hours_must_span_some_time():
    with pytest.raises(ConfigError, match=r"alerts\.quiet_hours"):
        parse_config({"alerts": {"quiet_hours": {"start": "07:00", "end": "07:00"}}})
    night = parse_config({"alerts": {"quiet_hours": {"start": "23:00", "end": "07:00"}}})
    assert night.alerts.quiet_hours.covers(time(2)) and not night.alerts.quiet_hours.covers(time(7))


async def test_a_terminal_or_a_file_gets_every_alert(store):
    first, soon = await raise_alerts(store, 0, 20, destinations=("chat", "console"))
    chat, terminal = Recorder(), Recorder()
    terminal.name, terminal.interrupts = "console", False
    config = parse_config({"alerts": {"cooldown_minutes": 60}})
    outbox = DeliveryWorker(store, [chat, terminal], policy=AlertPolicy(store, config))
    await outbox.deliver_due()
    assert (chat.sent, terminal.sent) == ([first], [first, soon])


DAY = 24 * 60


async def test_posts_days_after_their_claim_alert_only_in_the_digest(store):
    first, next_day, later = await raise_alerts(store, 60, DAY + 60, 4 * DAY, published=T0)
    outbox, sink = worker(store, {})  # claims alert for 3 days by default
    assert await outbox.deliver_due() == 3
    assert sink.sent == [first, next_day]
    assert await store.alerts.held(T0, T0 + timedelta(days=5)) == [(later, "claim_age")]
    digest = await build_digest(store, (T0 + timedelta(days=4)).date(), "UTC")
    assert "claim older than claim_days" in render_text(digest)


async def test_a_claim_without_a_date_ages_from_when_it_was_stored(store):
    stored = int((datetime.now(UTC) - T0).total_seconds() // 60)  # the claim is stored now
    # years before: retro matches, never too old; 4 days after it was stored: too old
    old, older, late = await raise_alerts(store, 0, 10 * DAY, stored + 4 * DAY)
    outbox, sink = worker(store, {})
    await outbox.deliver_due()
    assert sink.sent == [old, older]
    assert await store.alerts.held(T0, T0 + timedelta(days=9999)) == [(late, "claim_age")]


async def test_claims_alert_for_ever_with_claim_days_0(store):
    await raise_alerts(store, 0, 30 * DAY, published=T0)
    outbox, sink = worker(store, {"claim_days": 0})
    await outbox.deliver_due()
    assert len(sink.sent) == 2
    with pytest.raises(ConfigError, match=r"alerts\.claim_days"):
        parse_config({"alerts": {"claim_days": -1}})


async def test_the_digest_lists_held_alerts_with_their_reason(store):
    await raise_alerts(store, 0, 20, destinations=("chat", "console"))
    chat, terminal = Recorder(), Recorder()
    terminal.name, terminal.interrupts = "console", False
    config = parse_config({"alerts": {"cooldown_minutes": 60}})
    await DeliveryWorker(store, [chat, terminal], policy=AlertPolicy(store, config)).deliver_due()
    digest = await build_digest(store, T0.date(), "UTC")
    assert [(held.reason, held.claim_id) for held in digest.held] == [("cooldown", "c")]
    assert "Held back from the chat (cool-down 1)" in render_text(digest)


async def test_a_held_alert_raised_after_its_posts_day_is_in_the_digest_of_its_own_day(store):
    # A claim matched against the archive days later (or a backfill): the post's own day
    # may have had its digest before the alert existed.
    await store.mutes.mute(100, datetime.now(UTC) + timedelta(days=1), "analyst", now_db())
    [late] = await raise_alerts(store, 0)  # a post of T0, its alert raised now
    outbox, _ = worker(store, {})
    await outbox.deliver_due()
    today = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    assert await store.alerts.held(today, today + timedelta(days=1)) == [(late, "muted")]
    assert await store.alerts.held(T0, T0 + timedelta(days=1)) == [(late, "muted")]
