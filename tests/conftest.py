from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App
from bot.config import parse_config
from monitors.models import Post
from storage import Store
from tests.fake_telegram import FakeChannels, FakeTelegramClient
from tests.telegram_harness import CHANNELS, Harness, new_world

T0 = datetime(2023, 3, 2, 8, 0, tzinfo=UTC)
RDK, GOV = 1500000001, 1500000002  # the channels of the `world` fixture


def make_post(channel_id: int = 100, message_id: int = 1, text: str = "текст", **extra) -> Post:
    extra.setdefault("date", T0 + timedelta(minutes=message_id))
    return Post(channel_id=channel_id, message_id=message_id, text=text, **extra)


@pytest.fixture
async def store(tmp_path):
    store = await Store.open(tmp_path / "test.db")
    yield store
    await store.close()


@pytest.fixture
def world() -> FakeChannels:
    """The fake Telegram with two public channels, a partisan group and a governor."""
    world = FakeChannels(FakeTelegramClient())
    world.add_channel(RDK, "rdk_front", "RDK front")
    world.add_channel(GOV, "gubernator_br", "Governor")
    return world


@pytest.fixture
async def app(tmp_path):
    """An app following the harness's channels, translation and embedding off; modules
    that need another config define their own `app`."""
    config = parse_config({"channels": CHANNELS, "translation": {"backend": "none"}})
    app = await App.open(config, db_path=tmp_path / "cw.db", embedder=None)
    yield app
    await app.close()


@pytest.fixture
async def live(app):
    """The service reading `new_world()` into the module's `app`, started."""
    world = new_world()
    await world.client.connect()
    harness = Harness(app, world)
    await harness.start()
    return harness
