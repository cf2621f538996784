"""Telethon messages to Posts at the edge, and the fake Telegram's request registry."""

from __future__ import annotations

import pytest
from telethon import errors
from telethon.tl import functions, types

from monitors.models import ForwardOrigin
from monitors.telegram import album_post, to_post, to_posts
from tests.fake_telegram import T0, FakeTelegramClient, document_media, flood_wait

CHANNEL = 1500000001


def message(message_id: int, text: str = "", **fields) -> types.Message:
    return types.Message(
        id=message_id, peer_id=types.PeerChannel(CHANNEL), date=T0, message=text, **fields
    )


@pytest.mark.parametrize(
    ("media", "kind"),
    [
        (types.MessageMediaPhoto(photo=types.PhotoEmpty(1)), ("photo",)),
        (document_media(types.DocumentAttributeVideo(duration=1, w=1, h=1)), ("video_file",)),
        (
            document_media(types.DocumentAttributeVideo(1, 1, 1, round_message=True)),
            ("video_message",),
        ),
        (document_media(types.DocumentAttributeAudio(duration=1, voice=True)), ("voice_message",)),
        (document_media(types.DocumentAttributeAudio(duration=1)), ("audio_file",)),
        (
            document_media(
                types.DocumentAttributeVideo(1, 1, 1), types.DocumentAttributeAnimated()
            ),
            ("animation",),
        ),
        (document_media(types.DocumentAttributeFilename("report.pdf")), ("document",)),
        (types.MessageMediaGeo(types.GeoPointEmpty()), ("location",)),
        (types.MessageMediaWebPage(types.WebPageEmpty(1)), ()),
        (types.MessageMediaDice(1, "🎲"), ("other",)),
        (None, ()),
    ],
)
def test_media_kinds_use_the_export_names(media, kind):
    assert to_post(message(1, "x", media=media)).media == kind


def test_a_post_carries_text_dates_reply_and_channel():
    edited = T0.replace(hour=9)
    post = to_post(
        message(7, "Текст", edit_date=edited, reply_to=types.MessageReplyHeader(reply_to_msg_id=3)),
        "rdk_front",
        "RDK",
    )
    assert (post.channel_id, post.message_id, post.text) == (CHANNEL, 7, "Текст")
    assert (post.date, post.edit_date, post.reply_to) == (T0, edited, 3)
    assert (post.channel_username, post.channel_title, post.link) == (
        "rdk_front",
        "RDK",
        "https://t.me/rdk_front/7",
    )


def test_a_forward_from_a_hidden_user_keeps_the_name_only():
    header = types.MessageFwdHeader(date=T0, from_name="Иван")
    assert to_post(message(1, fwd_from=header)).forward == ForwardOrigin(name="Иван")


def test_history_drops_service_messages_and_merges_albums():
    photo = types.MessageMediaPhoto(photo=types.PhotoEmpty(1))
    history = [
        message(1, "один"),
        types.MessageService(
            id=2,
            peer_id=types.PeerChannel(CHANNEL),
            date=T0,
            action=types.MessageActionPinMessage(),
        ),
        message(3, "", media=photo, grouped_id=5),
        message(4, "подпись на втором", media=photo, grouped_id=5),
        message(5, "после альбома"),
    ]
    posts = to_posts(history)
    assert [(p.message_id, p.text, p.media) for p in posts] == [
        (1, "один", ()),
        (3, "подпись на втором", ("photo", "photo")),
        (5, "после альбома", ()),
    ]
    assert album_post(history[2:4]).grouped_id == 5


async def test_the_fake_serves_any_request_type_and_canned_errors():
    client = FakeTelegramClient()
    await client.connect()
    client.on_request(
        functions.messages.SendMessageRequest,
        lambda req: types.UpdateShortSentMessage(out=True, id=10, pts=2, pts_count=1, date=T0),
    )
    peer = types.InputPeerChannel(CHANNEL, 1)
    sent = await client.send_message(peer, "<b>Alert</b>", parse_mode="html")
    request = client.sent(functions.messages.SendMessageRequest)[0]
    assert (sent.id, request.message) == (10, "Alert")  # Telethon's html parser ran
    assert request.entities == [types.MessageEntityBold(offset=0, length=5)]

    client.fail_next(functions.messages.SendMessageRequest, flood_wait(30))
    with pytest.raises(errors.FloodWaitError) as caught:
        await client.send_message(peer, "again")
    assert caught.value.seconds == 30
