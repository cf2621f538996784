"""Polling one live-blog URL: conditional GET, size cap, timeouts, errors as results.

Every failure (network, timeout, HTTP error, oversized page) comes back as a FetchResult
with `error` set, never as an exception, so one broken blog cannot stop a poll loop that
serves the others. The caller persists `FetchResult.state` and waits `next_delay(...)`.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from dataclasses import dataclass, replace
from types import TracebackType

import httpx

from monitors.liveblog.parse import MAX_PAGE_BYTES

USER_AGENT = "claimwatch/0.1 (live-blog claim monitor; python-httpx)"


@dataclass(frozen=True, slots=True)
class FetchState:
    """What to remember about one URL between polls (small enough to store as a row)."""

    etag: str | None = None
    last_modified: str | None = None
    failures: int = 0  # consecutive failed polls, for backoff


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One poll's outcome; `body` is set only when a new page arrived."""

    url: str
    state: FetchState
    status: int | None = None
    body: bytes | None = None
    content_type: str | None = None
    not_modified: bool = False
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class PageTooLarge(Exception):
    """The page passed the size cap; reading stopped there."""


def next_delay(
    failures: int,
    *,
    base: float = 60.0,
    cap: float = 3600.0,
    rand: Callable[[], float] = random.random,
) -> float:
    """Seconds to the next poll: `base` when healthy, else exponential with jitter, capped.

    Jitter spreads retries of blogs that failed together (one outage, one site).
    """
    if failures <= 0:
        return base
    ceiling = min(cap, base * 2.0 ** min(failures, 32))
    return ceiling / 2 + rand() * ceiling / 2


def _conditional_headers(state: FetchState) -> dict[str, str]:
    headers = {}
    if state.etag:
        headers["If-None-Match"] = state.etag
    if state.last_modified:
        headers["If-Modified-Since"] = state.last_modified
    return headers


async def _read_capped(response: httpx.Response, max_bytes: int) -> bytes:
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise PageTooLarge(f"page declares {declared} bytes, cap is {max_bytes}")
    body = bytearray()
    async for chunk in response.aiter_bytes():
        body += chunk
        if len(body) > max_bytes:
            raise PageTooLarge(f"page passed the {max_bytes}-byte cap")
    return bytes(body)


class LiveBlogFetcher:
    """Fetches live-blog pages over one shared httpx.AsyncClient.

    `timeout` bounds each connect/read; `deadline` bounds the whole request, so a server
    that trickles bytes cannot hold a poll forever.
    """

    def __init__(
        self,
        client: httpx.AsyncClient | None = None,
        *,
        timeout: float = 20.0,
        deadline: float = 60.0,
        max_bytes: int = MAX_PAGE_BYTES,
        user_agent: str = USER_AGENT,
    ) -> None:
        self._own_client = client is None
        self._client = client or httpx.AsyncClient(max_redirects=5)
        self._timeout = httpx.Timeout(timeout)
        self._deadline = deadline
        self._max_bytes = max_bytes
        self._user_agent = user_agent

    async def __aenter__(self) -> LiveBlogFetcher:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Close the client if this fetcher created it."""
        if self._own_client:
            await self._client.aclose()

    async def fetch(self, url: str, state: FetchState) -> FetchResult:
        """GET `url` conditionally; never raises for network, HTTP or size problems."""
        try:
            async with asyncio.timeout(self._deadline):
                return await self._fetch(url, state)
        except TimeoutError:
            return self._failed(url, state, None, f"timed out after {self._deadline:g}s")
        except httpx.TimeoutException as exc:
            return self._failed(url, state, None, f"timed out: {type(exc).__name__}")
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            return self._failed(url, state, None, f"{type(exc).__name__}: {exc}")

    async def _fetch(self, url: str, state: FetchState) -> FetchResult:
        headers = {"User-Agent": self._user_agent, **_conditional_headers(state)}
        request = self._client.build_request("GET", url, headers=headers, timeout=self._timeout)
        response = await self._client.send(request, stream=True, follow_redirects=True)
        try:
            if response.status_code == 304:
                return FetchResult(url, replace(state, failures=0), 304, not_modified=True)
            if response.status_code >= 400:
                return self._failed(
                    url,
                    state,
                    response.status_code,
                    f"HTTP {response.status_code} {response.reason_phrase}",
                )
            try:
                body = await _read_capped(response, self._max_bytes)
            except PageTooLarge as exc:
                return self._failed(url, state, response.status_code, str(exc))
        finally:
            await response.aclose()
        new_state = FetchState(
            etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified")
        )
        return FetchResult(
            url, new_state, response.status_code, body, response.headers.get("content-type")
        )

    @staticmethod
    def _failed(url: str, state: FetchState, status: int | None, error: str) -> FetchResult:
        return FetchResult(url, replace(state, failures=state.failures + 1), status, error=error)
