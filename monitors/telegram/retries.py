"""Live events whose processing failed, tried again on the next reconcile pass.

A failed new message would be re-read by history anyway (the synced point has not
passed it), but an edit or a deletion of an older message is never seen again. So the
message ids of a failed event are kept here and re-fetched by id: that gets their
latest state, whatever happened meanwhile, and a message the server no longer has was
deleted. The queue is bounded, and a message failing pass after pass is given up.

The queue is written to the database whenever it changes, so a crash or a restart
before the next pass loses none of it. Writing is best effort: when the database is
what failed, the queue still lives in memory and the next pass retries it.
"""

from __future__ import annotations

import asyncio
import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence

from telethon import TelegramClient
from telethon.tl import types

from monitors.models import Post
from monitors.telegram.convert import to_post
from monitors.telegram.guard import Retry, SessionExpired
from monitors.telegram.handlers import mark_deleted, read_album
from monitors.telegram.history import Process
from monitors.telegram.resolver import ChannelRef
from storage import Store
from storage.retries import MessageKey

log = logging.getLogger(__name__)

MAX_PENDING = 1000  # messages; beyond this the oldest failure is given up
MAX_PASSES = 5  # passes a message may fail before it is given up


class FailedEvents:
    def __init__(
        self,
        client: TelegramClient,
        store: Store,
        process: Process,
        retry: Retry,
        *,
        max_pending: int = MAX_PENDING,
        max_passes: int = MAX_PASSES,
    ) -> None:
        self._client = client
        self._store = store
        self._process = process
        self._retry = retry
        self._counters = retry.counters
        self._max_pending = max_pending
        self._max_passes = max_passes
        # (channel id, message id) -> passes failed so far, oldest failure first
        self._pending: dict[MessageKey, int] = {}
        self._in_flight: dict[MessageKey, int] = {}  # taken by the running pass
        self._loaded = False
        self._writing = asyncio.Lock()

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, channel_id: int, message_ids: Sequence[int]) -> None:
        """Keep a failed event's messages for the next pass (the handlers' `on_failed`)."""
        await self._load()
        for message_id in message_ids:
            self._pending.setdefault((channel_id, message_id), 0)
        while len(self._pending) > self._max_pending:
            key = next(iter(self._pending))
            del self._pending[key]
            self._give_up(key, "the retry queue is full")
        await self._save()

    async def retry(self, followed: Mapping[int, ChannelRef]) -> None:
        """Re-fetch and process every pending message of a followed channel; a channel
        that fails again keeps its messages for the next pass."""
        await self._load()
        pending, self._pending = self._pending, {}
        self._in_flight = dict(pending)
        by_channel: dict[int, list[int]] = defaultdict(list)
        for channel_id, message_id in pending:
            by_channel[channel_id].append(message_id)
        try:
            for channel_id, message_ids in by_channel.items():
                await self._retry_channel(followed, pending, channel_id, message_ids)
                for message_id in message_ids:
                    del self._in_flight[(channel_id, message_id)]
        finally:
            self._pending = {**self._in_flight, **self._pending}  # left by a SessionExpired
            self._in_flight = {}
            if pending:
                await self._save()

    async def _retry_channel(
        self,
        followed: Mapping[int, ChannelRef],
        pending: Mapping[MessageKey, int],
        channel_id: int,
        message_ids: list[int],
    ) -> None:
        ref = followed.get(channel_id)
        if ref is None:
            return  # no longer followed: nothing to keep complete
        try:
            await self._apply(ref, message_ids)
        except SessionExpired:
            self._requeue(pending, channel_id, message_ids, failed=False)
            raise
        except Exception as exc:
            self._counters.count("retry_error", channel_id, repr(exc))
            log.error("retrying %d message(s) of %s failed: %r", len(message_ids), ref, exc)
            self._requeue(pending, channel_id, message_ids, failed=True)
        else:
            self._counters.count("retried", channel_id, f"{len(message_ids)} message(s)")

    async def _load(self) -> None:
        """Take in the queue a previous run left, once, ahead of what failed since."""
        if self._loaded:
            return
        async with self._writing:
            if self._loaded:
                return
            try:
                stored = await self._store.retries.load()
            except Exception as exc:  # the queue still works in memory
                log.error("cannot read the stored retry queue: %r", exc)
                return
            self._pending = {**stored, **self._pending}
            self._loaded = True

    async def _save(self) -> None:
        """Write the whole queue, messages of a running pass included."""
        if not self._loaded:
            return  # writing now would drop what the unread stored queue holds
        async with self._writing:
            try:
                await self._store.retries.save({**self._in_flight, **self._pending})
            except Exception as exc:  # the queue still works in memory
                self._counters.count("retry_save_error", detail=repr(exc))
                log.error("cannot store the retry queue: %r", exc)

    async def _apply(self, ref: ChannelRef, message_ids: list[int]) -> None:
        fetched = await self._retry(
            f"re-read of {ref}",
            lambda: self._client.get_messages(ref.peer, ids=message_ids),
            ref.id,
        )
        present = [m for m in fetched if m is not None]
        posts = await self._posts(ref, (m for m in present if isinstance(m, types.Message)))
        if posts:
            await self._process(posts)
        gone = sorted(set(message_ids) - {m.id for m in present})
        if gone:
            await mark_deleted(self._store, ref, gone)

    async def _posts(self, ref: ChannelRef, messages: Iterable[types.Message]) -> list[Post]:
        """One post per message, and one per album however many of its parts failed."""
        posts: list[Post] = []
        albums: set[int] = set()
        for message in messages:
            if message.grouped_id is None:
                posts.append(to_post(message, ref.username, ref.title))
            elif message.grouped_id not in albums:
                albums.add(message.grouped_id)
                posts.append(await read_album(self._client, ref, message))
        return posts

    def _requeue(
        self,
        pending: Mapping[MessageKey, int],
        channel_id: int,
        message_ids: Iterable[int],
        *,
        failed: bool,
    ) -> None:
        for message_id in message_ids:
            key = (channel_id, message_id)
            passes = pending[key] + failed
            if passes >= self._max_passes:
                self._give_up(key, f"failed {passes} passes")
            else:
                self._pending[key] = passes

    def _give_up(self, key: MessageKey, why: str) -> None:
        channel_id, message_id = key
        self._counters.count("retry_dropped", channel_id, f"message {message_id}: {why}")
        log.error("gave up on message %d of channel %d: %s", message_id, channel_id, why)
