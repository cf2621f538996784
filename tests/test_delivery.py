"""The alert outbox: retries, waits the far side asks for, giving up, closed output."""

import asyncio
import io
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot import delivery
from bot.delivery import DeliveryWorker
from bot.sinks import ConsoleSink, DeliveryError, JsonlSink, OutputClosed, render_console
from bot.status import show_status
from monitors.models import Claim, Match
from storage import NewPost
from storage.dates import from_db, now_db
from tests.conftest import make_post


class FlakySink:
    """Fails with the queued errors first, then records what it delivers."""

    name = "flaky"
    interrupts = False

    def __init__(self, *errors: Exception) -> None:
        self.errors = list(errors)
        self.delivered: list[int] = []

    async def send(self, alert):
        if self.errors:
            raise self.errors.pop(0)
        self.delivered.append(alert.id)
        return f"msg-{alert.id}"

    async def close(self) -> None:
        pass


async def raise_alert(
    store, destinations=("flaky",), text="\x1b[31mсигнал\x07 <b>x</b>", message_id=1
) -> int:
    await store.claims.upsert([Claim(id="c", text="a claim")])
    post = make_post(message_id=message_id, text=text, cluster_id=f"100/{message_id}")
    async with store.transaction():
        ids = await store.posts.insert([NewPost(post, "h", "none")], now_db())
        [alert_id] = await store.alerts.record(
            ids[post.key],
            post.cluster_id,
            [Match("c", 0.9, True, "supports", ("terms: x",))],
            destinations,
            now_db(),
        )
    return alert_id


async def test_a_failed_delivery_is_retried_later_then_sent(store):
    alert_id = await raise_alert(store)
    sink = FlakySink(ConnectionError("down"))
    worker = DeliveryWorker(store, [sink], base_delay_s=0.0)
    assert await worker.deliver_due() == 0  # failed; a pass never retries at once
    assert await worker.deliver_due() == 1  # the next pass does (no backoff here)
    assert sink.delivered == [alert_id]
    assert await store.alerts.due("flaky", now_db()) == []


async def test_the_wait_the_far_side_asks_for_is_obeyed(store):
    await raise_alert(store)
    sink = FlakySink(DeliveryError("flood", retry_after=3600))
    worker = DeliveryWorker(store, [sink])
    assert await worker.deliver_due() == 0
    assert sink.delivered == []
    assert await store.alerts.due("flaky", now_db()) == []  # not due for an hour
    assert await store.alerts.due("flaky", "9999-01-01T00:00:00+00:00") != []


async def test_only_a_permanent_failure_gives_up(store):
    await raise_alert(store)
    worker = DeliveryWorker(store, [FlakySink(DeliveryError("chat gone", permanent=True))])
    assert await worker.deliver_due() == 0
    assert await store.alerts.due("flaky", "9999-01-01T00:00:00+00:00") == []
    row = await store.db.fetch_one("SELECT status, attempts, last_error FROM deliveries")
    assert tuple(row) == ("failed", 1, "chat gone")


async def test_an_outage_of_any_length_is_outlasted_and_counted(store):
    # Fifty failures: at 5 s doubling to the 1 h cap, over two days of outage.
    alert_id = await raise_alert(store)
    sink = FlakySink(*[ConnectionError("down")] * 50)
    worker = DeliveryWorker(store, [sink], base_delay_s=0.0)
    for _ in range(50):
        assert await worker.deliver_due() == 0
    row = await store.db.fetch_one("SELECT status, attempts, last_error FROM deliveries")
    assert tuple(row) == ("pending", 50, "ConnectionError('down')")  # visible, not dropped
    status = io.StringIO()
    await show_status(Path(store.db.path), status)
    assert (
        "alerts waiting for delivery: 1\n  to flaky: 1 waiting, oldest raised" in status.getvalue()
    )
    assert "failed up to 50 times (last: ConnectionError('down'))" in status.getvalue()
    assert await worker.deliver_due() == 1
    assert sink.delivered == [alert_id]


async def test_a_long_failing_delivery_waits_at_most_the_cap(store):
    alert_id = await raise_alert(store)
    # attempts far past any exponent a float can hold (2 ** 2000 overflows)
    await store.db.execute("UPDATE deliveries SET attempts = 2000")
    worker = DeliveryWorker(store, [FlakySink(ConnectionError("down"))], max_delay_s=3600.0)
    before = datetime.now(UTC)
    await worker.deliver_due()
    retry_at = from_db(await store.db.scalar("SELECT next_attempt_at FROM deliveries"))
    assert before + timedelta(minutes=45) < retry_at <= datetime.now(UTC) + timedelta(hours=1)
    assert await store.alerts.attempts(alert_id, "flaky") == 2001


async def test_a_wait_the_far_side_asks_for_is_not_an_attempt(store):
    alert_id = await raise_alert(store)
    sink = FlakySink(*[DeliveryError("flood wait 0 s", retry_after=0)] * 30)
    worker = DeliveryWorker(store, [sink], base_delay_s=0.0)
    for _ in range(30):
        await worker.deliver_due()
    row = await store.db.fetch_one("SELECT status, attempts, last_error FROM deliveries")
    assert tuple(row) == ("pending", 0, "flood wait 0 s")
    assert await worker.deliver_due() == 1
    assert sink.delivered == [alert_id]


