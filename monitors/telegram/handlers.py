"""Live events for followed channels: new posts, edits, deletions and albums.

Handlers are installed without Telethon's `chats=` filter (it is fixed at install time)
and check the followed set themselves, so a config reload takes effect at once. Each
public `on_*` guards its private `_on_*`: a bad update is logged and counted, never
allowed to kill the service, and its message ids go to `on_failed` to be tried again
(monitors/telegram/retries.py).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence

from telethon import TelegramClient, events, utils
from telethon.tl import types

from monitors.models import Post
from monitors.telegram.convert import album_post, to_post
from monitors.telegram.guard import Counters
from monitors.telegram.history import Process
from monitors.telegram.resolver import ChannelRef
from storage import Store
from storage.dates import now_db

log = logging.getLogger(__name__)

ALBUM_MAX = 10  # Telegram's limit on messages in one album

OnFailed = Callable[[int, Sequence[int]], Awaitable[None]]  # channel id, message ids


class LiveHandlers:
    def __init__(
        self,
        store: Store,
        process: Process,
        counters: Counters,
        followed: Mapping[int, ChannelRef],
        on_failed: OnFailed,
    ) -> None:
        self._store = store
        self._process = process
        self._counters = counters
        self._followed = followed  # the monitor's live view: id -> channel
        self._on_failed = on_failed

    def install(self, client: TelegramClient) -> None:
        client.add_event_handler(self.on_new, events.NewMessage())
        client.add_event_handler(self.on_edit, events.MessageEdited())
        client.add_event_handler(self.on_delete, events.MessageDeleted())
        client.add_event_handler(self.on_album, events.Album())

    def uninstall(self, client: TelegramClient) -> None:
        for handler in (self.on_new, self.on_edit, self.on_delete, self.on_album):
            client.remove_event_handler(handler)

    async def on_new(self, event: events.NewMessage.Event) -> None:
        if event.message.grouped_id is None:  # album parts arrive as one Album event
            await self._guard("new", event, self._on_message, [event.message.id])

    async def on_edit(self, event: events.MessageEdited.Event) -> None:
        await self._guard("edit", event, self._on_edit, [event.message.id])

    async def on_delete(self, event: events.MessageDeleted.Event) -> None:
        await self._guard("delete", event, self._on_delete, event.deleted_ids)

    async def on_album(self, event: events.Album.Event) -> None:
        await self._guard("album", event, self._on_album, [m.id for m in event.messages])

    async def _guard(
        self,
        kind: str,
        event,
        handle: Callable[[ChannelRef, object], Awaitable[None]],
        message_ids: Sequence[int],
    ) -> None:
        channel_id = _channel_id(event.chat_id)
        ref = self._followed.get(channel_id) if channel_id is not None else None
        if ref is None:
            self._counters.count("ignored_update")
            return
        try:
            await handle(ref, event)
        except Exception as exc:
            self._counters.count("handler_error", ref.id, f"{kind}: {exc!r}")
            log.exception("%s update from %s failed; retried on the next pass", kind, ref)
            await self._on_failed(ref.id, message_ids)
        else:
            self._counters.count(f"update_{kind}", ref.id)

    async def _on_message(self, ref: ChannelRef, event) -> None:
        if isinstance(event.message, types.Message):
            await self._process([to_post(event.message, ref.username, ref.title)])

    async def _on_edit(self, ref: ChannelRef, event) -> None:
        message = event.message
        if message.grouped_id is None:
            await self._on_message(ref, event)
            return
        await self._process([await read_album(event.client, ref, message)])

    async def _on_album(self, ref: ChannelRef, event) -> None:
        await self._process([album_post(event.messages, ref.username, ref.title)])

    async def _on_delete(self, ref: ChannelRef, event) -> None:
        await mark_deleted(self._store, ref, event.deleted_ids)


async def read_album(client: TelegramClient, ref: ChannelRef, part: types.Message) -> Post:
    """The whole album one changed part belongs to, as one post (keyed by its first
    message): read back so its caption and media list stay whole."""
    nearby = client.iter_messages(ref.peer, min_id=part.id - ALBUM_MAX, max_id=part.id + ALBUM_MAX)
    parts = [m async for m in nearby if m.grouped_id == part.grouped_id]
    return album_post(parts or [part], ref.username, ref.title)


async def mark_deleted(store: Store, ref: ChannelRef, message_ids: Sequence[int]) -> None:
    """Mark stored posts deleted (the text is kept) and re-render their alerts."""
    now = now_db()
    async with store.transaction():
        marked = await store.posts.mark_deleted(ref.id, message_ids, now)
        await store.alerts.touch_posts(ref.id, message_ids, now)  # "deleted"
    log.info("%s deleted %d stored post(s) of %s", ref, marked, list(message_ids))


def _channel_id(chat_id: int | None) -> int | None:
    """A channel's bare id from Telethon's marked chat id; None for users and groups."""
    if chat_id is None:
        return None
    bare, kind = utils.resolve_id(chat_id)
    return bare if kind is types.PeerChannel else None
