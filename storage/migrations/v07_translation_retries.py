"""Failed translations retried with a growing wait, and given up after a number of tries."""

import aiosqlite

from storage.migrations.sql import statements

SCHEMA = """
-- translation_state gains 'failed': given up (monitors/pipeline.py says when). Attempts
-- count the translator's tries on the current text; an edit starts the count again.
-- translation_due_at is when the retry job may try again, NULL meaning its next run.
ALTER TABLE posts ADD COLUMN translation_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posts ADD COLUMN translation_due_at TEXT;
-- A post already pending was tried at least once, when it was stored.
UPDATE posts SET translation_attempts = 1 WHERE translation_state = 'pending';
"""


async def upgrade(conn: aiosqlite.Connection) -> None:
    """v7: attempts and backoff of failed translations"""
    for statement in statements(SCHEMA):
        await conn.execute(statement)
