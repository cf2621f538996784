"""The processing stages, each a small callable over a batch of `Item`s.

Stages work on batches because the expensive steps (embedding, SQLite round trips,
translation requests) are far cheaper per post in bulk; a live post is a batch of one.
Each stage delegates to its own module (language, embedding, clustering, translate,
matching) and knows nothing about Telegram or storage layout.
"""

from __future__ import annotations

import logging
import re
from collections import OrderedDict, defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Protocol

import numpy as np

from monitors.clustering import Clusterer
from monitors.embedding import Embedder
from monitors.language import detect
from monitors.matching import Matcher, Query
from monitors.matching.text import GLOSSED, for_encoder
from monitors.models import UNDETERMINED, Match, Post
from monitors.translate import Translator

_DIGITS = re.compile(r"\d+")

log = logging.getLogger(__name__)


@dataclass(slots=True, eq=False)
class Item:
    """A post on its way through the stages, with what they found out about it."""

    post: Post
    text_hash: str
    previous_cluster: str | None = None
    is_edit: bool = False
    vector: np.ndarray | None = None
    cluster_reason: str = "new"
    translation_state: str = "none"
    matches: list[Match] = field(default_factory=list)

    @property
    def is_head(self) -> bool:
        """True when this post starts a new story."""
        return self.post.cluster_id == f"{self.post.channel_id}/{self.post.message_id}"


class Stage(Protocol):
    async def __call__(self, items: list[Item]) -> None: ...


class DetectLanguage:
    def __init__(self, hints: Callable[[int], Sequence[str]]) -> None:
        self._hints = hints

    async def __call__(self, items: list[Item]) -> None:
        for item in items:
            item.post.lang = detect(item.post.text, self._hints(item.post.channel_id))


class Embed:
    """One batched pass of the sentence encoder; its vectors serve dedup and matching.

    The encoder reads what `text.for_encoder` makes of a post: no links (13% of ru-news'
    tokens), Ukrainian and Belarusian glossed. A text met recently (a forward, a
    copy-paste: about one post in twelve on ru-news) takes the vector it got then instead
    of a second pass of the encoder."""

    def __init__(self, embedder: Embedder | None, cache_size: int = 4096) -> None:
        self._embedder = embedder
        # (text hash, glossed) -> vector
        self._recent: OrderedDict[tuple[str, bool], np.ndarray] = OrderedDict()
        self._cache_size = cache_size  # 4,096 vectors of 512 floats: 8 MB

    async def __call__(self, items: list[Item]) -> None:
        if self._embedder is None:
            return
        missing: dict[tuple[str, bool], list[Item]] = {}
        for item in items:
            if not item.post.text.strip():
                continue
            key = (item.text_hash, item.post.lang in GLOSSED)
            item.vector = self._recent.get(key)
            if item.vector is None:
                missing.setdefault(key, []).append(item)
            else:
                self._recent.move_to_end(key)
        if not missing:
            return
        texts = [for_encoder(group[0].post.text, group[0].post.lang) for group in missing.values()]
        for (key, group), vector in zip(missing.items(), self._embedder.encode(texts), strict=True):
            for item in group:
                item.vector = vector
            self._recent[key] = vector
        while len(self._recent) > self._cache_size:
            self._recent.popitem(last=False)


class Cluster:
    def __init__(self, clusterer: Clusterer) -> None:
        self._clusterer = clusterer

    async def __call__(self, items: list[Item]) -> None:
        for item in items:
            if item.previous_cluster is not None:
                item.post.cluster_id = item.previous_cluster
                item.cluster_reason = "edit"
                continue
            assignment = self._clusterer.assign(item.post, item.vector)
            item.post.cluster_id = assignment.cluster_id
            item.cluster_reason = assignment.reason


class TranslationCache(Protocol):
    """Where translations outlive a batch (the database, in the app)."""

    async def cached(self, hashes: Sequence[str]) -> dict[str, str]: ...
    async def for_clusters(self, cluster_ids: Sequence[str]) -> dict[str, str]: ...
    async def remember(self, rows: Sequence[tuple[str, str, str]]) -> None: ...


class ServiceCounters(Protocol):
    """Where the stage's counters go for `claimwatch status` (the health table, in the app)."""

    async def add_service(self, counts: Mapping[str, int]) -> None: ...


