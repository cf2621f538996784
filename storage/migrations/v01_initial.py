"""Initial schema: channels, posts and their versions, clusters, translations, claims,
matches, alerts with their per-destination deliveries, digests, full-text search."""

import aiosqlite

from storage.migrations.sql import statements

SCHEMA = """
CREATE TABLE channels (
    id            INTEGER PRIMARY KEY,      -- Telegram's bare channel id
    username      TEXT,
    title         TEXT,
    category      TEXT NOT NULL DEFAULT 'uncategorised',
    access_hash   INTEGER,
    cursor        INTEGER NOT NULL DEFAULT 0, -- highest message id stored
    last_post_at  TEXT,
    resolved_at   TEXT
);
CREATE UNIQUE INDEX channels_username ON channels (lower(username)) WHERE username IS NOT NULL;

CREATE TABLE posts (
    id                 INTEGER PRIMARY KEY,
    channel_id         INTEGER NOT NULL,
    message_id         INTEGER NOT NULL,
    date               TEXT NOT NULL,
    text               TEXT NOT NULL,
    text_hash          TEXT NOT NULL,
    lang               TEXT NOT NULL DEFAULT 'und',
    translation        TEXT,
    translation_state  TEXT NOT NULL DEFAULT 'none', -- none | done | pending | skipped
    cluster_id         TEXT,
    version            INTEGER NOT NULL DEFAULT 1,
    edit_date          TEXT,
    deleted_at         TEXT,
    forward_channel_id INTEGER,
    forward_message_id INTEGER,
    forward_name       TEXT,
    grouped_id         INTEGER,
    reply_to           INTEGER,
    media              TEXT NOT NULL DEFAULT '[]',
    stored_at          TEXT NOT NULL,
    UNIQUE (channel_id, message_id)
);
CREATE INDEX posts_date ON posts (date);
CREATE INDEX posts_cluster ON posts (cluster_id);
CREATE INDEX posts_pending_translation ON posts (translation_state)
    WHERE translation_state = 'pending';

-- Every text a post has had, the first included: edits are evidence.
CREATE TABLE post_versions (
    post_id    INTEGER NOT NULL REFERENCES posts (id),
    version    INTEGER NOT NULL,
    text       TEXT NOT NULL,
    edit_date  TEXT,
    seen_at    TEXT NOT NULL,
    PRIMARY KEY (post_id, version)
) WITHOUT ROWID;

CREATE TABLE clusters (
    id                TEXT PRIMARY KEY,      -- "channel_id/message_id" of the first post
    first_channel_id  INTEGER NOT NULL,
    first_message_id  INTEGER NOT NULL,
    first_date        TEXT NOT NULL,
    last_date         TEXT NOT NULL,
    size              INTEGER NOT NULL DEFAULT 1,
    channels          INTEGER NOT NULL DEFAULT 1
) WITHOUT ROWID;

CREATE TABLE translations (
    text_hash   TEXT PRIMARY KEY,
    source_lang TEXT NOT NULL,
    target_lang TEXT NOT NULL,
    backend     TEXT NOT NULL,
    text        TEXT NOT NULL,
    created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE claims (
    id          TEXT PRIMARY KEY,
    text        TEXT NOT NULL,
    title       TEXT,
    source      TEXT,
    source_url  TEXT,
    published   TEXT,
    lang        TEXT NOT NULL DEFAULT 'en',
    status      TEXT NOT NULL DEFAULT 'open',  -- open | closed
    created_at  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE claim_history (
    id        INTEGER PRIMARY KEY,
    claim_id  TEXT NOT NULL REFERENCES claims (id),
    at        TEXT NOT NULL,
    action    TEXT NOT NULL,                   -- added | updated | closed | reopened
    detail    TEXT
);

CREATE TABLE matches (
    id          INTEGER PRIMARY KEY,
    post_id     INTEGER NOT NULL REFERENCES posts (id),
    claim_id    TEXT NOT NULL REFERENCES claims (id),
    score       REAL NOT NULL,
    stance      TEXT NOT NULL,
    reasons     TEXT NOT NULL DEFAULT '[]',
    alert       INTEGER NOT NULL,
    feedback    TEXT,
    created_at  TEXT NOT NULL,
    UNIQUE (post_id, claim_id)
);
CREATE INDEX matches_claim ON matches (claim_id);

-- One alert per story and claim; the outbox rows are its deliveries.
CREATE TABLE alerts (
    id          INTEGER PRIMARY KEY,
    match_id    INTEGER NOT NULL REFERENCES matches (id),
    claim_id    TEXT NOT NULL REFERENCES claims (id),
    cluster_id  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    UNIQUE (claim_id, cluster_id)
);

CREATE TABLE deliveries (
    alert_id         INTEGER NOT NULL REFERENCES alerts (id),
    destination      TEXT NOT NULL,
    status           TEXT NOT NULL DEFAULT 'pending',  -- pending | sent | failed
    attempts         INTEGER NOT NULL DEFAULT 0,
    next_attempt_at  TEXT NOT NULL,
    message_ref      TEXT,
    last_error       TEXT,
    sent_at          TEXT,
    PRIMARY KEY (alert_id, destination)
) WITHOUT ROWID;
CREATE INDEX deliveries_pending ON deliveries (destination, next_attempt_at)
    WHERE status = 'pending';

CREATE TABLE digests (
    day      TEXT PRIMARY KEY,
    sent_at  TEXT,
    body     TEXT NOT NULL
) WITHOUT ROWID;

CREATE VIRTUAL TABLE posts_fts USING fts5(
    text, translation, content='posts', content_rowid='id',
    tokenize='unicode61 remove_diacritics 2'
);
CREATE TRIGGER posts_fts_insert AFTER INSERT ON posts BEGIN
    INSERT INTO posts_fts (rowid, text, translation)
    VALUES (new.id, new.text, coalesce(new.translation, ''));
END;
CREATE TRIGGER posts_fts_update AFTER UPDATE OF text, translation ON posts BEGIN
    INSERT INTO posts_fts (posts_fts, rowid, text, translation)
    VALUES ('delete', old.id, old.text, coalesce(old.translation, ''));
    INSERT INTO posts_fts (rowid, text, translation)
    VALUES (new.id, new.text, coalesce(new.translation, ''));
END;
"""


async def upgrade(conn: aiosqlite.Connection) -> None:
    """v1: initial schema"""
    for statement in statements(SCHEMA):
        await conn.execute(statement)
