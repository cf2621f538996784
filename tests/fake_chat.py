"""The analyst alert chat on the fake Telegram: a supergroup the bot posts into.

It answers the requests a bot makes there (GetChannels with the bot's zero access hash,
SendMessage, EditMessage, SetBotCallbackAnswer) with real TL objects and keeps the
messages as Telegram would, so tests read back exactly what analysts would see. Analysts
act through real updates: `command` delivers a message from a user, `press` an inline
button press.
"""

from __future__ import annotations

from telethon import errors
from telethon.tl import functions, types

from tests.fake_telegram import T0, FakeTelegramClient

ALERT_CHAT = 1700000001  # bare channel id; Bot API style: -1001700000001
ANALYST = types.User(id=501, access_hash=5, first_name="Olena", username="olena_osint")
STRANGER = types.User(id=666, access_hash=6, first_name="Mallory")
BOT = types.User(
    id=777,
    access_hash=7,
    is_self=True,
    bot=True,
    first_name="claimwatch",
    username="claimwatch_bot",
)


# Telegram's limits, in UTF-16 units of the text left once the markup is parsed (which
# Telethon does before sending): what it refuses, the fake refuses.
MESSAGE_LIMIT = 4096
CAPTION_LIMIT = 1024


def _check_length(request, limit: int, error: type[errors.RPCError]) -> None:
    if len((request.message or "").encode("utf-16-le")) // 2 > limit:
        raise error(request=request)


class FakeChat:
    def __init__(self, client: FakeTelegramClient, chat_id: int = ALERT_CHAT) -> None:
        self.client = client
        self.channel = types.Channel(
            id=chat_id,
            title="Analysts",
            photo=types.ChatPhotoEmpty(),
            date=T0,
            megagroup=True,
            access_hash=chat_id * 3 + 1,
        )
        self.messages: dict[int, types.Message] = {}  # what the chat shows, by id
        self.answers: list[str] = []  # callback answers (toasts) the bot gave
        self._pts = 1
        client.on_request(functions.users.GetUsersRequest, lambda request: [BOT])  # get_me
        client.on_request(functions.channels.GetChannelsRequest, self._get_channels)
        client.on_request(functions.messages.SendMessageRequest, self._send)
        client.on_request(functions.messages.EditMessageRequest, self._edit)
        client.on_request(functions.messages.SetBotCallbackAnswerRequest, self._answer)
        client.on_request(functions.upload.SaveFilePartRequest, lambda request: True)
        client.on_request(functions.messages.SendMediaRequest, self._send)
        self.photos: list[str] = []  # captions of the images sent

    @property
    def marked_id(self) -> int:
        return int(f"-100{self.channel.id}")

    def texts(self) -> list[str]:
        """The bot's messages as analysts read them, oldest first."""
        return [m.message for m in sorted(self.messages.values(), key=lambda m: m.id) if m.out]

    def last(self) -> types.Message:
        return self.messages[max(self.messages)]

    async def command(self, text: str, user: types.User = ANALYST) -> types.Message:
        """A message from `user` in the chat, delivered to the bot as an update."""
        message = types.Message(
            id=self._next_id(),
            peer_id=types.PeerChannel(self.channel.id),
            date=T0,
            message=text,
            from_id=types.PeerUser(user.id),
        )
        self.messages[message.id] = message
        self._pts += 1
        await self.client.feed(
            types.UpdateNewChannelMessage(message, self._pts, 1),
            chats=[self.channel],
            users=[user],
        )
        return message

    async def press(self, message_id: int, data: bytes, user: types.User = ANALYST) -> None:
        """`user` presses the inline button carrying `data` under message `message_id`."""
        await self.client.feed(
            types.UpdateBotCallbackQuery(
                query_id=len(self.answers) + 1000,
                user_id=user.id,
                peer=types.PeerChannel(self.channel.id),
                msg_id=message_id,
                chat_instance=1,
                data=data,
            ),
            chats=[self.channel],
            users=[user],
        )

    def _next_id(self) -> int:
        return max(self.messages, default=0) + 1

    def _check_peer(self, peer: types.TypeInputPeer) -> None:
        if not isinstance(peer, types.InputPeerChannel) or peer.channel_id != self.channel.id:
            raise errors.PeerIdInvalidError(request=None)

    def _get_channels(self, request) -> types.messages.Chats:
        [wanted] = request.id
        if wanted.channel_id != self.channel.id:
            raise errors.ChannelInvalidError(request=request)
        return types.messages.Chats([self.channel])

    def _send(self, request) -> types.UpdateShortSentMessage:
        """SendMessage, or SendMedia (whose text is the caption)."""
        self._check_peer(request.peer)
        if isinstance(request, functions.messages.SendMediaRequest):
            _check_length(request, CAPTION_LIMIT, errors.MediaCaptionTooLongError)
            self.photos.append(request.message)
        else:
            _check_length(request, MESSAGE_LIMIT, errors.MessageTooLongError)
        message = types.Message(
            id=self._next_id(),
            peer_id=types.PeerChannel(self.channel.id),
            date=T0,
            message=request.message,
            out=True,
            entities=request.entities,
            reply_markup=request.reply_markup,
        )
        self.messages[message.id] = message
        return types.UpdateShortSentMessage(
            out=True, id=message.id, pts=1, pts_count=1, date=T0, entities=request.entities
        )

    def _edit(self, request) -> types.Updates:
        self._check_peer(request.peer)
        old = self.messages.get(request.id)
        if old is None:
            raise errors.MessageIdInvalidError(request=request)
        if old.message == request.message and old.entities == request.entities:
            raise errors.MessageNotModifiedError(request=request)
        _check_length(request, MESSAGE_LIMIT, errors.MessageTooLongError)
        message = types.Message(
            id=old.id,
            peer_id=old.peer_id,
            date=old.date,
            message=request.message,
            out=True,
            entities=request.entities,
            reply_markup=request.reply_markup,
            edit_date=T0,
        )
        self.messages[message.id] = message
        self._pts += 1
        return types.Updates(
            updates=[types.UpdateEditChannelMessage(message, self._pts, 1)],
            users=[],
            chats=[self.channel],
            date=T0,
            seq=0,
        )

    def _answer(self, request) -> bool:
        self.answers.append(request.message or "")
        return True
