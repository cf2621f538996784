"""Refit the calibration constants.

usage: python -m monitors.matching.fit DATA_DIR [--realchatter CORPUS] [--crossling DIR] [--write]

DATA_DIR holds claims.jsonl, posts.jsonl (with "split") and qrels.tsv, as in
shared/claimmatch/checkthat2020-traindev. Only the train split is used.

First the vector map (adapter.py) is fitted on all train posts; the "full" model ranks
with it. That model must not learn from cosines the map has memorised, so each post's
features come from a map fitted on the other folds of the train split (cross-fitting):
fitted on cosines the map had seen, the weights trusted them too much and MAP fell.

Each model is fitted in two steps: a listwise softmax over each post's candidates orders
claims (what MAP rewards), then a logistic on that order's score turns it into a
probability. The logistic also sees every post once more with its relevant claims
removed, so the best of the remaining claims teaches it that "most similar" is not "a
match".

The "crossling" model (posts with no English text) learns its weights from the same
English pairs, but cosines between languages run lower than within one, so its probability
scale and alert cut are refitted on cross-lingual posts. The scale comes from real channel
posts (--realchatter CORPUS: the train claims of benchmarks/data/realchatter and the posts
inside their live windows), the cut from the train split of a hand-written set
(--crossling DIR, e.g. benchmarks/data/crossling); either alone sets both.
- Scaled on the 146 hand-written posts alone, scores were overconfident on real posts: of
  real posts scored 0.9 or more, 78% carried the claim.
- On real posts the F0.5 curve is flat (0.62 to 0.64 for cuts from 0.25 to 0.53), and the
  cut they picked (0.41) lost recall on every dev set for little precision: real-chatter
  dev F0.5 0.640 -> 0.628, cross-lingual dev recall 0.588 -> 0.550, one demo alert.
- Weights refitted on either set scored worse on its dev half than the English ones
  rescaled (real-chatter dev F0.5 0.56 to 0.59 against 0.64; on the hand-written set the
  demo alerted posts for other claims of the same raid): 17 claims or 146 posts are too
  few to outweigh 800 real tweets.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from monitors.embedding import Embedder, load_embedder, load_english_embedder
from monitors.matching import adapter, calibration, realchatter
from monitors.matching.calibration import USES, Model
from monitors.matching.features import FEATURES
from monitors.matching.matcher import Matcher, Query, claim_text, reads_as_english
from monitors.matching.text import embed_text
from monitors.models import Claim

ALERT_BETA = 0.5  # alerts weigh precision twice as much as recall
FOLDS = 5
CLAIM_DAYS = 3  # alerts.claim_days' default: past it the alert policy holds a claim's alerts
REALCHATTER = Path(__file__).parents[2] / "benchmarks" / "data" / "realchatter"


@dataclass(slots=True)
class Group:
    """One post's candidates: feature rows and which are relevant."""

    features: np.ndarray
    relevant: np.ndarray


