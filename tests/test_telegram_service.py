"""`claimwatch run`, `login` and `status`: the service lifecycle around the monitor, over
the in-process fake Telegram, and the CLI's contracts for missing credentials."""

from __future__ import annotations

import asyncio
import stat
from datetime import UTC, datetime, timedelta

import pytest
from click.testing import CliRunner
from telethon import errors
from telethon.tl import functions

from bot.cli import cli
from bot.config import ConfigError, parse_config
from bot.live import LiveService
from bot.schedule import due_day, utc_now
from bot.secrets import Secrets
from bot.session import open_client, session_path
from bot.status import show_status
from tests.conftest import GOV, RDK
from tests.fake_telegram import rpc_error

ENV = {"CLAIMWATCH_API_ID": "12345", "CLAIMWATCH_API_HASH": "abcdef"}
CONFIG = """
[[channels]]
id = "rdk_front"
{extra}
[translation]
backend = "none"
[telegram]
session = "{session}"
"""


def write_config(tmp_path, extra: str = ""):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(extra=extra, session=tmp_path / "s.session"), encoding="utf-8")
    return path


async def open_service(tmp_path, world) -> LiveService:
    return await LiveService.prepare(
        write_config(tmp_path),
        db=tmp_path / "live.db",
        env=ENV,
        client_factory=lambda config, secrets: world.client,
        sinks=[],
        embedder=None,
        monitor_overrides={"resolve_spacing_s": 0},
    )


async def eventually(check, timeout_s: float = 2.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not await check():
        assert asyncio.get_running_loop().time() < deadline, "condition never held"
        await asyncio.sleep(0.01)


async def stored_count(service: LiveService) -> int:
    return await service.app.store.posts.count()


async def test_the_service_backfills_follows_and_stops_cleanly(tmp_path, world):
    world.post(RDK, "Пост до запуска")
    service = await open_service(tmp_path, world)
    await service.start()
    await service.monitor.set_channels(service.app.config.channels)  # waits for the first pass
    await world.publish(RDK, "Пост в прямом эфире")
    assert await stored_count(service) == 2
    store_path = service.app.store.db.path
    assert service.scheduler.get_job("digest") is not None
    due = due_day(service.app.config.digest, utc_now())

    await asyncio.sleep(0.05)  # the start-up catch-up has run
    assert await service.app.store.digests.get(due) is None  # a first start owes no digest
    await service.stop()
    assert not service.scheduler.running

    lines: list[str] = []
    await show_status(store_path, _Lines(lines), now=datetime(2023, 3, 2, 9, 0, tzinfo=UTC))
    text = "".join(lines)
    assert "channels: 1   alerts waiting for delivery: 0" in text
    assert "@rdk_front" in text and "last post 58m ago" in text and "synced 1" in text


async def test_sighup_reload_adds_a_channel(tmp_path, world):
    service = await open_service(tmp_path, world)
    await service.start()
    extra = '[[channels]]\nid = "gubernator_br"\ncategory = "official"\nlanguages = ["uk"]\n'
    write_config(tmp_path, extra=extra + '[[claims]]\nid = "new"\ntext = "A new claim"\n')
    await service.reload()
    await eventually(lambda: _followed(service, {RDK, GOV}))
    await world.publish(GOV, "Новий канал читається")
    assert await stored_count(service) == 1
    assert "new" in service.app.matcher
    [row] = [r async for r in service.app.store.posts.export_rows()]
    assert (row["category"], row["lang"]) == ("official", "uk")  # the new channel's settings
    await service.stop()


async def test_a_lost_connection_is_restored_and_reconciled(tmp_path, world):
    service = await open_service(tmp_path, world)
    await service.start()
    await service.monitor.set_channels(service.app.config.channels)
    await world.client._sender.disconnect()
    world.post(RDK, "Пока связи не было")
    await eventually(lambda: _stored(service, 1), timeout_s=10)  # reconnect backs off
    assert world.client.is_connected()
    assert service.monitor.counters.totals["disconnected"] == 1
    await service.stop()


async def test_reconcile_runs_on_the_shared_scheduler_and_its_failures_reach_the_service(
    tmp_path, world
):
    service = await open_service(tmp_path, world)
    await service.start()
    await service.monitor.set_channels(service.app.config.channels)
    job = service.scheduler.get_job("reconcile")
    assert (job.coalesce, job.max_instances) == (True, 1)
    assert job.trigger.interval == timedelta(minutes=5)
    world.post(RDK, "Пропущенное обновлениями")
    await job.func()
    assert await stored_count(service) == 1
    world.client.fail_next(
        functions.messages.GetHistoryRequest, rpc_error(errors.AuthKeyUnregisteredError)
    )
    await job.func()  # an expired session is fatal, not lost in APScheduler's log
    assert service.stopping.is_set() and service.fatal is not None
    await service.stop()


async def test_an_expired_session_stops_the_service_with_a_clear_error(tmp_path, world):
    world.client.fail_next(
        functions.messages.GetHistoryRequest, rpc_error(errors.AuthKeyUnregisteredError)
    )
    service = await open_service(tmp_path, world)
    with pytest.raises(ConfigError, match="claimwatch login"):
        await asyncio.wait_for(service.run_until_stopped(), 5)


async def test_a_session_not_logged_in_is_a_config_error(tmp_path, world):
    world.client.fail_next(
        functions.updates.GetStateRequest, rpc_error(errors.AuthKeyUnregisteredError)
    )
    service = await open_service(tmp_path, world)
    with pytest.raises(ConfigError, match="not logged in"):
        await service.run_until_stopped()


@pytest.mark.parametrize(
    ("env", "missing"),
    [({}, "CLAIMWATCH_API_ID"), ({"CLAIMWATCH_API_ID": "5"}, "CLAIMWATCH_API_HASH")],
)
@pytest.mark.parametrize("command", ["run", "login"])
def test_missing_credentials_exit_2_naming_the_variable(tmp_path, command, env, missing):
    args = [command, "--config", str(write_config(tmp_path))]
    if command == "run":
        args += ["--db", str(tmp_path / "never.db")]
    result = CliRunner().invoke(cli, args, env={**dict.fromkeys(ENV), **env})
    assert result.exit_code == 2
    assert missing in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not (tmp_path / "never.db").exists()  # nothing opened before the check


def test_the_session_file_is_owner_only(tmp_path):
    config = parse_config({"telegram": {"session": str(tmp_path / "acct")}}).telegram
    client = open_client(config, Secrets.from_env(ENV))
    path = session_path(config)
    assert path.name == "acct.session"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    client.session.close()


def test_status_needs_an_existing_database(tmp_path):
    result = CliRunner().invoke(cli, ["status", "--db", str(tmp_path / "missing.db")])
    assert result.exit_code == 2 and "does not exist" in result.output


async def _followed(service: LiveService, ids: set[int]) -> bool:
    return set(service.monitor.followed) == ids


async def _stored(service: LiveService, n: int) -> bool:
    return await stored_count(service) == n


class _Lines:
    def __init__(self, lines: list[str]) -> None:
        self.write = lines.append
