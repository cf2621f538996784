"""An offline Telegram for tests: a real `TelegramClient` whose RPC calls are answered
in-process with real TL objects, and real updates fed through Telethon's dispatcher.

Telethon's own code runs unchanged above the transport: `_call` (flood-wait bookkeeping,
entity caching), `iter_messages` paging, `get_entity`, the event builders (NewMessage,
MessageEdited, MessageDeleted, the Album hack). Only the network is replaced.

Private Telethon seams used (pinned by pyproject's telethon range; checked on 1.45):
- `client._sender`: replaced by `FakeSender`, which answers `send(request)` with a future
  (MTProtoSender's contract) and holds the auth key; `connect()` is overridden so no
  socket and no update loop are started (it saves the key to the session, as Telethon's).
- `client._preprocess_updates(updates, users, chats)` and `client._dispatch_update(update)`:
  what Telethon's update loop calls for each update; `feed()` calls the same two.
- `telethon.events.album._HACK_DELAY`: the Album event arrives this long after its last
  part; tests shorten it with monkeypatch and wait with `settle()`.

Usage:
    client = FakeTelegramClient()
    client.on_request(functions.messages.SendMessageRequest, lambda req: ...)
    client.fail_next(functions.messages.GetHistoryRequest, flood_wait(3))
    world = FakeChannels(client)  # resolve/history/join/get-channels over a tiny world
"""

from __future__ import annotations

import asyncio
import inspect
import os
from collections import defaultdict, deque
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from telethon import TelegramClient, errors
from telethon.client import telegrambaseclient as base
from telethon.crypto import AuthKey
from telethon.events import album
from telethon.sessions import MemorySession
from telethon.tl import TLRequest, functions, types

Handler = Callable[[Any], Any]  # request -> TL result (or awaitable); may raise RPCError
ErrorFactory = Callable[[Any], Exception]

SELF = types.User(id=4242, is_self=True, access_hash=1, first_name="Analyst")
T0 = datetime(2023, 3, 2, 8, 0, tzinfo=UTC)
_WRAPPERS = (
    functions.InvokeWithLayerRequest,
    functions.InitConnectionRequest,
    functions.InvokeWithoutUpdatesRequest,
)


def document_media(*attributes, mime_type: str = "application/x") -> types.MessageMediaDocument:
    """A document attachment (video, voice, file...) as Telegram sends it."""
    return types.MessageMediaDocument(
        document=types.Document(
            id=1,
            access_hash=1,
            file_reference=b"",
            date=T0,
            mime_type=mime_type,
            size=1,
            dc_id=2,
            attributes=list(attributes),
        )
    )


def flood_wait(seconds: int) -> ErrorFactory:
    return lambda request: errors.FloodWaitError(request=request, capture=seconds)


def rpc_error(cls: type[errors.RPCError]) -> ErrorFactory:
    """A canned RPC error of a class with the (request) constructor, e.g. ServerError
    subclasses from telethon.errors.rpcerrorlist."""
    return lambda request: cls(request=request)


class FakeSender:
    """Stands in for MTProtoSender: `send` returns a future answered by the client."""

    def __init__(self, serve: Callable[[Any], Any], auth_key: AuthKey | None) -> None:
        self._serve = serve
        self._connected = False
        self._disconnected: asyncio.Future | None = None
        # A session's own key, or a new one as if the key exchange had just run.
        self.auth_key = auth_key or AuthKey(os.urandom(256))

    async def connect(self, connection: Any = None) -> bool:
        self._connected = True
        self._disconnected = asyncio.get_running_loop().create_future()
        return True

    def is_connected(self) -> bool:
        return self._connected

    def _transport_connected(self) -> bool:
        return self._connected

    async def disconnect(self) -> None:
        self._connected = False
        if self._disconnected and not self._disconnected.done():
            self._disconnected.set_result(None)

    @property
    def disconnected(self) -> asyncio.Future:
        if self._disconnected is None:
            self._disconnected = asyncio.get_running_loop().create_future()
        return asyncio.shield(self._disconnected)

    def send(self, request: Any, ordered: bool = False) -> asyncio.Future:
        if not self._connected:
            raise ConnectionError("FakeSender: not connected")
        future = asyncio.get_running_loop().create_future()
        try:
            result = self._serve(request)
        except Exception as exc:
            future.set_exception(exc)
            return future
        if inspect.isawaitable(result):
            return asyncio.ensure_future(result)
        future.set_result(result)
        return future


