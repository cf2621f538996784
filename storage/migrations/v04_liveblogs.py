"""Live blogs as a claim source: poll state per blog, the updates already read, and where
each claim was first seen in the archive."""

import aiosqlite

from storage.migrations.sql import statements

SCHEMA = """
-- Conditional-request validators and backoff of each polled live blog, so a restart
-- neither refetches every page in full nor hammers a blog that was failing.
CREATE TABLE liveblogs (
    url             TEXT PRIMARY KEY,
    etag            TEXT,
    last_modified   TEXT,
    failures        INTEGER NOT NULL DEFAULT 0,   -- consecutive failed polls
    last_polled_at  TEXT,
    next_poll_at    TEXT,
    last_error      TEXT
) WITHOUT ROWID;

-- Updates whose claims were extracted; text_hash tells an edited update from a known one.
CREATE TABLE liveblog_updates (
    url        TEXT NOT NULL,
    update_id  TEXT NOT NULL,
    text_hash  TEXT NOT NULL,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (url, update_id)
) WITHOUT ROWID;

-- The earliest archived post that carries a claim: with claims.published it gives the
-- lead time of the channels over the live blog.
ALTER TABLE claims ADD COLUMN first_seen_post_id INTEGER REFERENCES posts (id);
ALTER TABLE claims ADD COLUMN first_seen_at TEXT;
"""


async def upgrade(conn: aiosqlite.Connection) -> None:
    """v4: live-blog poll state, read updates, claims' earliest source"""
    for statement in statements(SCHEMA):
        await conn.execute(statement)
