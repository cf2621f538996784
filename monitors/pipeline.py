"""One pipeline for every source: admit new or changed posts, run the stages, store.

Replay, the live Telegram client and backfill all call `Pipeline.process(posts)`. A post
already stored with the same text is dropped at the door, which is what makes replaying
an export twice (or reconciling a live channel) store and alert nothing twice.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from monitors.models import Post
from monitors.stages import Item, Stage
from storage import NewPost, Store
from storage.dates import now_db, to_db
from storage.translation_retries import PendingTranslation, Retranslated

# (channel id, username, title, category) of a post's channel, as storage wants it.
ChannelInfo = Callable[[Post], tuple[int, str | None, str | None, str | None]]

log = logging.getLogger(__name__)

# A failed translation is tried again by the retry job (every RETRY_WAIT, bot/live.py):
# first at its next run, then after waits doubling from RETRY_WAIT (10, 20, 40 minutes,
# ...). The tenth failure gives up: by then the post is about 43 hours old, so an outage
# of a day and a half (a self-hosted server down overnight, a daily quota spent) loses
# no translation, while a text the translator never takes costs 10 requests, not 144 a
# day for ever. A text the translator refuses outright (its language, its length: see
# translation/backends.py) is given up at its first failure.
TRANSLATION_ATTEMPTS = 10
RETRY_WAIT = timedelta(minutes=10)


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

    async def retry_translations(
        self, limit: int = 200, *, now: datetime | None = None
    ) -> BatchResult:
        """Translate stored posts whose translation failed and is due for another try,
        and match them again with it.

        A match that now reaches the alert level raises an alert unless its story has one
        for that claim already; scores of earlier matches are updated. A post edited
        while its old text was being translated is left to what the live path stored
        for the new text: neither the old translation nor its matches are kept."""
        result = BatchResult()
        now = now or datetime.now(UTC)  # the job's start: waits are counted from here
        pending = await self._store.translation_retries.due(limit, to_db(now))
        if not pending:
            return result
        items = [Item(p.post, p.text_hash, previous_cluster=p.post.cluster_id) for p in pending]
        for stage in self._retry_stages:
            await stage(items)
        pairs = list(zip(pending, items, strict=True))
        written = now_db()
        async with self._store.transaction():
            kept = await self._store.translation_retries.record(
                [_retranslated(p, item, now) for p, item in pairs]
            )
            pairs = [(p, item) for p, item in pairs if p.id in kept]
            result.alert_ids += await self._store.alerts.record_many(
                [
                    (p.id, item.post.cluster_id or "", item.matches)
                    for p, item in pairs
                    if item.matches
                ],
                self._destinations,
                written,
            )
            result.items = [item for _, item in pairs]
            await self._store.alerts.touch_clusters(_clusters(result.items), written)
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
                    stored.id,
                    item.post,
                    item.text_hash,
                    stored.version + 1,
                    now,
                    item.translation_state,
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


def _retranslated(pending: PendingTranslation, item: Item, now: datetime) -> Retranslated:
    """The stored outcome of one retry: done, failed, or pending until its next try."""
    attempts = pending.attempts + 1
    state = item.translation_state
    if state == "pending" and attempts >= TRANSLATION_ATTEMPTS:
        state = "failed"
    due = now + RETRY_WAIT * 2 ** (attempts - 2) if state == "pending" else None
    return Retranslated(
        pending.id, pending.text_hash, item.post.translation, state, attempts, to_db(due)
    )


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
