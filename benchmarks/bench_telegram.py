"""The live Telegram source's own cost, over the in-process fake Telegram (no network).

    python -m benchmarks.bench_telegram [--messages N] [--live N]   (from the repo root)

Measures, in one run and on fresh databases: Telethon message -> Post conversion;
a backfill of N messages (Telethon's real iter_messages paging, 100 a page, into the
real pipeline without embedder or translation); the floor for that backfill (the same
Posts straight into `App.process` in the same batch size); and live events (one
UpdateNewChannelMessage at a time through Telethon's dispatcher) with per-event latency.
The last line holds the figures as key=value pairs.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import random
import statistics
import tempfile
import time
from pathlib import Path

from bot.app import App
from bot.config import parse_config
from monitors.telegram import MonitorSettings, TelegramMonitor, to_posts
from tests.fake_telegram import FakeChannels, FakeTelegramClient

CHANNEL = 1500000001
WORDS = ("колонна", "село", "граница", "обстрел", "губернатор", "заложники", "отряд")


def fill(world: FakeChannels, n: int, seed: int = 7) -> None:
    rng = random.Random(seed)
    for _ in range(n):
        world.post(CHANNEL, " ".join(rng.choices(WORDS, k=rng.randint(5, 40))))


async def open_app(scratch: Path, name: str) -> App:
    config = parse_config(
        {"channels": [{"id": "bench_channel"}], "translation": {"backend": "none"}}
    )
    return await App.open(config, db_path=scratch / f"{name}.db", embedder=None)


async def world_and_monitor(app: App, n: int) -> tuple[FakeChannels, TelegramMonitor]:
    world = FakeChannels(FakeTelegramClient())
    world.add_channel(CHANNEL, "bench_channel", "Bench")
    fill(world, n)
    await world.client.connect()
    settings = MonitorSettings(history_on_join=n, batch_size=100)
    monitor = TelegramMonitor(world.client, app.store, app.process, settings)
    monitor.install()
    return world, monitor


async def bench(messages: int, live: int) -> dict[str, float]:
    figures: dict[str, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        scratch = Path(tmp)
        app = await open_app(scratch, "backfill")
        world, monitor = await world_and_monitor(app, messages)
        history = sorted(world.messages[CHANNEL].values(), key=lambda m: m.id)

        start = time.perf_counter()
        posts = to_posts(history, "bench_channel", "Bench")
        figures["convert_msgs/s"] = len(history) / (time.perf_counter() - start)

        # Whichever run comes first pays for lazy loads and cold caches in the stages
        # (about 2x here): a discarded floor run first puts both measures on equal terms.
        await floor(scratch, "warm-up", posts)

        start = time.perf_counter()
        await monitor.set_channels(app.config.channels)
        backfill_s = time.perf_counter() - start
        assert await app.store.posts.count() == messages
        figures["backfill_s"] = backfill_s
        figures["backfill_posts/s"] = messages / backfill_s
        figures["history_requests"] = len(world.client.requests)

        latencies = []
        for i in range(live):
            begin = time.perf_counter()
            await world.publish(CHANNEL, f"{WORDS[i % len(WORDS)]} живое сообщение {i}")
            latencies.append((time.perf_counter() - begin) * 1000)
        figures["live_events/s"] = live / (sum(latencies) / 1000)
        figures["live_p50_ms"] = statistics.median(latencies)
        figures["live_p99_ms"] = statistics.quantiles(latencies, n=100)[98]
        await app.close()

        figures["floor_s"] = await floor(scratch, "floor", posts)
        figures["ratio"] = backfill_s / figures["floor_s"]
    return figures


async def floor(scratch: Path, name: str, posts: list) -> float:
    """The same posts straight into the pipeline, 100 a batch as a history page: seconds."""
    app = await open_app(scratch, name)
    start = time.perf_counter()
    for at in range(0, len(posts), 100):
        await app.process([copy.copy(post) for post in posts[at : at + 100]])
    seconds = time.perf_counter() - start
    await app.close()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--live", type=int, default=2000)
    args = parser.parse_args()
    figures = asyncio.run(bench(args.messages, args.live))
    print(
        f"messages={args.messages} live={args.live} "
        + " ".join(
            f"{key}={value:.2f}" if isinstance(value, float) else f"{key}={value}"
            for key, value in figures.items()
        )
    )


if __name__ == "__main__":
    main()
