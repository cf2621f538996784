"""Alert precision and recall of the Matcher on real Russian channel posts vs live-blog claims.

usage: python benchmarks/bench_realchatter.py CORPUS [--data DIR] [--window-days N]
       [--show-wrong N] [--batch N]

CORPUS is a folder of Telegram Desktop exports, one sub-folder per channel (e.g.
../shared/corpora/ru-news-2024). DATA (default benchmarks/data/realchatter) holds
claims.jsonl (English live-blog sentences with the UTC date of the earliest post carrying
them and a train/dev split) and qrels.tsv (channel_id, message_id, claim_id: every corpus
post that reports the claim's event). Posts are referred to by id only; their text is read
from CORPUS at run time.

Every post with text is language-detected with the pipeline's detector and ranked against
all claims untranslated (the realistic path: no machine translation), k=5, in batches. A
post alerts for a claim when its match for that claim has alert=True. Printed per split of
the claims (train, dev, all):

- labelled positives, alerts, alerts on labelled pairs, alert precision and recall,
  MAP@5 over posts that carry a claim of the split, wrong alerts per 1,000 posts;
- the same alert figures inside each claim's live window, as the analyst chat gets them:
  a (post, claim) pair counts only when the post is dated from 1 day before the claim's
  date to --window-days after it (default: `alerts.claim_days`, after which the alert
  policy holds a claim's alerts for the digest); wrong alerts outside the window are
  ignored, positives outside it leave the recall;
- with --show-wrong N, the N highest-scoring wrong alerts, for reading.

The last line holds every figure as key=value.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from bench_claimmatch import average_precision  # this folder: run as a script

from bot.config import AlertsConfig
from monitors.embedding import load_embedder
from monitors.matching import Matcher, Query, realchatter
from monitors.matching.realchatter import PostKey, in_window
from monitors.models import Claim, Match, Post

DATA = Path(__file__).parent / "data" / "realchatter"
SPLITS = ("train", "dev", "all")
K = 5


@dataclass(frozen=True, slots=True)
class Figures:
    positives: int
    alerts: int
    right: int
    wrong_per_1000: float

    @property
    def precision(self) -> float:
        return self.right / max(self.alerts, 1)

    @property
    def recall(self) -> float:
        return self.right / max(self.positives, 1)


def rank(matcher: Matcher, posts: list[Post], batch: int) -> dict[PostKey, list[Match]]:
    """Each post's top-K matches, untranslated."""
    found: dict[PostKey, list[Match]] = {}
    for start in range(0, len(posts), batch):
        chunk = posts[start : start + batch]
        ranked = matcher.rank_many([Query(text=p.text, lang=p.lang) for p in chunk], k=K)
        for post, matches in zip(chunk, ranked, strict=True):
            found[post.key] = matches
    return found


def alert_figures(
    posts: list[Post],
    matches: dict[PostKey, list[Match]],
    qrels: dict[PostKey, set[str]],
    claims: dict[str, Claim],
    window_days: float | None = None,
) -> Figures:
    """Alert counts over (post, claim) pairs of the given claims, optionally in their live
    window only."""

    def counted(post: Post, claim_id: str) -> bool:
        if claim_id not in claims:
            return False
        return window_days is None or in_window(post, claims[claim_id], window_days)

    positives = alerts = right = 0
    for post in posts:
        gold = qrels.get(post.key, set())
        positives += sum(counted(post, c) for c in gold)
        for match in matches[post.key]:
            if match.alert and counted(post, match.claim_id):
                alerts += 1
                right += match.claim_id in gold
    wrong = 1000 * (alerts - right) / max(len(posts), 1)
    return Figures(positives, alerts, right, wrong)


def mean_ap(
    posts: list[Post],
    matches: dict[PostKey, list[Match]],
    qrels: dict[PostKey, set[str]],
    claim_ids: set[str],
) -> float:
    """MAP@K over the posts that carry at least one of the given claims."""
    scores = [
        average_precision([m.claim_id for m in matches[post.key]], relevant, K)
        for post in posts
        if (relevant := qrels.get(post.key, set()) & claim_ids)
    ]
    return sum(scores) / max(len(scores), 1)


