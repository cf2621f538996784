"""Poll state of live blogs and the updates already read from them.

Kept across restarts so that the first poll after one sends conditional headers (the
page usually answers 304), keeps backing off a blog that was failing, and extracts
claims only from updates it has not read yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from storage.dates import from_db, to_db
from storage.db import Database


@dataclass(frozen=True, slots=True)
class BlogState:
    """One blog's validators, backoff and schedule (a row of `liveblogs`)."""

    url: str
    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0
    next_poll_at: datetime | None = None
    last_error: str | None = None


class LiveBlogs:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def states(self) -> dict[str, BlogState]:
        """Every blog polled so far, by URL."""
        rows = await self._db.fetch_all("SELECT * FROM liveblogs")
        return {
            row["url"]: BlogState(
                url=row["url"],
                etag=row["etag"],
                last_modified=row["last_modified"],
                failures=row["failures"],
                next_poll_at=from_db(row["next_poll_at"]),
                last_error=row["last_error"],
            )
            for row in rows
        }

    async def save(self, state: BlogState, polled_at: datetime) -> None:
        await self._db.execute(
            """INSERT INTO liveblogs (url, etag, last_modified, failures, last_polled_at,
                 next_poll_at, last_error)
               VALUES (?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (url) DO UPDATE SET etag = excluded.etag,
                 last_modified = excluded.last_modified, failures = excluded.failures,
                 last_polled_at = excluded.last_polled_at,
                 next_poll_at = excluded.next_poll_at, last_error = excluded.last_error""",
            (
                state.url,
                state.etag,
                state.last_modified,
                state.failures,
                to_db(polled_at),
                to_db(state.next_poll_at),
                state.last_error,
            ),
        )

    async def read_updates(self, url: str) -> dict[str, str]:
        """Update id -> text hash of the updates of `url` already read."""
        rows = await self._db.fetch_all(
            "SELECT update_id, text_hash FROM liveblog_updates WHERE url = ?", (url,)
        )
        return {row["update_id"]: row["text_hash"] for row in rows}

    async def mark_read(self, url: str, updates: Sequence[tuple[str, str]], now: str) -> None:
        """Record (update id, text hash) pairs as read; an edited update gets its new hash."""
        await self._db.execute_many(
            """INSERT INTO liveblog_updates (url, update_id, text_hash, seen_at)
               VALUES (?, ?, ?, ?)
               ON CONFLICT (url, update_id) DO UPDATE SET text_hash = excluded.text_hash,
                 seen_at = excluded.seen_at""",
            [(url, update_id, digest, now) for update_id, digest in updates],
        )
