"""Reading claims (and other JSON-lines inputs) from files, with errors that say where."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from monitors.models import Claim
from storage.dates import storable

MIN_CLAIM_CHARS = 3  # "claims add" and the config's [[claims]] ask as much


def read_jsonl(path: Path, required: tuple[str, ...]) -> Iterator[tuple[str, dict]]:
    """(where, object) for each line of a JSON-lines file, where = "path:line" for error
    messages; blank lines skipped; ValueError names file and line."""
    with open(path, encoding="utf-8") as lines:
        try:
            for number, line in enumerate(lines, 1):
                if not line.strip():
                    continue
                where = f"{path}:{number}"
                try:
                    row = json.loads(line)
                except json.JSONDecodeError as exc:
                    raise ValueError(f"{where}: not JSON: {exc.msg}") from None
                if not isinstance(row, dict):
                    raise ValueError(f"{where}: expected a JSON object")
                for key in required:
                    if key not in row:
                        raise ValueError(f"{where}: missing field {key!r}")
                yield where, row
        except UnicodeDecodeError as exc:
            raise ValueError(f"{path}: not UTF-8 (byte {exc.start} of a line)") from None


def read_claims(path: Path) -> list[Claim]:
    """Claims from `{"id","text","title"?,"source"?,"source_url"?,"published"?,"lang"?}`
    lines; a field of the wrong type is an error, not a claim stored as "None"."""
    return [_claim(row, where) for where, row in read_jsonl(path, ("id", "text"))]


def _claim(row: dict, where: str) -> Claim:
    claim_id, text = row["id"], row["text"]
    if (
        not isinstance(claim_id, str | int)
        or isinstance(claim_id, bool)
        or not str(claim_id).strip()
    ):
        raise ValueError(f'{where}: "id" must be a non-empty string or a number')
    if not isinstance(text, str) or len(" ".join(text.split())) < MIN_CLAIM_CHARS:
        raise ValueError(f'{where}: "text" must be a string of a few words')
    title, source, source_url, published, lang = (
        optional_text(row, key, where)
        for key in ("title", "source", "source_url", "published", "lang")
    )
    return Claim(
        id=str(claim_id).strip(),
        text=text,
        title=title,
        source=source,
        source_url=source_url,
        published=_instant(published, where) if published else None,
        lang=lang or "en",
    )


def optional_text(row: dict, key: str, where: str) -> str | None:
    """Field `key` of a JSON line: absent or null, else a string (ValueError names it)."""
    value = row.get(key)
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string")
    return value


def _instant(value: str, where: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"{where}: published {value!r} is not an ISO 8601 time") from None
    moment = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if not storable(moment):
        raise ValueError(f"{where}: published {value!r} is out of range")
    return moment