def show_wrong(
    posts: list[Post],
    matches: dict[PostKey, list[Match]],
    qrels: dict[PostKey, set[str]],
    limit: int,
) -> None:
    wrong = [
        (match, post)
        for post in posts
        for match in matches[post.key]
        if match.alert and match.claim_id not in qrels.get(post.key, set())
    ]
    wrong.sort(key=lambda pair: -pair[0].score)
    print(f"\n{min(limit, len(wrong))} of {len(wrong)} wrong alerts, highest score first:")
    for match, post in wrong[:limit]:
        text = " ".join(post.text.split())[:160]
        print(
            f"{post.channel_id}\t{post.message_id}\t{post.date:%Y-%m-%d}\t{match.claim_id}\t"
            f"{match.score:.3f}\t{text}\t{'; '.join(match.reasons)}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--window-days", type=float, default=AlertsConfig().claim_days)
    parser.add_argument("--show-wrong", type=int, default=0)
    parser.add_argument("--batch", type=int, default=256)
    parser.add_argument("--embedder", default=None, help="embedder name (default: the project's)")
    args = parser.parse_args()

    chatter = realchatter.load(args.data)
    claims, qrels = chatter.claims, chatter.qrels
    began = time.perf_counter()
    posts = realchatter.load_posts(args.corpus)
    known = {post.key for post in posts}
    missing = [key for key in qrels if key not in known]
    if missing:
        print(f"warning: {len(missing)} labelled posts not in the corpus", file=sys.stderr)
    langs: dict[str, int] = defaultdict(int)
    for post in posts:
        langs[post.lang] += 1
    embedder = load_embedder(args.embedder) if args.embedder else load_embedder()
    matcher = Matcher(embedder)
    matcher.add_claims(claims)
    matches = rank(matcher, posts, args.batch)
    elapsed = time.perf_counter() - began
    top_langs = ", ".join(f"{k}={v}" for k, v in sorted(langs.items(), key=lambda x: -x[1])[:4])
    print(
        f"{len(posts)} posts ({top_langs}), {len(claims)} claims, "
        f"{sum(len(v) for v in qrels.values())} labelled pairs on {len(qrels)} posts; "
        f"read, detected and ranked in {elapsed:.0f} s"
    )

    figures: dict[str, str] = {}
    for split in SPLITS:
        ids = chatter.claim_ids(split)
        chosen = {c.id: c for c in claims if c.id in ids}
        whole = alert_figures(posts, matches, qrels, chosen)
        live = alert_figures(posts, matches, qrels, chosen, args.window_days)
        map5 = mean_ap(posts, matches, qrels, ids)
        print(
            f"{split} ({len(ids)} claims): positives={whole.positives} alerts={whole.alerts} "
            f"right={whole.right} precision={whole.precision:.3f} recall={whole.recall:.3f} "
            f"MAP@5={map5:.4f} wrong/1000 posts={whole.wrong_per_1000:.2f}\n"
            f"  in {args.window_days:g}-day window: positives={live.positives} "
            f"alerts={live.alerts} right={live.right} precision={live.precision:.3f} "
            f"recall={live.recall:.3f} wrong/1000 posts={live.wrong_per_1000:.2f}"
        )
        for prefix, fig in ((split, whole), (f"{split}_window", live)):
            figures[f"{prefix}_positives"] = str(fig.positives)
            figures[f"{prefix}_alerts"] = str(fig.alerts)
            figures[f"{prefix}_right"] = str(fig.right)
            figures[f"{prefix}_precision"] = f"{fig.precision:.3f}"
            figures[f"{prefix}_recall"] = f"{fig.recall:.3f}"
            figures[f"{prefix}_wrong_per_1000"] = f"{fig.wrong_per_1000:.2f}"
        figures[f"{split}_map5"] = f"{map5:.4f}"
    if args.show_wrong:
        show_wrong(posts, matches, qrels, args.show_wrong)
    print(" ".join(f"{k}={v}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
