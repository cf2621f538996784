"""Configured channels to input peers: each username is resolved once, ever.

`ResolveUsername` floods after a few dozen calls, so a channel's id and access hash are
stored the first time and rebuilt from storage afterwards; network resolutions are
spaced out and obey flood waits (through `Retry`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Protocol

from telethon import TelegramClient, errors
from telethon.tl import functions, types

from monitors.telegram.guard import Retry
from storage import Store

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ChannelRef:
    """A followed channel as the monitor knows it: enough to ask Telegram about it."""

    id: int
    access_hash: int
    username: str | None = None
    title: str | None = None

    @property
    def peer(self) -> types.InputPeerChannel:
        return types.InputPeerChannel(self.id, self.access_hash)

    def __str__(self) -> str:
        return f"@{self.username}" if self.username else f"channel {self.id}"


class ChannelSpec(Protocol):
    """What the monitor needs of a configured channel (bot.config.ChannelConfig fits)."""

    @property
    def username(self) -> str | None: ...
    @property
    def numeric_id(self) -> int | None: ...
    @property
    def join(self) -> bool: ...


class ResolveError(Exception):
    """A configured channel that cannot be followed (no such channel, private, ...)."""


class Resolver:
    def __init__(
        self,
        client: TelegramClient,
        store: Store,
        retry: Retry,
        *,
        spacing_s: float = 3.0,
    ) -> None:
        self._client = client
        self._store = store
        self._retry = retry
        self._spacing = spacing_s
        self.network_calls = 0

    async def stored(self, channel: ChannelSpec) -> ChannelRef | None:
        """The channel from storage, if it was resolved before (no network)."""
        if channel.username:
            row = await self._store.channels.get_by_username(channel.username)
        else:
            row = await self._store.channels.get(channel.numeric_id)  # type: ignore[arg-type]
        if row is None or row.access_hash is None:
            return None
        return ChannelRef(row.id, row.access_hash, row.username, row.title)

    async def resolve(self, channel: ChannelSpec) -> ChannelRef:
        """Resolve over the network (spaced out), store the result, join if configured."""
        if self.network_calls:
            await self._retry.sleep(self._spacing)
        self.network_calls += 1
        if channel.username:
            entity = await self._by_username(channel.username)
        else:
            entity = await self._by_id(channel.numeric_id)  # type: ignore[arg-type]
        ref = ChannelRef(entity.id, entity.access_hash, entity.username, entity.title)
        async with self._store.transaction():
            await self._store.channels.set_resolved(
                ref.id, ref.username, ref.title, ref.access_hash
            )
        if channel.join and entity.left:
            await self._retry(
                f"join {ref}", lambda: self._client(functions.channels.JoinChannelRequest(ref.peer))
            )
            log.info("joined %s", ref)
        return ref

    async def _by_username(self, username: str) -> types.Channel:
        try:
            found = await self._retry(
                f"resolve @{username}",
                lambda: self._client(functions.contacts.ResolveUsernameRequest(username)),
            )
        except (errors.UsernameInvalidError, errors.UsernameNotOccupiedError):
            raise ResolveError(f"@{username}: no such username") from None
        peer = found.peer
        for chat in found.chats:
            if isinstance(peer, types.PeerChannel) and chat.id == peer.channel_id:
                if isinstance(chat, types.Channel):
                    return chat
                raise ResolveError(f"@{username}: channel is not accessible (banned or private)")
        raise ResolveError(f"@{username}: not a channel")

    async def _by_id(self, channel_id: int) -> types.Channel:
        """A numeric id can only be followed when this account already knows its hash
        (Telethon's session cache, or a joined channel)."""
        try:
            entity = await self._retry(
                f"get channel {channel_id}",
                lambda: self._client.get_entity(types.PeerChannel(channel_id)),
            )
        except (ValueError, errors.ChannelInvalidError, errors.ChannelPrivateError):
            entity = None
        if not isinstance(entity, types.Channel) or entity.access_hash is None:
            raise ResolveError(
                f"channel {channel_id}: unknown to this account; list it by @username once "
                "or join it from the account"
            )
        return entity
