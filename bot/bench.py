"""`claimwatch bench`: how fast the full pipeline runs, and how close it is to its floor.

What is measured, so the figures can be trusted:
- The exports are parsed and the embedding and language models are loaded and warmed up
  before any clock starts: parsing and model loads are excluded from both the pipeline and
  the floor.
- `seconds`: `App.replay` over every post (translation off, the configured embedder, the
  synthetic claims already indexed), alerts delivered to a JSON-lines sink on /dev/null.
- Per-post latency: from the moment the batch carrying the post enters the pipeline to
  the moment that batch is committed and its alerts are delivered. Every post of a batch
  waits for the whole batch, so each gets the batch's full wall time (not a share of it).
  Waiting before the batch starts is not counted: a replay has every post at hand.
- `floor_s`: in the same run, the same posts inserted into a bare SQLite table (same
  pragmas, one commit per batch, as the pipeline) plus one pass of the same embedder over
  the same non-empty texts in plain batches, without their links as the pipeline's encoder
  reads them (it also glosses Ukrainian, which would need the language detected first).
  `ratio` = seconds / floor_s. The floor runs first, so its pass pays for computing each
  sentencepiece piece's projection once (`monitors.use_onnx.PieceProjections`) and the
  pipeline finds them known, as a service that has run for a while does (0.3 s of the
  floor for ru-news' 25,000 pieces).
- `peak_rss_mb`: the process's peak resident set (getrusage), models and parsed posts
  included; the replay drops each post once the pipeline has it, as a service never holds
  a whole replay (22,099 posts of ru-news are ~40 MB).
"""

from __future__ import annotations

import os
import resource
import sqlite3
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import islice
from pathlib import Path
from typing import IO

import numpy as np

from bot.app import BATCH_SIZE, App
from bot.bench_claims import synthetic_claims
from bot.config import Config
from bot.replay import handed_over
from bot.sinks import JsonlSink
from monitors.embedding import Embedder, load_embedder
from monitors.export import read_posts
from monitors.language import detect
from monitors.matching.text import embed_text
from monitors.models import Post
from monitors.stages import Item, Stage


@dataclass(frozen=True, slots=True)
class Figures:
    posts: int
    seconds: float
    p50_ms: float
    p99_ms: float
    peak_rss_mb: float
    floor_s: float

    def line(self) -> str:
        """The key=value line DESIGN.md promises (read by scripts)."""
        return (
            f"posts={self.posts} seconds={self.seconds:.2f} "
            f"posts/s={self.posts / self.seconds:.0f} p50_ms={self.p50_ms:.1f} "
            f"p99_ms={self.p99_ms:.1f} peak_rss_mb={self.peak_rss_mb:.0f} "
            f"floor_s={self.floor_s:.2f} ratio={self.seconds / self.floor_s:.2f}"
        )


class StageTimer:
    """Seconds spent in each stage, summed over batches, by `clock` (wall time here; a
    thread's CPU time where other work on a shared core must not count)."""

    def __init__(self, clock: Callable[[], float] = time.perf_counter) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self._clock = clock

    def wrap(self, stage: Stage) -> Stage:
        name = type(stage).__name__

        async def timed(items: list[Item]) -> None:
            began = self._clock()
            await stage(items)
            self.seconds[name] += self._clock() - began

        return timed


@dataclass(slots=True)
class _Run:
    seconds: float
    latencies: list[float]
    stages: dict[str, float]


