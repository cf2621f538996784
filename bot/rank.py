"""`claimwatch rank`: the pipeline's matcher over JSON-lines files, for evaluation."""

from __future__ import annotations

import json
from pathlib import Path
from typing import IO

from bot.app import configured_matcher
from bot.claimfile import optional_text, read_claims, read_jsonl
from bot.config import Config
from monitors.embedding import load_embedder
from monitors.language import detect
from monitors.matching import Matcher, Query

BATCH = 256


def rank_files(config: Config, claims_path: Path, posts_path: Path, top: int, out: IO[str]) -> None:
    claims = read_claims(claims_path)
    matcher = configured_matcher(config, load_embedder(config.matching.embedder))
    matcher.add_claims(claims)
    batch: list[tuple[dict, Query]] = []
    for where, row in read_jsonl(posts_path, ("id", "text")):
        batch.append((row, _query(row, where)))
        if len(batch) >= BATCH:
            _rank_batch(matcher, batch, top, out)
            batch = []
    if batch:
        _rank_batch(matcher, batch, top, out)


def _query(row: dict, where: str) -> Query:
    """The post as the pipeline would hand it over: without a "lang", detected."""
    text = optional_text(row, "text", where)
    if text is None:
        raise ValueError(f"{where}: 'text' must be a string")
    translation, lang = optional_text(row, "translation", where), optional_text(row, "lang", where)
    return Query(text, translation, lang or detect(text))


def _rank_batch(matcher: Matcher, batch: list[tuple[dict, Query]], top: int, out: IO[str]) -> None:
    ranked = matcher.rank_many([query for _, query in batch], k=top)
    for (row, _), matches in zip(batch, ranked, strict=True):
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
