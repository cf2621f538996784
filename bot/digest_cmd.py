"""`claimwatch digest`: preview any day's digest, write its chart, or send it once."""

from __future__ import annotations

import asyncio
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from bot.config import Config
from bot.digest import Digest
from bot.digest_chart import render_chart
from bot.digest_render import render_html, render_json, render_text
from bot.digest_send import DigestPublisher
from bot.outputs import build_outputs
from storage import Store


def write_chart(digest: Digest, out: Path) -> Path:
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"digest-{digest.period.day.isoformat()}.png"
    path.write_bytes(render_chart(digest))
    return path


def yesterday(tz: str) -> date:
    return datetime.now(ZoneInfo(tz)).date() - timedelta(days=1)


async def digest_command(
    config: Config,
    *,
    day: date | None,
    db: Path | None,
    fmt: str,
    out: Path | None,
    send: bool,
    stream: IO[str] = sys.stdout,
) -> None:
    """Without `send`, print the digest in `fmt`; with it, deliver it (once per day)."""
    day = day or yesterday(config.digest.timezone)
    store = await Store.open(db or config.storage.path)
    try:
        publisher = DigestPublisher(
            store, config, build_outputs(config).digest_senders if send else ()
        )
        digest = await publisher.build(day)
        if out is not None:
            chart = await asyncio.to_thread(write_chart, digest, out)
            print(f"chart: {chart}", file=sys.stderr)
        if send:
            sent = await publisher.send(day)
            print(f"digest of {day}: {'sent' if sent else 'already sent'}", file=sys.stderr)
        elif fmt == "json":
            stream.write(render_json(digest) + "\n")
        elif fmt == "html":
            stream.write("\n\n".join(render_html(digest)) + "\n")
        else:
            stream.write(render_text(digest) + "\n")
    finally:
        await store.close()
