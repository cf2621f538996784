"""Reading claims (and other JSON-lines inputs) from files, with errors that say where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from monitors.models import Claim


def read_jsonl(path: Path, required: tuple[str, ...]) -> Iterator[dict]:
    """Objects of a JSON-lines file; blank lines skipped; ValueError names file and line."""
    with open(path, encoding="utf-8") as lines:
        for number, line in enumerate(lines, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{number}: not JSON: {exc.msg}") from None
            if not isinstance(row, dict):
                raise ValueError(f"{path}:{number}: expected a JSON object")
            for key in required:
                if key not in row:
                    raise ValueError(f"{path}:{number}: missing field {key!r}")
            yield row


def read_claims(path: Path) -> list[Claim]:
    """Claims from `{"id","text","title"?,"source"?,"source_url"?,"published"?}` lines."""
    claims = []
    for row in read_jsonl(path, ("id", "text")):
        published = row.get("published")
        claims.append(
            Claim(
                id=str(row["id"]),
                text=str(row["text"]),
                title=row.get("title"),
                source=row.get("source"),
                source_url=row.get("source_url"),
                published=_instant(published, path) if published else None,
                lang=row.get("lang") or "en",
            )
        )
    return claims


def _instant(value: str, path: Path) -> datetime:
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{path}: published {value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
