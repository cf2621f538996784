"""Stories: a cluster is named after its first post and knows its size and reach."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import datetime

from monitors.models import Post
from storage.dates import from_db, to_db
from storage.db import Database


@dataclass(frozen=True, slots=True)
class StoryRow:
    """A story's reach within a period, and the post that started it."""

    cluster_id: str
    posts: int  # in the period
    channels: int  # in the period
    categories: tuple[str, ...]
    first_channel_id: int
    first_username: str | None
    first_title: str | None
    first_category: str
    first_message_id: int
    first_date: datetime
    text: str
    translation: str | None


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
        # One pass over the story's posts for the four figures, not one per figure. The
        # first post is the earliest that carried the story, which is not its head when an
        # older copy arrives later (a backfilled channel); a deleted one still counts, as
        # evidence of who had it first.
        await self._db.execute_many(
            """UPDATE clusters SET (size, channels, first_date, last_date) =
                 (SELECT count(*), count(DISTINCT channel_id), min(date), max(date)
                  FROM posts WHERE cluster_id = ?1),
                 (first_channel_id, first_message_id) =
                 (SELECT channel_id, message_id FROM posts WHERE cluster_id = ?1
                  ORDER BY date, id LIMIT 1)
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

    async def top(
        self, start: datetime, end: datetime, limit: int, min_posts: int = 2
    ) -> list[StoryRow]:
        """The biggest stories by posts in [start, end), with their first post."""
        rows = await self._db.fetch_all(
            """WITH period AS (
                 SELECT p.cluster_id, count(*) AS posts,
                   count(DISTINCT p.channel_id) AS channels,
                   group_concat(DISTINCT coalesce(c.category, 'uncategorised')) AS categories
                 FROM posts p LEFT JOIN channels c ON c.id = p.channel_id
                 WHERE p.date >= ? AND p.date < ? AND p.cluster_id IS NOT NULL
                 GROUP BY p.cluster_id HAVING count(*) >= ?
                 ORDER BY posts DESC, channels DESC LIMIT ?)
               SELECT period.*, f.channel_id, f.message_id, f.date,
                 coalesce(h.text, f.text) AS text,
                 CASE WHEN h.id IS NULL THEN f.translation ELSE h.translation END AS translation,
                 fc.username, fc.title, coalesce(fc.category, 'uncategorised') AS category
               FROM period JOIN clusters k ON k.id = period.cluster_id
               JOIN posts f ON f.channel_id = k.first_channel_id
                 AND f.message_id = k.first_message_id
               LEFT JOIN channels fc ON fc.id = f.channel_id
               -- The headline: the first post's text, or the story's first caption when
               -- it has none (a photo album whose caption sits on a later item).
               LEFT JOIN posts h ON trim(f.text) = '' AND h.id = (
                 SELECT id FROM posts WHERE cluster_id = k.id AND trim(text) != ''
                 ORDER BY date, id LIMIT 1)
               ORDER BY period.posts DESC, period.channels DESC, f.date""",
            (to_db(start), to_db(end), min_posts, limit),
        )
        return [
            StoryRow(
                cluster_id=row["cluster_id"],
                posts=row["posts"],
                channels=row["channels"],
                categories=tuple(sorted(row["categories"].split(","))),
                first_channel_id=row["channel_id"],
                first_username=row["username"],
                first_title=row["title"],
                first_category=row["category"],
                first_message_id=row["message_id"],
                first_date=from_db(row["date"]),  # type: ignore[arg-type]
                text=row["text"],
                translation=row["translation"],
            )
            for row in rows
        ]

    EXPORT_FIELDS = (
        "cluster_id", "first_channel_id", "first_channel", "first_message_id", "first_date",
        "last_date", "size", "channels", "languages", "categories",
    )  # fmt: skip

    async def export_rows(self) -> AsyncIterator[dict]:
        rows = self._db.iterate(
            """SELECT k.*, c.username, c.title,
                 (SELECT group_concat(DISTINCT p.lang) FROM posts p
                   WHERE p.cluster_id = k.id) AS langs,
                 (SELECT group_concat(DISTINCT ch.category) FROM posts p
                   JOIN channels ch ON ch.id = p.channel_id WHERE p.cluster_id = k.id)
                   AS categories
               FROM clusters k LEFT JOIN channels c ON c.id = k.first_channel_id
               ORDER BY k.first_date"""
        )
        async for row in rows:
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
