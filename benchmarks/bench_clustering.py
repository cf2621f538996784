"""Benchmark story clustering on Telegram Desktop exports.

    python benchmarks/bench_clustering.py /work/shared/corpora/ru-news-2024

Replays every post in date order through one `Clusterer` and prints throughput, the
cluster size distribution, recall of same-text reposts across channels and precision on
the hand-labelled pairs in benchmarks/data/cluster_pairs.jsonl. The last line holds the
figures as key=value pairs.
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from collections import Counter, defaultdict
from itertools import combinations
from pathlib import Path

from monitors.clustering import Assignment, Clusterer
from monitors.export import read_exports
from monitors.models import Post
from monitors.textnorm import normalize

LABELS = Path(__file__).parent / "data" / "cluster_pairs.jsonl"
Key = tuple[int, int]


def load(paths: list[str]) -> list[Post]:
    """All posts of the exports under `paths` (folders of export folders too), by date."""
    posts: list[Post] = []
    for path in map(Path, paths):
        files = (
            [path]
            if (path / "result.json").exists() or path.is_file()
            else sorted(path.glob("*/result.json"))
        )
        for file in files:
            for export in read_exports(file):
                posts.extend(export.posts)
    return sorted(posts, key=lambda p: (p.date, p.key))


def cluster(posts: list[Post]) -> tuple[dict[Key, Assignment], float, float]:
    """Assignments, wall seconds and CPU seconds (the latter robust on a busy machine)."""
    clusterer = Clusterer()
    start, cpu = time.perf_counter(), time.process_time()
    assigned = {post.key: clusterer.assign(post) for post in posts}
    return assigned, time.perf_counter() - start, time.process_time() - cpu


def repost_recall(posts: list[Post], assigned: dict[Key, Assignment], window: float) -> float:
    """Share of cross-channel pairs with equal normalised text, within the window, clustered."""
    by_text: dict[str, list[Post]] = defaultdict(list)
    for post in posts:
        if text := normalize(post.text):
            by_text[text].append(post)
    hits = total = 0
    for group in by_text.values():
        for a, b in combinations(group, 2):
            if a.channel_id != b.channel_id and abs((a.date - b.date).total_seconds()) <= window:
                total += 1
                hits += assigned[a.key].cluster_id == assigned[b.key].cluster_id
    return hits / total if total else 1.0


def labelled_precision(assigned: dict[Key, Assignment]) -> tuple[float, int, int]:
    """Precision over labelled pairs this run clusters together, and same-story pairs missed."""
    together = correct = missed = 0
    for line in LABELS.read_text(encoding="utf-8").splitlines():
        pair = json.loads(line)
        a, b = tuple(pair["a"]), tuple(pair["b"])
        if a not in assigned or b not in assigned:
            continue
        if assigned[a].cluster_id == assigned[b].cluster_id:
            together += 1
            correct += pair["same"]
        else:
            missed += pair["same"]
    return (correct / together if together else 1.0), together, missed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+")
    args = parser.parse_args()
    posts = load(args.paths)
    assigned, seconds, cpu_seconds = cluster(posts)
    sizes = Counter(Counter(a.cluster_id for a in assigned.values()).values())
    reasons = Counter(a.reason for a in assigned.values())
    recall = repost_recall(posts, assigned, Clusterer().window_seconds)
    precision, judged, missed = labelled_precision(assigned)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("cluster sizes:", " ".join(f"{k}:{v}" for k, v in sorted(sizes.items())))
    print("reasons:", " ".join(f"{k}={v}" for k, v in sorted(reasons.items())))
    print(
        f"posts={len(posts)} seconds={seconds:.2f} posts/s={len(posts) / seconds:.0f} "
        f"cpu_posts/s={len(posts) / cpu_seconds:.0f} "
        f"clusters={sum(sizes.values())} multi_post_clusters={sum(sizes.values()) - sizes[1]} "
        f"repost_recall={recall:.4f} precision={precision:.4f} judged_pairs={judged} "
        f"missed_same={missed} peak_rss_mb={rss_mb:.0f}"
    )


if __name__ == "__main__":
    main()
