"""The Telegram sink alone, at the RPC seam: what a flood wait does to the next alerts."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest
from telethon import errors
from telethon.tl import functions

from bot.alert_render import render_alert_html
from bot.sinks import DeliveryError
from bot.telegram_sink import TelegramSink
from storage import Alert
from storage.alerts import StoryPost
from tests.fake_chat import FakeChat
from tests.fake_telegram import FakeTelegramClient, flood_wait

SendMessage = functions.messages.SendMessageRequest
SURPLUS = "(nothing more: the alert above was updated)"


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


def viral(alert: Alert, channels: int = 150) -> Alert:
    """The alert once its story spread: the "+N channels" line alone outgrows a message."""
    also = tuple(
        StoryPost(f"Channel with a fairly long name {n}", f"https://t.me/c{n}/1", alert.date)
        for n in range(channels)
    )
    return replace(alert, also=also, cluster_channels=channels + 1, cluster_posts=channels + 1)


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


async def test_an_edit_that_needs_more_messages_sends_the_rest_quietly(chat):
    sink = TelegramSink(chat.client, chat.marked_id, spacing_s=0)
    ref = await sink.send(alert(1))
    grown = viral(alert(1))
    new_ref = await sink.edit(grown, ref)
    assert len(chat.texts()) == len(render_alert_html(grown)) > 1
    assert "Channel with a fairly long name 149" in chat.texts()[-1]
    ids = [int(message_id) for message_id in new_ref.split(",")]
    assert ids[0] == int(ref) and [chat.messages[i].message for i in ids] == chat.texts()
    extra = chat.client.sent(SendMessage)[-1]
    assert extra.silent and extra.reply_to.reply_to_msg_id == ids[0]


async def test_a_huge_alert_goes_out_in_messages_telegram_accepts(chat):
    """The fake chat refuses what Telegram refuses: over 4096 UTF-16 units of text."""
    with pytest.raises(errors.MessageTooLongError):
        await chat.client.send_message(chat.marked_id, "🇺🇦" * 1025)
    sink = TelegramSink(chat.client, chat.marked_id, spacing_s=0)
    huge = replace(
        viral(alert(1), channels=400), text="Диверсанты 🇺🇦 " * 3000, translation="Raid " * 4000
    )
    await sink.send(huge)
    assert len(chat.texts()) > 2


async def test_an_edit_that_needs_fewer_messages_marks_the_rest(chat):
    sink = TelegramSink(chat.client, chat.marked_id, spacing_s=0)
    ref = await sink.send(viral(alert(1)))
    new_ref = await sink.edit(alert(1), ref)
    first, *rest = chat.texts()
    assert "fairly long name" not in first and rest and all(text == SURPLUS for text in rest)
    assert new_ref == ref  # the kept ids stay valid: a story that grows again reuses them
    assert await sink.edit(viral(alert(1)), ref) == ref
    assert SURPLUS not in chat.texts()
