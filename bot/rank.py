"""`claimwatch rank`: the pipeline's matcher over JSON-lines files, for evaluation."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from bot.config import Config
from monitors.embedding import load_embedder
from monitors.matching import Matcher
from monitors.models import UNDETERMINED, Claim

BATCH = 256


def read_jsonl(path: Path, required: tuple[str, ...]) -> Iterator[dict]:
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from None
            missing = [key for key in required if not isinstance(row, dict) or key not in row]
            if missing:
                raise ValueError(f"{path}:{number}: missing field {missing[0]!r}")
            yield row


def rank_files(config: Config, claims_path: Path, posts_path: Path, top: int, out: IO[str]) -> None:
    claims = [
        Claim(id=str(row["id"]), text=str(row["text"]), title=row.get("title"))
        for row in read_jsonl(claims_path, ("id", "text"))
    ]
    matcher = Matcher(load_embedder(config.matching.embedder), threshold=config.alerts.threshold)
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
            (str(row["text"]), row.get("translation"), row.get("lang") or UNDETERMINED, None)
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
