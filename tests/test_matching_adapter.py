"""The vector map (monitors.matching.adapter) on synthetic vectors, and in the Matcher."""

import numpy as np
import pytest

from monitors.matching import Matcher, adapter
from tests.test_matching import CLAIMS, ids


def unit(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def vectors(rng, n):
    """Rows whose first four coordinates are large and carry no identity (a topic, say)."""
    rows = rng.normal(size=(n, 24))
    rows[:, :4] *= 2.0
    return rows


def noisy_posts(rng, claims, n):
    """Posts that are their claim with those four coordinates drawn afresh: raw cosines are
    swamped by them, and a map can learn to shrink them."""
    gold = rng.integers(len(claims), size=n)
    posts = claims[gold] * 4.0 + rng.normal(0, 0.3, size=(n, claims.shape[1]))
    posts[:, :4] = vectors(rng, n)[:, :4]
    return unit(posts).astype(np.float32), gold


def top1(w, posts, claims, gold):
    cosines = adapter.adapt(posts, w) @ adapter.adapt(claims, w).T
    return float(np.mean(cosines.argmax(axis=1) == gold))


def test_fitted_map_ranks_held_out_posts_better_and_stays_near_identity():
    rng = np.random.default_rng(0)
    claims = unit(vectors(rng, 150)).astype(np.float32)
    train, train_gold = noisy_posts(rng, claims, 200)
    test, test_gold = noisy_posts(rng, claims, 200)
    w = adapter.fit(train, claims, [[g] for g in train_gold], steps=40)
    eye = np.eye(24)
    assert top1(w, test, claims, test_gold) > top1(eye, test, claims, test_gold) + 0.1
    assert np.abs(w - eye).max() < 1.0


def test_adapted_rows_are_unit_length_and_no_map_changes_nothing():
    rows = np.random.default_rng(1).normal(size=(5, 8)).astype(np.float32)
    w = np.diag(np.arange(1, 9)).astype(np.float32)
    assert np.allclose(np.linalg.norm(adapter.adapt(rows, w), axis=1), 1.0, atol=1e-6)
    assert adapter.adapt(rows, None) is rows


def test_packaged_map_only_for_its_width():
    assert adapter.packaged(3) is None


@pytest.fixture(scope="module")
def embedder():
    from monitors.embedding import load_embedder

    return load_embedder("use-multilingual")


def matchers(embedder, *maps):
    made = [Matcher(embedder, vector_map=m) for m in maps]
    for m in made:
        m.add_claims(CLAIMS)
    return made


def test_matcher_maps_claims_and_english_posts_alike(embedder):
    """A permutation of coordinates keeps every cosine only when both sides go through it,
    precomputed post vectors included."""
    permutation = np.eye(embedder.dim, dtype=np.float32)[::-1]
    plain, permuted = matchers(embedder, None, permutation)
    vector = embedder.encode(["Putin cancelled his trip to the Caucasus"])[0]
    found = [m.rank("", vector=vector, k=3) for m in (plain, permuted)]
    assert ids(found[0])[0] == "trip"
    assert found[0] == found[1]


def test_posts_without_english_keep_raw_cosines(embedder):
    half = np.diag(np.arange(embedder.dim) < embedder.dim // 2).astype(np.float32)
    plain, halved = matchers(embedder, None, half)
    russian = dict(text="Путин отменил поездку на Кавказ", lang="ru")
    english = dict(text="Putin cancelled his trip to the Caucasus", lang="en")
    assert plain.rank(**russian) == halved.rank(**russian)
    assert plain.rank(**english) != halved.rank(**english)


def test_a_translated_post_maps_only_a_vector_made_from_its_translation(embedder):
    half = np.diag(np.arange(embedder.dim) < embedder.dim // 2).astype(np.float32)
    plain, halved = matchers(embedder, None, half)
    russian = "Путин отменил поездку на Кавказ"
    translated = dict(text=russian, lang="ru", translation="Putin cancelled his trip")
    given = dict(translated, vector=embedder.encode([russian])[0])  # as the pipeline does
    assert plain.rank(**given) == halved.rank(**given)
    assert plain.rank(**translated) != halved.rank(**translated)
