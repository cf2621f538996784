"""Full-text index merges in small steps instead of inside one unlucky insert."""

import aiosqlite

from storage.migrations.sql import statements

SCHEMA = """
-- FTS5 merges its index segments from inside the insert that completes a level: on a
-- replay of ru-news a few batches paid 20 to 30 ms for it. Automatic merges are off, and
-- each insert does a bounded step of merging instead (storage/posts.py).
INSERT INTO posts_fts (posts_fts, rank) VALUES ('automerge', 0);
"""


async def upgrade(conn: aiosqlite.Connection) -> None:
    """v6: full-text index merged in bounded steps"""
    for statement in statements(SCHEMA):
        await conn.execute(statement)
