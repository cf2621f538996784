"""Refitting the calibration (monitors.matching.fit) on synthetic data."""

import json
from datetime import UTC, datetime

import numpy as np

from bot.config import AlertsConfig
from monitors.matching import Matcher, calibration, realchatter
from monitors.matching.features import FEATURES
from monitors.matching.fit import (
    CLAIM_DAYS,
    Group,
    chatter_candidates,
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
    embedder, english = LetterEmbedder(), LetterEmbedder()
    vector_map, raw, mapped = training_groups(embedder, english, claims, posts, qrels)
    assert vector_map.shape == (26, 26) and vector_map.dtype == np.float32
    assert set(mapped) == {"full", "full-use"}
    for normal, unmatched in (raw, *mapped.values()):
        assert len(normal) == len(unmatched) == len(words)
        assert all(g.relevant.sum() == 1 for g in normal)
        assert not any(g.relevant.any() for g in unmatched)
    ecos = FEATURES.index("ecos")
    assert all(g.features[:, ecos].any() for g in mapped["full"][0])
    assert not any(g.features[:, ecos].any() for g in (*raw[0], *mapped["full-use"][0]))
    assert embedder.texts == len(claims) + len(words)
    assert english.texts == len(claims) + len(words)


def test_posts_sharing_a_relevant_claim_share_a_fold():
    posts = [{"id": str(i)} for i in range(40)]
    # 0-1 share claim a, 1-2 share b: one chain; the rest stand alone.
    qrels = {"0": {"a"}, "1": {"a", "b"}, "2": {"b"}} | {str(i): {f"c{i}"} for i in range(3, 40)}
    fold = claim_folds(posts, qrels)
    assert fold[0] == fold[1] == fold[2]
    assert set(fold) == set(range(5))


CHANNEL = 1234567890


def chatter_folder(tmp_path):
    """A real-chatter set: one train claim and one dev claim, both dated 2024-11-10."""
    data = tmp_path / "realchatter"
    data.mkdir()
    rows = [
        {"id": "k1", "text": "Drone hits Belgorod depot", "date": "2024-11-10", "split": "train"},
        {"id": "k2", "text": "Apple orchard fire", "date": "2024-11-10", "split": "dev"},
    ]
    (data / "claims.jsonl").write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    (data / "qrels.tsv").write_text(f"channel_id\tmessage_id\tclaim_id\n{CHANNEL}\t1\tk1\n")
    return data


def chatter_corpus(tmp_path, posts: list[tuple[int, str, str]]):
    """One channel export holding (message id, ISO date, text) posts."""
    folder = tmp_path / "corpus" / "channel_1"
    folder.mkdir(parents=True)
    messages = [
        {
            "id": mid,
            "type": "message",
            "date": day,
            "date_unixtime": str(int(datetime.fromisoformat(day).replace(tzinfo=UTC).timestamp())),
            "text": text,
        }
        for mid, day, text in posts
    ]
    export = {"name": "c", "type": "public_channel", "id": CHANNEL, "messages": messages}
    (folder / "result.json").write_text(json.dumps(export, ensure_ascii=False), encoding="utf-8")
    return folder.parent


def test_realchatter_set_loads_claims_with_their_day_and_posts_by_id(tmp_path):
    chatter = realchatter.load(chatter_folder(tmp_path))
    assert [c.id for c in chatter.claims] == ["k1", "k2"]
    assert chatter.claims[0].published == datetime(2024, 11, 10, tzinfo=UTC)
    assert chatter.claim_ids("train") == {"k1"} and chatter.claim_ids("all") == {"k1", "k2"}
    assert chatter.qrels == {(CHANNEL, 1): {"k1"}}
    corpus = chatter_corpus(tmp_path, [(1, "2024-11-09T01:00:00", "Дрон ударил по Белгороду")])
    [post] = realchatter.load_posts(corpus)
    assert post.key == (CHANNEL, 1) and post.lang == "ru"
    claim = chatter.claims[0]
    assert realchatter.in_window(post, claim, 3)  # a day before the claim's date counts
    post.date = datetime(2024, 11, 13, 0, 1, tzinfo=UTC)
    assert not realchatter.in_window(post, claim, 3)


def test_chatter_candidates_keep_live_cross_lingual_posts_against_train_claims(tmp_path):
    corpus = chatter_corpus(
        tmp_path,
        [
            (1, "2024-11-10T08:00:00", "Дрон ударил по складу в Белгороде (Belgorod)"),
            (2, "2024-11-11T08:00:00", "В Белгороде горит склад после атаки дрона"),
            (3, "2024-11-20T08:00:00", "Дрон снова ударил по складу в Белгороде"),  # too late
            (4, "2024-11-10T09:00:00", "Drone hits Belgorod depot again"),  # English
        ],
    )
    model = calibration.MODELS["crossling"]
    matcher = Matcher(LetterEmbedder(), vector_map=None)
    logits, labels = chatter_candidates(model, matcher, chatter_folder(tmp_path), corpus)
    assert "k2" not in matcher and "k1" in matcher  # dev claims stay unseen
    assert [list(y) for y in labels] == [[True], [False]]  # posts 1 and 2, one claim each
    assert all(len(z) == len(y) for z, y in zip(logits, labels, strict=True))


def test_the_fit_window_is_the_alert_policy_default():
    assert AlertsConfig().claim_days == CLAIM_DAYS
