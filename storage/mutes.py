"""Channels an analyst muted from the chat: their alerts are held for the digest until then."""

from __future__ import annotations

from datetime import datetime

from storage.dates import from_db, to_db
from storage.db import Database


class Mutes:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def mute(self, channel_id: int, until: datetime, by: str | None, now: str) -> None:
        await self._db.execute(
            """INSERT INTO mutes (channel_id, until, muted_by, created_at) VALUES (?, ?, ?, ?)
               ON CONFLICT (channel_id) DO UPDATE SET until = excluded.until,
                 muted_by = excluded.muted_by, created_at = excluded.created_at""",
            (channel_id, to_db(until), by, now),
        )

    async def unmute(self, channel_id: int) -> bool:
        await self._db.execute("DELETE FROM mutes WHERE channel_id = ?", (channel_id,))
        return bool(await self._db.scalar("SELECT changes()"))

    async def muted_until(self, channel_id: int, now: datetime) -> datetime | None:
        until = await self._db.scalar(
            "SELECT until FROM mutes WHERE channel_id = ? AND until > ?",
            (channel_id, to_db(now)),
        )
        return from_db(until)

    async def active(self, now: datetime) -> list[tuple[int, datetime]]:
        """(channel id, until) of every mute still running, soonest to end first."""
        rows = await self._db.fetch_all(
            "SELECT channel_id, until FROM mutes WHERE until > ? ORDER BY until",
            (to_db(now),),
        )
        return [(row["channel_id"], from_db(row["until"])) for row in rows]  # type: ignore[misc]
