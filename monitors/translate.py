"""Translate post texts without letting a slow, flaky or rate-limited backend hurt the
service: every failure becomes an error result, never an exception.

deep-translator is blocking and has no timeout, so each request runs in a dedicated
thread pool under `asyncio.wait_for`. Python cannot kill a thread: a request that times
out keeps its worker until the server answers or closes the connection, which may be
never (deep-translator calls requests without a timeout). The pool therefore has twice as many
workers as requests allowed at once, so up to `max_concurrency` hung requests cost
nothing; past that, new requests wait in the pool's queue and time out (their
`wait_for` covers the wait), and once every worker is hung requests fail at once with
"stalled" instead of waiting. The event loop itself never blocks.
"""

from __future__ import annotations

import asyncio
import hashlib
import random
import unicodedata
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass

from monitors.translation.backends import BackendError, Clients
from monitors.translation.chunking import Chunk, join_chunks, split_text
from monitors.translation.ratelimit import TokenBucket
from monitors.translation.settings import BACKENDS, TranslatorSettings

__all__ = [
    "BACKENDS",
    "Translation",
    "Translator",
    "TranslatorSettings",
    "TranslatorStats",
    "text_hash",
]

_UNKNOWN_SOURCES = {None, "", "auto", "und"}


@dataclass(frozen=True, slots=True)
class Translation:
    """The outcome for one text: `text` on success, else `error`; `chars` counts the
    characters sent to the backend for it, retries included. `permanent`: the backend
    refused the text itself, so trying it again later is pointless."""

    text: str | None
    error: str | None = None
    chars: int = 0
    permanent: bool = False


@dataclass(slots=True)
class TranslatorStats:
    """Running counters for `claimwatch status`: `requests` and `chars_sent` count every
    attempt, `retries` the repeated ones, `failures` the texts that ended in an error."""

    requests: int = 0
    failures: int = 0
    retries: int = 0
    chars_sent: int = 0


def text_hash(text: str, target: str = "en") -> str:
    """Cache key for a translation: the same words in another layout hash alike."""
    normal = " ".join(unicodedata.normalize("NFC", text).split())
    return hashlib.blake2b(f"{target}\0{normal}".encode(), digest_size=16).hexdigest()


class Translator:
    """Translates batches of texts with bounded concurrency, rate, time and retries."""

    def __init__(self, settings: TranslatorSettings, *, rng: random.Random | None = None) -> None:
        self.settings = settings
        self.stats = TranslatorStats()
        self._rng = rng or random.Random()
        self._slots = asyncio.Semaphore(settings.max_concurrency)
        self._bucket = TokenBucket(settings.rate_per_s)
        self._clients = Clients(settings)
        self._workers = 2 * settings.max_concurrency
        self._pool = ThreadPoolExecutor(self._workers, thread_name_prefix="translate")
        self._hung: set[Future[str]] = set()

    @property
    def hung_threads(self) -> int:
        """Workers still stuck in a request that timed out."""
        self._hung = {future for future in self._hung if not future.done()}
        return len(self._hung)

    async def translate(self, texts: Sequence[str], source: str | None = None) -> list[Translation]:
        """One result per text, in order; texts already in the target come back as they are."""
        return list(await asyncio.gather(*(self._translate_text(t, source) for t in texts)))

    def close(self) -> None:
        """Stop the workers; hung ones are left to finish on their own."""
        self._pool.shutdown(wait=False, cancel_futures=True)

    async def _translate_text(self, text: str, source: str | None) -> Translation:
        if self.settings.backend == "none":
            return Translation(None, "disabled")
        chunks = split_text(text, self.settings.chunk_limit)
        if not chunks or _same_language(source, self.settings.target):
            return Translation(text)
        code = "auto" if not source or source in _UNKNOWN_SOURCES else source
        parts = await asyncio.gather(*(self._translate_chunk(c.text, code) for c in chunks))
        chars = sum(part.chars for part in parts)
        failed = next((part for part in parts if part.error), None)
        if failed:
            self.stats.failures += 1
            return Translation(None, failed.error, chars, failed.permanent)
        pairs = zip(parts, chunks, strict=True)
        joined = join_chunks([Chunk(part.text or "", chunk.gap) for part, chunk in pairs])
        return Translation(joined, None, chars)

    async def _translate_chunk(self, text: str, source: str) -> Translation:
        """Up to 1 + `retries` attempts, with exponential backoff and jitter between."""
        chars = 0
        for attempt in range(self.settings.retries + 1):
            if attempt:
                self.stats.retries += 1
                await asyncio.sleep(self._backoff(attempt))
            try:
                async with self._slots:
                    if self.hung_threads >= self._workers:
                        raise BackendError("stalled: all workers hung", retryable=False)
                    await self._bucket.acquire()
                    chars += len(text)
                    return Translation(await self._request(text, source), None, chars)
            except BackendError as err:
                error = err
                if not err.retryable:
                    break
        return Translation(None, error.reason, chars, error.permanent)

    async def _request(self, text: str, source: str) -> str:
        try:
            future = self._pool.submit(self._clients.translate, source, text)
        except RuntimeError:  # closed: a job still running while the service shuts down
            raise BackendError("translator closed", retryable=False) from None
        self.stats.requests += 1
        self.stats.chars_sent += len(text)
        try:
            return await asyncio.wait_for(asyncio.wrap_future(future), self.settings.timeout_s)
        except TimeoutError:
            if not future.cancel():  # already running: the worker is stuck in the request
                self._hung.add(future)
            raise BackendError("timeout", retryable=True) from None

    def _backoff(self, attempt: int) -> float:
        return self.settings.backoff_base_s * 2 ** (attempt - 1) * self._rng.uniform(0.5, 1.5)


def _same_language(source: str | None, target: str) -> bool:
    """Compare primary subtags, so an en-GB post is not sent for translation into en."""
    if source in _UNKNOWN_SOURCES:
        return False
    return _primary(source or "") == _primary(target)


def _primary(code: str) -> str:
    return code.lower().replace("_", "-").split("-")[0]
