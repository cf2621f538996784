"""The alert outbox: retries, waits the far side asks for, giving up, closed output."""

import io
import json

import pytest

from bot.delivery import DeliveryWorker
from bot.sinks import ConsoleSink, DeliveryError, JsonlSink, OutputClosed, render_console
from monitors.models import Claim, Match
from storage import NewPost
from storage.dates import now_db
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


async def test_permanent_failures_and_too_many_attempts_give_up(store):
    await raise_alert(store)
    worker = DeliveryWorker(store, [FlakySink(DeliveryError("chat gone", permanent=True))])
    assert await worker.deliver_due() == 0
    assert await store.alerts.due("flaky", "9999-01-01T00:00:00+00:00") == []

    alert_id = await raise_alert(store, destinations=("other",), message_id=2)
    stubborn = FlakySink(*[ConnectionError("down")] * 5)
    stubborn.name = "other"
    worker = DeliveryWorker(store, [stubborn], max_attempts=3, base_delay_s=0.0)
    for _ in range(5):
        await worker.deliver_due()
    assert await store.alerts.attempts(alert_id, "other") == 3
    assert stubborn.delivered == []


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
