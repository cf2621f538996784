"""`claimwatch digest`: preview any day's digest, write its chart, or send it once."""

from __future__ import annotations

import asyncio
import contextlib
import sys
from contextlib import AbstractAsyncContextManager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO
from zoneinfo import ZoneInfo

from telethon import TelegramClient

from bot.config import Config
from bot.digest import Digest
from bot.digest_chart import render_chart
from bot.digest_render import render_html, render_json, render_text
from bot.digest_send import DigestPublisher
from bot.outputs import build_outputs
from bot.secrets import Secrets
from bot.session import chat_client
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
    stream: IO[str] | None = None,
    chat: AbstractAsyncContextManager[TelegramClient | None] | None = None,
) -> None:
    """Without `send`, print the digest in `fmt`; with it, deliver it (once per day) to
    every destination, the alert chats through `chat` (by default the configured bot)."""
    day = day or yesterday(config.digest.timezone)
    if not send:
        chat = contextlib.nullcontext()
    async with chat or chat_client(config, Secrets.from_env()) as client:
        await _digest(config, day, db, fmt, out, send, stream or sys.stdout, client)


async def _digest(
    config: Config,
    day: date,
    db: Path | None,
    fmt: str,
    out: Path | None,
    send: bool,
    stream: IO[str],
    client: TelegramClient | None,
) -> None:
    store = await Store.open(db or config.storage.path)
    try:
        senders = build_outputs(config, client).digest_senders if send else ()
        publisher = DigestPublisher(store, config, senders, chart=client is not None)
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
