"""Candidate claims for a post (monitors.matching.features.candidates)."""

import numpy as np

from monitors.matching.features import Signals, candidates, matrix


def _signals(
    bm25: list[list[float]],
    names: list[list[float]],
    cos: list[list[float]] | None = None,
) -> Signals:
    """Signals of a batch: one list per post."""
    zeros = np.zeros((len(bm25), len(bm25[0])), dtype=np.float32)
    return Signals(
        bm25=np.array(bm25, dtype=np.float32),
        shared=zeros,
        post_mass=np.ones(len(bm25)),
        cos=None if cos is None else np.array(cos, dtype=np.float32),
        names=np.array(names, dtype=np.float32),
        phrases=zeros,
    )


def _rows(signals: Signals, alive: np.ndarray, per_signal: int) -> list[int]:
    """The candidate rows of a batch of one post."""
    posts, rows = candidates(signals, alive, per_signal)
    assert not posts.any()
    return rows.tolist()


def test_every_row_sharing_words_or_names_when_few_do():
    signals = _signals([[0, 0, 2.0, 0, 1.0, 0]], [[0, 3.0, 0, 0, 0, 0]])
    assert _rows(signals, np.ones(6, dtype=bool), per_signal=3) == [1, 2, 4]


def test_the_best_rows_of_each_signal_when_many_score():
    signals = _signals([[5, 4, 3, 2, 1, 0.5]], [[0] * 6], cos=[[0, 0, 0, 0.1, 0.9, 0.8]])
    assert _rows(signals, np.ones(6, dtype=bool), per_signal=2) == [0, 1, 4, 5]


def test_the_english_cosines_are_a_column_not_a_source_of_candidates():
    """The English encoder scores only the pairs the other signals chose: its claims'
    vectors are made on demand (matcher.py)."""
    signals = _signals([[0] * 6], [[0] * 6], cos=[[0.9, 0.8, 0, 0, 0, 0]])
    posts, rows = candidates(signals, np.ones(6, dtype=bool), per_signal=2)
    assert rows.tolist() == [0, 1]
    english = np.array([0.2, 0.7], dtype=np.float32)
    features = matrix(signals, posts, rows, *(np.ones(len(rows), np.float32),) * 3, english)
    assert features[:, -1].tolist() == english.tolist()
    assert not matrix(signals, posts, rows, *(np.ones(2, np.float32),) * 3, None)[:, -1].any()


def test_removed_rows_are_never_candidates():
    alive = np.array([True, False, True, True])
    signals = _signals([[1.0, 9.0, 0, 0]], [[0, 5.0, 0, 0]], cos=[[0.1, 0.99, 0.2, 0.3]])
    assert _rows(signals, alive, per_signal=2) == [0, 2, 3]


def test_each_post_of_a_batch_gets_its_own_candidates():
    signals = _signals(
        [[5, 4, 3, 2], [0, 0, 0, 1.0], [0, 0, 0, 0]],
        [[0] * 4, [2.0, 0, 0, 0], [0] * 4],
    )
    posts, rows = candidates(signals, np.ones(4, dtype=bool), per_signal=2)
    assert list(zip(posts.tolist(), rows.tolist(), strict=True)) == [(0, 0), (0, 1), (1, 0), (1, 3)]


def test_features_of_a_batch_equal_those_of_each_post_alone():
    """Batching must not change a single feature value: relative features (best BM25,
    ranks, cosine gap) are taken within each post."""
    rng = np.random.default_rng(7)
    scores = [rng.random((3, 8), dtype=np.float32) * (rng.random((3, 8)) > 0.4) for _ in range(4)]
    cos, ecos = rng.random((2, 3, 8), dtype=np.float32)
    post_mass = np.array([1.5, 2.0, 3.0])
    masses = [rng.random(8, dtype=np.float32) for _ in range(3)]

    def features_of(batch: list[int]) -> list[np.ndarray]:
        bm25, shared, names, phrases = (score[batch] for score in scores)
        signals = Signals(bm25, shared, post_mass[batch], cos[batch], names, phrases)
        posts, rows = candidates(signals, np.ones(8, dtype=bool), per_signal=3)
        english = ecos[batch][posts, rows]
        out = matrix(signals, posts, rows, *(mass[rows] for mass in masses), english)
        return [out[posts == i] for i in range(len(batch))]

    together = features_of([0, 1, 2])
    for i in range(3):
        [alone] = features_of([i])
        assert len(alone) >= 3
        np.testing.assert_array_equal(together[i], alone)