async def test_a_sent_alert_the_database_cannot_record_is_not_sent_again(store):
    # Another process holds the write lock (`claimwatch claims add`, a backup) while the
    # chat accepts the alert: the later passes retry the bookkeeping, never the send.
    alert_id = await raise_alert(store)
    await store.db.execute("PRAGMA busy_timeout = 0")  # the default waits 5 s
    sink = FlakySink()
    worker = DeliveryWorker(store, [sink])
    other = sqlite3.connect(Path(store.db.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")
    try:
        for _ in range(5):
            await worker.deliver_due()
        assert sink.delivered == [alert_id]
        assert await store.db.scalar("SELECT status FROM deliveries") == "pending"
    finally:
        other.execute("ROLLBACK")
        other.close()
    await worker.deliver_due()
    assert sink.delivered == [alert_id]
    row = await store.db.fetch_one("SELECT status, message_ref, attempts FROM deliveries")
    assert tuple(row) == ("sent", f"msg-{alert_id}", 1)
    # and the outbox goes on with the alerts behind it
    second = await raise_alert(store, message_id=2)
    assert await worker.deliver_due() == 1
    assert sink.delivered == [alert_id, second]


async def test_overlapping_passes_send_an_alert_once(store):
    # The run loop's pass and another caller's (a replay, the flush at stop) overlap.
    alert_id = await raise_alert(store)
    release = asyncio.Event()

    class SlowSink(FlakySink):
        async def send(self, alert):
            await release.wait()
            return await super().send(alert)

    sink = SlowSink()
    worker = DeliveryWorker(store, [sink])
    first = asyncio.create_task(worker.deliver_due())
    second = asyncio.create_task(worker.deliver_due())
    await asyncio.sleep(0.05)
    release.set()
    assert sorted(await asyncio.gather(first, second)) == [0, 1]
    assert sink.delivered == [alert_id]


class GrowingStorySink(FlakySink):
    """An editable chat; the story gains a repost while each edit is in flight."""

    interrupts = True

    def __init__(self, store) -> None:
        super().__init__()
        self.store = store
        self.edits = 0

    async def edit(self, alert, ref) -> str:
        self.edits += 1
        async with self.store.transaction():
            await self.store.alerts.touch_clusters([alert.cluster_id], now_db())
        return ref


async def test_a_story_that_keeps_growing_is_edited_at_most_once_a_gap(store, monkeypatch):
    await raise_alert(store)
    sink = GrowingStorySink(store)
    worker = DeliveryWorker(store, [sink])
    assert await worker.deliver_due() == 1
    async with store.transaction():
        await store.alerts.touch_clusters(["100/1"], now_db())
    for _ in range(10):
        await worker.deliver_due()
    assert sink.edits == 1
    # the repost that came during the edit is not lost: it is edited once the gap is over
    monkeypatch.setattr(delivery, "EDIT_GAP_S", 0.0)
    await worker.deliver_due()
    assert sink.edits == 2


async def test_an_edit_that_needs_more_messages_keeps_their_reference(store, monkeypatch):
    monkeypatch.setattr(delivery, "EDIT_GAP_S", 0.0)
    alert_id = await raise_alert(store)

    class GrowingSink(FlakySink):
        interrupts = True

        def __init__(self) -> None:
            super().__init__()
            self.refs: list[str] = []

        async def edit(self, alert, ref) -> str:
            self.refs.append(ref)
            return f"{ref},extra"  # the grown alert took one more message

    worker = DeliveryWorker(store, [sink := GrowingSink()])
    await worker.deliver_due()
    for _ in range(2):
        async with store.transaction():
            await store.alerts.touch_clusters(["100/1"], now_db())
        await worker.deliver_due()
    # the second edit reaches the message the first one added, instead of sending another
    assert sink.refs == [f"msg-{alert_id}", f"msg-{alert_id},extra"]


async def test_closed_output_stops_delivery_and_keeps_the_alert_pending(store):
    class Closed(io.StringIO):
        def write(self, text):
            raise BrokenPipeError

    await raise_alert(store, destinations=("console",))
    worker = DeliveryWorker(store, [ConsoleSink(Closed())])
    with pytest.raises(OutputClosed):
        await worker.deliver_due()
    assert len(await store.alerts.due("console", now_db())) == 1


async def test_local_sinks_print_safe_text_and_json(store):
    await raise_alert(store, destinations=("console", "jsonl"))
    screen, lines = io.StringIO(), io.StringIO()
    worker = DeliveryWorker(store, [ConsoleSink(screen, colour=False), JsonlSink(lines)])
    assert await worker.deliver_due() == 2
    assert "\x1b" not in screen.getvalue() and "\x07" not in screen.getvalue()
    assert "сигнал" in screen.getvalue() and "https://t.me/c/100/1" in screen.getvalue()
    alert = json.loads(lines.getvalue())
    assert alert["text"] == "\x1b[31mсигнал\x07 <b>x</b>"  # JSON keeps the text exactly
    assert alert["claim_id"] == "c" and alert["stance"] == "supports"


def test_console_rendering_shortens_long_posts():
    from storage import Alert
    from tests.conftest import T0

    alert = Alert(
        1,
        100,
        "@chan",
        "official",
        5,
        "https://t.me/chan/5",
        T0,
        "слово " * 500,
        "ru",
        None,
        "c",
        "claim",
        None,
        None,
        0.5,
        "unclear",
        (),
        "100/5",
        1,
        1,
    )
    text = render_console(alert)
    assert len(text) < 1200 and "…" in text
