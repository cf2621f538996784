"""Wiring and lifecycle: build every component from a validated config, once.

The CLI and the tests both go through `App.open(...)`; nothing else reads configuration
or decides which embedder, translator or sinks are used.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import Literal

from bot.alert_policy import AlertPolicy
from bot.config import Config, ConfigError
from bot.delivery import DeliveryWorker
from bot.retro import retro_match
from bot.secrets import Secrets
from bot.sinks import Sink
from monitors.clustering import Clusterer
from monitors.embedding import MAX_CHARS, Embedder, load_embedder, load_english_embedder
from monitors.matching import Matcher
from monitors.minilm import MissingModel
from monitors.models import Claim, Post
from monitors.pipeline import BatchResult, Pipeline
from monitors.stages import Cluster, DetectLanguage, Embed, MatchClaims, Translate
from monitors.translate import Translator, TranslatorSettings, text_hash
from monitors.translation.settings import NEEDS_KEY
from storage import Store

log = logging.getLogger(__name__)

# Every post of a batch waits for the whole batch to commit, so a batch closes at
# BATCH_SIZE posts or once its posts weigh BATCH_WEIGHT, whichever comes first. A post
# weighs POST_WEIGHT plus its characters up to the encoder's MAX_CHARS: on ru-news a batch
# took about 0.56 ms a post plus 5.7 us a character (least squares over 568 batches), so
# batches of equal weight cost about the same and the latency tail stays short. Full ru-news
# replay on one core: weight 5,600 gave 382 posts/s with a p99 of 49 ms, 5,000 gave 352
# and 49, 4,000 gave 323 and 46 (runs vary by about 10%); with the count alone, session
# 3's code gave 313 posts/s and 168 ms. Live posts arrive one at a time and are processed
# at once whatever this is.
BATCH_SIZE = 32
POST_WEIGHT = 100
BATCH_WEIGHT = 5_000


@dataclass(frozen=True, slots=True)
class ClaimsAdded:
    changed: list[Claim]  # new claims, or new wording of known ids
    alert_ids: list[int]  # raised by archived posts that already carried them


@dataclass(slots=True)
class ReplaySummary:
    posts: int = 0
    new: int = 0
    edited: int = 0
    unchanged: int = 0
    alerts: int = 0


class App:
    def __init__(
        self,
        config: Config,
        store: Store,
        matcher: Matcher,
        pipeline: Pipeline,
        delivery: DeliveryWorker,
        translator: Translator | None,
        directory: ChannelDirectory,
        policy: AlertPolicy,
    ) -> None:
        self.config = config
        self.directory = directory
        self.policy = policy
        self.store = store
        self.matcher = matcher
        self.pipeline = pipeline
        self.delivery = delivery
        self.translator = translator

    @classmethod
    async def open(
        cls,
        config: Config,
        *,
        db_path: Path | str | None = None,
        sinks: Sequence[Sink] = (),
        secrets: Secrets | None = None,
        embedder: Embedder | str | None = "config",
    ) -> App:
        """Open storage, load claims into the matcher, seed dedup state, build the pipeline."""
        store = await Store.open(db_path or config.storage.path)
        try:
            if embedder == "config":
                embedder = load_embedder(config.matching.embedder)
            translator = _translator(config, secrets or Secrets.from_env())
            matcher = configured_matcher(config, embedder)
            clusterer = Clusterer(window=timedelta(hours=config.dedup.window_hours))
            policy = AlertPolicy(store, config)
            delivery = DeliveryWorker(store, sinks, policy=policy)
            directory = ChannelDirectory(config)
            translate = Translate(
                translator, _TranslationCache(store, translator), counters=store.health
            )
            match = MatchClaims(
                matcher, directory.alerting, config.matching.top_k, config.matching.min_score
            )
            pipeline = Pipeline(
                store,
                (
                    DetectLanguage(directory.hints),
                    Embed(embedder),
                    Cluster(clusterer),
                    translate,
                    match,
                ),
                destinations=delivery.destinations,
                channel_info=directory.info,
                hash_text=_hasher(config),
                retry_stages=(translate, match),
            )
            app = cls(config, store, matcher, pipeline, delivery, translator, directory, policy)
            matcher.add_claims(await store.claims.list("open"))
            await app.add_claims(claim.to_claim() for claim in config.claims)
            await _seed(store, clusterer, config)
        except BaseException:
            await store.close()
            raise
        return app

    async def close(self) -> None:
        await self.delivery.close()
        if self.translator is not None:
            self.translator.close()
        await self.store.close()

    async def reconfigure(self, config: Config) -> None:
        """Take a reloaded config: channel categories, hints and alert flags, quiet hours
        and cool-down apply to the next post, new inline claims are indexed. Storage,
        translator and sinks stay."""
        self.config = config
        self.directory.config = config
        self.policy.config = config
        await self.add_claims(claim.to_claim() for claim in config.claims)

    async def add_claims(self, claims: Iterable[Claim]) -> ClaimsAdded:
        """Store claims, index the new or changed ones at once and match them against the
        archive (whatever their source: config, CLI, chat or live blog), so a claim the
        channels carried before it was added still raises its alert."""
        claims = list(claims)
        if not claims:  # a poll or reload with nothing new: no write transaction
            return ClaimsAdded([], [])
        async with self.store.transaction():
            changed = await self.store.claims.upsert(claims)
        for claim in changed:
            self.matcher.remove_claim(claim.id)
        self.matcher.add_claims([claim for claim in changed if claim.status == "open"])
        return ClaimsAdded(changed, await retro_match(self, changed))

    async def set_claim_status(self, claim_id: str, status: Literal["open", "closed"]) -> bool:
        """Close or reopen a claim: stored with its history, and (un)indexed at once.
        False if there is no such claim."""
        claim = await self.store.claims.get(claim_id)
        if claim is None:
            return False
        async with self.store.transaction():
            await self.store.claims.set_status(claim_id, status)
        self.matcher.remove_claim(claim_id)
        if status == "open":
            self.matcher.add_claims([replace(claim, status="open")])
        return True

    async def process(self, posts: Sequence[Post]) -> BatchResult:
        result = await self.pipeline.process(posts)
        if result.items:  # new alerts, or sent ones whose story changed
            self.delivery.wake.set()
        return result

    async def retry_translations(self) -> int:
        """Retry failed translations that are due (a scheduled job); returns how many posts
        got a result stored (one edited meanwhile keeps what the live path stored)."""
        if self.translator is None:
            return 0
        result = await self.pipeline.retry_translations()
        if result.items:  # new alerts, or sent ones that now have their English
            self.delivery.wake.set()
        return len(result.items)

    async def replay(
        self, posts: Iterable[Post], *, progress: Callable[[int], None] | None = None
    ) -> ReplaySummary:
        """Run posts through the pipeline in batches, delivering alerts as they come."""
        summary = ReplaySummary()
        for batch in batches(posts):
            await self._replay_batch(batch, summary, progress)
        await self.delivery.deliver_due()
        return summary

    async def _replay_batch(
        self, batch: list[Post], summary: ReplaySummary, progress: Callable[[int], None] | None
    ) -> None:
        result = await self.process(batch)
        summary.posts += len(batch)
        summary.new += result.new
        summary.edited += result.edited
        summary.unchanged += result.unchanged
        summary.alerts += len(result.alert_ids)
        if result.alert_ids:
            await self.delivery.deliver_due()
        if progress:
            progress(len(batch))


def batches(posts: Iterable[Post]) -> Iterator[list[Post]]:
    """Consecutive posts, in batches of at most BATCH_SIZE posts and about BATCH_WEIGHT."""
    batch: list[Post] = []
    weight = 0
    for post in posts:
        batch.append(post)
        weight += POST_WEIGHT + min(len(post.text), MAX_CHARS)
        if len(batch) >= BATCH_SIZE or weight >= BATCH_WEIGHT:
            yield batch
            batch, weight = [], 0
    if batch:
        yield batch


def _translator(config: Config, secrets: Secrets) -> Translator | None:
    settings = config.translation
    if settings.backend == "none":
        return None
    if settings.backend in NEEDS_KEY and not secrets.translate_key:
        raise ConfigError(
            f"CLAIMWATCH_TRANSLATE_KEY is not set (translation.backend {settings.backend!r} "
            "needs it)"
        )
    return Translator(
        TranslatorSettings(
            backend=settings.backend,
            target=settings.target,
            url=settings.url,
            api_key=secrets.translate_key,
            timeout_s=settings.timeout_s,
            max_concurrency=settings.max_concurrency,
            rate_per_s=settings.rate_per_s,
        )
    )


def _hasher(config: Config) -> Callable[[str], str]:
    target = config.translation.target
    return lambda text: text_hash(text, target)


class ChannelDirectory:
    """What the config says about each channel, read at each post, so a reload (which
    swaps `config`) reaches stages that were built before it."""

    def __init__(self, config: Config) -> None:
        self.config = config

    def hints(self, channel_id: int) -> tuple[str, ...]:
        return self.config.hints_for(channel_id)

    def alerting(self, channel_id: int) -> bool:
        channel = self.config.channel(channel_id)
        return channel.alert if channel else True

    def info(self, post: Post) -> tuple[int, str | None, str | None, str | None]:
        """(id, username, title, category) of a post's channel, for storage."""
        channel = self.config.channel(post.channel_id) or self.config.channel(post.channel_username)
        return (
            post.channel_id,
            post.channel_username or (channel.username if channel else None),
            post.channel_title or (channel.name if channel else None),
            channel.category if channel else None,
        )


