"""Per-stage cost of the pipeline without the sentence encoder, and a fingerprint of its output.

    python benchmarks/bench_pipeline_cpu.py EXPORT... [--claims 1000] [--profile OUT.pstats]
        [--dump OUT.jsonl]

The real encoder (~4 ms a post) drowns everything else, so a stand-in gives each text a
hashed bag-of-words vector (unit length, 512-d, cheap, and similar texts get close vectors).
Figures are CPU time of this process, so other work on a shared core blurs them less:
stages by their thread's CPU, the rest (storage with its SQLite thread, batching) as the
process's CPU less the stages'. `--dump` writes every stored row the pipeline derives
(posts, versions, clusters, matches, alerts; wall-clock stamps left out), so two runs can
be diffed for equal output.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import sqlite3
import tempfile
import time
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from bot.app import App
from bot.bench import StageTimer, export_paths
from bot.bench_claims import synthetic_claims
from bot.cli import read_config
from bot.sinks import JsonlSink
from monitors.export import read_posts
from monitors.language import detect

_DUMPS = {
    "posts": "SELECT channel_id, message_id, date, text, text_hash, lang, translation,"
    " translation_state, cluster_id, version, edit_date, forward_channel_id,"
    " forward_message_id, forward_name, grouped_id, reply_to, media FROM posts ORDER BY id",
    "post_versions": "SELECT post_id, version, text, edit_date FROM post_versions"
    " ORDER BY post_id, version",
    "clusters": "SELECT * FROM clusters ORDER BY id",
    "matches": "SELECT post_id, claim_id, score, stance, reasons, alert FROM matches ORDER BY id",
    "alerts": "SELECT id, match_id, claim_id, cluster_id FROM alerts ORDER BY id",
    "deliveries": "SELECT alert_id, destination, status FROM deliveries ORDER BY alert_id",
    "channels": "SELECT id, username, title, category, cursor, last_post_at FROM channels",
    "fts": "SELECT rowid, text, translation FROM posts_fts WHERE posts_fts MATCH 'Украина'"
    " ORDER BY rowid",
}


class HashedWords:
    """A stand-in encoder: feature-hashed word counts, normalised."""

    dim = 512

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in text.lower().split():
                out[row, zlib.crc32(word.encode()) % self.dim] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.maximum(norms, 1e-9)


async def run(paths: list[Path], claims: int, db: Path, profile: Path | None) -> None:
    posts = read_posts(export_paths(paths))
    detect("Прогрев детектора языка перед замером.", ())
    config = read_config(None, translation={"backend": "none"})
    app = await App.open(
        config, db_path=db, sinks=[JsonlSink(path=Path(os.devnull))], embedder=HashedWords()
    )
    try:
        await app.add_claims(synthetic_claims(claims))
        timer = StageTimer(clock=time.thread_time)
        app.pipeline.wrap_stages(timer.wrap)
        profiler = cProfile.Profile() if profile else None
        began = time.process_time()
        if profiler:
            profiler.enable()
        await app.replay(posts)
        if profiler:
            profiler.disable()
            profiler.dump_stats(profile)
        seconds = time.process_time() - began
    finally:
        await app.close()
    rest = seconds - sum(timer.seconds.values())
    for name, spent in [*timer.seconds.items(), ("storage, delivery, batching", rest)]:
        print(f"{name:<28} {spent / len(posts) * 1000:7.3f} ms/post")
    others = seconds - timer.seconds.get("Embed", 0.0)
    print(
        f"posts={len(posts)} cpu_seconds={seconds:.2f} non_embed_ms_per_post="
        f"{others / len(posts) * 1000:.3f}"
    )


def dump(db: Path, out: Path) -> None:
    conn = sqlite3.connect(db)
    with out.open("w") as f:
        for name, sql in _DUMPS.items():
            for row in conn.execute(sql):
                f.write(json.dumps([name, *row], ensure_ascii=False) + "\n")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--claims", type=int, default=1000)
    parser.add_argument("--profile", type=Path)
    parser.add_argument("--dump", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        asyncio.run(run(args.paths, args.claims, db, args.profile))
        if args.dump:
            dump(db, args.dump)


if __name__ == "__main__":
    main()
