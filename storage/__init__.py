"""SQLite storage: the schema, its migrations and every query claimwatch runs.

`Store` is the one object the rest of the program holds; nothing outside this package
builds SQL or imports aiosqlite.
"""

from __future__ import annotations

from pathlib import Path

from storage.alerts import Alert, Alerts
from storage.channels import ChannelRow, Channels
from storage.claims import Claims
from storage.clusters import Clusters
from storage.db import Database, StorageError
from storage.digests import DigestRow, Digests
from storage.health import Health
from storage.liveblogs import LiveBlogs
from storage.mutes import Mutes
from storage.posts import NewPost, Posts, StoredPost
from storage.retries import RetryQueue
from storage.translation_retries import TranslationRetries
from storage.translations import Translations

__all__ = ["Alert", "ChannelRow", "DigestRow", "NewPost", "StorageError", "Store", "StoredPost"]


class Store:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.channels = Channels(db)
        self.posts = Posts(db)
        self.clusters = Clusters(db)
        self.translations = Translations(db)
        self.translation_retries = TranslationRetries(db)
        self.claims = Claims(db)
        self.alerts = Alerts(db)
        self.health = Health(db)
        self.mutes = Mutes(db)
        self.digests = Digests(db)
        self.liveblogs = LiveBlogs(db)
        self.retries = RetryQueue(db)
        self.transaction = db.transaction

    @classmethod
    async def open(cls, path: Path | str) -> Store:
        return cls(await Database.open(path))

    async def close(self) -> None:
        await self.db.close()
