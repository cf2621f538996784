"""Live Telegram monitoring: a history cursor per channel and service health counters."""

import aiosqlite

from storage.migrations.sql import statements

SCHEMA = """
-- Highest message id up to which history was read without a gap. `cursor` also moves on
-- live events, which can skip messages that update catch-up dropped; reconciliation
-- reads from here instead. NULL: history never read.
ALTER TABLE channels ADD COLUMN synced_id INTEGER;

CREATE TABLE health (
    channel_id  INTEGER NOT NULL DEFAULT 0,   -- 0: the service as a whole
    name        TEXT NOT NULL,                -- e.g. flood_wait, handler_error, updates
    count       INTEGER NOT NULL DEFAULT 0,
    last_at     TEXT,
    detail      TEXT,                         -- the latest error message, if any
    PRIMARY KEY (channel_id, name)
) WITHOUT ROWID;
"""


async def upgrade(conn: aiosqlite.Connection) -> None:
    """v2: channel history cursor and health counters"""
    for statement in statements(SCHEMA):
        await conn.execute(statement)
