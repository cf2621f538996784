"""Posts whose translation failed, retried by a scheduled job with a growing wait.

The live path stores a post with translation_state 'pending' when the translator fails;
the retry job (monitors/pipeline.py) takes the due ones, oldest first, and records what
it made of each, for the text it translated only. `claimwatch retranslate` puts given-up
posts back in the queue, after an outage longer than the retries last or a change of
backend.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import astuple, dataclass

from monitors.models import Post
from storage.db import Database
from storage.posts import SELECT_POST, post_from_row


@dataclass(frozen=True, slots=True)
class PendingTranslation:
    """A stored post whose translation failed, due for another try."""

    id: int
    text_hash: str
    attempts: int  # tries so far on this text, the one made when it was stored included
    post: Post


@dataclass(frozen=True, slots=True)
class Retranslated:
    """What a retry made of a post's translation: `state` done, pending (due again at
    `due_at`) or failed; `text_hash` names the text that was translated. `record` binds
    the fields by position."""

    post_id: int
    text_hash: str
    translation: str | None
    state: str
    attempts: int
    due_at: str | None = None


class TranslationRetries:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def due(self, limit: int, now: str) -> list[PendingTranslation]:
        """The oldest posts whose translation failed and whose next try is due at `now`.

        Only due posts are candidates, so posts that keep failing wait out their backoff
        instead of filling every batch ahead of newer ones."""
        rows = await self._db.fetch_all(
            f"""{SELECT_POST} WHERE p.translation_state = 'pending' AND p.deleted_at IS NULL
                  AND (p.translation_due_at IS NULL OR p.translation_due_at <= ?)
                ORDER BY p.date, p.id LIMIT ?""",
            (now, limit),
        )
        return [
            PendingTranslation(
                row["id"], row["text_hash"], row["translation_attempts"], post_from_row(row)
            )
            for row in rows
        ]

    async def record(self, outcomes: Sequence[Retranslated]) -> set[int]:
        """Store each outcome whose post still has the text that was translated; return
        the ids of those posts. A post edited since keeps what the live path stored for
        its new text: each update checks the text hash in the same statement, so this
        holds however the caller serialises its writes."""
        applied: set[int] = set()
        async with self._db.transaction():
            for out in outcomes:
                row = await self._db.fetch_one(
                    """UPDATE posts SET translation = ?3, translation_state = ?4,
                         translation_attempts = ?5, translation_due_at = ?6
                       WHERE id = ?1 AND text_hash = ?2 RETURNING id""",
                    astuple(out),
                )
                if row is not None:
                    applied.add(row["id"])
        return applied

    async def requeue(self) -> int:
        """Make every given-up translation pending again with a fresh count of tries, and
        every pending one due at the retry job's next run; return how many posts that is.
        Deleted posts stay as they are: nobody reads them."""
        async with self._db.transaction():
            rows = await self._db.fetch_all(
                """UPDATE posts SET translation_state = 'pending', translation_due_at = NULL,
                     translation_attempts = CASE translation_state WHEN 'failed' THEN 1
                                            ELSE translation_attempts END
                   WHERE translation_state IN ('failed', 'pending') AND deleted_at IS NULL
                   RETURNING id"""
            )
        return len(rows)
