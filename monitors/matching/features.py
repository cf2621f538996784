"""Pair features for one post against its candidate claims.

Absolute features (coverage, cosine) say whether a pair matches at all; relative ones
(gap to the post's best, reciprocal rank) say whether this claim stands out among the
claims the post resembles. The calibration in `calibration.py` is fitted on them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FEATURES = (
    "bm25_rel",  # BM25 / the post's best BM25
    "bm25_post",  # BM25 / idf mass of the post's terms
    "cover_claim",  # share of the claim's idf mass found in the post
    "cover_post",  # share of the post's idf mass found in the claim
    "log_bm25",
    "rr_bm25",  # 1 / (1 + rank by BM25 among candidates)
    "cos",  # embedding cosine
    "cos_gap",  # cosine minus the post's best cosine
    "rr_cos",
    "names",  # share of the claim's name-key idf mass found in the post
    "phrases",  # share of the claim's term-bigram idf mass found in the post
    "ecos",  # English encoder cosine (posts with English text), else 0
)
_EPS = 1e-6


@dataclass(slots=True)
class Signals:
    """Whole-collection scores for a batch of posts, one row per post, before candidates
    are chosen. Working on the whole batch at once keeps numpy's per-call cost per batch
    rather than per post."""

    bm25: np.ndarray  # posts x claim rows
    shared: np.ndarray  # idf mass shared with the post, posts x claim rows
    post_mass: np.ndarray  # idf mass of each post's distinct terms (float64)
    cos: np.ndarray | None  # posts x claim rows, None without an embedder
    names: np.ndarray  # name-key idf mass shared with the post, posts x claim rows
    phrases: np.ndarray  # term-bigram idf mass shared with the post, posts x claim rows


def candidates(
    signals: Signals, alive: np.ndarray, per_signal: int
) -> tuple[np.ndarray, np.ndarray]:
    """(post, row) pairs whose row is in the post's top `per_signal` by BM25, by either
    cosine or by shared names (live rows only), ordered by post, then row.

    Rows ascend, so a stable sort hands exact ties to the claim indexed first: claim
    collections hold re-published copies, and the first copy is the one people cite."""
    chosen = np.zeros(signals.bm25.shape, dtype=np.bool_)
    _mark_top(chosen, signals.bm25, per_signal)
    _mark_top(chosen, signals.names, per_signal)
    if signals.cos is not None:
        _mark_top(chosen, np.where(alive, signals.cos, -np.inf), per_signal, floor=-np.inf)
    posts, rows = np.nonzero(chosen & alive)
    return posts, rows


def _mark_top(chosen: np.ndarray, score: np.ndarray, n: int, floor: float = 0.0) -> None:
    """Mark in each post's row up to n best entries scoring above `floor`."""
    above = score > floor
    many = np.count_nonzero(above, axis=1) > n
    chosen |= above & ~many[:, None]  # the usual case for words and names: a post shares few
    if many.any():
        posts = np.flatnonzero(many)
        top = np.argpartition(-score[posts], n - 1, axis=1)[:, :n]
        chosen[posts[:, None], top] = True


def matrix(
    signals: Signals,
    posts: np.ndarray,
    rows: np.ndarray,
    claim_mass: np.ndarray,
    name_mass: np.ndarray,
    phrase_mass: np.ndarray,
    english_cosines: np.ndarray | None,
) -> np.ndarray:
    """Feature rows (one per (post, row) pair, len(FEATURES) columns) in FEATURES order.

    Pairs come grouped by post, as `candidates` returns them; the masses and the English
    encoder's cosines (None without it) are per pair."""
    bm25, shared = signals.bm25[posts, rows], signals.shared[posts, rows]
    # A post's divisors are summed in float64, then rounded to float32: what numpy does
    # with a Python float divisor, as when each post was scored alone.
    best = (signals.bm25.max(axis=1, initial=0.0).astype(np.float64) + _EPS).astype(np.float32)
    post_mass = (signals.post_mass + _EPS).astype(np.float32)[posts]
    cols = {
        "bm25_rel": bm25 / best[posts],
        "bm25_post": bm25 / post_mass,
        "cover_claim": shared / (claim_mass + _EPS),
        "cover_post": shared / post_mass,
        "log_bm25": np.log1p(bm25),
        "rr_bm25": _reciprocal_rank(posts, bm25),
        "names": np.minimum(signals.names[posts, rows] / (name_mass + _EPS), 1.0),
        "phrases": signals.phrases[posts, rows] / (phrase_mass + _EPS),
    }
    if signals.cos is None:
        cos = np.zeros(len(rows), dtype=np.float32)
        cols.update(cos=cos, cos_gap=cos, rr_cos=cos)
    else:
        cos = signals.cos[posts, rows]
        cols.update(
            cos=cos, cos_gap=cos - _group_max(posts, cos, -1.0), rr_cos=_reciprocal_rank(posts, cos)
        )
    cols["ecos"] = np.zeros(len(rows), np.float32) if english_cosines is None else english_cosines
    return np.stack([cols[name] for name in FEATURES], axis=1).astype(np.float32)


def _segments(posts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each post's run of pairs starts, and each pair's run number."""
    _, starts, segment = np.unique(posts, return_index=True, return_inverse=True)
    return starts, segment


def _group_max(posts: np.ndarray, score: np.ndarray, initial: float) -> np.ndarray:
    """The best score (at least `initial`) of each pair's post, per pair."""
    if not len(posts):
        return score
    starts, segment = _segments(posts)
    best = np.maximum(np.maximum.reduceat(score, starts), score.dtype.type(initial))
    return best[segment]


def _reciprocal_rank(posts: np.ndarray, score: np.ndarray) -> np.ndarray:
    """1 / (1 + rank of the pair's score within its post), ties in pair order."""
    position = np.empty(len(score), dtype=np.int64)
    position[np.lexsort((-score, posts))] = np.arange(len(score))
    starts, segment = _segments(posts)
    ranks = (position - starts[segment]).astype(np.float32)
    return 1.0 / (1.0 + ranks)
