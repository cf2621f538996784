"""Matches, the alerts they raise, and the outbox of alert deliveries.

A match and its alert are written in the pipeline's transaction, and every destination
gets a delivery row at the same moment, so a crash can delay an alert but never lose it.
One alert exists per (claim, story): a repost of an alerted story raises nothing new, it
marks the sent message for an edit instead ("+3 channels"), as do edits, deletions, late
translations and verdicts. A delivery can also be held back (quiet hours, cool-down, a
muted channel): it is then shown in the digest instead of the chat.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from monitors.models import Match, message_link
from storage.dates import from_db, to_db
from storage.db import Database, in_chunks
from storage.posts import was_edited

MAX_ALSO = 10  # other channels' posts an alert lists; the count covers the rest


@dataclass(frozen=True, slots=True)
class StoryPost:
    """Another channel's post of an alerted story."""

    channel: str
    link: str
    date: datetime


@dataclass(frozen=True, slots=True)
class Alert:
    """Everything a sink needs to tell an analyst about one matched story."""

    id: int
    channel_id: int
    channel: str
    category: str
    message_id: int
    link: str
    date: datetime
    text: str
    lang: str
    translation: str | None
    claim_id: str
    claim_text: str
    claim_source: str | None
    claim_url: str | None
    score: float
    stance: str
    reasons: tuple[str, ...]
    cluster_id: str
    cluster_posts: int
    cluster_channels: int
    edited: bool = False
    deleted: bool = False
    also: tuple[StoryPost, ...] = ()  # other channels, oldest first, one post each
    claim_published: datetime | None = None  # when the live blog published the claim
    claim_added: datetime | None = None  # when claimwatch first stored the claim
    feedback: str | None = None  # the analyst's verdict: relevant | not_relevant

    def to_json(self) -> dict:
        return {
            "alert_id": self.id,
            "channel_id": self.channel_id,
            "channel": self.channel,
            "category": self.category,
            "message_id": self.message_id,
            "link": self.link,
            "date": to_db(self.date),
            "text": self.text,
            "lang": self.lang,
            "translation": self.translation,
            "claim_id": self.claim_id,
            "claim_text": self.claim_text,
            "claim_source": self.claim_source,
            "score": round(self.score, 4),
            "stance": self.stance,
            "reasons": list(self.reasons),
            "cluster_id": self.cluster_id,
            "cluster_size": self.cluster_posts,
            "cluster_channels": self.cluster_channels,
        }


@dataclass(frozen=True, slots=True)
class EvidenceRow:
    """One alerting match of a claim, with the post's fate (edited, deleted)."""

    claim_id: str
    stance: str
    channel_id: int
    username: str | None
    title: str | None
    category: str
    message_id: int
    date: datetime
    edited: bool
    deleted: bool


