"""One pipeline for every source: admit new or changed posts, run the stages, store.

Replay, the live Telegram client and backfill all call `Pipeline.process(posts)`. A post
already stored with the same text is dropped at the door, which is what makes replaying
an export twice (or reconciling a live channel) store and alert nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from monitors.models import Post
from monitors.stages import Item, Stage
from storage import NewPost, Store
from storage.dates import now_db

# (channel id, username, title, category) of a post's channel, as storage wants it.
ChannelInfo = Callable[[Post], tuple[int, str | None, str | None, str | None]]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class BatchResult:
    new: int = 0
    edited: int = 0
    unchanged: int = 0
    alert_ids: list[int] = field(default_factory=list)
    items: list[Item] = field(default_factory=list)


class Pipeline:
    def __init__(
        self,
        store: Store,
        stages: Sequence[Stage],
        *,
        destinations: Sequence[str],
        channel_info: ChannelInfo,
        hash_text: Callable[[str], str],
        retry_stages: Sequence[Stage] = (),
    ) -> None:
        self._store = store
        self._stages = tuple(stages)
        self._destinations = tuple(destinations)
        self._channel_info = channel_info
        self._hash = hash_text
        self._retry_stages = tuple(retry_stages)  # what runs again on a late translation

    async def retry_translations(self, limit: int = 200) -> BatchResult:
        """Translate stored posts whose translation failed, and match them again with it.

        A match that now reaches the alert level raises an alert unless its story has one
        for that claim already; scores of earlier matches are updated."""
        result = BatchResult()
        pending = await self._store.posts.pending_translation(limit)
        if not pending:
            return result
        items = [
            Item(post, digest, previous_cluster=post.cluster_id) for _, digest, post in pending
        ]
        for stage in self._retry_stages:
            await stage(items)
        pairs = [(post_id, item) for (post_id, _, _), item in zip(pending, items, strict=True)]
        now = now_db()
        async with self._store.transaction():
            await self._store.posts.set_translations(
                [
                    (post_id, item.post.translation, item.translation_state)
                    for post_id, item in pairs
                ]
            )
            result.alert_ids += await self._store.alerts.record_many(
                [
                    (post_id, item.post.cluster_id or "", item.matches)
                    for post_id, item in pairs
                    if item.matches
                ],
                self._destinations,
                now,
            )
            await self._store.alerts.touch_clusters(_clusters(items), now)
        result.items = items
        return result

    def wrap_stages(self, wrap: Callable[[Stage], Stage]) -> None:
        """Replace each stage by `wrap(stage)`: how `claimwatch bench` times them."""
        self._stages = tuple(wrap(stage) for stage in self._stages)

    async def process(self, posts: Sequence[Post]) -> BatchResult:
        result = BatchResult()
        items = await self._admit(posts, result)
        if not items:
            return result
        for stage in self._stages:
            await stage(items)
        async with self._store.transaction():
            await self._write(items, result)
        result.items = items
        return result

    async def _admit(self, posts: Sequence[Post], result: BatchResult) -> list[Item]:
        latest: dict[tuple[int, int], Post] = {}
        for post in posts:  # a batch may carry the same message twice: keep the last
            latest[post.key] = post
        result.unchanged += len(posts) - len(latest)  # the copies count as already stored
        stored = await self._store.posts.lookup(latest)
        items: list[Item] = []
        for key, post in latest.items():
            digest = self._hash(post.text)
            before = stored.get(key)
            if before is None:
                items.append(Item(post, digest))
            elif before.text_hash != digest:
                items.append(Item(post, digest, previous_cluster=before.cluster_id, is_edit=True))
            else:
                result.unchanged += 1
        return items

    async def _write(self, items: list[Item], result: BatchResult) -> None:
        store, now = self._store, now_db()
        await store.channels.ensure(
            [self._channel_info(item.post) for item in _unique_channels(items)]
        )
        fresh = [item for item in items if not item.is_edit]
        ids = await store.posts.insert(
            [NewPost(i.post, i.text_hash, i.translation_state) for i in fresh], now
        )
        for item in items:
            if item.is_edit:
                stored = (await store.posts.lookup([item.post.key]))[item.post.key]
                ids[item.post.key] = stored.id
                await store.posts.record_edit(
                    stored.id, item.post, item.text_hash, stored.version + 1, now
                )
        result.new, result.edited = len(fresh), len(items) - len(fresh)
        await store.clusters.refresh(
            [item.post for item in fresh if item.is_head],
            [item.post.cluster_id for item in items if item.post.cluster_id],
        )
        result.alert_ids += await store.alerts.record_many(
            [
                (ids[item.post.key], item.post.cluster_id or "", item.matches)
                for item in items
                if item.matches
            ],
            self._destinations,
            now,
        )
        # A repost, an edit or a new translation changes what a sent alert should show.
        await store.alerts.touch_clusters(_clusters(items), now)
        await store.channels.advance_cursors(_newest_per_channel(items))


def _clusters(items: list[Item]) -> set[str]:
    return {item.post.cluster_id for item in items if item.post.cluster_id}


def _unique_channels(items: list[Item]) -> list[Item]:
    seen: dict[int, Item] = {}
    for item in items:
        seen.setdefault(item.post.channel_id, item)
    return list(seen.values())


def _newest_per_channel(items: list[Item]) -> dict:
    newest: dict = {}
    for item in items:
        post = item.post
        if post.message_id > newest.get(post.channel_id, (0, None))[0]:
            newest[post.channel_id] = (post.message_id, post.date)
    return newest