class _TranslationCache:
    """The translate stage's view of the database."""

    def __init__(self, store: Store, translator: Translator | None) -> None:
        self._store = store
        self._translator = translator

    async def cached(self, hashes: Sequence[str]) -> dict[str, str]:
        return await self._store.translations.get_many(hashes)

    async def for_clusters(self, cluster_ids: Sequence[str]) -> dict[str, str]:
        return await self._store.posts.cluster_translations(cluster_ids)

    async def remember(self, rows: Sequence[tuple[str, str, str]]) -> None:
        settings = self._translator.settings  # type: ignore[union-attr]
        async with self._store.transaction():
            await self._store.translations.put_many(rows, settings.target, settings.backend)


async def _seed(store: Store, clusterer: Clusterer, config: Config) -> None:
    """Give dedup the stories of the last window, so a restart does not split them."""
    newest = await store.posts.newest_date()
    if newest is not None:
        clusterer.seed(
            await store.posts.recent(newest - timedelta(hours=config.dedup.window_hours))
        )


def configured_matcher(config: Config, embedder: Embedder | None) -> Matcher:
    """The matcher the config asks for, around `embedder`. The English encoder's weights
    are a separate install: asked for by name, their absence is the operator's to fix
    (exit status 2); by "auto", it is a warning and English posts are read without it."""
    name = config.matching.english_embedder
    if name == "auto":
        name = "minilm" if config.translation.backend != "none" else "none"
    english = None
    if embedder is not None:
        try:
            english = load_english_embedder(name)
        except MissingModel as exc:
            if config.matching.english_embedder != "auto":
                raise ConfigError(
                    f'matching.english_embedder: {exc} (or set it to "none")'
                ) from None
            log.warning("matching.english_embedder = auto: %s; ranking without it", exc)
    return Matcher(embedder, threshold=config.alerts.threshold, english=english)