def load(data_dir: Path) -> tuple[list[Claim], list[dict], dict[str, set[str]]]:
    """Claims, posts and qrels (post id -> relevant claim ids) of a CheckThat-style dir."""
    claims = [
        Claim(id=str(r["id"]), text=r["text"], title=r.get("title"))
        for r in _jsonl(data_dir / "claims.jsonl")
    ]
    posts = list(_jsonl(data_dir / "posts.jsonl"))
    qrels: dict[str, set[str]] = defaultdict(set)
    for line in (data_dir / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split()
        if len(parts) >= 2:
            qrels[parts[0]].add(parts[1])
    return claims, posts, qrels


def _jsonl(path: Path):
    with path.open(encoding="utf-8") as lines:
        yield from (json.loads(line) for line in lines if line.strip())


def collect(
    matcher: Matcher, posts: list[dict], qrels: dict[str, set[str]], claims: dict[str, Claim]
) -> tuple[list[Group], list[Group]]:
    """Candidate groups for train posts: as is, and with the relevant claims removed."""
    normal, unmatched = [], []
    for post in posts:
        gold = qrels.get(str(post["id"]))
        if post.get("split") != "train" or not gold:
            continue
        query = Query(post["text"], lang=post.get("lang", "en"))
        ids, rows = matcher.pair_features(query)
        normal.append(Group(rows, np.array([i in gold for i in ids])))
        for claim_id in gold:
            matcher.remove_claim(claim_id)
        _, rows = matcher.pair_features(query)
        unmatched.append(Group(rows, np.zeros(len(rows), dtype=bool)))
        matcher.add_claims([claims[c] for c in gold if c in claims])
    return normal, unmatched


Groups = tuple[list[Group], list[Group]]  # `collect`'s (normal, unmatched)


def training_groups(
    embedder: Embedder,
    english: Embedder | None,
    claims: list[Claim],
    posts: list[dict],
    qrels: dict[str, set[str]],
) -> tuple[np.ndarray, Groups, dict[str, Groups]]:
    """The vector map fitted on every labelled train post; `collect`'s groups with raw
    cosines; and with cosines through a map fitted without the post's fold, for each
    "full" model: with the English encoder's cosine ("full") and without it ("full-use")."""
    embedder = _Memo(embedder)  # every fold's matcher embeds the same claims
    english = _Memo(english) if english is not None else None
    by_id = {c.id: c for c in claims}
    raw = Matcher(embedder, vector_map=None)
    raw.add_claims(claims)
    train = [p for p in posts if p.get("split") == "train" and qrels.get(str(p["id"]))]
    rows = {c.id: i for i, c in enumerate(claims)}
    gold = [[rows[c] for c in qrels[str(p["id"])] if c in rows] for p in train]
    vectors = embedder.encode([embed_text(p["text"]) for p in train])
    claim_vectors = embedder.encode([claim_text(c) for c in claims])
    fold = claim_folds(train, qrels)
    mapped: dict[str, Groups] = {"full": ([], []), "full-use": ([], [])}
    for k in range(FOLDS):
        vector_map = _fit_map(vectors, claim_vectors, gold, np.flatnonzero(fold != k))
        held_out = [p for p, f in zip(train, fold, strict=True) if f == k]
        for name, second in (("full", english), ("full-use", None)):
            matcher = Matcher(embedder, vector_map=vector_map, english=second)
            matcher.add_claims(claims)
            found = collect(matcher, held_out, qrels, by_id)
            for mine, groups in zip(mapped[name], found, strict=True):
                mine += groups
    everything = np.arange(len(train))
    vector_map = _fit_map(vectors, claim_vectors, gold, everything)
    return vector_map, collect(raw, posts, qrels, by_id), mapped


def claim_folds(posts: list[dict], qrels: dict[str, set[str]]) -> np.ndarray:
    """A fold per post, posts that share a relevant claim in the same fold: live claims
    are new, and a map fitted on a claim's other posts would flatter its cosines."""
    parent = list(range(len(posts)))

    def root(i: int) -> int:
        while parent[i] != i:
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, post in enumerate(posts):
        for claim_id in sorted(qrels[str(post["id"])]):
            parent[root(i)] = root(first.setdefault(claim_id, i))
    roots = np.array([root(i) for i in range(len(posts))])
    distinct, component = np.unique(roots, return_inverse=True)
    return (np.random.default_rng(0).permutation(len(distinct)) % FOLDS)[component]


def _fit_map(
    vectors: np.ndarray, claim_vectors: np.ndarray, gold: list[list[int]], which: np.ndarray
) -> np.ndarray:
    """adapter.fit on some posts, at the precision the map is stored in (float16)."""
    w = adapter.fit(vectors[which], claim_vectors, [gold[i] for i in which])
    return w.astype(np.float16).astype(np.float32)


class _Memo:
    """An embedder that encodes each distinct text once."""

    def __init__(self, embedder: Embedder) -> None:
        self.dim = embedder.dim
        self._embedder = embedder
        self._known: dict[str, np.ndarray] = {}

    def encode(self, texts: list[str]) -> np.ndarray:
        new = [t for t in dict.fromkeys(texts) if t not in self._known]
        self._known.update(zip(new, self._embedder.encode(new), strict=True))
        return np.array([self._known[t] for t in texts], dtype=np.float32).reshape(-1, self.dim)


def fit_model(uses: tuple[str, ...], normal: list[Group], unmatched: list[Group]) -> Model:
    """Listwise ranking weights, then a logistic on the ranking score; folded together."""
    cols = [FEATURES.index(f) for f in uses]
    stacked = np.concatenate([g.features[:, cols] for g in normal])
    mean, std = stacked.mean(axis=0), stacked.std(axis=0) + 1e-6
    groups = [((g.features[:, cols] - mean) / std, g.relevant) for g in normal if g.relevant.any()]
    w = _listwise(groups)
    scores = [((g.features[:, cols] - mean) / std) @ w for g in normal + unmatched]
    tops = [np.argsort(-s)[:5] for s in scores]
    z_top = [s[t] for s, t in zip(scores, tops, strict=True)]
    y_top = [g.relevant[t] for g, t in zip(normal + unmatched, tops, strict=True)]
    a, b = _logistic(np.concatenate(z_top), np.concatenate(y_top))
    weights = np.zeros(len(FEATURES))
    weights[cols] = a * w / std
    bias = b - a * float(w @ (mean / std))
    threshold = _alert_threshold(z_top, y_top, a, b)
    return Model(uses, tuple(round(float(x), 4) for x in weights), round(bias, 4), threshold)


Candidates = tuple[list[np.ndarray], list[np.ndarray]]  # per post: best logits, labels


def recalibrate(model: Model, scale: Candidates, cut: Candidates | None = None) -> Model:
    """Refit `model`'s probability scale on one set of posts' best candidates and choose
    its alert cut on another (by default the same), as `_best_candidates` orders them.

    The weights (which claim ranks first) stay; only logit -> probability moves, because
    the same evidence is weaker across languages than within one."""
    a, b = _logistic(np.concatenate(scale[0]), np.concatenate(scale[1]), l2=1.0)
    threshold = _alert_threshold(*(cut or scale), a, b)
    return Model(
        model.uses,
        tuple(round(a * w, 4) for w in model.weights),
        round(a * model.bias + b, 4),
        threshold,
    )


def crossling_candidates(model: Model, matcher: Matcher, data_dir: Path) -> Candidates:
    """Each train post's best candidates on a hand-written cross-lingual set."""
    claims, posts, qrels = load(data_dir)
    matcher.add_claims(claims)
    logits, labels = [], []
    for post in posts:
        if post.get("split") != "train":
            continue
        ids, rows = matcher.pair_features(Query(post["text"], lang=post.get("lang", "und")))
        z, top = _best_candidates(model, rows)
        logits.append(z[top])
        labels.append(np.array([ids[i] in qrels.get(str(post["id"]), ()) for i in top]))
    return logits, labels


def chatter_candidates(
    model: Model, matcher: Matcher, data_dir: Path, corpus: Path, days: float = CLAIM_DAYS
) -> Candidates:
    """Each real post's best candidates among the train claims of a real-chatter set,
    inside the claims' live windows: a post whose best claim is past its window never
    alerts (the alert policy holds it), so it teaches the cut nothing. Dev claims are not
    indexed at all, so they cannot shape the train posts' features."""
    chatter = realchatter.load(data_dir)
    train = {c.id: c for c in chatter.claims if chatter.splits[c.id] == "train"}
    matcher.add_claims(list(train.values()))
    logits, labels = [], []
    for post in realchatter.load_posts(corpus):
        live = {c.id for c in train.values() if realchatter.in_window(post, c, days)}
        if not live or reads_as_english(post.text, post.lang):
            continue  # no claim to alert for, or scored by the "full" model
        ids, rows = matcher.pair_features(Query(post.text, lang=post.lang))
        z, top = _best_candidates(model, rows)
        if not len(top) or ids[top[0]] not in live:
            continue
        top = top[[ids[i] in live for i in top]]
        gold = chatter.qrels.get(post.key, set())
        logits.append(z[top])
        labels.append(np.array([ids[i] in gold for i in top]))
    return logits, labels


def _best_candidates(model: Model, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The model's logits for a post's candidates, and the best 5 of them, best first."""
    z = rows @ np.asarray(model.weights) + model.bias
    return z, np.argsort(-z, kind="stable")[:5]


def _listwise(groups: list[tuple[np.ndarray, np.ndarray]], steps: int = 600) -> np.ndarray:
    """Softmax cross-entropy over each group's candidates, by Adam with a small L2."""
    x = np.concatenate([rows for rows, _ in groups])
    target = np.concatenate([rel / rel.sum() for _, rel in groups])
    sizes = np.array([len(rows) for rows, _ in groups])
    starts = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    owner = np.repeat(np.arange(len(groups)), sizes)
    w = np.zeros(x.shape[1])
    m, v = np.zeros_like(w), np.zeros_like(w)
    for step in range(1, steps + 1):
        z = x @ w
        e = np.exp(z - np.maximum.reduceat(z, starts)[owner])
        p = e / np.add.reduceat(e, starts)[owner]
        grad = x.T @ (p - target) / len(groups) + 2e-3 * w
        m = 0.9 * m + 0.1 * grad
        v = 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w


def _logistic(z: np.ndarray, y: np.ndarray, l2: float = 1e-6) -> tuple[float, float]:
    """1-D logistic regression p = sigmoid(a z + b) by Newton's method, L2 on a."""
    x = np.stack([z, np.ones_like(z)], axis=1)
    theta = np.zeros(2)
    penalty = np.diag([l2, 1e-9])
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ theta)))
        hessian = x.T @ (x * (p * (1 - p))[:, None]) + penalty
        theta -= np.linalg.solve(hessian, x.T @ (p - y) + penalty @ theta)
    return float(theta[0]), float(theta[1])


