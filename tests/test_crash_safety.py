"""SIGKILL `claimwatch replay` at random points, restart it, and check nothing is lost.

Every post must be stored exactly once, the database must pass `PRAGMA integrity_check`
after every kill, and every alert must be printed at least once; an alert may be printed
again only if its delivery was not yet marked sent when the process died (the outbox's
documented window, bot/delivery.py).
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from click.testing import CliRunner

from bot.bench_claims import synthetic_claims
from bot.cli import cli
from monitors.export import read_posts
from storage import Store
from storage.dates import now_db

CHANNELS = (1500000001, 1500000002, 1500000003)
POSTS_PER_CHANNEL = 100
STORIES = 30
KILLS = 3
RUN_TIMEOUT_S = 120
# Small batches give the child many commit points between which a kill can land.
CHILD = "import bot.app; bot.app.BATCH_SIZE = 8; from bot.cli import main; main()"
WORDS = ("обстрел", "колонна", "дрон", "склад", "мост", "завод", "поезд", "граница")
PLACES = ("Курск", "Брянск", "Суджа", "Шебекино", "Клинцы", "Рыльск", "Глушково", "Валуйки")


def write_exports(root: Path, seed: int) -> list[Path]:
    """Three channels of 100 posts, interleaved in time; every third post of the first
    carries a claim's words (so it alerts), the rest is distinct Russian filler."""
    rng = random.Random(seed)
    claims = synthetic_claims(STORIES)
    folders = []
    for c, channel in enumerate(CHANNELS):
        messages = []
        for mid in range(1, POSTS_PER_CHANNEL + 1):
            n = mid * len(CHANNELS) + c  # channels interleave in time
            if c == 0 and mid % 3 == 1 and mid // 3 < STORIES:
                text = f"Срочно. {claims[mid // 3].text}"
            else:
                words = rng.choices(WORDS, k=6) + rng.choices(PLACES, k=4)
                text = " ".join(rng.sample(words, len(words))) + f" сводка {n}"
            stamp = 1700000000 + 60 * n
            messages.append(
                {
                    "id": mid,
                    "type": "message",
                    "date": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(stamp)),
                    "date_unixtime": str(stamp),
                    "text": text,
                }
            )
        folder = root / f"channel_{channel}"
        folder.mkdir()
        data = {"name": f"Channel {c}", "type": "public_channel", "id": channel}
        (folder / "result.json").write_text(
            json.dumps({**data, "messages": messages}, ensure_ascii=False), encoding="utf-8"
        )
        folders.append(folder)
    return folders


def write_config(path: Path) -> Path:
    lines = []
    for claim in synthetic_claims(STORIES):
        lines += ["[[claims]]", f'id = "{claim.id}"', f"text = {json.dumps(claim.text)}", ""]
    lines += ["[translation]", 'backend = "none"', "", "[matching]", 'embedder = "none"']
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def replay(args: list[str], out: Path, kill_after: float | None = None) -> int:
    """Replay in a child with small batches, alerts as JSON lines into `out`; with
    `kill_after`, SIGKILL it that many seconds after it starts working (its progress bar
    appears once the database is open), not while it is still importing."""
    progress = out.with_suffix(".progress")
    with out.open("w", encoding="utf-8") as stdout, progress.open("w") as stderr:
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD, "replay", *args, "--format", "json", "--progress"],
            stdout=stdout,
            stderr=stderr,
        )
        if kill_after is not None:
            while child.poll() is None and not progress.stat().st_size:
                time.sleep(0.005)
            try:
                child.wait(kill_after)
            except subprocess.TimeoutExpired:
                child.send_signal(signal.SIGKILL)
        try:
            return child.wait(RUN_TIMEOUT_S)
        finally:
            if child.poll() is None:  # hung: fail the test, leave no process behind
                child.kill()
                child.wait()


def export(what: str, db: Path) -> list[dict]:
    """`claimwatch export WHAT --db DB` as JSON lines."""
    result = CliRunner().invoke(cli, ["export", what, "--db", str(db)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def printed(out: Path) -> list[int]:
    """Alert ids of the complete lines a run printed (a kill can cut the last one)."""
    text = out.read_text(encoding="utf-8")
    return [json.loads(line)["alert_id"] for line in text[: text.rfind("\n") + 1].splitlines()]


def integrity(db: Path) -> str:
    conn = sqlite3.connect(db)
    try:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]
    finally:
        conn.close()


def unsent(db: Path) -> set[int]:
    """Alerts whose delivery is still pending in the database as the kill left it."""

    async def pending() -> set[int]:
        store = await Store.open(db)
        try:
            return set(await store.alerts.due("jsonl", now_db(), limit=1_000_000))
        finally:
            await store.close()

    return asyncio.run(pending())


def alert_keys(rows: list[dict]) -> set[tuple]:
    return {(row["claim_id"], row["channel_id"], row["message_id"]) for row in rows}


def test_sigkilled_replay_loses_and_doubles_nothing(tmp_path, monkeypatch):
    rng = random.Random(20240310)
    folders = write_exports(tmp_path, seed=7)
    config = write_config(tmp_path / "config.toml")
    paths = [str(folder) for folder in folders]

    # A clean run, in process, gives the expected alerts and how long the work takes.
    monkeypatch.setattr("bot.app.BATCH_SIZE", 8)
    reference = tmp_path / "reference.db"
    began = time.monotonic()
    clean = CliRunner().invoke(
        cli, ["replay", *paths, "--config", str(config), "--db", str(reference)]
    )
    work = time.monotonic() - began
    assert clean.exit_code == 0, clean.output
    expected_alerts = alert_keys(export("alerts", reference))
    assert len(expected_alerts) >= STORIES

    db = tmp_path / "crash.db"
    args = [*paths, "--config", str(config), "--db", str(db)]
    runs: list[tuple[list[int], set[int]]] = []  # (ids printed, ids unsent at the kill)
    kills = 0
    while kills < KILLS:  # each run gets a random share of the work done before its kill
        out = tmp_path / f"run{len(runs)}.jsonl"
        status = replay(args, out, kill_after=rng.uniform(0, work / 2))
        if status != -signal.SIGKILL:
            runs.append((printed(out), set()))
            break  # it finished: nothing is left to interrupt
        kills += 1
        assert integrity(db) == "ok"
        ids, pending = printed(out), unsent(db)
        # Delivery is sequential (send, then mark sent): one alert at most is in between.
        assert len(set(ids) & pending) <= 1
        runs.append((ids, pending))
    assert kills >= 2
    assert replay(args, tmp_path / "final.jsonl") == 0
    runs.append((printed(tmp_path / "final.jsonl"), set()))
    assert integrity(db) == "ok"

    posts = export("posts", db)
    assert Counter((p["channel_id"], p["message_id"]) for p in posts).most_common(1)[0][1] == 1
    stored = {(p["channel_id"], p["message_id"]): p["text"] for p in posts}
    assert stored == {post.key: post.text for post in read_posts(folders)}

    alerts = export("alerts", db)
    assert alert_keys(alerts) == expected_alerts
    times_printed = Counter(alert_id for ids, _ in runs for alert_id in ids)
    assert set(times_printed) == {alert["alert_id"] for alert in alerts}
    for alert_id, count in times_printed.items():
        in_window = sum(1 for ids, pending in runs if alert_id in ids and alert_id in pending)
        assert count - 1 <= in_window, f"alert {alert_id} printed {count} times"
