"""Refitting the calibration (monitors.matching.fit) on synthetic candidate groups."""

import numpy as np

from monitors.matching import calibration
from monitors.matching.features import FEATURES
from monitors.matching.fit import Group, choose_threshold, fit_model, render

COS = FEATURES.index("cos")


def groups(seed: int, relevant: bool) -> list[Group]:
    """Posts whose relevant candidate (row 0) has the highest cosine, plus noise."""
    rng = np.random.default_rng(seed)
    made = []
    for _ in range(60):
        rows = rng.uniform(0, 0.5, size=(20, len(FEATURES))).astype(np.float32)
        labels = np.zeros(20, dtype=bool)
        if relevant:
            rows[0, COS] = rng.uniform(0.6, 1.0)
            labels[0] = True
        made.append(Group(rows, labels))
    return made


def test_fitted_model_ranks_by_the_informative_feature_and_calibrates():
    model = fit_model(("cos", "names"), groups(1, True), groups(2, False))
    assert model.weights[COS] > 0
    assert all(w == 0 for i, w in enumerate(model.weights) if FEATURES[i] not in model.uses)
    test = groups(3, True)
    p = np.concatenate([model.probability(g.features) for g in test])
    y = np.concatenate([g.relevant for g in test])
    assert p[y].min() > model.threshold > p[~y].max()
    assert p.min() >= 0.0 and p.max() <= 1.0


def test_threshold_separates_when_it_can():
    assert choose_threshold(np.array([0.9, 0.8, 0.3, 0.2]), np.array([1, 1, 0, 0], bool)) > 0.3


def test_rendered_block_is_valid_calibration_code():
    model = fit_model(("cos",), groups(1, True), groups(2, False))
    namespace = {"Model": calibration.Model, "USES": {"full": ("cos",)}}
    exec(render({"full": model}), namespace)
    assert namespace["MODELS"]["full"] == model
