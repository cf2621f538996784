"""How the live monitor survives Telegram: retries with backoff, health counts, guarded tasks.

Telethon is built with `flood_sleep_threshold=0`, so every flood wait reaches `Retry`,
which obeys it, logs it and counts it instead of sleeping silently inside Telethon.
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telethon import errors

from storage import Store
from storage.dates import now_db
from storage.health import SERVICE

log = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], Awaitable[None]]

# Failures that say "try again later" rather than "this cannot work".
TRANSIENT = (
    errors.ServerError,
    errors.RpcCallFailError,
    errors.TimedOutError,
    ConnectionError,
    TimeoutError,
)


class SessionExpired(Exception):
    """The account's session was revoked or expired: an operator must log in again."""


class Counters:
    """Health counts kept in memory and written to storage in one batch by `flush`."""

    def __init__(self) -> None:
        self._pending: dict[tuple[int, str], tuple[int, str | None]] = {}
        self.totals: dict[str, int] = {}

    def count(self, name: str, channel_id: int = SERVICE, detail: str | None = None) -> None:
        n, old = self._pending.get((channel_id, name), (0, None))
        self._pending[(channel_id, name)] = (n + 1, detail or old)
        self.totals[name] = self.totals.get(name, 0) + 1

    async def flush(self, store: Store) -> None:
        """Write the counts; if the write fails they stay for the next flush."""
        pending, self._pending = self._pending, {}
        if not pending:
            return
        try:
            async with store.transaction():
                await store.health.add(pending, now_db())
        except BaseException:
            for key, (n, detail) in pending.items():  # counted meanwhile: newer detail wins
                later, newer = self._pending.get(key, (0, None))
                self._pending[key] = (n + later, newer or detail)
            raise


class Retry:
    """Run one Telegram action until it works: flood waits are obeyed exactly, server
    errors and disconnects back off exponentially, an expired session is fatal, and any
    other RPC error goes to the caller (it is about this request, not the connection)."""

    def __init__(
        self,
        counters: Counters,
        *,
        sleep: Sleep = asyncio.sleep,
        attempts: int = 6,
        base_delay_s: float = 2.0,
        max_delay_s: float = 300.0,
    ) -> None:
        self.counters = counters
        self.sleep = sleep
        self._attempts = attempts
        self._base = base_delay_s
        self._max = max_delay_s

    async def __call__(
        self, what: str, action: Callable[[], Awaitable[T]], channel_id: int = SERVICE
    ) -> T:
        failures = 0
        while True:
            try:
                return await action()
            except errors.FloodWaitError as exc:
                self.counters.count("flood_wait", channel_id, f"{what}: {exc.seconds}s")
                log.warning("%s: flood wait, sleeping %ds as Telegram asks", what, exc.seconds)
                await self.sleep(exc.seconds + 1)
            except errors.UnauthorizedError as exc:
                self.counters.count("session_expired", SERVICE, str(exc))
                raise SessionExpired(f"Telegram refused the session ({exc})") from exc
            except TRANSIENT as exc:
                failures += 1
                self.counters.count("transient_error", channel_id, f"{what}: {exc!r}")
                if failures >= self._attempts:
                    raise
                delay = min(self._max, self._base * 2 ** (failures - 1)) * random.uniform(0.8, 1.2)
                log.warning("%s failed (%r); retrying in %.0fs", what, exc, delay)
                await self.sleep(delay)


class Tasks:
    """Background tasks with a reference kept and failures logged, never lost silently.
    A task that dies of `SessionExpired` is handed to `on_fatal`: nothing can go on."""

    def __init__(
        self, counters: Counters, on_fatal: Callable[[BaseException], None] | None = None
    ) -> None:
        self._counters = counters
        self._on_fatal = on_fatal
        self._tasks: set[asyncio.Task] = set()

    def spawn(self, coro: Coroutine[Any, Any, Any], name: str) -> asyncio.Task:
        task = asyncio.create_task(coro, name=name)
        self._tasks.add(task)
        task.add_done_callback(self._done)
        return task

    async def run(self, work: Callable[[], Coroutine[Any, Any, Any]], name: str) -> None:
        """Run `work()` as a tracked task and wait for it: a scheduled job, which then
        is cancelled at shutdown with the rest, and whose failure is reported here (an
        expired session included) instead of vanishing into the scheduler's log."""
        await asyncio.wait([self.spawn(work(), name)])

    def _done(self, task: asyncio.Task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and (exc := task.exception()) is not None:
            self._counters.count("task_failed", SERVICE, f"{task.get_name()}: {exc!r}")
            log.error("background task %s failed", task.get_name(), exc_info=exc)
            if isinstance(exc, SessionExpired) and self._on_fatal:
                self._on_fatal(exc)

    async def cancel_all(self) -> None:
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
