"""The analyst alert chat: sent alerts kept up to date, alerts held back, muted channels,
and the analyst's verdict on a match dated and signed."""

import aiosqlite

from storage.migrations.sql import statements

SCHEMA = """
-- A sent message to re-render (its story grew, the post was edited or deleted, a late
-- translation or a verdict arrived); NULL when it shows the current state. Each change
-- bumps edit_version, so a change that lands while an edit is in flight is not lost.
ALTER TABLE deliveries ADD COLUMN edit_due_at TEXT;
ALTER TABLE deliveries ADD COLUMN edit_version INTEGER NOT NULL DEFAULT 0;
ALTER TABLE deliveries ADD COLUMN edited_at TEXT;
-- Why a delivery was not sent (status 'held'): quiet_hours | cooldown | muted.
ALTER TABLE deliveries ADD COLUMN held TEXT;
CREATE INDEX deliveries_edit_due ON deliveries (destination, edit_due_at)
    WHERE edit_due_at IS NOT NULL;
CREATE INDEX alerts_cluster ON alerts (cluster_id);

ALTER TABLE matches ADD COLUMN feedback_at TEXT;
ALTER TABLE matches ADD COLUMN feedback_by TEXT;

CREATE TABLE mutes (
    channel_id  INTEGER PRIMARY KEY,
    until       TEXT NOT NULL,
    muted_by    TEXT,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;
"""


async def upgrade(conn: aiosqlite.Connection) -> None:
    """v3: alert edits, held alerts, mutes, dated feedback"""
    for statement in statements(SCHEMA):
        await conn.execute(statement)
