"""Split a schema script into statements without `executescript`, which would commit the
migration's transaction half-way."""

import sqlite3
from collections.abc import Iterator


def statements(script: str) -> Iterator[str]:
    pending = ""
    for line in script.splitlines(keepends=True):
        pending += line
        if sqlite3.complete_statement(pending):
            yield pending.strip()
            pending = ""
    if pending.strip():
        raise ValueError(f"incomplete SQL statement: {pending.strip()[:60]}")
