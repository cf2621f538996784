"""The analyst alert chat end to end at the RPC seam: `claimwatch run` follows channels on
the fake Telegram with the user client and posts alerts through a second fake client,
the bot, into a fake supergroup. Asserted on the exact requests Telethon sends."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from telethon import errors
from telethon.extensions import html as telethon_html
from telethon.tl import functions, types

from bot import delivery
from bot.alert_buttons import parse_callback
from bot.app import App
from bot.config import ConfigError, load_config
from bot.digest_cmd import digest_command
from bot.live import LiveService
from monitors.models import MAX_ID
from storage.dates import now_db
from tests.conftest import GOV, RDK, make_post
from tests.fake_chat import ANALYST, STRANGER, FakeChat
from tests.fake_telegram import FakeTelegramClient, flood_wait, rpc_error
from tests.libretranslate_server import LibreTranslateServer, Reply
from tests.test_telegram_service import eventually

ENV = {
    "CLAIMWATCH_API_ID": "12345",
    "CLAIMWATCH_API_HASH": "abcdef",
    "CLAIMWATCH_BOT_TOKEN": "123:abc",
}
RAID = (
    "Bryansk governor: saboteurs fired on a car near the border, the driver was killed "
    "and a child wounded. <b>Details</b> at <a href='http://evil.example'>here</a>"
)
CONFIG = """
[[channels]]
id = "rdk_front"
category = "partisan"
[[channels]]
id = "gubernator_br"
category = "official"

[[claims]]
id = "car"
text = "Bryansk governor said saboteurs fired on a car, killing the driver, wounding a child."
source = "live blog"

[alerts]
destinations = [{{ type = "telegram", chat = {chat} }}]
analysts = [{analyst}]

