"""The one SQLite connection, its single-writer transactions and its migrations.

aiosqlite runs one thread per connection and shares a transaction among every coroutine
that uses the connection, so all writes go through `transaction()`: an asyncio lock makes
one task the writer at a time, and nested calls in the same task join the outer
transaction (mautrix's habit) instead of committing half of it.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import sqlite3
from collections.abc import AsyncIterator, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from storage.checkpoint import Checkpointer
from storage.migrations import MIGRATIONS, SCHEMA_VERSION

log = logging.getLogger(__name__)

_in_transaction: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "claimwatch_in_transaction", default=False
)


# SQLite's default limit on host parameters is 32766; IN lists stay far below it.
IN_LIST_CHUNK = 500


def in_chunks(values: Sequence[Any]) -> Iterator[tuple[list[Any], str]]:
    """Slices of `values` short enough for one `IN (...)`, each with its placeholders."""
    for start in range(0, len(values), IN_LIST_CHUNK):
        chunk = list(values[start : start + IN_LIST_CHUNK])
        yield chunk, ",".join("?" * len(chunk))


class StorageError(Exception):
    """The database cannot be used (locked, full, corrupt, or from a newer claimwatch)."""


class Database:
    def __init__(self, conn: aiosqlite.Connection, path: str) -> None:
        self._conn = conn
        self.path = path
        self._write_lock = asyncio.Lock()
        self.checkpointer = Checkpointer(path) if path != ":memory:" else None

    @classmethod
    async def open(cls, path: Path | str) -> Database:
        """Open (creating if needed) and migrate; refuse a schema newer than this code."""
        path = str(path)
        try:
            if path != ":memory:":
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            conn = await aiosqlite.connect(path, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:  # OSError: a parent folder is a file
            raise StorageError(f"{path}: cannot open database: {exc}") from None
        conn.row_factory = sqlite3.Row
        db = cls(conn, path)
        try:
            await db._refuse_foreign()
            await db._configure()
            await db._migrate()
        except sqlite3.DatabaseError as exc:
            await conn.close()
            raise StorageError(f"{path}: {exc}") from None
        except BaseException:
            await conn.close()
            raise
        return db

    async def close(self) -> None:
        if self.checkpointer is not None:
            await self.checkpointer.close()
        await self._conn.close()

    async def _refuse_foreign(self) -> None:
        """Another program's database (tables, but no schema version of ours) is left as
        it is: no claimwatch tables added, no switch to WAL mode."""
        if await self.scalar("PRAGMA user_version") == 0 and await self.scalar(
            "SELECT count(*) FROM sqlite_master"
        ):
            raise StorageError(f"{self.path}: not a claimwatch database (it has other tables)")

    async def _configure(self) -> None:
        await self._conn.execute("PRAGMA busy_timeout = 5000")
        await self._conn.execute("PRAGMA journal_mode = WAL")
        # NORMAL in WAL mode is durable against application crashes (our SIGKILL case);
        # only an OS crash can lose the last transactions.
        await self._conn.execute("PRAGMA synchronous = NORMAL")
        if self.checkpointer is not None:
            await self._conn.execute("PRAGMA wal_autocheckpoint = 0")  # storage/checkpoint.py
        await self._conn.execute("PRAGMA foreign_keys = ON")

    async def _migrate(self) -> None:
        version = await self.scalar("PRAGMA user_version")
        if version > SCHEMA_VERSION:
            raise StorageError(
                f"{self.path}: schema version {version} is newer than this claimwatch "
                f"({SCHEMA_VERSION}); upgrade claimwatch"
            )
        if version == SCHEMA_VERSION:
            return
        async with self.transaction():
            for step in MIGRATIONS[version:]:
                log.info("migrating %s: %s", self.path, step.__doc__ or step.__name__)
                await step(self._conn)
            await self._conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[None]:
        """One writer at a time; `BEGIN IMMEDIATE` so a busy file fails at the start."""
        if _in_transaction.get():
            yield
            return
        async with self._write_lock:
            token = _in_transaction.set(True)
            try:
                try:
                    await self._conn.execute("BEGIN IMMEDIATE")
                    yield
                except BaseException:
                    # Also when cancelled while BEGIN waited for the lock: the database
                    # thread may still take it, and the rollback is queued after it.
                    await self._conn.rollback()
                    raise
                await self._conn.commit()
                if self.checkpointer is not None:
                    self.checkpointer.written()
            except sqlite3.OperationalError as exc:
                raise StorageError(f"{self.path}: {exc}") from exc
            finally:
                _in_transaction.reset(token)

    async def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """Run one statement; return the last inserted row id."""
        cursor = await self._conn.execute(sql, params)
        row_id = cursor.lastrowid or 0
        await cursor.close()
        return row_id

    async def execute_many(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        await self._conn.executemany(sql, rows)

    async def fetch_all(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        # one trip to the database thread, where execute, fetch and close took three
        return list(await self._conn.execute_fetchall(sql, params))

    async def iterate(
        self, sql: str, params: Sequence[Any] = (), size: int = 500
    ) -> AsyncIterator[sqlite3.Row]:
        """Rows a few hundred at a time, for a whole table read once (exports): fetch_all
        would hold every row, 1.5 KB a post, at once."""
        async with self._conn.execute(sql, params) as cursor:
            while rows := await cursor.fetchmany(size):
                for row in rows:
                    yield row

    async def fetch_one(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Row | None:
        async with self._conn.execute(sql, params) as cursor:
            return await cursor.fetchone()

    async def scalar(self, sql: str, params: Sequence[Any] = ()) -> Any:
        row = await self.fetch_one(sql, params)
        return None if row is None else row[0]
