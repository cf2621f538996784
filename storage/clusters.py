"""Stories: a cluster is named after its first post and knows its size and reach."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable

from monitors.models import Post
from storage.dates import to_db
from storage.db import Database


class Clusters:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def refresh(self, heads: Iterable[Post], touched: Iterable[str]) -> None:
        """Create clusters for new heads, then recount every touched cluster from posts."""
        await self._db.execute_many(
            """INSERT OR IGNORE INTO clusters
                 (id, first_channel_id, first_message_id, first_date, last_date)
               VALUES (?, ?, ?, ?, ?)""",
            [
                (p.cluster_id, p.channel_id, p.message_id, to_db(p.date), to_db(p.date))
                for p in heads
            ],
        )
        await self._db.execute_many(
            """UPDATE clusters SET
                 size = (SELECT count(*) FROM posts WHERE cluster_id = ?1),
                 channels = (SELECT count(DISTINCT channel_id) FROM posts WHERE cluster_id = ?1),
                 first_date = (SELECT min(date) FROM posts WHERE cluster_id = ?1),
                 last_date = (SELECT max(date) FROM posts WHERE cluster_id = ?1)
               WHERE id = ?1""",
            [(cluster_id,) for cluster_id in set(touched)],
        )

    async def sizes(self, cluster_ids: Iterable[str]) -> dict[str, tuple[int, int]]:
        """(posts, channels) for each cluster id."""
        ids = list(set(cluster_ids))
        if not ids:
            return {}
        marks = ",".join("?" * len(ids))
        rows = await self._db.fetch_all(
            f"SELECT id, size, channels FROM clusters WHERE id IN ({marks})", ids
        )
        return {row["id"]: (row["size"], row["channels"]) for row in rows}

    async def count(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM clusters")

    async def export_rows(self) -> AsyncIterator[dict]:
        rows = await self._db.fetch_all(
            """SELECT k.*, c.username, c.title,
                 (SELECT group_concat(DISTINCT p.lang) FROM posts p
                   WHERE p.cluster_id = k.id) AS langs,
                 (SELECT group_concat(DISTINCT ch.category) FROM posts p
                   JOIN channels ch ON ch.id = p.channel_id WHERE p.cluster_id = k.id)
                   AS categories
               FROM clusters k LEFT JOIN channels c ON c.id = k.first_channel_id
               ORDER BY k.first_date"""
        )
        for row in rows:
            yield {
                "cluster_id": row["id"],
                "first_channel_id": row["first_channel_id"],
                "first_channel": row["username"] or row["title"],
                "first_message_id": row["first_message_id"],
                "first_date": row["first_date"],
                "last_date": row["last_date"],
                "size": row["size"],
                "channels": row["channels"],
                "languages": sorted((row["langs"] or "").split(",")) if row["langs"] else [],
                "categories": sorted(row["categories"].split(",")) if row["categories"] else [],
            }