class FakeTelegramClient(TelegramClient):
    """A TelegramClient that never touches the network: requests go to handlers
    registered by request type; unregistered requests fail the test loudly."""

    def __init__(
        self, session: Any = None, api_id: int = 1, api_hash: str = "0" * 32, **kwargs: Any
    ) -> None:
        kwargs.setdefault("flood_sleep_threshold", 0)
        super().__init__(session or MemorySession(), api_id, api_hash, **kwargs)
        self._sender = FakeSender(self._serve, self.session.auth_key)
        self.handlers: dict[type, Handler] = {}
        self.requests: list[TLRequest] = []
        self._failures: dict[type, deque[ErrorFactory]] = defaultdict(deque)
        self.on_request(functions.users.GetUsersRequest, lambda request: [SELF])
        self.on_request(
            functions.updates.GetStateRequest,
            lambda request: types.updates.State(pts=1, qts=0, date=T0, seq=1, unread_count=0),
        )

    async def connect(self) -> None:
        """No socket: what TelegramClient.connect leaves in the session (a data centre,
        the auth key) and the sender's connected state."""
        if not self.session.server_address:
            self.session.set_dc(base.DEFAULT_DC_ID, base.DEFAULT_IPV4_IP, base.DEFAULT_PORT)
        await self._sender.connect()
        self.session.auth_key = self._sender.auth_key

    def on_request(self, request_type: type, handler: Handler) -> None:
        self.handlers[request_type] = handler

    def fail_next(self, request_type: type, error: ErrorFactory, times: int = 1) -> None:
        """The next `times` requests of this type raise `error(request)` instead."""
        self._failures[request_type].extend([error] * times)

    def sent(self, request_type: type) -> list[Any]:
        return [r for r in self.requests if isinstance(r, request_type)]

    def _serve(self, request: Any) -> Any:
        while isinstance(request, _WRAPPERS):
            request = request.query
        self.requests.append(request)
        failures = self._failures.get(type(request))
        if failures:
            raise failures.popleft()(request)
        handler = self.handlers.get(type(request))
        if handler is None:
            raise AssertionError(f"FakeTelegramClient: no handler for {type(request).__name__}")
        return handler(request)

    async def feed(
        self, update: types.TypeUpdate, *, chats: Sequence[Any] = (), users: Sequence[Any] = ()
    ) -> None:
        """Deliver one update the way Telethon's update loop does, handlers included."""
        await self._preprocess_updates([update], list(users), list(chats))
        await self._dispatch_update(update)

    async def settle(self) -> None:
        """Wait until delayed Album events have been delivered."""
        await asyncio.sleep(album._HACK_DELAY * 3)


