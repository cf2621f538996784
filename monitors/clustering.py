"""Story clustering: one cluster per statement, however many channels repeat it.

Evidence is tried from the most to the least certain: a forward header, an album, the
same normalised text, near-identical wording (MinHash LSH over word shingles), and last
a sentence vector plus shared consonant skeletons for translations. Everything is kept
only for a sliding time window, so time and memory stay bounded in a long-running service.

The window also bounds a story: a copy joins by its wording only within the window of
both the post it resembles and the story's first post. Without the second bound a daily
template (the ministry's nightly drone tally, a repeated ad) chained into one story for
weeks, each night's post joining the night before. Forwards and albums are certain, and
join whatever their age while their original is remembered.
"""

from __future__ import annotations

import hashlib
import heapq
import time
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Literal

import numpy as np

from monitors.minhash import MinHashLsh
from monitors.models import UNDETERMINED, Post
from monitors.textnorm import content_lines, has_skeleton, skeleton

Reason = Literal["forward", "album", "exact", "near", "crosslingual", "new"]
Key = tuple[int, int]

SHINGLE = 3  # words per shingle: long enough that shared phrases are not shared wording
VECTOR_CANDIDATES = 8  # nearest vectors checked for shared skeletons
# How far past the wall clock a post's date may move the window's clock. Telegram dates
# its messages itself, but a hand-edited export dated next year would otherwise make
# every remembered post look expired at once.
MAX_FUTURE_S = 3600.0
SWEEP_S = 86400.0  # how often idle channels' boilerplate tables are looked for
_SHINGLE_MULTS = np.array(
    [0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9][:SHINGLE], dtype=np.uint64
)


@dataclass(frozen=True, slots=True)
class Assignment:
    cluster_id: str
    reason: Reason
    similarity: float


class _Bones:
    """A post's consonant skeletons, built on first use: they are compared only when a
    post in another language has a close vector (on ru-news, never; building them for
    every post took a fifth of the stage), and until then the text is the smaller
    (890 bytes against a 2,180-byte set, on average)."""

    __slots__ = ("_bones", "_text")

    def __init__(self, text: str) -> None:
        self._text = text
        self._bones: set[str] | None = None

    def get(self) -> set[str]:
        if self._bones is None:
            self._bones, self._text = skeleton(self._text), ""
        return self._bones


@dataclass(slots=True)
class _Features:
    exact: tuple[int, ...]  # digests of the normalised text
    shingles: np.ndarray | None  # sorted unique shingle hashes; None when too short
    minhash: np.ndarray | None  # signature, when there are shingles
    bones: _Bones | None  # only for long posts that come with a vector and have skeletons


@dataclass(slots=True)
class _Entry:
    ts: float
    assignment: Assignment
    exact: tuple[int, ...]
    shingles: np.ndarray | None  # sorted unique shingle hashes; indexed in the LSH
    album: Key | None
    origin: Key | None


@dataclass(slots=True)
class _Story:
    """What the clusterer knows of a story while any of its posts is remembered."""

    start: float  # date of its earliest post seen
    members: int  # remembered posts


