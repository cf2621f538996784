"""Forward-only schema migrations, one module per step, tracked by `PRAGMA user_version`.

`MIGRATIONS[n]` upgrades a database from version n to n + 1. A new database runs them
all in one transaction; add a step by adding a module and appending it here.
"""

from collections.abc import Awaitable, Callable

import aiosqlite

from storage.migrations import (
    v01_initial,
    v02_telegram,
    v03_alert_chat,
    v04_liveblogs,
    v05_retries,
    v06_fts_merge,
    v07_translation_retries,
)

Step = Callable[[aiosqlite.Connection], Awaitable[None]]

MIGRATIONS: tuple[Step, ...] = (
    v01_initial.upgrade,
    v02_telegram.upgrade,
    v03_alert_chat.upgrade,
    v04_liveblogs.upgrade,
    v05_retries.upgrade,
    v06_fts_merge.upgrade,
    v07_translation_retries.upgrade,
)
SCHEMA_VERSION = len(MIGRATIONS)
