"""The real-chatter set: live-blog claims with dates, and the channel posts that carry them.

`benchmarks/data/realchatter` holds the claims and the labels, posts by id only; their
text is read at run time from a corpus of Telegram Desktop exports (ru-news-2024). The
benchmark reports alert figures on it, and `fit` refits the cross-lingual probability
scale on its train half, so both read it through this one module.

A post counts for a claim only inside the claim's live window (from a day before its date
to `days` after it): past that, the alert policy holds the claim's alerts for the digest.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from monitors.export import read_posts
from monitors.language import detect
from monitors.models import Claim, Post

PostKey = tuple[int, int]  # (channel id, message id)


@dataclass(frozen=True, slots=True)
class ChatterSet:
    claims: list[Claim]  # published at the start of their date (UTC)
    splits: dict[str, str]  # claim id -> "train" or "dev"
    qrels: dict[PostKey, set[str]]  # post -> ids of the claims it carries

    def claim_ids(self, split: str) -> set[str]:
        """The claims of a split; "all" for every claim."""
        return {c.id for c in self.claims if split == "all" or self.splits[c.id] == split}


def load(data: Path) -> ChatterSet:
    """Claims (claims.jsonl) and labels (qrels.tsv) of a real-chatter folder."""
    claims, splits = [], {}
    for line in (data / "claims.jsonl").read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        row = json.loads(line)
        day = date.fromisoformat(row["date"])
        claims.append(
            Claim(
                id=row["id"],
                text=row["text"],
                title=row.get("title"),
                published=datetime(day.year, day.month, day.day, tzinfo=UTC),
            )
        )
        splits[row["id"]] = row["split"]
    qrels: dict[PostKey, set[str]] = defaultdict(set)
    for line in (data / "qrels.tsv").read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[0].strip().isdigit():
            qrels[(int(parts[0]), int(parts[1]))].add(parts[2].strip())
    return ChatterSet(claims, splits, dict(qrels))


def load_posts(corpus: Path) -> list[Post]:
    """Every post with text from every channel folder of the corpus, language detected."""
    posts = [p for p in read_posts(sorted(corpus.glob("*/"))) if p.text.strip()]
    for post in posts:
        post.lang = detect(post.text)
    return posts


def in_window(post: Post, claim: Claim, days: float) -> bool:
    """Whether the post falls in the claim's live window."""
    assert claim.published is not None, "real-chatter claims all have a date"
    return claim.published - timedelta(days=1) <= post.date <= claim.published + timedelta(days)
