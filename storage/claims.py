"""Claims posts are matched against, with the history of what happened to each."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from monitors.models import Claim
from storage.dates import from_db, now_db, to_db
from storage.db import Database


@dataclass(frozen=True, slots=True)
class FirstSeen:
    """The earliest archived post carrying a claim, and when the claim was published."""

    post_id: int
    channel_id: int
    message_id: int
    at: datetime
    published: datetime | None

    @property
    def lead(self) -> timedelta | None:
        """How long before the live blog the post appeared (negative: after it)."""
        return None if self.published is None else self.published - self.at


class Claims:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def upsert(self, claims: Iterable[Claim]) -> list[Claim]:
        """Store claims; return those that are new or changed (to re-index and to search the
        archive again: a new `published` moves the archive search). The status stays."""
        changed: list[Claim] = []
        now = now_db()
        for claim in claims:
            old = await self.get(claim.id)
            if old is not None and _stored_fields(old) == _stored_fields(claim):
                continue
            await self._db.execute(
                """INSERT INTO claims (id, text, title, source, source_url, published, lang,
                     status, created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (id) DO UPDATE SET text = excluded.text,
                     title = excluded.title, source = excluded.source,
                     source_url = excluded.source_url, published = excluded.published,
                     lang = excluded.lang""",
                (
                    claim.id,
                    claim.text,
                    claim.title,
                    claim.source,
                    claim.source_url,
                    to_db(claim.published),
                    claim.lang,
                    claim.status,
                    now,
                ),
            )
            await self._history(claim.id, "added" if old is None else "updated", claim.text, now)
            # as stored: a closed claim that a live blog re-words stays closed
            changed.append(claim if old is None else replace(claim, status=old.status))
        return changed

    async def set_status(self, claim_id: str, status: str) -> bool:
        now = now_db()
        await self._db.execute(
            "UPDATE claims SET status = ? WHERE id = ? AND status != ?", (status, claim_id, status)
        )
        if not await self._db.scalar("SELECT changes()"):
            return False
        await self._history(claim_id, "closed" if status == "closed" else "reopened", None, now)
        return True

    async def set_first_seen(self, claim_id: str, post_id: int, at: datetime) -> bool:
        """Record the post as the claim's earliest source unless an earlier one is known."""
        await self._db.execute(
            """UPDATE claims SET first_seen_post_id = ?1, first_seen_at = ?2
               WHERE id = ?3 AND (first_seen_at IS NULL OR first_seen_at > ?2)""",
            (post_id, to_db(at), claim_id),
        )
        return bool(await self._db.scalar("SELECT changes()"))

    async def first_seen(self, claim_id: str) -> FirstSeen | None:
        row = await self._db.fetch_one(
            """SELECT k.first_seen_post_id, k.first_seen_at, k.published, p.channel_id,
                 p.message_id
               FROM claims k JOIN posts p ON p.id = k.first_seen_post_id WHERE k.id = ?""",
            (claim_id,),
        )
        if row is None:
            return None
        return FirstSeen(
            post_id=row["first_seen_post_id"],
            channel_id=row["channel_id"],
            message_id=row["message_id"],
            at=from_db(row["first_seen_at"]),  # type: ignore[arg-type]
            published=from_db(row["published"]),
        )

    async def get(self, claim_id: str) -> Claim | None:
        row = await self._db.fetch_one("SELECT * FROM claims WHERE id = ?", (claim_id,))
        return None if row is None else _from_row(row)

    async def list(self, status: str | None = "open") -> list[Claim]:
        if status is None:
            rows = await self._db.fetch_all("SELECT * FROM claims ORDER BY created_at, id")
        else:
            rows = await self._db.fetch_all(
                "SELECT * FROM claims WHERE status = ? ORDER BY created_at, id", (status,)
            )
        return [_from_row(row) for row in rows]

    async def for_digest(
        self, since: datetime, start: datetime, end: datetime
    ) -> list[tuple[Claim, datetime]]:
        """Open claims published in [since, end), and every claim with an alerting match
        on a post in [start, end); each with when it appeared (published, else stored)."""
        rows = await self._db.fetch_all(
            """SELECT *, coalesce(k.published, k.created_at) AS appeared FROM claims k
               WHERE (k.status = 'open' AND coalesce(k.published, k.created_at) >= ?1
                      AND coalesce(k.published, k.created_at) < ?3)
                  OR EXISTS (SELECT 1 FROM matches m JOIN posts p ON p.id = m.post_id
                             WHERE m.claim_id = k.id AND m.alert
                               AND p.date >= ?2 AND p.date < ?3)
               ORDER BY coalesce(k.published, k.created_at), k.id""",
            (to_db(since), to_db(start), to_db(end)),
        )
        return [(_from_row(row), from_db(row["appeared"])) for row in rows]  # type: ignore[misc]

    EXPORT_FIELDS = (
        "id", "text", "title", "source", "source_url", "published", "status", "created_at",
        "matches", "alerts",
    )  # fmt: skip

    async def export_rows(self) -> AsyncIterator[dict]:
        rows = self._db.iterate(
            """SELECT k.*, (SELECT count(*) FROM matches m WHERE m.claim_id = k.id) AS matches,
                 (SELECT count(*) FROM alerts a WHERE a.claim_id = k.id) AS alerts
               FROM claims k ORDER BY k.created_at, k.id"""
        )
        async for row in rows:
            yield {
                "id": row["id"],
                "text": row["text"],
                "title": row["title"],
                "source": row["source"],
                "source_url": row["source_url"],
                "published": row["published"],
                "status": row["status"],
                "created_at": row["created_at"],
                "matches": row["matches"],
                "alerts": row["alerts"],
            }

    async def history(self, claim_id: str) -> list[tuple[str, str, str | None]]:
        rows = await self._db.fetch_all(
            "SELECT at, action, detail FROM claim_history WHERE claim_id = ? ORDER BY id",
            (claim_id,),
        )
        return [(row["at"], row["action"], row["detail"]) for row in rows]

    async def _history(self, claim_id: str, action: str, detail: str | None, now: str) -> None:
        await self._db.execute(
            "INSERT INTO claim_history (claim_id, at, action, detail) VALUES (?, ?, ?, ?)",
            (claim_id, now, action, detail),
        )


def _from_row(row) -> Claim:
    return Claim(
        id=row["id"],
        text=row["text"],
        title=row["title"],
        source=row["source"],
        source_url=row["source_url"],
        published=from_db(row["published"]),
        lang=row["lang"],
        status=row["status"],
    )


def _stored_fields(claim: Claim) -> tuple:
    """What `upsert` writes over, so an unchanged claim costs no write."""
    return (claim.text, claim.title, claim.source, claim.source_url, claim.published, claim.lang)
