"""Retro-matching: when a claim arrives, find the archived posts that already carried it.

Candidates come from full-text search over the recent archive (the claim's words as
prefixes, plus its names spelled in Cyrillic so untranslated Russian and Ukrainian posts
are found too); the pipeline's matcher then decides, with the pipeline's top-k and
threshold. Each claim raises at most one alert, for its earliest alerting post, and that
post is stored as the claim's first source: the lead time over the live blog follows
from the claim's `published`.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from monitors.matching import Query
from monitors.matching.text import surface_forms
from monitors.matching.translit import name_keys
from monitors.models import Claim, Match, Post
from storage.dates import now_db

if TYPE_CHECKING:
    from bot.app import App

CANDIDATES_PER_CLAIM = 100
WINDOW = timedelta(days=7)  # how far before a claim's publication its carriers are sought
MIN_PREFIX = 3

_TO_CYRILLIC = {
    "shch": "щ", "zh": "ж", "kh": "х", "ts": "ц", "ch": "ч", "sh": "ш", "ya": "я", "yu": "ю",
    "ye": "е", "yo": "е", "a": "а", "b": "б", "c": "к", "d": "д", "e": "е", "f": "ф",
    "g": "г", "h": "г", "i": "и", "j": "й", "k": "к", "l": "л", "m": "м", "n": "н", "o": "о",
    "p": "п", "q": "к", "r": "р", "s": "с", "t": "т", "u": "у", "v": "в", "w": "в", "x": "кс",
    "y": "и", "z": "з",
}  # fmt: skip
_LATIN = re.compile("|".join(sorted(_TO_CYRILLIC, key=len, reverse=True)))


def to_cyrillic(name: str) -> str:
    """A Russian-style spelling of a romanised name (Bryansk -> брянск); rough, for search."""
    return _LATIN.sub(lambda m: _TO_CYRILLIC[m.group()], name.lower())


def search_prefixes(claim: Claim) -> list[str]:
    """Word prefixes that find posts carrying the claim, in English or in Cyrillic."""
    prefixes = []
    for term, word in surface_forms(claim.text, claim.lang).items():
        # Snowball may rewrite the end of a word (city -> citi): then search the word.
        prefix = term if word.startswith(term) else word
        if len(prefix) >= MIN_PREFIX or prefix.isdigit():
            prefixes.append(prefix)
    for name in set(name_keys(claim.text).values()):
        if name.isascii() and name.isalpha():
            # Drop the last letters: they are where Russian inflects a name.
            spelled = to_cyrillic(name)
            prefixes.append(spelled[: max(4, len(spelled) - 2)])
    return prefixes


async def retro_match(app: App, claims: Sequence[Claim]) -> list[int]:
    """Match new claims against the archive of the WINDOW before each was published (or
    before now); return the ids of the alerts raised, at most one per claim."""
    wanted = [claim for claim in claims if claim.status == "open" and claim.id in app.matcher]
    if not wanted:
        return []
    now = datetime.now(UTC)
    posts: dict[int, Post] = {}
    searched: dict[str, set[int]] = {}
    for claim in wanted:
        since = (claim.published or now) - WINDOW
        found = await app.store.posts.match_any(search_prefixes(claim), since, CANDIDATES_PER_CLAIM)
        posts.update(found)
        searched[claim.id] = {post_id for post_id, _ in found}
    earliest = _earliest_alerting(app, posts, searched)
    return await _record(app, earliest)


def _earliest_alerting(
    app: App, posts: dict[int, Post], searched: dict[str, set[int]]
) -> dict[str, tuple[int, Post, Match]]:
    """Claim id -> (row id, post, match) of its earliest post at alert level."""
    ids = [post_id for post_id, post in posts.items() if app.directory.alerting(post.channel_id)]
    ranked = app.matcher.rank_many(
        [Query.from_post(posts[post_id]) for post_id in ids],
        k=app.config.matching.top_k,
        floor=app.config.matching.min_score,
    )
    earliest: dict[str, tuple[int, Post, Match]] = {}
    for post_id, matches in zip(ids, ranked, strict=True):
        post = posts[post_id]
        for match in matches:
            if not match.alert or post_id not in searched.get(match.claim_id, ()):
                continue
            known = earliest.get(match.claim_id)
            if known is None or (post.date, post_id) < (known[1].date, known[0]):
                earliest[match.claim_id] = (post_id, post, match)
    return earliest


async def _record(app: App, earliest: dict[str, tuple[int, Post, Match]]) -> list[int]:
    store, now = app.store, now_db()
    alert_ids: list[int] = []
    async with store.transaction():
        for claim_id, (post_id, post, match) in earliest.items():
            alert_ids += await store.alerts.record(
                post_id, post.cluster_id or "", [match], app.delivery.destinations, now
            )
            await store.claims.set_first_seen(claim_id, post_id, post.date)
    if alert_ids:
        app.delivery.wake.set()
    return alert_ids
