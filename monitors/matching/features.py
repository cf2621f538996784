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
)
_EPS = 1e-6


@dataclass(slots=True)
class Signals:
    """Whole-collection scores for one post, before candidates are chosen."""

    bm25: np.ndarray  # per claim row
    shared: np.ndarray  # idf mass shared with the post, per claim row
    post_mass: float  # idf mass of the post's distinct terms
    cos: np.ndarray | None  # per claim row, None without an embedder
    names: np.ndarray  # name-key idf mass shared with the post, per claim row
    phrases: np.ndarray  # term-bigram idf mass shared with the post, per claim row


def candidates(signals: Signals, alive: np.ndarray, per_signal: int) -> np.ndarray:
    """Rows in the top `per_signal` by BM25, by cosine or by shared names (live only).

    Ascending, so a stable sort hands exact ties to the claim indexed first: claim
    collections hold re-published copies, and the first copy is the one people cite."""
    rows = [_top(signals.bm25, per_signal), _top(signals.names, per_signal)]
    if signals.cos is not None:
        rows.append(_top(np.where(alive, signals.cos, -np.inf), per_signal, floor=-np.inf))
    chosen = np.zeros(len(alive), dtype=np.bool_)
    for top in rows:
        chosen[top] = True
    return np.flatnonzero(chosen & alive)


def _top(score: np.ndarray, n: int, floor: float = 0.0) -> np.ndarray:
    """Up to n best rows scoring above `floor` (unordered)."""
    above = np.flatnonzero(score > floor)
    if len(above) <= n:  # the usual case for words and names: a post shares few
        return above
    return np.argpartition(-score, n - 1)[:n]


def matrix(
    signals: Signals,
    rows: np.ndarray,
    claim_mass: np.ndarray,
    name_mass: np.ndarray,
    phrase_mass: np.ndarray,
) -> np.ndarray:
    """Feature rows (len(rows) x len(FEATURES)) in FEATURES order."""
    bm25 = signals.bm25[rows]
    best = float(signals.bm25.max(initial=0.0))
    cols = {
        "bm25_rel": bm25 / (best + _EPS),
        "bm25_post": bm25 / (signals.post_mass + _EPS),
        "cover_claim": signals.shared[rows] / (claim_mass + _EPS),
        "cover_post": signals.shared[rows] / (signals.post_mass + _EPS),
        "log_bm25": np.log1p(bm25),
        "rr_bm25": _reciprocal_rank(bm25),
        "names": np.minimum(signals.names[rows] / (name_mass + _EPS), 1.0),
        "phrases": signals.phrases[rows] / (phrase_mass + _EPS),
    }
    if signals.cos is None:
        cos = np.zeros(len(rows), dtype=np.float32)
        cols.update(cos=cos, cos_gap=cos, rr_cos=cos)
    else:
        cos = signals.cos[rows]
        cols.update(cos=cos, cos_gap=cos - cos.max(initial=-1.0), rr_cos=_reciprocal_rank(cos))
    return np.stack([cols[name] for name in FEATURES], axis=1).astype(np.float32)


def _reciprocal_rank(score: np.ndarray) -> np.ndarray:
    ranks = np.empty(len(score), dtype=np.float32)
    ranks[np.argsort(-score, kind="stable")] = np.arange(len(score), dtype=np.float32)
    return 1.0 / (1.0 + ranks)