def _alert_threshold(
    logits: list[np.ndarray], labels: list[np.ndarray], a: float, b: float
) -> float:
    """The cut on each post's best claim, the only one that may alert (Matcher._matches);
    `logits` and `labels` hold each post's best candidates, best first."""
    best = [(z[0], y[0]) for z, y in zip(logits, labels, strict=True) if len(z)]
    z, y = (np.array(column) for column in zip(*best, strict=True))
    return choose_threshold(1.0 / (1.0 + np.exp(-(a * z + b))), y.astype(bool))


def choose_threshold(p: np.ndarray, y: np.ndarray) -> float:
    """The probability cut that maximises F-beta of alerts on these pairs."""
    best, cut = -1.0, 0.5
    for t in np.arange(0.01, 0.96, 0.01):
        alert = p >= t
        tp = float((alert & y).sum())
        precision, recall = tp / max(alert.sum(), 1), tp / max(y.sum(), 1)
        beta2 = ALERT_BETA**2
        f = (1 + beta2) * precision * recall / max(beta2 * precision + recall, 1e-9)
        if f > best:
            best, cut = f, round(float(t), 2)
    return cut


def render(models: dict[str, Model]) -> str:
    """The MODELS block of calibration.py."""
    lines = ["MODELS = {"]
    for name, model in models.items():
        weights = "".join(f"            {w!r},\n" for w in model.weights)
        lines.append(
            f'    "{name}": Model(\n        USES["{name}"],\n        (\n{weights}        ),\n'
            f"        {model.bias!r},\n        {model.threshold!r},\n    ),"
        )
    lines.append("}")
    return "\n".join(lines)


