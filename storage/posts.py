"""Posts, every version of their text, and full-text search over them.

Inserts are idempotent on (channel_id, message_id): a live event, a reconciliation pass
and a replay of the same export may all deliver the same message.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitors.models import ForwardOrigin, Post
from storage.dates import from_db, to_db
from storage.db import Database, in_chunks

# Pages of full-text index merging done after each insert: enough to keep up with the
# segments inserts add (ru-news: the same index size within 10%), small enough to cost
# a batch ~0.1 ms instead of an occasional 20 to 30 ms (migration v06).
INDEX_MERGE_PAGES = 32


@dataclass(frozen=True, slots=True)
class StoredPost:
    """What the pipeline needs to know about a post it has already stored."""

    id: int
    text_hash: str
    version: int
    cluster_id: str | None
    lang: str
    translation: str | None
    deleted: bool


@dataclass(frozen=True, slots=True)
class VolumeRow:
    """Posts of one channel in one language within one UTC hour."""

    channel_id: int
    username: str | None
    title: str | None
    category: str
    lang: str
    hour: datetime
    posts: int


@dataclass(frozen=True, slots=True)
class NewPost:
    post: Post
    text_hash: str
    translation_state: str


def _pairs(count: int) -> str:
    return ",".join(["(?, ?)"] * count)


class Posts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def lookup(self, keys: Iterable[tuple[int, int]]) -> dict[tuple[int, int], StoredPost]:
        """The stored state of each key that exists, in one query per batch (a replay's
        batch spans many channels: a query per channel was ~20 round trips a batch)."""
        found: dict[tuple[int, int], StoredPost] = {}
        for chunk, _ in in_chunks(list(keys)):
            rows = await self._db.fetch_all(
                f"""WITH wanted (channel_id, message_id) AS (VALUES {_pairs(len(chunk))})
                    SELECT id, channel_id, message_id, text_hash, version, cluster_id, lang,
                           translation, deleted_at
                    FROM wanted JOIN posts USING (channel_id, message_id)""",
                [value for key in chunk for value in key],
            )
            for row in rows:
                found[(row["channel_id"], row["message_id"])] = StoredPost(
                    id=row["id"],
                    text_hash=row["text_hash"],
                    version=row["version"],
                    cluster_id=row["cluster_id"],
                    lang=row["lang"],
                    translation=row["translation"],
                    deleted=row["deleted_at"] is not None,
                )
        return found

    async def insert(self, new: Sequence[NewPost], now: str) -> dict[tuple[int, int], int]:
        """Insert posts not stored yet (others are left alone); return their row ids."""
        await self._db.execute_many(
            """INSERT INTO posts (channel_id, message_id, date, text, text_hash, lang,
                 translation, translation_state, cluster_id, edit_date, forward_channel_id,
                 forward_message_id, forward_name, grouped_id, reply_to, media, stored_at,
                 translation_attempts)
               VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
               ON CONFLICT (channel_id, message_id) DO NOTHING""",
            [_insert_params(item, now) for item in new],
        )
        await self._db.execute(
            "INSERT INTO posts_fts (posts_fts, rank) VALUES ('merge', ?)", (INDEX_MERGE_PAGES,)
        )
        stored = await self.lookup(item.post.key for item in new)
        await self._db.execute_many(
            """INSERT OR IGNORE INTO post_versions (post_id, version, text, edit_date, seen_at)
               VALUES (?, 1, ?, ?, ?)""",
            [
                (stored[item.post.key].id, item.post.text, to_db(item.post.edit_date), now)
                for item in new
            ],
        )
        return {key: row.id for key, row in stored.items()}

    async def record_edit(
        self,
        post_id: int,
        post: Post,
        text_hash: str,
        version: int,
        now: str,
        translation_state: str | None = None,
    ) -> None:
        """Keep the new text as the current one and as a further version. Its
        translation starts afresh: a failed one is retried as for a new post."""
        if translation_state is None:
            translation_state = "done" if post.translation else "none"
        await self._db.execute(
            """UPDATE posts SET text = ?, text_hash = ?, version = ?, edit_date = ?, lang = ?,
                 translation = ?, translation_state = ?, media = ?,
                 translation_attempts = ?, translation_due_at = NULL
               WHERE id = ?""",
            (
                post.text,
                text_hash,
                version,
                to_db(post.edit_date),
                post.lang,
                post.translation,
                translation_state,
                json.dumps(list(post.media)),
                _attempts_made(translation_state),
                post_id,
            ),
        )
        await self._db.execute(
            """INSERT OR IGNORE INTO post_versions (post_id, version, text, edit_date, seen_at)
               VALUES (?, ?, ?, ?, ?)""",
            (post_id, version, post.text, to_db(post.edit_date), now),
        )

    async def mark_deleted(self, channel_id: int, message_ids: Sequence[int], now: str) -> int:
        """Deletions are marked, never executed: a walked-back post is evidence."""
        marks = ",".join("?" * len(message_ids))
        await self._db.execute(
            f"""UPDATE posts SET deleted_at = ? WHERE channel_id = ? AND deleted_at IS NULL
                AND message_id IN ({marks})""",
            (now, channel_id, *message_ids),
        )
        return await self._db.scalar("SELECT changes()")

    async def versions(self, channel_id: int, message_id: int) -> list[tuple[int, str]]:
        rows = await self._db.fetch_all(
            """SELECT v.version, v.text FROM post_versions v JOIN posts p ON p.id = v.post_id
               WHERE p.channel_id = ? AND p.message_id = ? ORDER BY v.version""",
            (channel_id, message_id),
        )
        return [(row["version"], row["text"]) for row in rows]

    async def cluster_translations(self, cluster_ids: Sequence[str]) -> dict[str, str]:
        """A translation already made for each story, so its reposts need no new one."""
        ids = list(set(cluster_ids))
        found: dict[str, str] = {}
        for chunk, marks in in_chunks(ids):
            rows = await self._db.fetch_all(
                f"""SELECT cluster_id, translation FROM posts WHERE cluster_id IN ({marks})
                    AND translation IS NOT NULL GROUP BY cluster_id""",
                chunk,
            )
            found.update((row["cluster_id"], row["translation"]) for row in rows)
        return found

    async def newest_date(self) -> datetime | None:
        return from_db(await self._db.scalar("SELECT max(date) FROM posts"))

    async def first_stored_at(self) -> datetime | None:
        """When claimwatch stored its first post: no digest is owed for days before."""
        return from_db(await self._db.scalar("SELECT min(stored_at) FROM posts"))

    async def languages(self) -> Counter[str]:
        rows = await self._db.fetch_all("SELECT lang, count(*) AS n FROM posts GROUP BY lang")
        return Counter({row["lang"]: row["n"] for row in rows})

    async def count(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM posts")

    async def volume(self, start: datetime, end: datetime) -> list[VolumeRow]:
        """Post counts in [start, end) by channel, language and UTC hour (digest volume)."""
        rows = await self._db.fetch_all(
            """SELECT p.channel_id, c.username, c.title,
                 coalesce(c.category, 'uncategorised') AS category, p.lang,
                 substr(p.date, 1, 13) AS hour, count(*) AS posts
               FROM posts p LEFT JOIN channels c ON c.id = p.channel_id
               WHERE p.date >= ? AND p.date < ?
               GROUP BY p.channel_id, p.lang, hour""",
            (to_db(start), to_db(end)),
        )
        return [
            VolumeRow(
                channel_id=row["channel_id"],
                username=row["username"],
                title=row["title"],
                category=row["category"],
                lang=row["lang"],
                hour=datetime.fromisoformat(row["hour"] + ":00+00:00"),
                posts=row["posts"],
            )
            for row in rows
        ]

    async def recent(self, since: datetime) -> list[Post]:
        """Posts newer than `since`, oldest first: rebuilds in-memory dedup state at start."""
        rows = await self._db.fetch_all(
            f"{SELECT_POST} WHERE p.date >= ? ORDER BY p.date, p.id", (to_db(since),)
        )
        return [post_from_row(row) for row in rows]

    async def search(self, query: str, limit: int = 20) -> list[Post]:
        """Full-text search over original and translated text, newest matches first (the
        analyst follows a story as it develops); the query is FTS5 syntax quoted term by
        term, so untrusted input cannot break the statement."""
        # FTS5 ends a string at NUL and SQLite cannot take half an emoji: both dropped
        query = query.encode("utf-8", "ignore").decode().replace("\0", " ")
        terms = " ".join(_fts_term(term) for term in query.split())
        if not terms:
            return []
        rows = await self._db.fetch_all(
            f"""{SELECT_POST} JOIN posts_fts f ON f.rowid = p.id
                WHERE posts_fts MATCH ? ORDER BY p.date DESC, p.id DESC LIMIT ?""",
            (terms, limit),
        )
        return [post_from_row(row) for row in rows]

    async def match_any(
        self, prefixes: Iterable[str], since: datetime, limit: int
    ) -> list[tuple[int, Post]]:
        """(row id, post) of the posts dated from `since` whose text or translation has a
        word starting with any of `prefixes`, best BM25 first: retro-match candidates."""
        query = " OR ".join(_fts_term(prefix) + "*" for prefix in dict.fromkeys(prefixes))
        if not query:
            return []
        rows = await self._db.fetch_all(
            f"""{SELECT_POST} JOIN posts_fts f ON f.rowid = p.id
                WHERE posts_fts MATCH ? AND p.date >= ? ORDER BY f.rank LIMIT ?""",
            (query, to_db(since), limit),
        )
        return [(row["id"], post_from_row(row)) for row in rows]

    EXPORT_FIELDS = (
        "channel_id", "channel", "category", "message_id", "date", "text", "lang",
        "translation", "cluster_id", "edited", "edit_date", "deleted", "version",
        "forwarded_from", "media",
    )  # fmt: skip

    async def export_rows(self) -> AsyncIterator[dict]:
        """Every post as a flat dict (the `claimwatch export posts` contract)."""
        rows = self._db.iterate(
            """SELECT p.*, c.username, c.title, c.category FROM posts p
               LEFT JOIN channels c ON c.id = p.channel_id
               ORDER BY p.channel_id, p.message_id"""
        )
        async for row in rows:
            yield {
                "channel_id": row["channel_id"],
                "channel": row["username"] or row["title"],
                "category": row["category"],
                "message_id": row["message_id"],
                "date": row["date"],
                "text": row["text"],
                "lang": row["lang"],
                "translation": row["translation"],
                "cluster_id": row["cluster_id"],
                "edited": was_edited(row),
                "edit_date": row["edit_date"],
                "deleted": row["deleted_at"] is not None,
                "version": row["version"],
                "forwarded_from": row["forward_name"] or row["forward_channel_id"],
                "media": json.loads(row["media"]),
            }


SELECT_POST = """SELECT p.*, c.username, c.title FROM posts p
                  LEFT JOIN channels c ON c.id = p.channel_id"""


def _fts_term(term: str) -> str:
    """One FTS5 string token: quoted, so untrusted input cannot inject query syntax."""
    return '"' + term.replace('"', '""') + '"'


def _insert_params(item: NewPost, now: str) -> tuple:
    post = item.post
    forward = post.forward or ForwardOrigin()
    return (
        post.channel_id,
        post.message_id,
        to_db(post.date),
        post.text,
        item.text_hash,
        post.lang,
        post.translation,
        item.translation_state,
        post.cluster_id,
        to_db(post.edit_date),
        forward.channel_id,
        forward.message_id,
        forward.name,
        post.grouped_id,
        post.reply_to,
        json.dumps(list(post.media)),
        now,
        _attempts_made(item.translation_state),
    )


def _attempts_made(translation_state: str) -> int:
    """Translator tries behind a state the live path stored: a pending or failed one
    failed once."""
    return 1 if translation_state in ("pending", "failed") else 0


def was_edited(row) -> bool:
    """A post counts as edited if we saw a second version or Telegram dated an edit."""
    return row["version"] > 1 or row["edit_date"] is not None


def post_from_row(row) -> Post:
    has_forward = row["forward_channel_id"] is not None or row["forward_name"] is not None
    return Post(
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        date=from_db(row["date"]),  # type: ignore[arg-type]
        text=row["text"],
        channel_username=row["username"],
        channel_title=row["title"],
        edit_date=from_db(row["edit_date"]),
        forward=ForwardOrigin(
            row["forward_channel_id"], row["forward_message_id"], row["forward_name"]
        )
        if has_forward
        else None,
        grouped_id=row["grouped_id"],
        media=tuple(json.loads(row["media"])),
        reply_to=row["reply_to"],
        lang=row["lang"],
        cluster_id=row["cluster_id"],
        translation=row["translation"],
    )
