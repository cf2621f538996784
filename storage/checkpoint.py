"""WAL checkpoints off the writer's path.

SQLite checkpoints the write-ahead log from inside the commit that grows it past 1,000
pages, and the checkpoint ends with an fsync of the database file: in a replay of
ru-news, commits paying one were several of the slowest batches (20 to 50 ms each). So the
writer's automatic checkpoints are off, and a second connection, with its own thread,
runs a passive checkpoint (it never waits for, nor blocks, the writer or readers) at most
once per CHECKPOINT_INTERVAL_S while writes go on. An idle service writes nothing and needs none;
the last connection to close checkpoints whatever is left.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

import aiosqlite

log = logging.getLogger(__name__)

CHECKPOINT_INTERVAL_S = 1.0


class Checkpointer:
    def __init__(self, path: str) -> None:
        self._path = path
        self._interval = CHECKPOINT_INTERVAL_S
        self._conn: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._last = time.monotonic()

    def written(self) -> None:
        """A write was committed: start a checkpoint if one is due and none is running."""
        now = time.monotonic()
        if now - self._last < self._interval or (self._task and not self._task.done()):
            return
        self._last = now
        self._task = asyncio.get_running_loop().create_task(self._checkpoint())

    async def _checkpoint(self) -> None:
        try:
            if self._conn is None:
                self._conn = await aiosqlite.connect(self._path, isolation_level=None)
            await self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
        except sqlite3.Error as exc:  # the writer meets a failing disk on its own
            log.warning("checkpoint of %s failed: %s", self._path, exc)

    async def close(self) -> None:
        if self._task is not None:
            await self._task
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
