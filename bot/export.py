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
        table = {
            "posts": store.posts,
            "claims": store.claims,
            "alerts": store.alerts,
            "clusters": store.clusters,
        }[what]
        writer = None
        if fmt == "csv":
            # the header comes from the table, so an empty one still names its columns
            writer = csv.DictWriter(out, fieldnames=table.EXPORT_FIELDS)
            writer.writeheader()
        count = 0
        async for row in table.export_rows():
            if writer is None:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            else:
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