class BoilerplateFilter:
    """Learns, per channel, the lines it repeats (signatures, footers, rubric headers).

    Counts decay by halving when a channel's table is full, so memory stays bounded and
    a line a channel stopped using is eventually forgotten. A channel that has posted
    nothing for `idle` of wall-clock time (it left the config, or went quiet) loses its
    table, up to 0.33 MB: a service that runs for months sees channels come and go, and
    a channel that comes back relearns its footer within `min_repeats` posts.
    """

    def __init__(
        self,
        min_repeats: int = 3,
        max_lines: int = 2048,
        idle: timedelta = timedelta(days=30),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.min_repeats = min_repeats
        self.max_lines = max_lines
        self.idle_seconds = idle.total_seconds()
        self._clock = clock
        self._counts: dict[int, dict[str, int]] = {}
        self._seen: dict[int, float] = {}
        self._next_sweep = -np.inf

    def __len__(self) -> int:
        return len(self._counts)

    def strip(self, channel_id: int, lines: list[str]) -> list[str]:
        """Count this post's lines, then return those the channel does not repeat."""
        now = self._clock()
        self._seen[channel_id] = now
        if now >= self._next_sweep:
            self._sweep(now)
        counts = self._counts.setdefault(channel_id, {})
        for line in set(lines):
            counts[line] = counts.get(line, 0) + 1
        if len(counts) > self.max_lines:
            self._counts[channel_id] = {k: v // 2 for k, v in counts.items() if v > 1}
        return [line for line in lines if counts.get(line, 0) < self.min_repeats]

    def _sweep(self, now: float) -> None:
        """Drop idle channels' tables; once a day, so a post pays one clock read."""
        self._next_sweep = now + SWEEP_S
        for channel_id in [c for c, seen in self._seen.items() if now - seen > self.idle_seconds]:
            del self._seen[channel_id]
            self._counts.pop(channel_id, None)


class _VectorRing:
    """The most recent sentence vectors of one language, overwritten oldest first."""

    def __init__(self, capacity: int, dim: int) -> None:
        self.matrix = np.zeros((capacity, dim), dtype=np.float32)
        self.ts = np.full(capacity, -np.inf)
        self.keys: list[Key | None] = [None] * capacity
        self.skeletons = [_Bones("")] * capacity
        self._next = self._filled = 0

    def add(self, key: Key, ts: float, vector: np.ndarray, bones: _Bones) -> None:
        i = self._next
        self.matrix[i], self.ts[i], self.keys[i], self.skeletons[i] = vector, ts, key, bones
        self._next = (i + 1) % len(self.keys)
        self._filled = max(self._filled, i + 1)

    def nearest(
        self, vector: np.ndarray, ts: float, window: float, floor: float
    ) -> list[tuple[float, int]]:
        """(cosine, row) of the few closest rows within `window` seconds of `ts`, those
        of them whose cosine reaches `floor`."""
        cosines = self.matrix[: self._filled] @ vector
        cosines[np.abs(self.ts[: self._filled] - ts) > window] = -1.0
        rows = np.flatnonzero(cosines >= floor)
        # Few rows reach the floor, and then all of them are among the closest.
        if rows.size > VECTOR_CANDIDATES:
            top = np.argpartition(-cosines, VECTOR_CANDIDATES - 1)[:VECTOR_CANDIDATES]
            rows = top[cosines[top] >= floor]
        return [(float(cosines[i]), int(i)) for i in rows]


class Clusterer:
    """Assigns each post to the cluster of the first post that carried the same story."""

    def __init__(
        self,
        window: timedelta = timedelta(hours=48),
        near_threshold: float = 0.5,
        containment_threshold: float = 0.8,
        crossling_threshold: float = 0.35,
        skeleton_threshold: float = 0.4,
        min_words: int = 8,
        min_exact_words: int = 3,
        max_entries: int = 200_000,
        max_vectors: int = 4096,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.window_seconds = window.total_seconds()
        self.near_threshold = near_threshold
        self.containment_threshold = containment_threshold
        self.crossling_threshold = crossling_threshold
        self.skeleton_threshold = skeleton_threshold
        self.min_words = min_words
        self.min_exact_words = min_exact_words
        self.max_entries = max_entries
        self.max_vectors = max_vectors
        self._clock = clock
        self.boilerplate = BoilerplateFilter(clock=clock)
        # The LSH only proposes candidates and exact shingle overlap decides; its low
        # threshold lets it propose trimmed copies, which containment accepts.
        self._lsh = MinHashLsh()
        self._entries: dict[Key, _Entry] = {}
        self._stories: dict[str, _Story] = {}
        self._expiry: list[tuple[float, Key]] = []
        # Each map points at the newest live post carrying the key (by date, see _point),
        # so it survives expiry of older copies; see _forget.
        self._exact: dict[int, Key] = {}
        self._albums: dict[Key, Key] = {}
        self._origins: dict[Key, Key] = {}
        self._rings: dict[str, _VectorRing] = {}
        self._now = -np.inf

    def __len__(self) -> int:
        return len(self._entries)

    def assign(self, post: Post, vector: np.ndarray | None = None) -> Assignment:
        """Cluster `post`; the same key again (an edit, a replay) keeps its cluster."""
        known = self._entries.get(post.key)
        if known is not None:
            return known.assignment
        ts = post.date.timestamp()
        self._advance(ts)
        feats = self._features(post, with_skeleton=vector is not None)
        assignment = (
            self._by_forward(post)
            or self._by_album(post)
            or self._by_exact(ts, feats.exact)
            or self._by_near(ts, feats)
            or self._by_vector(post, ts, vector, feats)
            or Assignment(_cluster_id(post.key), "new", 0.0)
        )
        self._remember(post, ts, assignment, feats, vector)
        return assignment

    def seed(self, posts: Iterable[Post], vectors: Mapping[Key, np.ndarray] | None = None) -> int:
        """Restore recent state from stored posts (with `cluster_id` set), oldest first."""
        seeded = 0
        for post in posts:
            if post.cluster_id is None or post.key in self._entries:
                continue
            ts = post.date.timestamp()
            self._advance(ts)
            reason: Reason = "new" if post.cluster_id == _cluster_id(post.key) else "exact"
            assignment = Assignment(post.cluster_id, reason, 1.0)
            vector = (vectors or {}).get(post.key)
            feats = self._features(post, with_skeleton=vector is not None)
            self._remember(post, ts, assignment, feats, vector)
            seeded += 1
        return seeded

    # Evidence, most certain first. Each returns None when it has nothing to say.

    def _by_forward(self, post: Post) -> Assignment | None:
        origin = _origin(post)
        # A forward of an unseen original joins earlier forwards of it; an original seen
        # after its forwards (backfill) joins them too.
        for key in (
            origin,
            self._origins.get(origin) if origin else None,
            self._origins.get(post.key),
        ):
            if key is not None and key in self._entries:
                return self._join(key, "forward", 1.0)
        return None

    def _by_album(self, post: Post) -> Assignment | None:
        if post.grouped_id is None:
            return None
        key = self._albums.get((post.channel_id, post.grouped_id))
        if key is None:
            return None
        return self._join(key, "album", 1.0)

    def _by_exact(self, ts: float, exact: tuple[int, ...]) -> Assignment | None:
        for digest in exact:
            key = self._exact.get(digest)
            if key is not None and self._in_window(key, ts):
                return self._join(key, "exact", 1.0)
        return None

    def _by_near(self, ts: float, feats: _Features) -> Assignment | None:
        shingles = feats.shingles
        if shingles is None or feats.minhash is None:
            return None
        best: tuple[float, Key] | None = None
        for key in self._lsh.query(feats.minhash):
            entry = self._entries[key]
            if entry.shingles is None or not self._in_window(key, ts):
                continue
            score = self._lexical_score(shingles, entry.shingles)
            if score and (best is None or (score, key) > best):
                best = (score, key)
        if best is None:
            return None
        return self._join(best[1], "near", round(best[0], 4))

    def _lexical_score(self, a: np.ndarray, b: np.ndarray) -> float:
        """Jaccard of the shingle sets, or containment of a trimmed copy in its source."""
        common = np.intersect1d(a, b, assume_unique=True).size
        jaccard = common / (a.size + b.size - common)
        if jaccard >= self.near_threshold:
            return jaccard
        # A trim must still be a sizeable part of the longer text: a one-paragraph item
        # inside a long digest is not the digest's story.
        small, large = sorted((a.size, b.size))
        if common / small >= self.containment_threshold and small * 3 >= large:
            return jaccard
        return 0.0

    def _by_vector(
        self, post: Post, ts: float, vector: np.ndarray | None, feats: _Features
    ) -> Assignment | None:
        """A translation: close sentence vectors and shared consonant skeletons.

        The vector alone is too weak (USE-multilingual was not trained on Ukrainian): in a
        hand-made ru/uk sample translations scored cosine 0.38-0.70 and unrelated reports up
        to 0.49, while skeleton overlap split them cleanly (0.44-0.73 against at most 0.36).
        """
        bones = feats.bones
        if vector is None or bones is None or post.lang == UNDETERMINED:
            return None
        best: tuple[float, Key] | None = None
        for lang, ring in sorted(self._rings.items()):
            if lang == post.lang:
                continue
            closest = ring.nearest(vector, ts, self.window_seconds, self.crossling_threshold)
            for cosine, i in closest:
                key = ring.keys[i]
                if (
                    key not in self._entries
                    or not self._in_window(key, ts)
                    or _overlap(bones.get(), ring.skeletons[i].get()) < self.skeleton_threshold
                ):
                    continue
                if best is None or (cosine, key) > best:
                    best = (cosine, key)
        if best is None:
            return None
        return self._join(best[1], "crosslingual", round(best[0], 4))

    def _join(self, key: Key, reason: Reason, similarity: float) -> Assignment:
        return Assignment(self._entries[key].assignment.cluster_id, reason, similarity)

    def _in_window(self, key: Key, ts: float) -> bool:
        """Whether a post dated `ts` is close enough to `key` and to the start of its
        story to join them by wording."""
        entry = self._entries[key]
        start = self._stories[entry.assignment.cluster_id].start
        return max(abs(ts - entry.ts), abs(ts - start)) <= self.window_seconds

    # State.

    def _features(self, post: Post, with_skeleton: bool) -> _Features:
        lines = content_lines(post.text)
        kept = self.boilerplate.strip(post.channel_id, lines)
        stripped = len(kept) < len(lines)
        full = " ".join(lines)
        text = " ".join(kept) if stripped else full  # words one space apart
        words = text.split()
        digests = []
        # The full text catches copies made before a footer is learned, and ads a channel
        # repeats (all boilerplate by then); a signature alone is too short to count.
        if len(words) >= self.min_exact_words or len(full.split()) >= self.min_words:
            digests.append(_digest(full))
        # The stripped text catches copies that differ only in their signatures.
        if len(words) >= self.min_exact_words and stripped:
            digests.append(_digest(text))
        exact = tuple(dict.fromkeys(digests))
        if len(words) < self.min_words:
            return _Features(exact, None, None, None)
        shingles = _shingles(text, len(words))
        bones = _Bones(text) if with_skeleton and has_skeleton(text) else None
        return _Features(exact, shingles, self._lsh.signature(shingles), bones)

    def _remember(
        self,
        post: Post,
        ts: float,
        assignment: Assignment,
        feats: _Features,
        vector: np.ndarray | None,
    ) -> None:
        key = post.key
        album = (post.channel_id, post.grouped_id) if post.grouped_id is not None else None
        origin = _origin(post)
        self._entries[key] = _Entry(ts, assignment, feats.exact, feats.shingles, album, origin)
        story = self._stories.setdefault(assignment.cluster_id, _Story(ts, 0))
        story.start = min(story.start, ts)
        story.members += 1
        heapq.heappush(self._expiry, (ts, key))
        for digest in feats.exact:
            self._point(self._exact, digest, key, ts)
        if album is not None:
            self._point(self._albums, album, key, ts)
        if origin is not None:
            self._point(self._origins, origin, key, ts)
        if feats.minhash is not None:
            self._lsh.insert(key, feats.minhash)
            if vector is not None and feats.bones is not None and post.lang != UNDETERMINED:
                if post.lang not in self._rings:
                    self._rings[post.lang] = _VectorRing(self.max_vectors, vector.shape[0])
                self._rings[post.lang].add(key, ts, vector, feats.bones)
        self._evict()

    def _point(self, table: dict, item: object, key: Key, ts: float) -> None:
        """Point `item` at `key` unless a newer post already carries it: an old post that
        arrives late (backfill) must not take the pointer, then expire with it."""
        current = table.get(item)
        if current is None or self._entries[current].ts <= ts:
            table[item] = key

    def _advance(self, ts: float) -> None:
        ts = min(ts, self._clock() + MAX_FUTURE_S)
        if ts > self._now:
            self._now = ts
            self._evict()

    def _evict(self) -> None:
        cutoff = self._now - self.window_seconds
        while self._expiry and (
            self._expiry[0][0] < cutoff or len(self._entries) > self.max_entries
        ):
            self._forget(heapq.heappop(self._expiry)[1])

    def _forget(self, key: Key) -> None:
        entry = self._entries.pop(key)
        cluster_id = entry.assignment.cluster_id
        self._stories[cluster_id].members -= 1
        if not self._stories[cluster_id].members:
            del self._stories[cluster_id]
        pointers: list[tuple[dict, object]] = [(self._exact, d) for d in entry.exact]
        pointers += [(self._albums, entry.album), (self._origins, entry.origin)]
        for table, item in pointers:
            if item is not None and table.get(item) == key:
                del table[item]
        if entry.shingles is not None:
            self._lsh.remove(key)


def _shingles(text: str, count: int) -> np.ndarray:
    """Sorted unique 32-bit hashes of the word `SHINGLE`-grams of `count` words one space
    apart.

    Words are hashed once (crc32: fast and stable across processes, unlike `hash`) and
    combined per shingle with numpy, rather than hashing every joined shingle string.
    """
    hashes = np.fromiter(map(zlib.crc32, text.encode().split(b" ")), np.uint64, count)
    # Multiplying after each add lets every word reach the high bits that are kept.
    size = count - SHINGLE + 1
    grams = hashes[:size] * _SHINGLE_MULTS[0]  # wraps mod 2**64, on purpose
    for i in range(1, SHINGLE):
        grams += hashes[i : i + size]
        grams *= _SHINGLE_MULTS[i]
    grams = (grams >> np.uint64(32)).astype(np.uint32)
    grams.sort()
    # np.unique's general path costs more than the sort on these few dozen values.
    keep = np.empty(size, dtype=bool)
    keep[0] = True
    np.not_equal(grams[1:], grams[:-1], out=keep[1:])
    return grams[keep]


def _overlap(a: set[str], b: set[str]) -> float:
    """Share of the smaller set found in the other."""
    return len(a & b) / min(len(a), len(b)) if a and b else 0.0


def _digest(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest())


def _origin(post: Post) -> Key | None:
    fwd = post.forward
    if fwd is None or fwd.channel_id is None or fwd.message_id is None:
        return None
    return (fwd.channel_id, fwd.message_id)


def _cluster_id(key: Key) -> str:
    return f"{key[0]}/{key[1]}"
