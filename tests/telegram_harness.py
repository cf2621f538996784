"""A service run over the fake Telegram: what the monitor and fault tests drive.

`Harness` is one process of the service (a fresh client, as after a restart) over a
world that outlives it, so tests can kill and restart the reader and compare what was
stored with what the channels published.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import timedelta

from telethon.tl import types

from bot.app import App
from bot.config import parse_config
from monitors.telegram import MonitorSettings, TelegramMonitor
from tests.fake_telegram import T0, FakeChannels, FakeTelegramClient, document_media

RDK, GOV, STRANGER = 1500000001, 1500000002, 1500000099
PHOTO = types.MessageMediaPhoto(photo=types.PhotoEmpty(1))
VIDEO = document_media(
    types.DocumentAttributeVideo(duration=3, w=640, h=360), mime_type="video/mp4"
)
CHANNELS = [{"id": "rdk_front"}, {"id": "gubernator_br"}]


class Harness:
    """One run of the service: a fresh client (as after a restart) over a shared world."""

    def __init__(self, app: App, world: FakeChannels, **settings) -> None:
        self.app, self.world, self.client = app, world, world.client
        self.sleeps: list[float] = []
        self.processed: Counter[tuple[int, int]] = Counter()
        settings = {"resolve_spacing_s": 0.5, "page_wait_s": 0, **settings}
        self.monitor = TelegramMonitor(
            self.client, app.store, self._process, MonitorSettings(**settings), sleep=self._sleep
        )
        self.monitor.install()

    async def _process(self, posts):
        self.processed.update(post.key for post in posts)
        return await self.app.process(posts)

    async def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        await asyncio.sleep(0)

    async def start(self, channels=CHANNELS) -> None:
        await self.monitor.set_channels(parse_config({"channels": channels}).channels)

    async def posts(self):
        return {post.key: post for post in await self.app.store.posts.recent(T0 - timedelta(1))}


def new_world() -> FakeChannels:
    client = FakeTelegramClient()
    world = FakeChannels(client)
    world.add_channel(RDK, "rdk_front", "RDK front")
    world.add_channel(GOV, "gubernator_br", "Governor", left=True)
    world.add_channel(STRANGER, "someone_else", "Not followed")
    return world


def restart(world: FakeChannels) -> FakeChannels:
    """The same server seen by a new client process (nothing cached in memory)."""
    fresh = FakeChannels(FakeTelegramClient())
    fresh.channels, fresh.messages = world.channels, world.messages
    return fresh
