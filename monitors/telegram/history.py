"""Reading channel history: the backfill on start and the periodic reconciliation.

Telethon's update catch-up drops channel messages (long gaps, flood waits during
getChannelDifference), so live events alone are not enough. Each channel's `synced_id`
marks how far history was read without a gap; a pass reads everything newer, oldest
first, in batches. Inserts are idempotent, so overlap with live events is harmless.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence

from telethon import TelegramClient
from telethon.tl import types

from monitors.models import Post
from monitors.telegram.convert import to_posts
from monitors.telegram.guard import Retry
from monitors.telegram.resolver import ChannelRef
from storage import ChannelRow, Store

log = logging.getLogger(__name__)

Process = Callable[[Sequence[Post]], Awaitable[object]]
Progress = Callable[[ChannelRef, int], None]


class History:
    def __init__(
        self,
        client: TelegramClient,
        store: Store,
        process: Process,
        retry: Retry,
        *,
        history_on_join: int,
        batch_size: int = 100,
        page_wait_s: float | None = None,
        progress: Progress | None = None,
    ) -> None:
        self._client = client
        self._store = store
        self._process = process
        self._retry = retry
        self._on_join = history_on_join
        self._batch = batch_size
        self._page_wait = page_wait_s  # None: Telethon's own pause between long pages
        self._progress = progress

    async def sync(self, ref: ChannelRef) -> int:
        """Read everything after the channel's synced point; return messages read.

        Progress is committed batch by batch, so a retry after a flood wait or a
        disconnect resumes where the last batch ended."""
        return await self._retry(f"history of {ref}", lambda: self._sync_once(ref), ref.id)

    async def _sync_once(self, ref: ChannelRef) -> int:
        since = _resume_after(await self._store.channels.get(ref.id))
        if since is not None:
            messages = self._client.iter_messages(
                ref.peer, min_id=since, reverse=True, wait_time=self._page_wait
            )
            return await self._feed(ref, messages)
        return await self._first_look(ref)

    async def _first_look(self, ref: ChannelRef) -> int:
        """A channel never read: take the configured amount of recent history, and at
        least learn the newest id so the next pass starts there."""
        newest = [
            m
            async for m in self._client.iter_messages(
                ref.peer, limit=max(self._on_join, 1), wait_time=self._page_wait
            )
        ]
        if not self._on_join or not newest:
            await self._mark_synced(ref, newest)
            return 0
        return await self._feed(ref, _aiter(reversed(newest)))

    async def _feed(self, ref: ChannelRef, messages: AsyncIterator[types.TypeMessage]) -> int:
        read, batch = 0, []
        async for message in messages:
            batch.append(message)
            if len(batch) >= self._batch:
                batch, held = _hold_open_album(batch)
                read += await self._flush(ref, batch)
                batch = held
        if batch:
            read += await self._flush(ref, batch)
        return read

    async def _flush(self, ref: ChannelRef, messages: list[types.TypeMessage]) -> int:
        posts = to_posts(messages, ref.username, ref.title)
        if posts:
            await self._process(posts)
        await self._mark_synced(ref, messages)
        if self._progress:
            self._progress(ref, len(messages))
        return len(messages)

    async def _mark_synced(self, ref: ChannelRef, messages: Sequence[types.TypeMessage]) -> None:
        async with self._store.transaction():
            await self._store.channels.set_synced(ref.id, max((m.id for m in messages), default=0))


def _resume_after(row: ChannelRow | None) -> int | None:
    """The message id reading resumes after; None: never read, take recent history."""
    if row is None:
        return None
    if row.synced_id is not None:
        return row.synced_id
    return row.cursor or None  # posts imported from an export: continue after them


def _hold_open_album(batch: list) -> tuple[list, list]:
    """Split off a trailing album, which may continue in the next page: an album is
    one post and must not be cut in two."""
    group = getattr(batch[-1], "grouped_id", None)
    if group is None:
        return batch, []
    cut = len(batch)
    while cut > 0 and getattr(batch[cut - 1], "grouped_id", None) == group:
        cut -= 1
    if cut == 0:  # a whole batch of one album: nothing to hold it against
        return batch, []
    return batch[:cut], batch[cut:]


async def _aiter(items) -> AsyncIterator:
    for item in items:
        yield item
