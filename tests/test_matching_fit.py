"""Refitting the calibration (monitors.matching.fit) on synthetic data."""

import numpy as np

from monitors.matching import calibration
from monitors.matching.features import FEATURES
from monitors.matching.fit import (
    Group,
    choose_threshold,
    claim_folds,
    fit_model,
    render,
    training_groups,
)
from monitors.models import Claim

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


class LetterEmbedder:
    """Unit vectors of letter counts: texts sharing letters are near, and it counts calls."""

    dim = 26

    def __init__(self):
        self.texts = 0

    def encode(self, texts):
        self.texts += len(texts)
        rows = np.ones((len(texts), self.dim), dtype=np.float32)
        for i, text in enumerate(texts):
            for ch in text.lower():
                if "a" <= ch <= "z":
                    rows[i, ord(ch) - ord("a")] += 1
        return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_training_groups_use_labelled_train_posts_and_embed_each_text_once():
    words = ["apple", "brick", "cloud", "dwarf", "ember", "fjord", "glyph", "hound"]
    claims = [Claim(str(i), f"The {w} story") for i, w in enumerate(words)]
    posts = [{"id": f"p{i}", "text": f"{w} again", "split": "train"} for i, w in enumerate(words)]
    posts.append({"id": "dev", "text": "apple", "split": "dev"})
    posts.append({"id": "unlabelled", "text": "brick", "split": "train"})
    qrels = {f"p{i}": {str(i)} for i in range(len(words))} | {"dev": {"0"}}
    embedder = LetterEmbedder()
    vector_map, raw, mapped = training_groups(embedder, claims, posts, qrels)
    assert vector_map.shape == (26, 26) and vector_map.dtype == np.float32
    for normal, unmatched in (raw, mapped):
        assert len(normal) == len(unmatched) == len(words)
        assert all(g.relevant.sum() == 1 for g in normal)
        assert not any(g.relevant.any() for g in unmatched)
    assert embedder.texts == len(claims) + len(words)


def test_posts_sharing_a_relevant_claim_share_a_fold():
    posts = [{"id": str(i)} for i in range(40)]
    # 0-1 share claim a, 1-2 share b: one chain; the rest stand alone.
    qrels = {"0": {"a"}, "1": {"a", "b"}, "2": {"b"}} | {str(i): {f"c{i}"} for i in range(3, 40)}
    fold = claim_folds(posts, qrels)
    assert fold[0] == fold[1] == fold[2]
    assert set(fold) == set(range(5))
