"""Translator counters: counted where translation happens, kept in the health table, shown by
`claimwatch status`."""

from __future__ import annotations

import io
import random
from collections.abc import Iterator, Sequence

import pytest

from bot.status import show_status
from monitors.stages import Item, Translate
from monitors.translate import Translator, TranslatorSettings, text_hash
from storage.health import SERVICE
from tests.conftest import make_post
from tests.libretranslate_server import LibreTranslateServer, Reply

STORY = "Колонна техники прошла через мост"
EDIT = "Колонна техники прошла через мост у села"
OTHER = "Связь восстановлена"


class MemoryCache:
    """The translate stage's cache, in memory: by text hash and by story."""

    def __init__(self) -> None:
        self.by_hash: dict[str, str] = {}
        self.by_cluster: dict[str, str] = {}

    async def cached(self, hashes: Sequence[str]) -> dict[str, str]:
        return {h: self.by_hash[h] for h in hashes if h in self.by_hash}

    async def for_clusters(self, cluster_ids: Sequence[str]) -> dict[str, str]:
        return {c: self.by_cluster[c] for c in cluster_ids if c in self.by_cluster}

    async def remember(self, rows: Sequence[tuple[str, str, str]]) -> None:
        self.by_hash.update({digest: text for digest, _, text in rows})


def item(message_id: int, text: str, cluster: int, lang: str = "ru") -> Item:
    post = make_post(1, message_id, text, lang=lang, cluster_id=f"1/{cluster}")
    return Item(post, text_hash(text))


@pytest.fixture
def server() -> Iterator[LibreTranslateServer]:
    with LibreTranslateServer() as running:
        yield running


@pytest.fixture
def translator(server: LibreTranslateServer) -> Iterator[Translator]:
    settings = TranslatorSettings(
        backend="libre", url=server.url, timeout_s=2.0, rate_per_s=1000.0, retries=1,
        backoff_base_s=0.01,
    )  # fmt: skip
    made = Translator(settings, rng=random.Random(3))
    yield made
    made.close()


async def counts(store) -> dict[str, int]:
    return {c.name: c.count for c in await store.health.counters() if c.channel_id == SERVICE}


async def test_requests_hits_failures_and_characters_are_counted(store, server, translator):
    cache = MemoryCache()
    stage = Translate(translator, cache, counters=store.health)
    # A story and its copy: one request. English: none.
    await stage([item(1, STORY, 1), item(2, STORY, 1), item(3, "Bridge closed", 3, "en")])
    assert await counts(store) == {"translate_requests": 1, "translate_chars_sent": len(STORY)}

    # The same text in a new story comes from the cache; a post of the first story in other
    # words takes the story's translation.
    cache.by_cluster["1/1"] = STORY.upper()
    await stage([item(4, STORY, 4), item(5, EDIT, 1)])
    # A text the server refuses twice (one retry): two requests, one failure.
    server.script(Reply(status=500), Reply(status=500))
    await stage([item(6, OTHER, 6)])

    assert await counts(store) == {
        "translate_requests": 3,
        "translate_chars_sent": len(STORY) + 2 * len(OTHER),
        "translate_cache_hits": 1,
        "translate_cluster_hits": 1,
        "translate_failures": 1,
        "translate_retries": 1,
    }
    assert [seen.q for seen in server.requests] == [STORY, OTHER, OTHER]


async def test_counters_are_added_to_what_the_database_has(server, translator, store):
    # Each stage reports what moved since it was built; the table keeps the running total.
    for _ in range(2):
        stage = Translate(translator, MemoryCache(), counters=store.health)
        await stage([item(1, STORY, 1)])
    assert (await counts(store))["translate_requests"] == 2


async def test_status_shows_the_translation_counters(store, server, translator):
    await Translate(translator, MemoryCache(), counters=store.health)([item(1, STORY, 1)])
    out = io.StringIO()
    await show_status(store.db.path, out)
    text = out.getvalue()
    assert (
        f"translation: 1 requests (0 retries), {len(STORY)} chars sent, 0 texts failed, "
        "0 cache hits, 0 story reuses"
    ) in text
    assert "translate_requests" in text  # the service section lists each counter with its time


async def test_without_translation_status_has_no_translation_line(store):
    out = io.StringIO()
    await show_status(store.db.path, out)
    assert "translation:" not in out.getvalue()
