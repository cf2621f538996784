"""`claimwatch export`: stored tables as JSON lines or CSV, streamed to a file object."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO

from storage import Store


async def export_table(db: Path, what: str, fmt: str, out: IO[str]) -> int:
    """Write every row of `what`; returns the row count."""
    store = await Store.open(db)
    try:
        rows = {
            "posts": store.posts.export_rows,
            "claims": store.claims.export_rows,
            "alerts": store.alerts.export_rows,
            "clusters": store.clusters.export_rows,
        }[what]()
        count = 0
        writer = None
        async for row in rows:
            if fmt == "jsonl":
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
                if writer is None:
                    writer = csv.DictWriter(out, fieldnames=list(row))
                    writer.writeheader()
                writer.writerow({k: _cell(v) for k, v in row.items()})
            count += 1
        return count
    finally:
        await store.close()


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A CSV cell; text that a spreadsheet would run as a formula (a post that starts with
    "=HYPERLINK(" or "+cmd|") gets a leading apostrophe, which spreadsheets show as text."""
    if isinstance(value, list | dict):
        value = json.dumps(value, ensure_ascii=False)
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value
