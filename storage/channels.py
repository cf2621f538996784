"""Channels we follow: identity, resolved access hash and the per-channel cursor."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from storage.dates import from_db, now_db, to_db
from storage.db import Database


@dataclass(frozen=True, slots=True)
class ChannelRow:
    id: int
    username: str | None
    title: str | None
    category: str
    access_hash: int | None
    cursor: int
    last_post_at: datetime | None
    synced_id: int | None = None  # history read without a gap up to here; None: never

    @classmethod
    def _from_row(cls, row) -> ChannelRow:
        return cls(
            id=row["id"],
            username=row["username"],
            title=row["title"],
            category=row["category"],
            access_hash=row["access_hash"],
            cursor=row["cursor"],
            last_post_at=from_db(row["last_post_at"]),
            synced_id=row["synced_id"],
        )


class Channels:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, channel_id: int) -> ChannelRow | None:
        row = await self._db.fetch_one("SELECT * FROM channels WHERE id = ?", (channel_id,))
        return None if row is None else ChannelRow._from_row(row)

    async def get_by_username(self, username: str) -> ChannelRow | None:
        row = await self._db.fetch_one(
            "SELECT * FROM channels WHERE lower(username) = lower(?)", (username,)
        )
        return None if row is None else ChannelRow._from_row(row)

    async def all(self) -> list[ChannelRow]:
        rows = await self._db.fetch_all("SELECT * FROM channels ORDER BY id")
        return [ChannelRow._from_row(row) for row in rows]

    async def ensure(self, rows: list[tuple[int, str | None, str | None, str | None]]) -> None:
        """Insert unknown channels (id, username, title, category); fill gaps in known ones."""
        await self._db.execute_many(
            """INSERT INTO channels (id, username, title, category)
               VALUES (?, ?, ?, coalesce(?, 'uncategorised'))
               ON CONFLICT (id) DO UPDATE SET
                 username = coalesce(excluded.username, channels.username),
                 title = coalesce(excluded.title, channels.title),
                 category = CASE WHEN ?4 IS NULL THEN channels.category
                                 ELSE excluded.category END""",
            rows,
        )

    async def set_resolved(
        self, channel_id: int, username: str | None, title: str | None, access_hash: int
    ) -> None:
        await self._db.execute(
            """INSERT INTO channels (id, username, title, access_hash, resolved_at)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (id) DO UPDATE SET
                 username = coalesce(excluded.username, channels.username),
                 title = coalesce(excluded.title, channels.title),
                 access_hash = excluded.access_hash, resolved_at = excluded.resolved_at""",
            (channel_id, username, title, access_hash, now_db()),
        )

    async def advance_cursors(self, latest: dict[int, tuple[int, datetime]]) -> None:
        """Move each channel's cursor forward (never back) to its newest stored message."""
        await self._db.execute_many(
            """UPDATE channels SET cursor = max(cursor, ?),
                 last_post_at = max(coalesce(last_post_at, ''), ?)
               WHERE id = ?""",
            [(message_id, to_db(date), cid) for cid, (message_id, date) in latest.items()],
        )

    async def set_synced(self, channel_id: int, message_id: int) -> None:
        """History up to `message_id` has been read without a gap (never moves back)."""
        await self._db.execute(
            "UPDATE channels SET synced_id = max(coalesce(synced_id, 0), ?) WHERE id = ?",
            (message_id, channel_id),
        )