class FakeChannels:
    """A tiny Telegram world of channels and their messages, served to a fake client:
    ResolveUsername, GetHistory (with Telegram's offset/limit semantics), GetMessages (by
    id), GetChannels, JoinChannel. Messages posted with `post` exist on the "server" only; `publish`
    also delivers the update to the client, as when it is online."""

    def __init__(self, client: FakeTelegramClient) -> None:
        self.client = client
        self.channels: dict[int, types.Channel] = {}
        self.messages: dict[int, dict[int, types.Message]] = defaultdict(dict)
        self._pts = 1
        client.on_request(functions.contacts.ResolveUsernameRequest, self._resolve)
        client.on_request(functions.messages.GetHistoryRequest, self._history)
        client.on_request(functions.channels.GetChannelsRequest, self._get_channels)
        client.on_request(functions.channels.JoinChannelRequest, self._join)
        client.on_request(functions.channels.GetMessagesRequest, self._get_messages)

    def add_channel(
        self, channel_id: int, username: str | None, title: str, *, left: bool = False
    ) -> types.Channel:
        channel = types.Channel(
            id=channel_id,
            title=title,
            photo=types.ChatPhotoEmpty(),
            date=T0,
            broadcast=True,
            left=left,
            access_hash=channel_id * 7 + 1,
            username=username,
        )
        self.channels[channel_id] = channel
        return channel

    def post(self, channel_id: int, text: str = "", **fields: Any) -> types.Message:
        """A new message on the server (the client hears nothing)."""
        existing = self.messages[channel_id]
        message_id = max(existing, default=0) + 1
        fields.setdefault("date", T0 + timedelta(minutes=message_id))
        message = types.Message(
            id=message_id,
            peer_id=types.PeerChannel(channel_id),
            message=text,
            post=True,
            **fields,
        )
        existing[message_id] = message
        return message

    async def publish(self, channel_id: int, text: str = "", **fields: Any) -> types.Message:
        message = self.post(channel_id, text, **fields)
        await self.client.feed(
            types.UpdateNewChannelMessage(message, self._next_pts(), 1),
            chats=[self.channels[channel_id]],
        )
        return message

    async def edit(self, channel_id: int, message_id: int, text: str) -> types.Message:
        old = self.messages[channel_id][message_id]
        message = types.Message(
            id=message_id,
            peer_id=old.peer_id,
            date=old.date,
            message=text,
            post=True,
            media=old.media,
            grouped_id=old.grouped_id,
            edit_date=old.date + timedelta(minutes=30),
        )
        self.messages[channel_id][message_id] = message
        await self.client.feed(
            types.UpdateEditChannelMessage(message, self._next_pts(), 1),
            chats=[self.channels[channel_id]],
        )
        return message

    async def delete(self, channel_id: int, message_ids: Sequence[int]) -> None:
        for message_id in message_ids:
            self.messages[channel_id].pop(message_id, None)
        await self.client.feed(
            types.UpdateDeleteChannelMessages(channel_id, list(message_ids), self._next_pts(), 1)
        )

    def _next_pts(self) -> int:
        self._pts += 1
        return self._pts

    def _channel(self, peer: Any) -> types.Channel:
        channel = self.channels.get(peer.channel_id)
        if channel is None or peer.access_hash != channel.access_hash:
            raise errors.ChannelInvalidError(request=None)
        return channel

    def _resolve(self, request: Any) -> types.contacts.ResolvedPeer:
        for channel in self.channels.values():
            if channel.username and channel.username.lower() == request.username.lower():
                return types.contacts.ResolvedPeer(types.PeerChannel(channel.id), [channel], [])
        raise errors.UsernameNotOccupiedError(request=request)

    def _history(self, request: Any) -> types.messages.ChannelMessages:
        channel = self._channel(request.peer)
        newest_first = sorted(self.messages[channel.id].values(), key=lambda m: -m.id)
        if request.offset_id:
            start = sum(1 for m in newest_first if m.id >= request.offset_id)
        elif request.offset_date:
            start = sum(1 for m in newest_first if m.date >= request.offset_date)
        else:
            start = 0
        # The window is [offset + add_offset, + limit), cut to what exists (never shifted).
        low = start + request.add_offset
        page = [
            m
            for m in newest_first[max(low, 0) : max(low + request.limit, 0)]
            if (not request.min_id or m.id > request.min_id)
            and (not request.max_id or m.id < request.max_id)
        ]
        return types.messages.ChannelMessages(
            pts=self._pts,
            count=len(newest_first),
            messages=page,
            topics=[],
            chats=[channel],
            users=[],
        )

    def _get_messages(self, request: Any) -> types.messages.ChannelMessages:
        """By id, in the order asked; a message that does not exist is MessageEmpty."""
        channel = self._channel(request.channel)
        stored, peer = self.messages[channel.id], types.PeerChannel(channel.id)
        return types.messages.ChannelMessages(
            pts=self._pts,
            count=len(request.id),
            messages=[stored.get(i.id) or types.MessageEmpty(i.id, peer) for i in request.id],
            topics=[],
            chats=[channel],
            users=[],
        )

    def _get_channels(self, request: Any) -> types.messages.Chats:
        return types.messages.Chats([self._channel(peer) for peer in request.id])

    def _join(self, request: Any) -> types.Updates:
        channel = self._channel(request.channel)
        channel.left = False
        return types.Updates(updates=[], users=[], chats=[channel], date=T0, seq=0)
