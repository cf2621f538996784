"""Candidate claims for a post (monitors.matching.features.candidates)."""

import numpy as np

from monitors.matching.features import Signals, candidates


def _signals(bm25: list[float], names: list[float], cos: list[float] | None = None) -> Signals:
    zeros = np.zeros(len(bm25), dtype=np.float32)
    return Signals(
        bm25=np.array(bm25, dtype=np.float32),
        shared=zeros,
        post_mass=1.0,
        cos=None if cos is None else np.array(cos, dtype=np.float32),
        names=np.array(names, dtype=np.float32),
        phrases=zeros,
    )


def test_every_row_sharing_words_or_names_when_few_do():
    signals = _signals([0, 0, 2.0, 0, 1.0, 0], [0, 3.0, 0, 0, 0, 0])
    assert candidates(signals, np.ones(6, dtype=bool), per_signal=3).tolist() == [1, 2, 4]


def test_the_best_rows_of_each_signal_when_many_score():
    signals = _signals([5, 4, 3, 2, 1, 0.5], [0] * 6, cos=[0, 0, 0, 0.1, 0.9, 0.8])
    assert candidates(signals, np.ones(6, dtype=bool), per_signal=2).tolist() == [0, 1, 4, 5]


def test_removed_rows_are_never_candidates():
    alive = np.array([True, False, True, True])
    signals = _signals([1.0, 9.0, 0, 0], [0, 5.0, 0, 0], cos=[0.1, 0.99, 0.2, 0.3])
    assert candidates(signals, alive, per_signal=2).tolist() == [0, 2, 3]
