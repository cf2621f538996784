"""Polling the configured live blogs: new updates become stored, indexed, retro-matched claims.

Each `[[liveblogs]]` entry keeps its own schedule (its poll interval, stretched by backoff
while it fails) and its poll state in SQLite, so a restart sends conditional requests and
reads only updates it has not read before. Blogs are polled concurrently and each poll is
guarded: one broken blog is logged and retried later, the others carry on.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from bot.config import LiveBlogConfig
from monitors.liveblog import (
    FetchResult,
    FetchState,
    LiveBlogFetcher,
    extract_claims,
    merge_claims,
    next_delay,
    parse_page,
)
from monitors.models import Claim
from storage.dates import now_db
from storage.liveblogs import BlogState

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

MAX_BACKOFF_S = 3600.0


@dataclass(frozen=True, slots=True)
class BlogPoll:
    """What one poll of one blog did."""

    url: str
    status: int | None = None
    updates: int = 0  # updates read for the first time, or edited since
    claims: tuple[Claim, ...] = ()  # claims that were new or changed
    alert_ids: tuple[int, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PollReport:
    blogs: tuple[BlogPoll, ...] = ()

    @property
    def claims(self) -> list[Claim]:
        return [claim for blog in self.blogs for claim in blog.claims]

    @property
    def alert_ids(self) -> list[int]:
        return [alert_id for blog in self.blogs for alert_id in blog.alert_ids]

    @property
    def errors(self) -> dict[str, str]:
        return {blog.url: blog.error for blog in self.blogs if blog.error}


@dataclass(frozen=True, slots=True)
class _Page:
    """Claims of a fetched page's unread updates, and those updates' (id, text hash)."""

    claims: list[Claim]
    read: list[tuple[str, str]]


def _utcnow() -> datetime:
    return datetime.now(UTC)


class LiveBlogPoller:
    """Polls `app.config.liveblogs` (re-read each round, so a reload applies) with one
    shared fetcher."""

    def __init__(
        self,
        app: App,
        fetcher: LiveBlogFetcher,
        *,
        clock: Callable[[], datetime] = _utcnow,
    ) -> None:
        self._app = app
        self._fetcher = fetcher
        self._clock = clock
        self._states: dict[str, BlogState] | None = None

    async def poll_once(self) -> PollReport:
        """Poll every blog that is due now, concurrently."""
        states = await self._load_states()
        now = self._clock()
        due = [blog for blog in self._blogs() if _is_due(states.get(blog.url), now)]
        polls = await asyncio.gather(*(self._poll_guarded(blog, now) for blog in due))
        return PollReport(tuple(polls))

    def _blogs(self) -> list[LiveBlogConfig]:
        return list({blog.url: blog for blog in self._app.config.liveblogs}.values())

    async def _load_states(self) -> dict[str, BlogState]:
        if self._states is None:
            self._states = await self._app.store.liveblogs.states()
        return self._states

    async def _poll_guarded(self, blog: LiveBlogConfig, now: datetime) -> BlogPoll:
        state = (self._states or {}).get(blog.url) or BlogState(blog.url)
        try:
            return await self._poll(blog, state, now)
        except Exception as exc:  # a parser or storage bug must not stop the other blogs
            log.exception("polling live blog %s failed", blog.url)
            failed = replace(state, failures=state.failures + 1, last_error=repr(exc))
            await self._save(blog, failed, now, [])
            return BlogPoll(blog.url, error=repr(exc))

    async def _poll(self, blog: LiveBlogConfig, state: BlogState, now: datetime) -> BlogPoll:
        result = await self._fetcher.fetch(
            blog.url, FetchState(state.etag, state.last_modified, state.failures)
        )
        if not result.ok:
            log.warning(
                "live blog %s: %s (failed %d times)", blog.url, result.error, result.state.failures
            )
        page = _Page([], [])
        if result.body is not None:
            read = await self._app.store.liveblogs.read_updates(blog.url)
            page = await asyncio.to_thread(_read_page, blog, result, read)
        added = await self._app.add_claims(page.claims)
        fetched = result.state
        new_state = replace(
            state,
            etag=fetched.etag,
            last_modified=fetched.last_modified,
            failures=fetched.failures,
            last_error=result.error,
        )
        # Claims are committed before the updates are marked read: a crash in between
        # re-reads those updates, and re-adding the same claims changes nothing.
        await self._save(blog, new_state, now, page.read)
        return BlogPoll(
            blog.url,
            result.status,
            len(page.read),
            tuple(added.changed),
            tuple(added.alert_ids),
            result.error,
        )

    async def _save(
        self,
        blog: LiveBlogConfig,
        state: BlogState,
        now: datetime,
        read: Sequence[tuple[str, str]],
    ) -> None:
        base = blog.poll_minutes * 60
        delay = next_delay(state.failures, base=base, cap=max(MAX_BACKOFF_S, base))
        scheduled = replace(state, next_poll_at=now + timedelta(seconds=delay))
        store = self._app.store
        async with store.transaction():
            await store.liveblogs.mark_read(blog.url, read, now_db())
            await store.liveblogs.save(scheduled, now)
        (await self._load_states())[blog.url] = scheduled


def _is_due(state: BlogState | None, now: datetime) -> bool:
    return state is None or state.next_poll_at is None or state.next_poll_at <= now


def _read_page(blog: LiveBlogConfig, result: FetchResult, read: dict[str, str]) -> _Page:
    """Claims from the updates not read before (or edited since); CPU-bound, so it runs
    in a thread and a large page does not stall the event loop."""
    updates = parse_page(result.body or b"", url=result.url, content_type=result.content_type)
    fresh = []
    for update in updates:
        digest = hashlib.sha1(update.text.encode()).hexdigest()[:16]
        if read.get(update.id) != digest:
            fresh.append((update, digest))
    groups = merge_claims(claim for update, _ in fresh for claim in extract_claims(update))
    source = blog.name or urlsplit(blog.url).hostname
    # The blog, not the officials it quotes, is the claim's source: alerts link back to it.
    return _Page(
        [replace(group.to_claim(), source=source, lang=blog.language) for group in groups],
        [(update.id, digest) for update, digest in fresh],
    )
