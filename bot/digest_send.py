"""Sending the digest once per day to the configured destinations.

A `DigestSender` gets the digest and its chart and renders them its own way, so a
Telegram sender (HTML pieces plus the PNG) plugs in beside the console and JSONL ones.
A day is marked sent only after every sender took it: a failure leaves it unsent, to be
retried by the next `--send` or service start (and then resent to every destination).
"""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import IO, Protocol

from bot.config import Config
from bot.digest import Digest, build_digest
from bot.digest_chart import render_chart
from bot.digest_render import render_json, render_text
from storage import Store
from storage.dates import now_db

log = logging.getLogger(__name__)


class DigestSender(Protocol):
    name: str

    async def send(self, digest: Digest, chart: bytes | None) -> None: ...

    async def close(self) -> None: ...


class ConsoleDigestSender:
    name = "console"

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream or sys.stdout

    async def send(self, digest: Digest, chart: bytes | None) -> None:
        self._stream.write(render_text(digest) + "\n")
        self._stream.flush()

    async def close(self) -> None:
        self._stream.flush()


class JsonlDigestSender:
    """Appends the digest as one JSON line (the chart is not included)."""

    name = "jsonl"

    def __init__(self, path: Path) -> None:
        self._path = path

    async def send(self, digest: Digest, chart: bytes | None) -> None:
        line = render_json(digest, indent=None)
        with self._path.open("a", encoding="utf-8") as out:
            out.write(line + "\n")

    async def close(self) -> None:
        return None


class DigestPublisher:
    """Builds a day's digest and sends it to every sender, once per day."""

    def __init__(
        self,
        store: Store,
        config: Config,
        senders: Sequence[DigestSender],
        *,
        chart: bool = True,
    ) -> None:
        self._store = store
        self._config = config
        self._senders = tuple(senders)
        self._chart = chart
        self._lock = asyncio.Lock()  # the cron job and start-up catch-up may overlap

    async def build(self, day: date) -> Digest:
        settings = self._config.digest
        return await build_digest(self._store, day, settings.timezone, self._config.channels)

    async def send(self, day: date) -> bool:
        """Send `day`'s digest unless it was sent already; True if it went out now."""
        async with self._lock:
            row = await self._store.digests.get(day)
            if row is not None and row.sent_at is not None:
                log.info("digest of %s was sent at %s; not again", day, row.sent_at)
                return False
            digest = await self.build(day)
            async with self._store.transaction():
                await self._store.digests.save(day, render_json(digest))
            chart = await asyncio.to_thread(render_chart, digest) if self._chart else None
            for sender in self._senders:
                await sender.send(digest, chart)
            async with self._store.transaction():
                await self._store.digests.mark_sent(day, now_db())
            log.info("digest of %s sent to %d destination(s)", day, len(self._senders))
            return True
