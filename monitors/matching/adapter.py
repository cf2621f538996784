"""A learned linear map on sentence vectors, applied before the matcher's cosine.

USE puts a tweet near the claim it repeats, but often no nearer than other claims on the
same topic. A square map fitted on labelled pairs, with every other claim as a negative,
pulls the right claim ahead. It is applied to both sides (claims when indexed, posts when
ranked) and the rows renormalised, so a cosine stays a cosine. It starts at the identity
and is pulled back towards it. It was fitted on English pairs and cost the cross-lingual
check alert precision, so the Matcher maps only posts with English text (Matcher._maps).
Fitted by `monitors.matching.fit`, stored next to this module.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import numpy as np

PATH = Path(__file__).with_name("adapter.npy")


@cache
def _stored() -> np.ndarray | None:
    return np.load(PATH).astype(np.float32) if PATH.exists() else None


def packaged(dim: int) -> np.ndarray | None:
    """The fitted map when it fits vectors of this width, else None."""
    stored = _stored()
    return stored if stored is not None and stored.shape == (dim, dim) else None


def adapt(rows: np.ndarray, vector_map: np.ndarray | None) -> np.ndarray:
    """Map rows and rescale them to unit length; without a map, the rows as they are."""
    if vector_map is None:
        return rows
    mapped, _ = _unit(rows @ vector_map.T)
    return mapped.astype(np.float32)


def fit(
    posts: np.ndarray,
    claims: np.ndarray,
    gold: list[list[int]],
    *,
    l2: float = 1e-2,
    temperature: float = 0.05,
    steps: int = 30,
    rate: float = 5e-3,
) -> np.ndarray:
    """The map W = I + D by Adam on a softmax over every claim for each post, L2 on D.

    `posts` and `claims` are unit rows, `gold[i]` the claim rows relevant to post i (a post
    with several spreads its target evenly over them). Defaults chosen by 5-fold
    cross-validation on the CheckThat! train split."""
    dim = posts.shape[1]
    identity = np.eye(dim, dtype=np.float32)
    target = np.zeros((len(posts), len(claims)), dtype=np.float32)
    for i, rows in enumerate(gold):
        target[i, rows] = 1.0 / len(rows)
    delta = np.zeros_like(identity)
    m, v = np.zeros_like(delta), np.zeros_like(delta)
    for step in range(1, steps + 1):
        grad = _gradient(identity + delta, posts, claims, target, temperature) + 2 * l2 * delta
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        delta -= rate * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return identity + delta


def _gradient(
    w: np.ndarray, posts: np.ndarray, claims: np.ndarray, target: np.ndarray, temperature: float
) -> np.ndarray:
    """d(mean softmax cross-entropy)/dW, through the renormalisation of both sides."""
    post_unit, post_norm = _unit(posts @ w.T)
    claim_unit, claim_norm = _unit(claims @ w.T)
    logits = (post_unit @ claim_unit.T) / temperature
    logits -= logits.max(axis=1, keepdims=True)
    p = np.exp(logits)
    p /= p.sum(axis=1, keepdims=True)
    d_logits = (p - target) / (len(posts) * temperature)
    d_post = _through_unit(d_logits @ claim_unit, post_unit, post_norm)
    d_claim = _through_unit(d_logits.T @ post_unit, claim_unit, claim_norm)
    return d_post.T @ posts + d_claim.T @ claims


def _unit(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    norms = np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return rows / norms, norms


def _through_unit(grad: np.ndarray, unit: np.ndarray, norm: np.ndarray) -> np.ndarray:
    """Gradient at x from the gradient at x / |x| (the radial part does not count)."""
    return (grad - unit * (unit * grad).sum(axis=1, keepdims=True)) / norm
