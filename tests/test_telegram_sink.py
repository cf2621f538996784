"""The Telegram sink alone, at the RPC seam: what a flood wait does to the next alerts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from telethon.tl import functions

from bot.sinks import DeliveryError
from bot.telegram_sink import TelegramSink
from storage import Alert
from tests.fake_chat import FakeChat
from tests.fake_telegram import FakeTelegramClient, flood_wait

SendMessage = functions.messages.SendMessageRequest


def alert(alert_id: int) -> Alert:
    return Alert(
        id=alert_id,
        channel_id=1,
        channel="@rdk_front",
        category="partisan",
        message_id=alert_id,
        link=f"https://t.me/rdk_front/{alert_id}",
        date=datetime(2024, 3, 12, 8, 15, tzinfo=UTC),
        text="Saboteurs fired on a car.",
        lang="en",
        translation=None,
        claim_id="car",
        claim_text="Saboteurs fired on a car.",
        claim_source="live blog",
        claim_url=None,
        score=0.9,
        stance="supports",
        reasons=("terms: car",),
        cluster_id=f"1/{alert_id}",
        cluster_posts=1,
        cluster_channels=1,
    )


@pytest.fixture
async def chat():
    chat = FakeChat(FakeTelegramClient())
    await chat.client.connect()
    return chat


async def test_a_flood_wait_pauses_the_chat_without_blocking_the_outbox(chat):
    sink = TelegramSink(chat.client, chat.marked_id, spacing_s=0)
    chat.client.fail_next(SendMessage, flood_wait(30))
    with pytest.raises(DeliveryError) as first:
        await sink.send(alert(1))
    assert first.value.retry_after == 30 and not first.value.permanent
    asked = len(chat.client.sent(SendMessage))
    with pytest.raises(DeliveryError, match="paused") as second:
        await sink.send(alert(2))  # answered at once, without asking Telegram
    assert 25 < second.value.retry_after <= 30
    assert len(chat.client.sent(SendMessage)) == asked


async def test_a_chat_the_bot_cannot_reach_is_a_permanent_failure(chat):
    sink = TelegramSink(chat.client, -1009999999999, spacing_s=0)
    with pytest.raises(DeliveryError, match="add the bot") as caught:
        await sink.send(alert(1))
    assert caught.value.permanent


async def test_an_edit_that_changes_nothing_is_done(chat):
    sink = TelegramSink(chat.client, chat.marked_id, spacing_s=0)
    ref = await sink.send(alert(1))
    await sink.edit(alert(1), ref)  # Telegram answers MESSAGE_NOT_MODIFIED
    assert chat.texts() == [chat.messages[int(ref)].message]