def write(block: str) -> None:
    path = Path(calibration.__file__)
    pattern = re.compile(r"(# --- generated by monitors.matching.fit: begin\n).*?(\n# ---)", re.S)
    path.write_text(pattern.sub(lambda m: m.group(1) + block + m.group(2), path.read_text()))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Refit the calibration constants.")
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--crossling", type=Path, help="hand-written cross-lingual set")
    parser.add_argument("--realchatter", type=Path, metavar="CORPUS", help="export corpus")
    parser.add_argument("--realchatter-data", type=Path, default=REALCHATTER)
    parser.add_argument("--write", action="store_true", help="rewrite calibration.py")
    args = parser.parse_args(argv)
    claims, posts, qrels = load(args.data_dir)
    embedder = load_embedder()
    vector_map, raw, mapped = training_groups(
        embedder, load_english_embedder(), claims, posts, qrels
    )
    # Only the "full" models rank with mapped cosines (see Matcher._maps).
    models = {name: fit_model(uses, *mapped.get(name, raw)) for name, uses in USES.items()}
    crossling = models["crossling"]
    real = hand = None
    if args.realchatter:
        matcher = Matcher(embedder, vector_map=vector_map)
        real = chatter_candidates(crossling, matcher, args.realchatter_data, args.realchatter)
    if args.crossling:  # a matcher of its own, holding only this set's claims
        matcher = Matcher(embedder, vector_map=vector_map)
        hand = crossling_candidates(crossling, matcher, args.crossling)
    if real or hand:
        models["crossling"] = recalibrate(crossling, scale=real or hand, cut=hand or real)
    block = render(models)
    print(block)
    if args.write:
        write(block)
        np.save(adapter.PATH, vector_map.astype(np.float16))


if __name__ == "__main__":
    main()
