"""The analyst chat, listening: commands and alert buttons, from authorised people only.

A command or button press counts only in a configured alert chat (or a private chat
with the bot) and, when `alerts.analysts` lists user ids, only from one of them. Anyone
else gets no answer at all (not even "denied": the bot does not confirm it is there);
the attempt is logged with the user and chat ids.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from telethon import TelegramClient, errors, events, utils

from bot.alert_buttons import MUTE_HOURS, parse_callback
from bot.app import App
from bot.chat_commands import Commands
from bot.telegram_html import shorten
from storage.dates import now_db

log = logging.getLogger(__name__)

_VERDICT_TOAST = {"relevant": "Saved: relevant", "not_relevant": "Saved: not relevant"}


class AnalystChat:
    def __init__(
        self,
        app: App,
        client: TelegramClient,
        commands: Commands,
        *,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self._app = app
        self._client = client
        self._commands = commands
        self._on_change = on_change  # a verdict or mute: the outbox has edits to make
        self._chats: set[int] = set()
        self._username: str | None = None  # the bot's, once known

    async def start(self) -> None:
        """Learn the bot's username, resolve the configured chats to ids and listen."""
        problem: object = "not authorised"  # what get_me's None means
        try:
            me = await self._client.get_me()
        except errors.RPCError as exc:
            me, problem = None, exc
        self._username = getattr(me, "username", None)
        if self._username is None:
            log.warning("the bot's username is unknown, so /cmd@other_bot counts too: %s", problem)
        self._chats = set()
        for chat in self._app.config.alerts.chats:
            try:
                self._chats.add(utils.get_peer_id(await self._client.get_input_entity(chat)))
            except (ValueError, errors.RPCError) as exc:  # RPCError: the bot was removed
                log.error("alert chat %s cannot be resolved, commands there ignored: %s", chat, exc)
        self._client.add_event_handler(self._on_message, events.NewMessage(incoming=True))
        self._client.add_event_handler(self._on_press, events.CallbackQuery())

    def stop(self) -> None:
        self._client.remove_event_handler(self._on_message)
        self._client.remove_event_handler(self._on_press)

    def allowed(self, chat_id: int | None, user_id: int | None, private: bool) -> bool:
        analysts = self._app.config.alerts.analysts
        if user_id is None:
            return False
        if analysts:
            return user_id in analysts and (private or chat_id in self._chats)
        return chat_id in self._chats  # a private chat configured as the alert chat too

    async def _on_message(self, event: events.NewMessage.Event) -> None:
        text = event.raw_text or ""
        if not text.startswith("/") or not self._commands.knows(text, self._username):
            return
        if not self.allowed(event.chat_id, event.sender_id, event.is_private):
            log.warning(
                "ignored command %r from user %s in chat %s: not authorised",
                text[:40],
                event.sender_id,
                event.chat_id,
            )
            return
        by = await _who(event)
        log.info("command from %s: %s", by, text[:200])
        try:
            pieces = await self._commands.run(text, by)
        except Exception:
            log.exception("command %r from %s failed", text[:200], by)
            pieces = ["That failed on our side; the operator will find it in the log."]
        for piece in pieces:
            await event.respond(piece, parse_mode="html", link_preview=False)
        self._on_change()

    async def _on_press(self, event: events.CallbackQuery.Event) -> None:
        press = parse_callback(event.data)
        if press is None:
            return
        if not self.allowed(event.chat_id, event.sender_id, event.is_private):
            log.warning(
                "ignored button %s from user %s in chat %s: not authorised",
                event.data,
                event.sender_id,
                event.chat_id,
            )
            return
        by = await _who(event)
        store = self._app.store
        async with store.transaction():
            if press.action == "mute":
                toast = await self._mute(press.alert_id, by)
            else:
                saved = await store.alerts.set_alert_feedback(
                    press.alert_id, press.action, by, now_db()
                )
                toast = _VERDICT_TOAST[press.action] if saved else "That alert is gone."
        log.info("%s pressed %s on alert %d", by, press.action, press.alert_id)
        await event.answer(toast)
        self._on_change()

    async def _mute(self, alert_id: int, by: str) -> str:
        [alert] = await self._app.store.alerts.load([alert_id]) or [None]
        if alert is None:
            return "That alert is gone."
        now = datetime.now(UTC)
        until = now + timedelta(hours=MUTE_HOURS)
        longer = await self._app.store.mutes.muted_until(alert.channel_id, now)
        if longer is not None and longer >= until:  # the button never shortens a /mute
            return f"{shorten(alert.channel, 60)} is muted already, longer"
        await self._app.store.mutes.mute(alert.channel_id, until, by, now_db())
        return f"Muted {shorten(alert.channel, 60)} for {MUTE_HOURS} h"


async def _who(event) -> str:
    """How the history names an analyst: @username, else the user id."""
    sender = await event.get_sender()
    username = getattr(sender, "username", None)
    return f"@{username}" if username else str(event.sender_id)