class Translate:
    """Translate each story once: cache hits and the story's earlier translation first,
    then the translator for what is left. A copy whose figures differ from the story's
    (the next night's drone tally, an updated toll: near-duplicates join a story) gets a
    translation of its own, not English with the other post's numbers. A failure leaves
    the post 'pending' for a later retry, or 'failed' when the translator refused the
    text itself; it never holds up storage or matching.

    After each batch the counters that moved (requests, failures, retries and characters
    sent, from the translator; cache and story hits, from here) are added to `counters`
    under `translate_*` names."""

    def __init__(
        self,
        translator: Translator | None,
        cache: TranslationCache,
        counters: ServiceCounters | None = None,
    ) -> None:
        self._translator = translator
        self._cache = cache
        self._counters = counters
        self._reported = asdict(translator.stats) if translator else {}

    async def __call__(self, items: list[Item]) -> None:
        if self._translator is None:
            return
        target = self._translator.settings.target
        wanted: list[Item] = []
        for item in items:
            if not item.post.text.strip():
                item.translation_state = "none"
            elif item.post.lang in (target, UNDETERMINED):
                item.translation_state = "skipped"
            else:
                wanted.append(item)
        if not wanted:
            return
        known = await self._cache.cached([item.text_hash for item in wanted])
        known_by_cluster = await self._cache.for_clusters(
            [item.post.cluster_id for item in wanted if not item.is_head and not item.is_edit]
        )
        todo: dict[tuple[str, frozenset[str]], list[Item]] = defaultdict(list)
        hits = {"cache_hits": 0, "cluster_hits": 0}
        for item in wanted:
            found = known.get(item.text_hash)
            if found is not None:
                hits["cache_hits"] += 1
            elif not item.is_edit:
                found = known_by_cluster.get(item.post.cluster_id or "")
                if found is not None and figures(found) != figures(item.post.text):
                    found = None
                hits["cluster_hits"] += found is not None
            if found is not None:
                item.post.translation, item.translation_state = found, "done"
            else:
                story = item.post.cluster_id or item.text_hash
                todo[story, figures(item.post.text)].append(item)
        await self._translate_heads(todo)
        await self._report(hits)

    async def _report(self, hits: dict[str, int]) -> None:
        """Add what moved since the last report; the snapshot moves first, so batches that
        overlap (the retry job and the live pipeline) never count a request twice."""
        stats = asdict(self._translator.stats)  # type: ignore[union-attr]
        moved = {name: stats[name] - self._reported.get(name, 0) for name in stats} | hits
        self._reported = stats
        counts = {f"translate_{name}": n for name, n in moved.items() if n}
        if counts and self._counters is not None:
            await self._counters.add_service(counts)

    async def _translate_heads(self, todo: Mapping[object, list[Item]]) -> None:
        fresh: list[tuple[str, str, str]] = []  # (text hash, source language, translation)
        by_lang: dict[str, list[list[Item]]] = defaultdict(list)
        for group in todo.values():
            by_lang[group[0].post.lang].append(group)
        for lang, groups in by_lang.items():
            results = await self._translator.translate(  # type: ignore[union-attr]
                [group[0].post.text for group in groups], source=lang
            )
            for group, result in zip(groups, results, strict=True):
                for item in group:
                    if result.text is None:
                        item.translation_state = "failed" if result.permanent else "pending"
                    else:
                        item.post.translation, item.translation_state = result.text, "done"
                if result.text is not None:
                    fresh.append((group[0].text_hash, lang, result.text))
            failed = sum(1 for result in results if result.text is None)
            if failed:
                log.warning("translation failed for %d of %d %s texts", failed, len(results), lang)
        if fresh:
            await self._cache.remember(fresh)


def figures(text: str) -> frozenset[str]:
    """The digit runs of a text, which a translation keeps as they are ("1 000" and
    "1,000" alike): two texts of one story with other figures tell other facts."""
    return frozenset(_DIGITS.findall(text))


class MatchClaims:
    def __init__(
        self, matcher: Matcher, alerting: Callable[[int], bool], top_k: int, floor: float
    ) -> None:
        self._matcher = matcher
        self._alerting = alerting
        self._top_k = top_k
        self._floor = floor

    async def __call__(self, items: list[Item]) -> None:
        todo = [item for item in items if item.post.text.strip()]
        if not todo or not len(self._matcher):
            return
        ranked = self._matcher.rank_many(
            [Query.from_post(item.post, item.vector) for item in todo],
            k=self._top_k,
            floor=self._floor,
        )
        for item, matches in zip(todo, ranked, strict=True):
            allowed = self._alerting(item.post.channel_id)
            item.matches = [
                match
                if allowed or not match.alert
                else Match(match.claim_id, match.score, False, match.stance, match.reasons)
                for match in matches
            ]
