"""The retry queue of failed live events (monitors/telegram/retries.py), on disk.

The queue is small (at most a thousand messages) and changes only when something fails,
so it is written whole, in queue order, each time it changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from storage.db import Database

MessageKey = tuple[int, int]  # channel id, message id


class RetryQueue:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def load(self) -> dict[MessageKey, int]:
        """Message -> passes failed so far, oldest failure first."""
        rows = await self._db.fetch_all(
            "SELECT channel_id, message_id, passes FROM retry_messages ORDER BY position"
        )
        return {(row["channel_id"], row["message_id"]): row["passes"] for row in rows}

    async def save(self, pending: Mapping[MessageKey, int]) -> None:
        """Replace the stored queue with `pending`, in its order."""
        async with self._db.transaction():
            await self._db.execute("DELETE FROM retry_messages")
            await self._db.execute_many(
                """INSERT INTO retry_messages (channel_id, message_id, passes, position)
                   VALUES (?, ?, ?, ?)""",
                [(cid, mid, passes, i) for i, ((cid, mid), passes) in enumerate(pending.items())],
            )
