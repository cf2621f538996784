"""Claim-matching quality and speed: plain BM25 vs the Matcher, same run.

usage: python benchmarks/bench_claimmatch.py DATA_DIR [--crossling DIR] [--english none]

DATA_DIR is a CheckThat-style folder (claims.jsonl, posts.jsonl with "split", qrels.tsv).
Prints MAP@5 on dev and train for both, the Matcher's ms per post (batched, claims
already indexed; that first pass also makes the claims' English vectors), then alert
precision/recall on the cross-lingual check set (its dev split is held out from fitting;
"all" includes the train half that set the crossling model's scale). The English encoder
is on here unless `--english none` (the "full-use" model, as with `english_embedder`
"none", or "auto" with translation off). Train figures are on the posts the vector map and
the models were fitted on, so only dev says how well the Matcher ranks. The last line
holds every figure as key=value.

`--crossling benchmarks/data/crossling_heldout` measures a 105-post set (15 claims, all
"dev") written after the matcher and its glossary were tuned, by someone who had not read
the tuning set's posts. Nothing is fitted on it: keep it that way, and use it to check a
change once it is decided.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from monitors.embedding import Embedder, load_embedder, load_english_embedder
from monitors.matching import Matcher, Query
from monitors.matching.bm25 import Bm25Index
from monitors.matching.fit import load
from monitors.matching.text import embed_text, terms

CROSSLING = Path(__file__).parent / "data" / "crossling"


def average_precision(ranked: list[str], relevant: set[str], k: int = 5) -> float:
    hits, total = 0, 0.0
    for i, claim_id in enumerate(ranked[:k], 1):
        if claim_id in relevant:
            hits += 1
            total += hits / i
    return total / min(len(relevant), k)


def mean_ap(runs: dict[str, list[str]], qrels: dict[str, set[str]], ids: list[str]) -> float:
    scored = [pid for pid in ids if qrels.get(pid)]
    return float(np.mean([average_precision(runs[pid], qrels[pid]) for pid in scored]))


def bm25_runs(claims, posts) -> dict[str, list[str]]:
    index = Bm25Index()
    for claim in claims:
        index.add(terms(f"{claim.text} {claim.title or ''}"))
    ids = [c.id for c in claims]
    runs = {}
    for post in posts:
        # Stable, like the Matcher: the collection holds re-published copies of claims that
        # tie exactly, and an unstable sort would hand BM25 a coin flip the Matcher never gets.
        order = np.argsort(-index.score(terms(post["text"]))[0], kind="stable")
        runs[str(post["id"])] = [ids[r] for r in order[:5]]
    return runs


def matcher_runs(matcher: Matcher, posts, batch: int) -> tuple[dict, dict, float]:
    """Top-5 ids and full matches per post, and seconds spent ranking."""
    runs, matches, elapsed = {}, {}, 0.0
    for start in range(0, len(posts), batch):
        chunk = posts[start : start + batch]
        queries = [Query(p["text"], lang=p.get("lang", "und")) for p in chunk]
        began = time.perf_counter()
        ranked = matcher.rank_many(queries, k=5)
        elapsed += time.perf_counter() - began
        for post, found in zip(chunk, ranked, strict=True):
            runs[str(post["id"])] = [m.claim_id for m in found]
            matches[str(post["id"])] = found
    return runs, matches, elapsed


def alert_figures(
    matches: dict, qrels: dict[str, set[str]], ids: list[str]
) -> tuple[float, float, int]:
    """Alert precision and recall over relevant pairs, and alerts on unrelated posts."""
    tp = fp = stray = 0
    for pid in ids:
        for match in matches[pid]:
            if match.alert:
                right = match.claim_id in qrels.get(pid, ())
                tp += right
                fp += not right
                stray += not qrels.get(pid)
    relevant = sum(len(qrels.get(pid, ())) for pid in ids)
    return tp / max(tp + fp, 1), tp / max(relevant, 1), stray


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("--crossling", type=Path, default=CROSSLING)
    parser.add_argument("--batch", type=int, default=200)
    parser.add_argument("--embedder", default="use-multilingual")
    parser.add_argument("--english", default="minilm", help="english_embedder: minilm or none")
    args = parser.parse_args()
    figures: dict[str, str] = {}

    claims, posts, qrels = load(args.data_dir)
    split = {s: [str(p["id"]) for p in posts if p.get("split") == s] for s in ("dev", "train")}
    plain = bm25_runs(claims, posts)
    matcher = Matcher(load_embedder(args.embedder), english=load_english_embedder(args.english))
    began = time.perf_counter()
    matcher.add_claims(claims)
    figures["index_s"] = f"{time.perf_counter() - began:.1f}"
    runs, matches, elapsed = matcher_runs(matcher, posts, args.batch)
    for name in ("dev", "train"):
        precision, recall, _ = alert_figures(matches, qrels, split[name])
        figures[f"bm25_map5_{name}"] = f"{mean_ap(plain, qrels, split[name]):.4f}"
        figures[f"matcher_map5_{name}"] = f"{mean_ap(runs, qrels, split[name]):.4f}"
        figures[f"alert_precision_{name}"] = f"{precision:.3f}"
        figures[f"alert_recall_{name}"] = f"{recall:.3f}"
        print(
            f"{name}: plain BM25 MAP@5={figures[f'bm25_map5_{name}']}  "
            f"Matcher MAP@5={figures[f'matcher_map5_{name}']}  "
            f"alert precision={precision:.3f} recall={recall:.3f}"
        )
    figures["ms_per_post"] = f"{1000 * elapsed / len(posts):.2f}"
    figures["rank_only_ms_per_post"] = f"{rank_only_ms(matcher, posts):.2f}"
    figures["embed_ms_per_post"] = (
        f"{embed_ms(matcher.embedder, [embed_text(p['text']) for p in posts]):.2f}"
    )
    figures["english_ms_per_post"] = f"{embed_ms(matcher.english, [p['text'] for p in posts]):.2f}"
    print(
        f"Matcher: {figures['ms_per_post']} ms/post in batches of {args.batch} "
        f"({len(claims)} claims, indexed in {figures['index_s']} s): multilingual embedding "
        f"{figures['embed_ms_per_post']} ms/post, English encoder "
        f"{figures['english_ms_per_post']} ms/post, ranking with the multilingual vector "
        f"given {figures['rank_only_ms_per_post']} ms/post"
    )

    x_claims, x_posts, x_qrels = load(args.crossling)
    x_matcher = Matcher(matcher.embedder)
    x_matcher.add_claims(x_claims)
    x_runs, x_matches, _ = matcher_runs(x_matcher, x_posts, args.batch)
    x_split = {
        "dev": [str(p["id"]) for p in x_posts if p.get("split") == "dev"],
        "all": [str(p["id"]) for p in x_posts],
    }
    for name, ids in x_split.items():
        precision, recall, stray = alert_figures(x_matches, x_qrels, ids)
        figures[f"xl_{name}_map5"] = f"{mean_ap(x_runs, x_qrels, ids):.4f}"
        figures[f"xl_{name}_alert_precision"] = f"{precision:.3f}"
        figures[f"xl_{name}_alert_recall"] = f"{recall:.3f}"
        figures[f"xl_{name}_unrelated_alerts"] = str(stray)
        print(
            f"cross-lingual check, {name} ({len(ids)} posts): "
            f"MAP@5={figures[f'xl_{name}_map5']} alert precision={precision:.3f} "
            f"recall={recall:.3f} alerts on unrelated posts={stray}"
        )
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


def rank_only_ms(matcher: Matcher, posts) -> float:
    """Ranking cost once the multilingual vector is known (the pipeline embeds earlier);
    the English encoder still reads each post here."""
    dim = matcher.embedder.dim if matcher.embedder else 0
    vector = np.full(dim, dim**-0.5, dtype=np.float32) if dim else None
    queries = [Query(p["text"], lang="en", vector=vector) for p in posts]
    began = time.perf_counter()
    matcher.rank_many(queries, k=5)
    return 1000 * (time.perf_counter() - began) / len(queries)


def embed_ms(embedder: Embedder | None, texts: list[str]) -> float:
    """One batched embedding pass over the texts."""
    if embedder is None:
        return 0.0
    began = time.perf_counter()
    embedder.encode(texts)
    return 1000 * (time.perf_counter() - began) / len(texts)


if __name__ == "__main__":
    main()
