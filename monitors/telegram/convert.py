"""Telethon messages to plain `Post` records, at the edge (nothing past here sees Telethon).

Media kinds use the names of Telegram Desktop exports (`photo`, `video_file`, ...), so a
post looks the same whether it came live or from a replayed export.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from telethon.tl import types

from monitors.models import ForwardOrigin, Post

_SIMPLE_MEDIA: tuple[tuple[type, str], ...] = (
    (types.MessageMediaPhoto, "photo"),
    (types.MessageMediaPoll, "poll"),
    (types.MessageMediaGeo, "location"),
    (types.MessageMediaGeoLive, "location"),
    (types.MessageMediaVenue, "location"),
    (types.MessageMediaContact, "contact"),
)


def to_post(message: types.Message, username: str | None = None, title: str | None = None) -> Post:
    """One channel message as a Post; `username`/`title` are the channel's, if known."""
    return Post(
        channel_id=message.peer_id.channel_id,
        message_id=message.id,
        date=message.date,
        text=message.message or "",
        channel_username=username,
        channel_title=title,
        edit_date=message.edit_date,
        forward=_forward(message.fwd_from),
        grouped_id=message.grouped_id,
        media=_media_kind(message.media),
        reply_to=message.reply_to.reply_to_msg_id
        if isinstance(message.reply_to, types.MessageReplyHeader)
        else None,
    )


def album_post(
    messages: Sequence[types.Message], username: str | None = None, title: str | None = None
) -> Post:
    """An album (messages sharing a grouped_id) as one Post keyed by its first message.

    Telegram puts the caption on one of the messages, usually the first; the Post takes
    whichever caption exists and lists every message's media.
    """
    ordered = sorted(messages, key=lambda m: m.id)
    post = to_post(ordered[0], username, title)
    post.text = next((m.message for m in ordered if m.message), "")
    post.media = tuple(kind for m in ordered for kind in _media_kind(m.media))
    post.edit_date = max((m.edit_date for m in ordered if m.edit_date), default=None)
    return post


def to_posts(
    messages: Iterable[types.TypeMessage], username: str | None = None, title: str | None = None
) -> list[Post]:
    """History (oldest first) as Posts: service messages dropped, albums merged."""
    posts: list[Post] = []
    album: list[types.Message] = []
    for message in messages:
        if not isinstance(message, types.Message):
            continue
        if album and message.grouped_id != album[0].grouped_id:
            posts.append(album_post(album, username, title))
            album = []
        if message.grouped_id is not None:
            album.append(message)
        else:
            posts.append(to_post(message, username, title))
    if album:
        posts.append(album_post(album, username, title))
    return posts


def _forward(header: types.MessageFwdHeader | None) -> ForwardOrigin | None:
    if header is None:
        return None
    origin = header.from_id
    channel_id = origin.channel_id if isinstance(origin, types.PeerChannel) else None
    return ForwardOrigin(
        channel_id=channel_id,
        message_id=header.channel_post,
        name=header.from_name or header.post_author,
    )


def _media_kind(media: types.TypeMessageMedia | None) -> tuple[str, ...]:
    if media is None or isinstance(media, (types.MessageMediaEmpty, types.MessageMediaWebPage)):
        return ()  # a link preview is not an attachment
    for kind_type, kind in _SIMPLE_MEDIA:
        if isinstance(media, kind_type):
            return (kind,)
    if isinstance(media, types.MessageMediaDocument) and isinstance(media.document, types.Document):
        return (_document_kind(media.document.attributes),)
    return ("other",)


def _document_kind(attributes: Sequence[types.TypeDocumentAttribute]) -> str:
    for attr in attributes:
        if isinstance(attr, types.DocumentAttributeSticker):
            return "sticker"
        if isinstance(attr, types.DocumentAttributeAnimated):
            return "animation"
    for attr in attributes:
        if isinstance(attr, types.DocumentAttributeVideo):
            return "video_message" if attr.round_message else "video_file"
        if isinstance(attr, types.DocumentAttributeAudio):
            return "voice_message" if attr.voice else "audio_file"
    return "document"
