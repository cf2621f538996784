"""`claimwatch run` and its connections to Telegram: every client the service owns is
brought back when Telethon's own reconnecting gives up, and a stop request is obeyed
even while the first connection is still being retried."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest
from telethon.tl import functions

from bot.live import LiveService
from tests.conftest import RDK
from tests.fake_chat import FakeChat
from tests.fake_telegram import FakeTelegramClient
from tests.test_alert_chat import RAID, open_service
from tests.test_live_signals import restore_signal_handlers  # noqa: F401 (autouse fixture)
from tests.test_telegram_service import eventually
from tests.test_telegram_service import open_service as open_user_service


@pytest.fixture
def chat():
    return FakeChat(FakeTelegramClient())


async def test_the_bot_connection_is_restored_when_telethon_gives_up(tmp_path, world, chat):
    service = await open_service(tmp_path, world, chat)  # alerts.via = "bot"
    await service.start()
    try:
        await eventually(lambda: _followed(service, 2))
        await chat.client._sender.disconnect()  # Telethon's last automatic reconnect failed
        await eventually(lambda: _connected(chat.client))
        await world.publish(RDK, RAID)
        await eventually(lambda: _sent(chat.client, 1))
        assert world.client.is_connected()
        assert service.monitor.counters.totals["disconnected"] == 1
    finally:
        await service.stop()
    assert not chat.client.is_connected()  # a stop is not an outage


async def test_sigterm_ends_a_start_up_that_cannot_reach_telegram(tmp_path, world, monkeypatch):
    async def unreachable() -> None:
        raise ConnectionError("Connection to Telegram failed 5 time(s)")

    monkeypatch.setattr(world.client, "connect", unreachable)
    service = await open_user_service(tmp_path, world)
    running = asyncio.create_task(service.run_until_stopped())
    await eventually(lambda: _tried(service))  # now in the backoff before trying again
    assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL  # the service listens
    os.kill(os.getpid(), signal.SIGTERM)
    await asyncio.wait_for(running, 1)  # the next attempt would be seconds away
    assert service.stopping.is_set()
    assert not service.scheduler.running


async def _followed(service: LiveService, n: int) -> bool:
    return len(service.monitor.followed) == n


async def _connected(client: FakeTelegramClient) -> bool:
    return client.is_connected()


async def _sent(client: FakeTelegramClient, n: int) -> bool:
    return len(client.sent(functions.messages.SendMessageRequest)) >= n


async def _tried(service: LiveService) -> bool:
    return service.monitor.counters.totals.get("transient_error", 0) >= 1
