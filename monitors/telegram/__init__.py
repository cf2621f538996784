"""The live Telegram source (Telethon): resolve, backfill, follow events, reconcile."""

from monitors.telegram.convert import album_post, to_post, to_posts
from monitors.telegram.guard import Counters, Retry, SessionExpired
from monitors.telegram.monitor import CHANNELS_PER_ACCOUNT, MonitorSettings, TelegramMonitor
from monitors.telegram.resolver import ChannelRef, ResolveError

__all__ = [
    "CHANNELS_PER_ACCOUNT",
    "ChannelRef",
    "Counters",
    "MonitorSettings",
    "ResolveError",
    "Retry",
    "SessionExpired",
    "TelegramMonitor",
    "album_post",
    "to_post",
    "to_posts",
]
