"""`LiveService.run_until_stopped` driven by real signals sent to this test process:
SIGTERM and SIGINT stop it cleanly, SIGHUP reloads the config. Each test restores the
process's signal handlers, so a failure here cannot leave pytest deaf or half-killed."""

from __future__ import annotations

import asyncio
import os
import signal

import pytest

from bot.live import LiveService
from bot.sinks import DeliveryError
from storage import Alert, Store
from tests.fake_telegram import FakeChannels, FakeTelegramClient
from tests.test_telegram_service import eventually

RDK, GOV = 1500000001, 1500000002
ENV = {"CLAIMWATCH_API_ID": "12345", "CLAIMWATCH_API_HASH": "abcdef"}
HANDLED = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)
CLAIM = "Volunteers say they briefly held the border village of Lyubichane in Bryansk region."
CONFIG = """
[[channels]]
id = "rdk_front"
{extra}
[[claims]]
id = "village"
text = "{claim}"

[translation]
backend = "none"
[matching]
embedder = "none"
[telegram]
session = "{session}"
"""


class FlakySink:
    """Refuses the first alert once ("try again now"), then takes everything: the alert
    is due again at once, but the worker only looks again after its poll interval."""

    name = "flaky"
    interrupts = False

    def __init__(self) -> None:
        self.refused: list[int] = []
        self.sent: list[int] = []

    async def send(self, alert: Alert) -> str | None:
        if not self.refused:
            self.refused.append(alert.id)
            raise DeliveryError("busy", retry_after=0)
        self.sent.append(alert.id)
        return None

    async def close(self) -> None:
        pass


@pytest.fixture(autouse=True)
def restore_signal_handlers():
    saved = {sig: signal.getsignal(sig) for sig in HANDLED}
    yield
    for sig, handler in saved.items():
        signal.signal(sig, handler)


@pytest.fixture
def world():
    world = FakeChannels(FakeTelegramClient())
    world.add_channel(RDK, "rdk_front", "RDK front")
    world.add_channel(GOV, "gubernator_br", "Governor")
    return world


def write_config(tmp_path, extra: str = ""):
    path = tmp_path / "config.toml"
    text = CONFIG.format(extra=extra, claim=CLAIM, session=tmp_path / "s.session")
    path.write_text(text, encoding="utf-8")
    return path


async def serve(tmp_path, world, sink: FlakySink) -> tuple[LiveService, asyncio.Task]:
    """The service running as `claimwatch run` runs it, once its channels are followed."""
    service = await LiveService.prepare(
        write_config(tmp_path),
        db=tmp_path / "live.db",
        env=ENV,
        client_factory=lambda config, secrets: world.client,
        sinks=[sink],
        embedder=None,
        monitor_overrides={"resolve_spacing_s": 0},
    )
    running = asyncio.create_task(service.run_until_stopped())
    await eventually(lambda: _followed(service, {RDK}))
    await service.monitor.set_channels(service.app.config.channels)  # the first pass is done
    return service, running


def send_signal(sig: signal.Signals) -> None:
    """Signal this process, only once the service listens (else SIGTERM ends pytest)."""
    assert signal.getsignal(sig) not in (signal.SIG_DFL, signal.default_int_handler)
    asyncio.get_running_loop().call_later(0.01, os.kill, os.getpid(), sig)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
async def test_a_stop_signal_flushes_writes_and_alerts_then_disconnects(tmp_path, world, sig):
    sink = FlakySink()
    service, running = await serve(tmp_path, world, sink)
    await world.publish(RDK, f"{CLAIM} Video from the village attached.")
    await eventually(lambda: _true(sink.refused))
    assert sink.sent == []  # due again, but the worker sleeps: only the stop can send it

    send_signal(sig)
    await asyncio.wait_for(running, 10)

    assert sink.sent == sink.refused
    assert not world.client.is_connected()
    assert not service.scheduler.running
    for handled in HANDLED:  # the loop's handlers are gone again
        assert signal.getsignal(handled) in (signal.SIG_DFL, signal.default_int_handler)
    store = await Store.open(tmp_path / "live.db")
    try:
        counted = {c.name: c.count for c in await store.health.counters()}
        assert counted["update_new"] == 1  # counted in memory after the last flush
        assert await store.posts.count() == 1
        assert await store.health.backlogs() == []
    finally:
        await store.close()


async def test_sighup_reloads_the_config_and_follows_an_added_channel(tmp_path, world):
    service, running = await serve(tmp_path, world, FlakySink())
    write_config(tmp_path, extra='[[channels]]\nid = "gubernator_br"\n')

    send_signal(signal.SIGHUP)
    await eventually(lambda: _followed(service, {RDK, GOV}))
    await world.publish(GOV, "Обстрел автомобиля у границы")
    assert await service.app.store.posts.count() == 1
    assert not running.done()  # a reload is not a stop

    send_signal(signal.SIGTERM)
    await asyncio.wait_for(running, 10)
    assert not world.client.is_connected()


async def _followed(service: LiveService, ids: set[int]) -> bool:
    return set(service.monitor.followed) == ids


async def _true(value: object) -> bool:
    return bool(value)
