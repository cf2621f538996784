"""LiveBlogPoller against a real HTTP server on loopback serving live blogs written here."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App
from bot.config import parse_config
from bot.liveblog_poll import LiveBlogPoller
from monitors.liveblog import LiveBlogFetcher
from tests import test_liveblog_fetch
from tests.test_liveblog_fetch import server  # noqa: F401  (the loopback server fixture)

T0 = datetime(2024, 5, 10, 12, 0, tzinfo=UTC)
DEPOT = (
    "u-depot",
    "2024-05-10T09:00:00Z",
    "The regional governor said a drone struck a fuel depot in Novozybkov overnight.",
)
GUARDS = (
    "u-guards",
    "2024-05-10T10:30:00+00:00",
    "Officials in Klintsy said two border guards were wounded by shelling on Friday.",
)
DRONES = (
    "u-drones",
    "2024-05-10T11:45:00Z",
    "The defence ministry said air defences shot down 14 drones over Kursk region.",
)


def blog_page(*updates: tuple[str, str, str]) -> str:
    """A live blog as news sites publish it: JSON-LD LiveBlogPosting plus page furniture."""
    data = {
        "@context": "https://schema.org",
        "@type": "LiveBlogPosting",
        "headline": "Border region live",
        "liveBlogUpdate": [
            {
                "@type": "BlogPosting",
                "@id": f"https://blog.example/live#{uid}",
                "url": f"https://blog.example/live#{uid}",
                "headline": "Update",
                "datePublished": published,
                "articleBody": f"<p>{text}</p>",
            }
            for uid, published, text in updates
        ],
    }
    return (
        "<!DOCTYPE html><html><head><meta charset='utf-8'>"
        f"<script type='application/ld+json'>{json.dumps(data)}</script></head>"
        "<body><h1>Border region live</h1><p>Leave a Reply</p></body></html>"
    )


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, minutes: float) -> None:
        self.now += timedelta(minutes=minutes)


class Pages:
    """Pages served from a fresh folder through the fetch tests' loopback handler; each
    publish dates the page anew, as a site's Last-Modified moves when the blog grows."""

    def __init__(self, folder, monkeypatch) -> None:
        self._folder = folder
        self._monkeypatch = monkeypatch
        self._edits = 0
        monkeypatch.setattr(test_liveblog_fetch, "PAGES", folder)

    def publish(self, name: str, *updates: tuple[str, str, str]) -> None:
        (self._folder / name).write_text(blog_page(*updates), encoding="utf-8")
        self._edits += 1
        modified = f"Fri, 10 May 2024 12:{self._edits:02d}:00 GMT"
        self._monkeypatch.setattr(test_liveblog_fetch, "LAST_MODIFIED", modified)


@pytest.fixture
def pages(tmp_path, monkeypatch) -> Pages:
    folder = tmp_path / "pages"
    folder.mkdir()
    return Pages(folder, monkeypatch)


@pytest.fixture
async def fetcher() -> AsyncIterator[LiveBlogFetcher]:
    async with LiveBlogFetcher(timeout=2.0, deadline=5.0) as shared:
        yield shared


async def open_app(db, *blogs: dict) -> App:
    config = parse_config({"liveblogs": list(blogs), "translation": {"backend": "none"}})
    return await App.open(config, db_path=db, embedder=None)


async def test_first_poll_stores_claims_then_304_then_only_new_updates(
    server,  # noqa: F811
    pages,
    fetcher,
    tmp_path,
):
    base, log = server
    pages.publish("live.html", DEPOT, GUARDS)
    url = f"{base}/pages/live.html"
    app = await open_app(tmp_path / "cw.db", {"url": url, "poll_minutes": 5, "name": "Border"})
    clock = Clock()
    poller = LiveBlogPoller(app, fetcher, clock=clock)
    try:
        first = await poller.poll_once()
        assert [(b.status, b.updates, b.error) for b in first.blogs] == [(200, 2, None)]
        assert len(first.claims) == 2
        stored = {claim.id: claim for claim in await app.store.claims.list()}
        depot = next(c for c in stored.values() if "fuel depot" in c.text)
        assert depot.source == "Border" and depot.source_url == "https://blog.example/live#u-depot"
        assert depot.published == datetime(2024, 5, 10, 9, 0, tzinfo=UTC)
        assert all(claim_id in app.matcher for claim_id in stored)  # indexed at once

        assert (await poller.poll_once()).blogs == ()  # not due before poll_minutes
        clock.advance(5)
        second = await poller.poll_once()
        assert [(b.status, b.updates, b.claims) for b in second.blogs] == [(304, 0, ())]
        assert log.headers[-1]["If-None-Match"].startswith('"')
        assert "If-Modified-Since" in log.headers[-1]

        pages.publish("live.html", DEPOT, GUARDS, DRONES)
        clock.advance(5)
        third = await poller.poll_once()
        assert [(b.status, b.updates) for b in third.blogs] == [(200, 1)]
        assert [claim.text for claim in third.claims] == [DRONES[2]]
    finally:
        await app.close()