async def run_bench(
    config: Config, paths: Sequence[Path], *, claims: int, db: Path | None, out: IO[str]
) -> Figures:
    """Replay `paths` through the pipeline and the floor; print a breakdown, then the line."""
    posts = read_posts(export_paths(paths))
    count = len(posts)
    embedder = load_embedder(config.matching.embedder)
    # Models load lazily on first use: load them here, outside every clock.
    detect("Прогрев детектора языка перед замером.", ())
    if embedder is not None:
        embedder.encode(["warm-up"])
    with tempfile.TemporaryDirectory(dir=db.parent if db else None) as tmp:
        sqlite_s, embed_s = measure_floor(posts, embedder, Path(tmp) / "floor.db")
        run = await _run_pipeline(config, posts, embedder, db or Path(tmp) / "bench.db", claims)
    figures = Figures(
        posts=count,
        seconds=run.seconds,
        p50_ms=float(np.percentile(run.latencies, 50)) * 1000 if run.latencies else 0.0,
        p99_ms=float(np.percentile(run.latencies, 99)) * 1000 if run.latencies else 0.0,
        peak_rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        floor_s=sqlite_s + embed_s,
    )
    _print_breakdown(out, count, run, sqlite_s, embed_s)
    print(figures.line(), file=out)
    return figures


def export_paths(paths: Sequence[Path]) -> list[Path]:
    """The exports among `paths`: a corpus folder stands for the export folders in it, and
    plain files other than JSON are skipped, so `bench corpus/*` works next to a README."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir() and not (path / "result.json").exists():
            found += sorted(sub.parent for sub in path.glob("*/result.json"))
        elif path.is_dir() or path.suffix == ".json":
            found.append(path)
        else:
            print(f"bench: skipped {path} (not an export)", file=sys.stderr)
    return found


def measure_floor(
    posts: Sequence[Post], embedder: Embedder | None, path: Path
) -> tuple[float, float]:
    """Seconds for the unavoidable work: a bare insert of the posts, one embedding pass."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        conn.execute("PRAGMA synchronous = NORMAL")
        conn.execute(
            "CREATE TABLE posts (channel_id INTEGER, message_id INTEGER, date TEXT, text TEXT,"
            " PRIMARY KEY (channel_id, message_id))"
        )
        began = time.perf_counter()
        for batch in _batches(posts):
            conn.execute("BEGIN")
            conn.executemany(
                "INSERT INTO posts VALUES (?, ?, ?, ?)",
                [(p.channel_id, p.message_id, p.date.isoformat(), p.text) for p in batch],
            )
            conn.execute("COMMIT")
        sqlite_s = time.perf_counter() - began
    finally:
        conn.close()
    began = time.perf_counter()
    if embedder is not None:
        # a batch's texts at a time: all at once they held 23 MB more (the run's peak: 9)
        texts = (embed_text(p.text) for p in posts if p.text.strip())
        while batch := list(islice(texts, BATCH_SIZE)):
            embedder.encode(batch)
    return sqlite_s, time.perf_counter() - began


async def _run_pipeline(
    config: Config, posts: list[Post], embedder: Embedder | None, db: Path, claims: int
) -> _Run:
    sink = JsonlSink(path=Path(os.devnull))
    app = await App.open(config, db_path=db, sinks=[sink], embedder=embedder)
    try:
        await app.add_claims(synthetic_claims(claims))
        timer = StageTimer()
        app.pipeline.wrap_stages(timer.wrap)
        latencies: list[float] = []
        began = last = time.perf_counter()

        def batch_done(count: int) -> None:
            nonlocal last
            now = time.perf_counter()
            latencies.extend([now - last] * count)
            last = now

        await app.replay(handed_over(posts), progress=batch_done)
        seconds = time.perf_counter() - began
    finally:
        await app.close()
    return _Run(seconds, latencies, dict(timer.seconds))


def _print_breakdown(out: IO[str], posts: int, run: _Run, sqlite_s: float, embed_s: float) -> None:
    rest = run.seconds - sum(run.stages.values())
    rows = [*run.stages.items(), ("storage, delivery, batching", rest)]
    for name, seconds in rows:
        print(
            f"stage {name:<28} {seconds:7.2f} s  {seconds / max(posts, 1) * 1000:6.3f} ms/post"
            f"  {seconds / run.seconds:6.1%}",
            file=out,
        )
    print(f"floor sqlite {sqlite_s:.2f} s, embedding {embed_s:.2f} s", file=out)


def _batches(rows: Sequence) -> list[Sequence]:
    return [rows[start : start + BATCH_SIZE] for start in range(0, len(rows), BATCH_SIZE)]
