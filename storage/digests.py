"""Daily digests: one row per local day, with the rendered body and when it went out.

`sent_at` is what makes a digest go out once: the scheduler and `claimwatch digest --send`
both skip a day that already has it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from storage.dates import from_db
from storage.db import Database


@dataclass(frozen=True, slots=True)
class DigestRow:
    day: date
    sent_at: datetime | None
    body: str


class Digests:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, day: date) -> DigestRow | None:
        row = await self._db.fetch_one("SELECT * FROM digests WHERE day = ?", (day.isoformat(),))
        if row is None:
            return None
        return DigestRow(date.fromisoformat(row["day"]), from_db(row["sent_at"]), row["body"])

    async def save(self, day: date, body: str) -> None:
        """Keep the latest body of an unsent day; a sent day's body is what was sent."""
        await self._db.execute(
            """INSERT INTO digests (day, body) VALUES (?, ?)
               ON CONFLICT (day) DO UPDATE SET body = excluded.body
               WHERE digests.sent_at IS NULL""",
            (day.isoformat(), body),
        )

    async def mark_sent(self, day: date, now: str) -> None:
        await self._db.execute(
            "UPDATE digests SET sent_at = ? WHERE day = ? AND sent_at IS NULL",
            (now, day.isoformat()),
        )

    async def last_sent(self) -> date | None:
        """The latest day whose digest went out."""
        day = await self._db.scalar("SELECT max(day) FROM digests WHERE sent_at IS NOT NULL")
        return date.fromisoformat(day) if day else None