async def test_failing_blog_backs_off_while_the_other_keeps_polling(
    server,  # noqa: F811
    pages,
    fetcher,
    tmp_path,
):
    base, _ = server
    pages.publish("good.html", DEPOT)
    good, bad = f"{base}/pages/good.html", f"{base}/error"
    app = await open_app(
        tmp_path / "cw.db", {"url": bad, "poll_minutes": 1}, {"url": good, "poll_minutes": 1}
    )
    clock = Clock()
    poller = LiveBlogPoller(app, fetcher, clock=clock)
    polled = {good: 0, bad: 0}
    try:
        for _ in range(16):  # a quarter of an hour, minute by minute
            report = await poller.poll_once()
            for blog in report.blogs:
                polled[blog.url] += 1
            if bad in report.errors:
                assert report.errors[bad] == "HTTP 500 Internal Server Error"
            clock.advance(1)
        assert polled[good] == 16
        assert 3 <= polled[bad] <= 5  # 1, 2, 4, 8 minutes apart (with jitter)
        state = (await app.store.liveblogs.states())[bad]
        assert state.failures == polled[bad] and state.last_error
        assert len(await app.store.claims.list()) == 1  # the good blog's claim
    finally:
        await app.close()


async def test_restart_reuses_validators_and_reads_only_unread_updates(
    server,  # noqa: F811
    pages,
    fetcher,
    tmp_path,
):
    base, log = server
    pages.publish("live.html", DEPOT, GUARDS)
    blog = {"url": f"{base}/pages/live.html", "poll_minutes": 5}
    db = tmp_path / "cw.db"
    app = await open_app(db, blog)
    try:
        assert len((await LiveBlogPoller(app, fetcher, clock=Clock()).poll_once()).claims) == 2
    finally:
        await app.close()

    clock = Clock()
    clock.advance(6)
    app = await open_app(db, blog)
    try:
        poller = LiveBlogPoller(app, fetcher, clock=clock)
        again = await poller.poll_once()
        assert [b.status for b in again.blogs] == [304] and "If-None-Match" in log.headers[-1]

        # A new update changes the page: only it is read, old claims are not added again.
        pages.publish("live.html", DRONES, DEPOT, GUARDS)
        clock.advance(6)
        later = await poller.poll_once()
        assert [(b.status, b.updates) for b in later.blogs] == [(200, 1)]
        assert [claim.text for claim in later.claims] == [DRONES[2]]
        claims = await app.store.claims.list()
        assert len(claims) == 3
        for claim in claims:
            assert [action for _, action, _ in await app.store.claims.history(claim.id)] == [
                "added"
            ]
    finally:
        await app.close()


async def test_edited_update_is_read_again(server, pages, fetcher, tmp_path):  # noqa: F811
    base, _ = server
    pages.publish("live.html", DEPOT)
    app = await open_app(tmp_path / "cw.db", {"url": f"{base}/pages/live.html"})
    clock = Clock()
    poller = LiveBlogPoller(app, fetcher, clock=clock)
    try:
        await poller.poll_once()
        corrected = (DEPOT[0], DEPOT[1], DEPOT[2] + " " + GUARDS[2])
        pages.publish("live.html", corrected)
        clock.advance(5)
        report = await poller.poll_once()
        assert [(b.updates, [c.text for c in b.claims]) for b in report.blogs] == [(1, [GUARDS[2]])]
    finally:
        await app.close()