class Alerts:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def record(
        self,
        post_id: int,
        cluster_id: str,
        matches: Sequence[Match],
        destinations: Sequence[str],
        now: str,
    ) -> list[int]:
        """Store the matches of one post; raise alerts for alerting ones not yet raised
        for this story. Returns the new alert ids."""
        return await self.record_many([(post_id, cluster_id, matches)], destinations, now)

    async def record_many(
        self,
        posts: Sequence[tuple[int, str, Sequence[Match]]],
        destinations: Sequence[str],
        now: str,
    ) -> list[int]:
        """`record` for many posts, given as (post id, cluster id, matches), in order."""
        rows = [
            (
                post_id,
                match.claim_id,
                match.score,
                match.stance,
                json.dumps(list(match.reasons), ensure_ascii=False),
                int(match.alert),
                now,
            )
            for post_id, _, matches in posts
            for match in matches
        ]
        # One statement for all the batch's matches: most never alert, and a round trip to
        # the database thread per post cost 0.02-0.03 ms of CPU a post (ru-news replay).
        if rows:
            await self._db.execute_many(
                """INSERT INTO matches (post_id, claim_id, score, stance, reasons, alert,
                     created_at)
                   VALUES (?, ?, ?, ?, ?, ?, ?)
                   ON CONFLICT (post_id, claim_id) DO UPDATE SET score = excluded.score,
                     stance = excluded.stance, reasons = excluded.reasons,
                     alert = excluded.alert""",
                rows,
            )
        raised: list[int] = []
        for post_id, cluster_id, matches in posts:
            for match in matches:
                if match.alert:
                    alert_id = await self._raise(post_id, match.claim_id, cluster_id, now)
                    if alert_id is not None:
                        raised.append(alert_id)
                        await self._db.execute_many(
                            """INSERT INTO deliveries (alert_id, destination, next_attempt_at)
                               VALUES (?, ?, ?)""",
                            [(alert_id, destination, now) for destination in destinations],
                        )
        return raised

    async def _raise(self, post_id: int, claim_id: str, cluster_id: str, now: str) -> int | None:
        """A new alert for this match, or None when its story has one for the claim."""
        row = await self._db.fetch_one(
            """INSERT INTO alerts (match_id, claim_id, cluster_id, created_at)
               SELECT id, ?2, ?3, ?4 FROM matches WHERE post_id = ?1 AND claim_id = ?2
               ON CONFLICT (claim_id, cluster_id) DO NOTHING
               RETURNING id""",
            (post_id, claim_id, cluster_id, now),
        )
        return None if row is None else row["id"]

    async def due(self, destination: str, now: str, limit: int = 50) -> list[int]:
        rows = await self._db.fetch_all(
            """SELECT alert_id FROM deliveries
               WHERE destination = ? AND status = 'pending' AND next_attempt_at <= ?
               ORDER BY next_attempt_at, alert_id LIMIT ?""",
            (destination, now, limit),
        )
        return [row["alert_id"] for row in rows]

    async def mark_sent(self, alert_id: int, destination: str, ref: str | None, now: str) -> None:
        await self._db.execute(
            """UPDATE deliveries SET status = 'sent', message_ref = ?, sent_at = ?,
                 attempts = attempts + 1, last_error = NULL
               WHERE alert_id = ? AND destination = ?""",
            (ref, now, alert_id, destination),
        )

    async def mark_retry(
        self,
        alert_id: int,
        destination: str,
        error: str,
        retry_at: str | None,
        *,
        attempt: bool = True,
    ) -> None:
        """Try again at `retry_at`; None gives up (retrying cannot help: chat gone). A
        wait the far side asked for is no failed attempt: `attempt` False."""
        await self._db.execute(
            """UPDATE deliveries SET attempts = attempts + ?, last_error = ?,
                 status = CASE WHEN ? IS NULL THEN 'failed' ELSE 'pending' END,
                 next_attempt_at = coalesce(?, next_attempt_at)
               WHERE alert_id = ? AND destination = ?""",
            (int(attempt), error[:500], retry_at, retry_at, alert_id, destination),
        )

    async def hold(self, alert_id: int, destination: str, reason: str) -> None:
        """Keep an alert out of a chat (quiet hours, cool-down, muted): the digest shows it."""
        await self._db.execute(
            """UPDATE deliveries SET status = 'held', held = ?
               WHERE alert_id = ? AND destination = ? AND status = 'pending'""",
            (reason, alert_id, destination),
        )

    async def release_held(self, reason: str, raised_since: str, now: str) -> int:
        """Make deliveries held for `reason` pending again, due `now`, for alerts raised
        since `raised_since` (older ones were in a digest already); returns how many."""
        rows = await self._db.fetch_all(
            """UPDATE deliveries SET status = 'pending', held = NULL, next_attempt_at = ?
               WHERE status = 'held' AND held = ?
                 AND alert_id IN (SELECT id FROM alerts WHERE created_at >= ?)
               RETURNING alert_id""",
            (now, reason, raised_since),
        )
        return len(rows)

    async def claim_sent_between(
        self, claim_id: str, destination: str, start: datetime, end: datetime
    ) -> bool:
        """Whether an alert of this claim about a post dated in [start, end] went out."""
        return bool(
            await self._db.scalar(
                """SELECT EXISTS (SELECT 1 FROM alerts a
                     JOIN deliveries d ON d.alert_id = a.id
                     JOIN matches m ON m.id = a.match_id JOIN posts p ON p.id = m.post_id
                   WHERE a.claim_id = ? AND d.destination = ? AND d.status = 'sent'
                     AND p.date BETWEEN ? AND ?)""",
                (claim_id, destination, to_db(start), to_db(end)),
            )
        )

    async def touch_clusters(self, cluster_ids: Iterable[str], now: str) -> None:
        """These stories changed: their sent alerts need re-rendering wherever the sent
        message can be edited (a sink that can edit returns a message reference)."""
        ids = sorted(set(cluster_ids))
        for chunk, marks in in_chunks(ids):
            await self._db.execute(
                f"""UPDATE deliveries SET edit_due_at = coalesce(edit_due_at, ?),
                      edit_version = edit_version + 1
                    WHERE status = 'sent' AND message_ref IS NOT NULL
                      AND alert_id IN (SELECT id FROM alerts WHERE cluster_id IN ({marks}))""",
                (now, *chunk),
            )

    async def touch_posts(self, channel_id: int, message_ids: Sequence[int], now: str) -> None:
        """Posts changed outside the pipeline (deleted): re-render their stories' alerts."""
        for chunk, marks in in_chunks(list(message_ids)):
            rows = await self._db.fetch_all(
                f"""SELECT DISTINCT cluster_id FROM posts WHERE channel_id = ?
                    AND message_id IN ({marks}) AND cluster_id IS NOT NULL""",
                (channel_id, *chunk),
            )
            await self.touch_clusters([row["cluster_id"] for row in rows], now)

    async def edits_due(
        self, destination: str, now: str, edited_before: str, limit: int = 50
    ) -> list[PendingEdit]:
        """Sent alerts to re-render now; one edited since `edited_before` waits (an
        alert edited on every repost of a viral story would hit Telegram's limits)."""
        rows = await self._db.fetch_all(
            """SELECT alert_id, message_ref, edit_version FROM deliveries
               WHERE destination = ? AND edit_due_at <= ?
                 AND (edited_at IS NULL OR edited_at <= ?)
               ORDER BY edit_due_at, alert_id LIMIT ?""",
            (destination, now, edited_before, limit),
        )
        return [
            PendingEdit(row["alert_id"], row["message_ref"], row["edit_version"]) for row in rows
        ]

    async def mark_edited(
        self, edit: PendingEdit, destination: str, now: str, ref: str | None = None
    ) -> None:
        """Edited now, which starts the gap to the next edit; still due if another change
        arrived while the edit was in flight. `ref`: the messages the alert now spans,
        kept whatever the version (they exist in the chat)."""
        await self._db.execute(
            """UPDATE deliveries SET edited_at = ?, message_ref = coalesce(?, message_ref),
                 edit_due_at = CASE WHEN edit_version = ? THEN NULL ELSE edit_due_at END
               WHERE alert_id = ? AND destination = ?""",
            (now, ref, edit.version, edit.alert_id, destination),
        )

    async def attempts(self, alert_id: int, destination: str) -> int:
        return await self._db.scalar(
            "SELECT attempts FROM deliveries WHERE alert_id = ? AND destination = ?",
            (alert_id, destination),
        )

    async def load(self, alert_ids: Sequence[int]) -> list[Alert]:
        if not alert_ids:
            return []
        marks = ",".join("?" * len(alert_ids))
        rows = await self._db.fetch_all(
            f"""{_SELECT_ALERT} WHERE a.id IN ({marks}) ORDER BY a.id""", list(alert_ids)
        )
        also = await self._also({row["cluster_id"] for row in rows})
        return [_alert_from_row(row, also.get(row["cluster_id"], ())) for row in rows]

    async def _also(self, cluster_ids: set[str]) -> dict[str, list[tuple[int, StoryPost]]]:
        """The first live post of each channel in these stories, oldest first."""
        found: dict[str, list[tuple[int, StoryPost]]] = {}
        for chunk, marks in in_chunks(sorted(cluster_ids)):
            rows = await self._db.fetch_all(
                f"""SELECT p.cluster_id, p.channel_id, p.message_id, p.date, c.username, c.title
                    FROM posts p LEFT JOIN channels c ON c.id = p.channel_id
                    WHERE p.cluster_id IN ({marks}) AND p.deleted_at IS NULL
                    ORDER BY p.cluster_id, p.date, p.id""",
                chunk,
            )
            for row in rows:
                posts = found.setdefault(row["cluster_id"], [])
                if any(channel_id == row["channel_id"] for channel_id, _ in posts):
                    continue
                story_post = StoryPost(
                    channel=channel_name(row["channel_id"], row["username"], row["title"]),
                    link=message_link(row["channel_id"], row["username"], row["message_id"]),
                    date=from_db(row["date"]),  # type: ignore[arg-type]
                )
                posts.append((row["channel_id"], story_post))
        return found

    EXPORT_FIELDS = (
        "alert_id", "channel_id", "channel", "category", "message_id", "link", "date", "text",
        "lang", "translation", "claim_id", "claim_text", "claim_source", "score", "stance",
        "reasons", "cluster_id", "cluster_size", "cluster_channels",
    )  # fmt: skip

    async def export_rows(self) -> AsyncIterator[dict]:
        async for row in self._db.iterate(f"{_SELECT_ALERT} ORDER BY a.id"):
            yield _alert_from_row(row, ()).to_json()

    async def alerting_matches(self) -> list[tuple[int, int, str, str]]:
        """(channel id, message id, claim id, stance) of every match at alert level."""
        rows = await self._db.fetch_all(
            """SELECT p.channel_id, p.message_id, m.claim_id, m.stance FROM matches m
               JOIN posts p ON p.id = m.post_id WHERE m.alert ORDER BY m.id"""
        )
        return [tuple(row) for row in rows]

    async def count(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM alerts")

    async def evidence(self, claim_ids: Sequence[str], before: datetime) -> list[EvidenceRow]:
        """Alerting matches of these claims on posts dated before `before`, oldest first."""
        if not claim_ids:
            return []
        marks = ",".join("?" * len(claim_ids))
        rows = await self._db.fetch_all(
            f"""SELECT m.claim_id, m.stance, p.channel_id, p.message_id, p.date, p.version,
                  p.edit_date, p.deleted_at, c.username, c.title,
                  coalesce(c.category, 'uncategorised') AS category
                FROM matches m JOIN posts p ON p.id = m.post_id
                LEFT JOIN channels c ON c.id = p.channel_id
                WHERE m.alert AND p.date < ? AND m.claim_id IN ({marks})
                ORDER BY p.date, p.channel_id, p.message_id""",
            (to_db(before), *claim_ids),
        )
        return [
            EvidenceRow(
                claim_id=row["claim_id"],
                stance=row["stance"],
                channel_id=row["channel_id"],
                username=row["username"],
                title=row["title"],
                category=row["category"],
                message_id=row["message_id"],
                date=from_db(row["date"]),  # type: ignore[arg-type]
                edited=was_edited(row),
                deleted=row["deleted_at"] is not None,
            )
            for row in rows
        ]

    async def feedback_counts(self, start: datetime, end: datetime) -> dict[str, int]:
        """Analyst verdicts given in [start, end) (dated by the post when given before
        verdicts were dated)."""
        rows = await self._db.fetch_all(
            """SELECT m.feedback, count(*) AS n FROM matches m JOIN posts p ON p.id = m.post_id
               WHERE m.feedback IS NOT NULL
                 AND coalesce(m.feedback_at, p.date) >= ? AND coalesce(m.feedback_at, p.date) < ?
               GROUP BY m.feedback ORDER BY n DESC, m.feedback""",
            (to_db(start), to_db(end)),
        )
        return {row["feedback"]: row["n"] for row in rows}

    async def set_feedback(
        self, channel_id: int, message_id: int, claim_id: str, feedback: str | None
    ) -> bool:
        """An analyst's verdict on one match (e.g. useful, wrong); False if no such match."""
        await self._db.execute(
            """UPDATE matches SET feedback = ? WHERE claim_id = ? AND post_id =
                 (SELECT id FROM posts WHERE channel_id = ? AND message_id = ?)""",
            (feedback, claim_id, channel_id, message_id),
        )
        return bool(await self._db.scalar("SELECT changes()"))

    async def set_alert_feedback(self, alert_id: int, feedback: str, by: str, now: str) -> bool:
        """A verdict given on the alert's message; the message is re-rendered to show it."""
        await self._db.execute(
            """UPDATE matches SET feedback = ?, feedback_by = ?, feedback_at = ?
               WHERE id = (SELECT match_id FROM alerts WHERE id = ?)""",
            (feedback, by, now, alert_id),
        )
        if not await self._db.scalar("SELECT changes()"):
            return False
        cluster_id = await self._db.scalar(
            "SELECT cluster_id FROM alerts WHERE id = ?", (alert_id,)
        )
        await self.touch_clusters([cluster_id], now)
        return True

    async def held(self, start: datetime, end: datetime) -> list[tuple[int, str]]:
        """(alert id, reason) of alerts held back from a chat, for posts dated in
        [start, end), and for older posts whose alert was raised then (a claim matched
        against the archive, a backfill after an outage): what the digest must show
        because the analysts were not told. Such an alert raised before its post's day
        had its digest shows in both digests, rather than in none."""
        rows = await self._db.fetch_all(
            """SELECT a.id, min(d.held) AS reason FROM alerts a
               JOIN deliveries d ON d.alert_id = a.id
               JOIN matches m ON m.id = a.match_id JOIN posts p ON p.id = m.post_id
               WHERE (p.date >= ?1 AND p.date < ?2)
                  OR (a.created_at >= ?1 AND a.created_at < ?2 AND p.date < ?1)
               GROUP BY a.id HAVING sum(d.status = 'held') > 0
               ORDER BY p.date, a.id""",
            (to_db(start), to_db(end)),
        )
        return [(row["id"], row["reason"]) for row in rows]

    async def match_count(self) -> int:
        return await self._db.scalar("SELECT count(*) FROM matches")


_SELECT_ALERT = """
SELECT a.id, a.cluster_id, m.score, m.stance, m.reasons, m.feedback,
       p.channel_id, p.message_id, p.date, p.text, p.lang, p.translation, p.version,
       p.edit_date, p.deleted_at,
       c.username, c.title, c.category,
       k.id AS claim_id, k.text AS claim_text, k.source AS claim_source,
       k.source_url AS claim_url, k.published AS claim_published,
       k.created_at AS claim_added,
       coalesce(s.size, 1) AS cluster_posts, coalesce(s.channels, 1) AS cluster_channels
FROM alerts a
JOIN matches m ON m.id = a.match_id
JOIN posts p ON p.id = m.post_id
JOIN claims k ON k.id = a.claim_id
LEFT JOIN channels c ON c.id = p.channel_id
LEFT JOIN clusters s ON s.id = a.cluster_id
"""


@dataclass(frozen=True, slots=True)
class PendingEdit:
    alert_id: int
    message_ref: str
    version: int


def channel_name(channel_id: int, username: str | None, title: str | None) -> str:
    """How a channel is named to an analyst: @username, else its title, else its id."""
    return f"@{username}" if username else (title or str(channel_id))


def _alert_from_row(row, also: Sequence[tuple[int, StoryPost]]) -> Alert:
    username = row["username"]
    return Alert(
        id=row["id"],
        channel_id=row["channel_id"],
        channel=channel_name(row["channel_id"], username, row["title"]),
        category=row["category"] or "uncategorised",
        message_id=row["message_id"],
        link=message_link(row["channel_id"], username, row["message_id"]),
        date=from_db(row["date"]),  # type: ignore[arg-type]
        text=row["text"],
        lang=row["lang"],
        translation=row["translation"],
        claim_id=row["claim_id"],
        claim_text=row["claim_text"],
        claim_source=row["claim_source"],
        claim_url=row["claim_url"],
        score=row["score"],
        stance=row["stance"],
        reasons=tuple(json.loads(row["reasons"])),
        cluster_id=row["cluster_id"],
        cluster_posts=row["cluster_posts"],
        cluster_channels=row["cluster_channels"],
        edited=was_edited(row),
        deleted=row["deleted_at"] is not None,
        also=tuple(post for channel_id, post in also if channel_id != row["channel_id"])[:MAX_ALSO],
        claim_published=from_db(row["claim_published"]),
        claim_added=from_db(row["claim_added"]),
        feedback=row["feedback"],
    )
