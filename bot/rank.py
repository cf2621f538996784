"""`claimwatch rank`: the pipeline's matcher over JSON-lines files, for evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from bot.app import configured_matcher
from bot.claimfile import read_claims, read_jsonl
from bot.config import Config
from monitors.embedding import load_embedder
from monitors.matching import Matcher, Query
from monitors.models import UNDETERMINED

BATCH = 256


def rank_files(config: Config, claims_path: Path, posts_path: Path, top: int, out: IO[str]) -> None:
    claims = read_claims(claims_path)
    matcher = configured_matcher(config, load_embedder(config.matching.embedder))
    matcher.add_claims(claims)
    batch: list[dict] = []
    for row in read_jsonl(posts_path, ("id", "text")):
        batch.append(row)
        if len(batch) >= BATCH:
            _rank_batch(matcher, batch, top, out)
            batch = []
    if batch:
        _rank_batch(matcher, batch, top, out)


def _rank_batch(matcher: Matcher, rows: list[dict], top: int, out: IO[str]) -> None:
    ranked = matcher.rank_many(
        [
            Query(str(row["text"]), row.get("translation"), row.get("lang") or UNDETERMINED)
            for row in rows
        ],
        k=top,
    )
    for row, matches in zip(rows, ranked, strict=True):
        line = {
            "post_id": row["id"],
            "matches": [
                {
                    "claim_id": m.claim_id,
                    "score": round(m.score, 6),
                    "alert": m.alert,
                    "stance": m.stance,
                    "reasons": list(m.reasons),
                }
                for m in matches
            ],
        }
        out.write(json.dumps(line, ensure_ascii=False) + "\n")
