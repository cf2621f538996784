"""LiveBlogFetcher against a real HTTP server on loopback, and the parse of what it fetched."""

from __future__ import annotations

import asyncio
import hashlib
import threading
import tracemalloc
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from monitors.liveblog import FetchState, LiveBlogFetcher, next_delay, parse_page
from monitors.liveblog.fetch import USER_AGENT

PAGES = Path(__file__).parent / "pages"
CONTENT_TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml",
    ".atom": "application/atom+xml",
}
LAST_MODIFIED = "Thu, 02 Mar 2023 12:00:00 GMT"
HUGE = 50 * 1024 * 1024
CHUNK = b"<p>" + b"x" * (64 * 1024 - 7) + b"</p>\n"


@dataclass
class ServerLog:
    """What the handler saw, for assertions, and a stop signal for slow answers."""

    headers: list[dict[str, str]] = field(default_factory=list)
    huge_sent: int = 0
    huge_done: threading.Event = field(default_factory=threading.Event)
    stop: threading.Event = field(default_factory=threading.Event)


class Handler(BaseHTTPRequestHandler):
    log: ServerLog  # set on the subclass built per server

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.log.headers.append(dict(self.headers))
        path = self.path.split("?")[0]
        try:
            if path.startswith("/pages/"):
                self._page(PAGES / path.removeprefix("/pages/"))
            elif path == "/error":
                self._answer(500, b"boom")
            elif path == "/slow":
                self.log.stop.wait(10)
                self._answer(200, b"too late")
            elif path == "/trickle":
                self._trickle()
            elif path in ("/huge", "/huge-declared"):
                self._huge(declared=path == "/huge-declared")
            elif path == "/moved":
                self.send_response(302)
                self.send_header("Location", "/pages/feed.rss")
                self.end_headers()
            else:
                self._answer(404, b"no such page")
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client gave up, as it should

    def _answer(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def _page(self, file: Path) -> None:
        body = file.read_bytes()
        etag = '"' + hashlib.sha1(body).hexdigest()[:12] + '"'
        validators = {"ETag": etag, "Last-Modified": LAST_MODIFIED}
        if (
            self.headers.get("If-None-Match") == etag
            or self.headers.get("If-Modified-Since") == LAST_MODIFIED
        ):
            self.send_response(304)
            for name, value in validators.items():
                self.send_header(name, value)
            self.end_headers()
            return
        self._answer(200, body, {"Content-Type": CONTENT_TYPES[file.suffix], **validators})

    def _trickle(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        self.end_headers()
        while not self.log.stop.wait(0.05):
            self.wfile.write(b"x")
            self.wfile.flush()

    def _huge(self, declared: bool) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html")
        if declared:
            self.send_header("Content-Length", str(HUGE))
        self.end_headers()
        try:
            while self.log.huge_sent < HUGE:
                self.wfile.write(CHUNK)
                self.log.huge_sent += len(CHUNK)
        finally:
            self.log.huge_done.set()


@pytest.fixture
def server() -> Iterator[tuple[str, ServerLog]]:
    log = ServerLog()
    handler = type("BoundHandler", (Handler,), {"log": log})
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", log
    log.stop.set()
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.fixture
async def fetcher() -> AsyncIterator[LiveBlogFetcher]:
    async with LiveBlogFetcher(timeout=0.5, deadline=1.0) as f:
        yield f


@pytest.mark.parametrize(
    ("page", "count"),
    [
        ("bryansk_liveblog.html", 4),
        ("broken_jsonld.html", 1),
        ("microdata.html", 2),
        ("feed.rss", 2),
        ("feed.atom", 1),
        ("article.html", 1),
        ("spam_only.html", 0),
    ],
)
async def test_fetch_then_parse_each_format(server, fetcher, page, count):
    base, log = server
    result = await fetcher.fetch(f"{base}/pages/{page}", FetchState())
    assert result.ok and result.status == 200 and result.body == (PAGES / page).read_bytes()
    assert log.headers[-1]["User-Agent"] == USER_AGENT
    updates = parse_page(result.body, url=result.url, content_type=result.content_type)
    assert len(updates) == count


async def test_conditional_request_gives_not_modified(server, fetcher):
    base, log = server
    url = f"{base}/pages/bryansk_liveblog.html"
    first = await fetcher.fetch(url, FetchState())
    assert first.state.etag and first.state.last_modified == LAST_MODIFIED
    second = await fetcher.fetch(url, first.state)
    assert second.ok and second.not_modified and second.status == 304 and second.body is None
    assert second.state == first.state
    assert log.headers[-1]["If-None-Match"] == first.state.etag
    only_date = await fetcher.fetch(url, FetchState(last_modified=LAST_MODIFIED))
    assert only_date.not_modified and "If-None-Match" not in log.headers[-1]


async def test_server_error_is_a_result_and_counts_failures(server, fetcher):
    base, _ = server
    state = FetchState(etag='"old"', failures=2)
    result = await fetcher.fetch(f"{base}/error", state)
    assert not result.ok and result.status == 500 and result.body is None
    assert result.error == "HTTP 500 Internal Server Error"
    assert result.state == FetchState(etag='"old"', failures=3)
    recovered = await fetcher.fetch(f"{base}/pages/feed.rss", result.state)
    assert recovered.ok and recovered.state.failures == 0


async def test_redirect_is_followed(server, fetcher):
    base, _ = server
    result = await fetcher.fetch(f"{base}/moved", FetchState())
    assert result.ok and result.status == 200 and b"<rss" in (result.body or b"")


async def test_slow_answer_times_out(server, fetcher):
    base, _ = server
    result = await fetcher.fetch(f"{base}/slow", FetchState())
    assert not result.ok and result.status is None and "timed out" in (result.error or "")
    assert result.state.failures == 1


async def test_trickling_answer_hits_the_deadline(server, fetcher):
    base, _ = server
    result = await fetcher.fetch(f"{base}/trickle", FetchState())
    assert result.error == "timed out after 1s"


async def test_huge_page_is_cut_off_at_the_cap_with_bounded_memory(server, fetcher):
    base, log = server
    tracemalloc.start()
    try:
        result = await fetcher.fetch(f"{base}/huge", FetchState())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert not result.ok and result.status == 200 and result.body is None
    assert result.error == "page passed the 10485760-byte cap"
    assert peak < 3 * 10 * 1024 * 1024
    assert log.huge_done.wait(5)
    assert log.huge_sent < HUGE / 2  # the client hung up; the server did not send it all


async def test_declared_size_past_the_cap_is_refused_before_reading(server, fetcher):
    base, _ = server
    result = await fetcher.fetch(f"{base}/huge-declared", FetchState())
    assert result.error == f"page declares {HUGE} bytes, cap is 10485760"


async def test_unreachable_and_invalid_urls_are_results(fetcher):
    refused = await fetcher.fetch("http://127.0.0.1:9/", FetchState())
    assert not refused.ok and refused.error and refused.error.startswith("ConnectError")
    invalid = await fetcher.fetch("not a url", FetchState())
    assert not invalid.ok and invalid.error


async def test_one_failing_blog_does_not_affect_others(server, fetcher):
    base, _ = server
    urls = [f"{base}/error", f"{base}/slow", f"{base}/pages/feed.rss", f"{base}/pages/feed.atom"]
    results = await asyncio.gather(*(fetcher.fetch(u, FetchState()) for u in urls))
    assert [r.ok for r in results] == [False, False, True, True]


def test_next_delay_backs_off_exponentially_with_jitter_and_a_cap():
    assert next_delay(0, base=60) == 60
    assert next_delay(1, base=60, rand=lambda: 1.0) == 120
    assert next_delay(1, base=60, rand=lambda: 0.0) == 60
    assert next_delay(3, base=60, rand=lambda: 1.0) == 480
    assert next_delay(50, base=60, cap=3600, rand=lambda: 1.0) == 3600
    assert 1800 <= next_delay(50, base=60, cap=3600) <= 3600
