"""The live events whose processing failed, kept across restarts."""

import aiosqlite

from storage.migrations.sql import statements

SCHEMA = """
-- Messages whose live event (an edit, a deletion, an album) failed to process: re-read
-- by id on the next reconcile pass, so a crash before that pass loses none of them.
CREATE TABLE retry_messages (
    channel_id  INTEGER NOT NULL,
    message_id  INTEGER NOT NULL,
    passes      INTEGER NOT NULL,   -- reconcile passes failed so far
    position    INTEGER NOT NULL,   -- queue order: the oldest failure is given up first
    PRIMARY KEY (channel_id, message_id)
) WITHOUT ROWID;
"""


async def upgrade(conn: aiosqlite.Connection) -> None:
    """v5: the retry queue of failed live events"""
    for statement in statements(SCHEMA):
        await conn.execute(statement)