[translation]
backend = "none"
[matching]
embedder = "none"
[telegram]
session = "{session}"
"""
TRANSLATION = """[translation]
backend = "libre"
url = "{url}"
timeout_s = 2
rate_per_s = 1000"""
RAID_IN_ENGLISH = "Saboteurs fired on a car in Bryansk region, the driver died, a child was hurt."
SendMessage = functions.messages.SendMessageRequest
EditMessage = functions.messages.EditMessageRequest


@pytest.fixture
def chat():
    return FakeChat(FakeTelegramClient())


@pytest.fixture(autouse=True)
def no_waiting(monkeypatch):
    monkeypatch.setattr(delivery, "EDIT_GAP_S", 0.0)
    monkeypatch.setattr("bot.telegram_sink.GROUP_SPACING_S", 0.0)


async def open_service(tmp_path, world, chat, config: str = CONFIG) -> LiveService:
    path = tmp_path / "config.toml"
    path.write_text(
        config.format(chat=chat.marked_id, analyst=ANALYST.id, session=tmp_path / "s.session"),
        encoding="utf-8",
    )
    return await LiveService.prepare(
        path,
        db=tmp_path / "live.db",
        env=ENV,
        client_factory=lambda config, secrets: world.client,
        bot_factory=lambda config, secrets: chat.client,
        embedder=None,
        monitor_overrides={"resolve_spacing_s": 0},
    )


@contextlib.asynccontextmanager
async def started(tmp_path, world, chat) -> AsyncIterator[LiveService]:
    """The service over the default config, started and stopped around the block."""
    service = await open_service(tmp_path, world, chat)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
async def service(tmp_path, world, chat):
    async with started(tmp_path, world, chat) as service:
        await eventually(lambda: _resolved(service))
        yield service


async def _resolved(service) -> bool:
    return len(await service.app.store.channels.all()) == 2


async def sent_count(chat, n: int) -> None:
    async def check() -> bool:
        return len(chat.client.sent(SendMessage)) >= n

    await eventually(check)


def text_urls(message) -> list[str]:
    return [e.url for e in message.entities or [] if isinstance(e, types.MessageEntityTextUrl)]


async def test_an_alert_goes_to_the_chat_as_safe_html_with_buttons(service, world, chat):
    await world.publish(RDK, RAID)
    await sent_count(chat, 1)
    [request] = chat.client.sent(SendMessage)
    assert request.no_webpage  # no link previews unless configured
    text, entities = telethon_html.parse(_html_of(chat.last()))
    assert "@rdk_front" in request.message and "partisan" in request.message
    assert "<b>Details</b> at <a href='http://evil.example'>here</a>" in request.message
    assert "https://t.me/rdk_front/1" in text_urls(chat.last())
    assert all("evil" not in url for url in text_urls(chat.last()))
    buttons = request.reply_markup.rows[0].buttons
    assert [b.text for b in buttons] == ["Relevant", "Not relevant", "Mute channel 24 h"]
    assert text and entities
    stored = await service.app.store.db.fetch_one("SELECT message_ref, status FROM deliveries")
    assert tuple(stored) == (str(chat.last().id), "sent")  # the Telegram message id is kept


async def test_a_repost_edits_the_alert_instead_of_sending_another(service, world, chat):
    await world.publish(RDK, RAID)
    await sent_count(chat, 1)
    await world.publish(GOV, RAID)  # the same story on a second channel

    async def edited() -> bool:
        return bool(chat.client.sent(EditMessage))

    await eventually(edited)
    assert len(chat.client.sent(SendMessage)) == 1
    edit = chat.client.sent(EditMessage)[-1]
    assert edit.id == 1  # the alert's own message
    assert "@gubernator_br" in edit.message
    assert "https://t.me/gubernator_br/1" in text_urls(chat.messages[1])


async def test_buttons_store_verdicts_and_mutes_only_from_analysts(service, world, chat, caplog):
    await world.publish(RDK, RAID)
    await sent_count(chat, 1)
    alert_id = (await service.app.store.alerts.load([1]))[0].id
    caplog.set_level(logging.WARNING)

    await chat.press(1, f"cw:r:{alert_id}".encode(), user=STRANGER)
    assert chat.answers == []  # a stranger gets nothing at all
    assert "not authorised" in caplog.text

    await chat.press(1, f"cw:r:{alert_id}".encode())
    assert chat.answers == ["Saved: relevant"]
    [alert] = await service.app.store.alerts.load([alert_id])
    assert alert.feedback == "relevant"

    async def ticked() -> bool:
        edits = chat.client.sent(EditMessage)
        return bool(edits) and edits[-1].reply_markup.rows[0].buttons[0].text == "✓ Relevant"

    await eventually(ticked)

    await chat.press(1, f"cw:m:{alert_id}".encode())
    assert chat.answers[-1] == "Muted @rdk_front for 24 h"
    await chat.command("/mute @rdk_front 720")
    await chat.press(1, f"cw:m:{alert_id}".encode())  # the button never shortens a mute
    assert chat.answers[-1] == "@rdk_front is muted already, longer"
    ((_, until),) = await service.app.store.mutes.active(datetime.now(UTC))
    assert until > datetime.now(UTC) + timedelta(days=29)
    await world.publish(
        RDK, "Bryansk governor said saboteurs fired on a car and killed the driver."
    )
    await eventually(lambda: _held(service))
    assert len(chat.client.sent(SendMessage)) == 2  # the alert, the /mute reply: no more


async def _held(service) -> bool:
    return bool(
        await service.app.store.db.scalar("SELECT count(*) FROM deliveries WHERE held = 'muted'")
    )


async def test_commands_answer_analysts_and_ignore_strangers(service, chat, caplog):
    caplog.set_level(logging.WARNING)
    await chat.command("/claims", user=STRANGER)
    await chat.command("/mute@claimwatch_bot @rdk_front 6", user=STRANGER)
    assert chat.client.sent(SendMessage) == []
    assert await service.app.store.mutes.active(datetime.now(UTC)) == []
    assert caplog.text.count("not authorised") == 2

    await chat.command("/claims")
    assert "car" in chat.client.sent(SendMessage)[-1].message
    await chat.command("/mute@claimwatch_bot @rdk_front 6")
    assert "Muted @rdk_front for 6 h" in chat.client.sent(SendMessage)[-1].message
    await chat.command("/mute @nobody")
    assert "No channel '@nobody'" in chat.client.sent(SendMessage)[-1].message
    await chat.command("/claim Partisans claim they destroyed a fuel depot in Kursk region")
    assert "Added claim" in chat.client.sent(SendMessage)[-1].message
    assert len(await service.app.store.claims.list("open")) == 2
    await chat.command("/close car")
    assert len(await service.app.store.claims.list("open")) == 1


async def test_a_command_addressed_to_another_bot_is_left_to_it(service, chat):
    await chat.command("/close@other_bot car")
    await chat.command("/claims@other_bot")
    assert chat.client.sent(SendMessage) == []
    assert len(await service.app.store.claims.list("open")) == 1
    await chat.command("/claims@ClaimWatch_Bot")  # usernames ignore case
    assert "car" in chat.client.sent(SendMessage)[-1].message


async def test_without_its_username_the_bot_takes_every_addressed_command(
    tmp_path, world, chat, caplog
):
    chat.client.fail_next(
        functions.users.GetUsersRequest, rpc_error(errors.AuthKeyUnregisteredError)
    )
    async with started(tmp_path, world, chat):
        await chat.command("/claims@other_bot")
    assert "car" in chat.client.sent(SendMessage)[-1].message
    assert "username is unknown" in caplog.text


async def test_commands_take_any_whitespace_and_usage_errors_stay_short(service, chat):
    await chat.command("/claim\nPartisans claim they destroyed a fuel depot in Kursk region")
    assert "Added claim" in chat.client.sent(SendMessage)[-1].message
    await chat.command("/mute @rdk_front " + "x" * 5000)
    reply = chat.client.sent(SendMessage)[-1].message
    assert "is not a number of hours" in reply and len(reply) < 400
    for channel in ["9" * 30, "²"]:  # past SQLite's integers; a digit int() refuses
        await chat.command(f"/mute {channel}")
        reply = chat.client.sent(SendMessage)[-1].message
        assert reply == f"No channel '{channel}' in the archive."


async def test_a_button_with_an_id_past_sqlites_integers_is_not_ours(service, chat, caplog):
    """Only a forged press carries one: it is ignored, not an error in the handler."""
    await chat.press(1, f"cw:r:{'9' * 30}".encode())
    assert chat.answers == []
    assert [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR] == []
    assert parse_callback(b"cw:m:" + str(MAX_ID).encode()) is not None


async def test_an_alert_chat_the_bot_was_removed_from_does_not_stop_the_service(
    tmp_path, world, chat, caplog
):
    chat.client.fail_next(
        functions.channels.GetChannelsRequest, rpc_error(errors.ChannelPrivateError)
    )
    async with started(tmp_path, world, chat) as service:
        await eventually(lambda: _resolved(service))  # the channels are followed all the same
    assert "commands there ignored" in caplog.text


async def test_flood_wait_holds_the_alert_until_telegram_allows_it(service, world, chat):
    chat.client.fail_next(SendMessage, flood_wait(30))
    await world.publish(RDK, RAID)

    async def deferred() -> bool:
        row = await service.app.store.db.fetch_one(
            "SELECT attempts, next_attempt_at, last_error FROM deliveries"
        )
        return row is not None and row["last_error"] is not None

    await eventually(deferred)
    row = await service.app.store.db.fetch_one("SELECT * FROM deliveries")
    assert row["status"] == "pending" and "flood wait 30" in row["last_error"]
    assert row["attempts"] == 0  # a wait Telegram asks for is not a failed attempt
    assert row["next_attempt_at"] > now_db()  # not before Telegram's wait is over
    assert [m for m in chat.messages.values() if m.out] == []


async def test_alerts_pending_at_a_crash_are_sent_once_after_restart(tmp_path, world, chat):
    first = await open_service(tmp_path, world, chat)
    world.post(RDK, RAID)
    await first.app.store.channels.ensure([(RDK, "rdk_front", "RDK front", "partisan")])
    await first.app.process([make_post(RDK, 1, RAID, channel_username="rdk_front")])
    await first.app.close()  # died before the outbox ran
    assert chat.client.sent(SendMessage) == []

    second = await open_service(tmp_path, world, chat)
    await second.start()
    try:
        await sent_count(chat, 1)
        await second.app.delivery.deliver_due()
        assert len(chat.client.sent(SendMessage)) == 1
    finally:
        await second.stop()


def _html_of(message) -> str:
    return telethon_html.unparse(message.message, message.entities or [])


async def test_a_stalled_client_and_its_recovery_are_told_to_the_chat_once(service, world, chat):
    history = functions.messages.GetHistoryRequest
    serve = world.client.handlers[history]

    def refuse(request):
        raise errors.ChannelPrivateError(request=request)

    world.client.on_request(history, refuse)
    for _ in range(3):  # no channel can be read, three passes in a row
        await service.monitor.reconcile()
    await sent_count(chat, 1)
    assert "cannot read any channel (2 passes" in chat.texts()[-1]
    world.client.on_request(history, serve)
    await service.monitor.reconcile()
    await sent_count(chat, 2)
    assert chat.texts()[-1] == "⚠️ claimwatch reads channels again."
    assert len(chat.texts()) == 2


async def test_an_expired_session_is_told_to_the_chat_through_the_bot(tmp_path, world, chat):
    world.client.fail_next(
        functions.messages.GetHistoryRequest, rpc_error(errors.AuthKeyUnregisteredError)
    )
    service = await open_service(tmp_path, world, chat)
    with pytest.raises(ConfigError, match="claimwatch login"):
        await asyncio.wait_for(service.run_until_stopped(), 5)
    assert "session expired or was revoked" in chat.texts()[-1]


async def test_a_refused_bot_token_stops_the_start_naming_the_token_not_login(
    tmp_path, world, chat, monkeypatch
):
    async def signed_out() -> bool:
        return False

    monkeypatch.setattr(chat.client, "is_user_authorized", signed_out)
    # sign_in asks get_me first, which answers None for a client not signed in.
    chat.client.fail_next(
        functions.users.GetUsersRequest, rpc_error(errors.AuthKeyUnregisteredError)
    )
    chat.client.fail_next(
        functions.auth.ImportBotAuthorizationRequest, rpc_error(errors.AccessTokenInvalidError)
    )
    service = await open_service(tmp_path, world, chat)
    with pytest.raises(ConfigError, match="refused the bot token") as refused:
        await asyncio.wait_for(service.run_until_stopped(), 5)
    assert "CLAIMWATCH_BOT_TOKEN" in str(refused.value)
    assert "claimwatch login" not in str(refused.value)


async def test_search_status_digest_help_and_unmute_answer_in_html(service, world, chat):
    await world.publish(RDK, RAID)
    await sent_count(chat, 1)

    await chat.command("/search saboteurs car")
    reply = chat.last()
    assert reply.message.startswith("1 post(s) for saboteurs car")
    assert text_urls(reply) == ["https://t.me/rdk_front/1"]
    await chat.command("/search <b>nothing-like-this</b>")
    assert chat.last().message == "Nothing in the archive for <b>nothing-like-this</b>."

    await chat.command("/status")
    assert "@rdk_front" in chat.last().message
    assert isinstance(chat.last().entities[0], types.MessageEntityPre)

    await chat.command("/digest")
    assert chat.last().message.startswith("Daily digest")

    await chat.command("/help")
    assert "/search WORDS" in chat.last().message

    await chat.command("/unmute @rdk_front")
    assert chat.last().message == "@rdk_front was not muted."
    await chat.command("/mute @rdk_front 0.5")
    await chat.command("/unmute rdk_front")
    assert chat.last().message == "Unmuted @rdk_front."
    await chat.command("/mute @rdk_front forever")
    assert chat.last().message == "'forever' is not a number of hours"


async def test_a_late_translation_updates_the_sent_alert(tmp_path, world, chat):
    """Translation down when the alert went out: the retry edits it, never a second one."""
    story = "Диверсанты обстреляли автомобиль в Брянской области, водитель погиб, ранен ребёнок."
    with LibreTranslateServer(lambda seen: RAID_IN_ENGLISH) as server:
        server.script(Reply(status=403))  # a spent quota: no retries now, later yes
        extra = f'\n[[claims]]\nid = "car-ru"\ntext = "{story}"\n'
        config = CONFIG.replace('[translation]\nbackend = "none"', extra + TRANSLATION)
        service = await open_service(tmp_path, world, chat, config.replace("{url}", server.url))
        await service.start()
        try:
            await world.publish(RDK, story)
            await sent_count(chat, 1)
            assert "English" not in chat.texts()[0]
            await service.app.retry_translations()

            async def edited() -> bool:
                return bool(chat.client.sent(EditMessage))

            await eventually(edited)
        finally:
            await service.stop()
    assert len(chat.client.sent(SendMessage)) == 1
    assert RAID_IN_ENGLISH in chat.texts()[0]


async def test_digest_send_posts_the_digest_and_its_chart_to_the_chat(tmp_path, world, chat):
    config_path = tmp_path / "config.toml"
    config_path.write_text(
        CONFIG.format(chat=chat.marked_id, analyst=ANALYST.id, session=tmp_path / "s.session"),
        encoding="utf-8",
    )
    config = load_config(config_path)
    app = await App.open(config, db_path=tmp_path / "cw.db", embedder=None)
    await app.process([make_post(RDK, 1, RAID, channel_username="rdk_front")])
    await app.close()
    await chat.client.connect()
    day = make_post().date.date()
    for _ in range(2):  # the second time: already sent, nothing posted
        await digest_command(
            config,
            day=day,
            db=tmp_path / "cw.db",
            fmt="text",
            out=None,
            send=True,
            chat=contextlib.nullcontext(chat.client),
        )
    assert [text.split("\n")[0] for text in chat.texts()] == [
        f"Daily digest · {day:%a %-d %b %Y} (UTC)",
        f"Posts per hour, {day:%Y-%m-%d}",
    ]
    assert chat.photos == [f"Posts per hour, {day:%Y-%m-%d}"]


async def test_live_blog_polls_and_the_digest_share_one_scheduler(service):
    jobs = {job.id for job in service.scheduler.get_jobs()}
    assert {"digest", "live-blog polls"} <= jobs


async def test_a_command_that_fails_says_so_and_logs_it(service, chat, monkeypatch, caplog):
    async def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(service.app.store.posts, "search", broken)
    await chat.command("/search anything")
    assert chat.last().message.startswith("That failed on our side")
    assert "disk on fire" in caplog.text


def test_a_private_chat_configured_as_the_alert_chat_takes_commands():
    from types import SimpleNamespace

    from bot.chat import AnalystChat
    from bot.config import parse_config

    alerts = {"destinations": [{"type": "telegram", "chat": 501}]}
    app = SimpleNamespace(config=parse_config({"alerts": alerts}))
    listener = AnalystChat(app, client=None, commands=None)
    listener._chats = {501}  # what start() resolves the configured chat to
    assert listener.allowed(501, 501, private=True)
    assert not listener.allowed(777, 777, private=True)  # someone else's private chat
    with_analysts = SimpleNamespace(config=parse_config({"alerts": {**alerts, "analysts": [9]}}))
    listener = AnalystChat(with_analysts, client=None, commands=None)
    listener._chats = {501}
    assert listener.allowed(777, 9, private=True) and not listener.allowed(501, 501, private=True)
