"""`claimwatch demo`: the bundled raid scenario through the real pipeline, offline.

The scenario (bot/demo_data/README.md) is eight fictional channels' Telegram Desktop
exports from one day of a cross-border raid, and the claims a live blog made about it.
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from bot.app import App
from bot.claimfile import read_claims
from bot.config import load_config
from bot.replay import output_sink
from bot.summary import describe_replay
from monitors.export import read_posts

DEMO_DATA = Path(__file__).parent / "demo_data"


async def run_demo(*, db: Path | None, fmt: str) -> None:
    config = load_config(DEMO_DATA / "config.toml")
    claims = read_claims(DEMO_DATA / "claims.jsonl")
    posts = read_posts(sorted((DEMO_DATA / "exports").iterdir()))
    with tempfile.TemporaryDirectory(prefix="claimwatch-demo-") as scratch:
        app = await App.open(
            config, db_path=db or Path(scratch) / "demo.db", sinks=[output_sink(fmt)]
        )
        try:
            await app.add_claims(claims)
            summary = await app.replay(posts)
            report = await describe_replay(app.store, summary)
        finally:
            await app.close()
    print(report, file=sys.stderr if fmt == "json" else sys.stdout)
