"""The translation cache: one row per distinct source text, whatever post carried it."""

from __future__ import annotations

from collections.abc import Iterable

from storage.dates import now_db
from storage.db import Database, in_chunks


class Translations:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get_many(self, hashes: Iterable[str]) -> dict[str, str]:
        keys = list(set(hashes))
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(keys):
            rows = await self._db.fetch_all(
                f"SELECT text_hash, text FROM translations WHERE text_hash IN ({marks})", chunk
            )
            found.update((row["text_hash"], row["text"]) for row in rows)
        return found

    async def put_many(
        self, rows: Iterable[tuple[str, str, str]], target: str, backend: str
    ) -> None:
        """Cache rows of (text hash, source language, translation)."""
        now = now_db()
        await self._db.execute_many(
            """INSERT OR REPLACE INTO translations
                 (text_hash, source_lang, target_lang, backend, text, created_at)
               VALUES (?, ?, ?, ?, ?, ?)""",
            [(digest, lang, target, backend, text, now) for digest, lang, text in rows],
        )
