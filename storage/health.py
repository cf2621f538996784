"""Service health: counters per channel (errors, flood waits, updates) for `claimwatch status`.

The live monitor counts in memory and flushes here now and then, so counting an update
costs no write of its own.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from storage.dates import from_db, now_db
from storage.db import Database

SERVICE = 0  # channel_id of counters about the service as a whole


@dataclass(frozen=True, slots=True)
class Backlog:
    """Alerts waiting for one destination: how many, since when, the most failed tries."""

    destination: str
    pending: int
    oldest: datetime | None
    attempts: int
    last_error: str | None


@dataclass(frozen=True, slots=True)
class HealthCounter:
    channel_id: int
    name: str
    count: int
    last_at: datetime | None
    detail: str | None


@dataclass(frozen=True, slots=True)
class ChannelHealth:
    id: int
    username: str | None
    title: str | None
    cursor: int
    synced_id: int | None
    last_post_at: datetime | None
    last_stored_at: datetime | None  # when the newest post was stored: lag = this - post date


class Health:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def add(self, deltas: Mapping[tuple[int, str], tuple[int, str | None]], now: str) -> None:
        """Add counts to (channel_id, name) counters; a given detail replaces the old one."""
        await self._db.execute_many(
            """INSERT INTO health (channel_id, name, count, last_at, detail)
               VALUES (?, ?, ?, ?, ?)
               ON CONFLICT (channel_id, name) DO UPDATE SET
                 count = health.count + excluded.count, last_at = excluded.last_at,
                 detail = coalesce(excluded.detail, health.detail)""",
            [(cid, name, n, now, detail) for (cid, name), (n, detail) in deltas.items()],
        )

    async def add_service(self, counts: Mapping[str, int]) -> None:
        """Add counts to service-wide counters, in a transaction of their own (or the caller's)."""
        async with self._db.transaction():
            await self.add({(SERVICE, name): (n, None) for name, n in counts.items()}, now_db())

    async def counters(self) -> list[HealthCounter]:
        rows = await self._db.fetch_all("SELECT * FROM health ORDER BY channel_id, name")
        return [
            HealthCounter(
                row["channel_id"], row["name"], row["count"], from_db(row["last_at"]), row["detail"]
            )
            for row in rows
        ]

    async def channels(self) -> list[ChannelHealth]:
        rows = await self._db.fetch_all(
            """SELECT c.id, c.username, c.title, c.cursor, c.synced_id, c.last_post_at,
                 (SELECT p.stored_at FROM posts p WHERE p.channel_id = c.id
                  ORDER BY p.message_id DESC LIMIT 1) AS last_stored_at
               FROM channels c ORDER BY c.last_post_at DESC, c.id"""
        )
        return [
            ChannelHealth(
                id=row["id"],
                username=row["username"],
                title=row["title"],
                cursor=row["cursor"],
                synced_id=row["synced_id"],
                last_post_at=from_db(row["last_post_at"]),
                last_stored_at=from_db(row["last_stored_at"]),
            )
            for row in rows
        ]

    async def backlogs(self) -> list[Backlog]:
        """The outbox per destination that has alerts waiting: a delivery is retried for as
        long as it fails, so a chat that keeps failing shows here, not in lost alerts."""
        rows = await self._db.fetch_all(
            """SELECT d.destination, count(*) AS pending, min(a.created_at) AS oldest,
                 max(d.attempts) AS attempts,
                 (SELECT last_error FROM deliveries e
                   WHERE e.destination = d.destination AND e.status = 'pending'
                   ORDER BY e.attempts DESC LIMIT 1) AS last_error
               FROM deliveries d JOIN alerts a ON a.id = d.alert_id
               WHERE d.status = 'pending' GROUP BY d.destination ORDER BY d.destination"""
        )
        return [
            Backlog(
                row["destination"],
                row["pending"],
                from_db(row["oldest"]),
                row["attempts"],
                row["last_error"],
            )
            for row in rows
        ]
