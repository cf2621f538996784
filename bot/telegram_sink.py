"""Alerts into a Telegram chat, through the bot (recommended) or the user session.

The sink turns Telethon's failures into the outbox's terms (`DeliveryError`): a flood wait
becomes `retry_after` and pauses this chat until it is over; network and server trouble
is retried; a chat the account cannot write to is permanent. Messages to one chat are
spaced to stay under Telegram's per-chat limits (about 20 a minute in a group), so the
outbox never has to learn them from flood waits.
"""

from __future__ import annotations

import asyncio
import io
import logging
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, TypeVar

from telethon import TelegramClient, errors
from telethon.tl import types

from bot.alert_buttons import alert_buttons
from bot.alert_render import render_alert_html
from bot.digest import Digest
from bot.digest_render import render_html
from bot.sinks import DeliveryError
from monitors.telegram.guard import TRANSIENT
from storage import Alert

log = logging.getLogger(__name__)

T = TypeVar("T")

GROUP_SPACING_S = 3.0  # 20 messages a minute in a group
PRIVATE_SPACING_S = 1.0  # about one a second in a private chat
# What a message of an alert shows once a re-render needs fewer (Telegram refuses empty).
SURPLUS_MARK = "<i>(nothing more: the alert above was updated)</i>"


class TelegramSink:
    interrupts = True  # analysts get a notification: mutes and quiet hours apply

    def __init__(
        self,
        client: TelegramClient,
        chat: int | str,
        *,
        link_previews: bool = False,
        buttons: bool = True,
        spacing_s: float | None = None,
    ) -> None:
        self.name = destination_name(chat)
        self.chat = chat
        self._client = client
        self._previews = link_previews
        self._buttons = buttons  # only bots can attach inline buttons
        self._spacing = _spacing_for(chat) if spacing_s is None else spacing_s
        self._peer: types.TypeInputPeer | None = None
        self._next_at = 0.0  # monotonic time of the next allowed request
        self._lock = asyncio.Lock()

    async def send(self, alert: Alert) -> str:
        """Send the alert (normally one message); the reference lists every message id."""
        ids = await self.post(render_alert_html(alert), buttons=self._markup(alert))
        return ",".join(map(str, ids))

    async def post(self, pieces: Sequence[str], *, buttons: Any = None) -> list[int]:
        """Send HTML pieces in order (buttons under the first); their message ids."""
        return [
            await self._send(piece, buttons=buttons if index == 0 else None)
            for index, piece in enumerate(pieces)
        ]

    async def post_photo(self, png: bytes, caption: str) -> None:
        """An image with a short HTML caption (the digest's chart)."""
        photo = io.BytesIO(png)
        photo.name = "chart.png"  # Telethon takes the type from the name
        await self._call(self._client.send_file, photo, caption=caption)

    async def edit(self, alert: Alert, ref: str) -> str:
        """Re-render a sent alert in place; returns the new reference (every message id).

        The sent messages are edited in order; a message Telegram finds unchanged is fine.
        Pieces beyond them go out as silent replies to the first message: an edit is not a
        new alert, so it must not ring through mutes and quiet hours, and the reply ties the
        piece to its alert. Messages beyond the new pieces are edited to `SURPLUS_MARK`, not
        deleted: Telegram refuses to delete a bot's message after 48 hours, and kept ids
        stay valid when the alert grows again, so the reference only ever grows.
        """
        ids = [int(message_id) for message_id in ref.split(",")]
        pieces = render_alert_html(alert)
        for index, message_id in enumerate(ids):
            piece = pieces[index] if index < len(pieces) else SURPLUS_MARK
            buttons = self._markup(alert) if index == 0 else None
            await self._call(self._client.edit_message, message_id, piece, buttons=buttons)
        for piece in pieces[len(ids) :]:
            ids.append(await self._send(piece, reply_to=ids[0], silent=True))
        return ",".join(map(str, ids))

    async def close(self) -> None:
        return None

    async def _send(self, piece: str, **kwargs: Any) -> int:
        message = await self._call(self._client.send_message, piece, **kwargs)
        assert message is not None  # only edits end without a message
        return message.id

    def _markup(self, alert: Alert) -> Any:
        return alert_buttons(alert) if self._buttons else None

    async def _call(
        self, method: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any
    ) -> T | None:
        async with self._lock:
            wait = self._next_at - time.monotonic()
            if wait > self._spacing:  # a flood wait is running: the outbox comes back later
                raise DeliveryError(f"chat paused for {wait:.0f} s more", retry_after=wait)
            if wait > 0:
                await asyncio.sleep(wait)
            try:
                peer = await self._resolve()
                return await method(
                    peer, *args, parse_mode="html", link_preview=self._previews, **kwargs
                )
            except errors.FloodWaitError as exc:
                self._next_at = time.monotonic() + exc.seconds
                log.warning("%s: flood wait of %d s", self.name, exc.seconds)
                raise DeliveryError(f"flood wait {exc.seconds} s", retry_after=exc.seconds) from exc
            except errors.MessageNotModifiedError:
                return None  # an edit that changes nothing Telegram shows: done
            except (*TRANSIENT, OSError) as exc:
                raise DeliveryError(f"{type(exc).__name__}: {exc}") from exc
            except (errors.RPCError, ValueError) as exc:
                # 400/403/401: chat gone, bot removed or not allowed to post, bad request.
                raise DeliveryError(f"{type(exc).__name__}: {exc}", permanent=True) from exc
            finally:
                self._next_at = max(self._next_at, time.monotonic() + self._spacing)

    async def _resolve(self) -> types.TypeInputPeer:
        if self._peer is None:
            try:
                self._peer = await self._client.get_input_entity(self.chat)
            except ValueError as exc:
                raise ValueError(
                    f"cannot find chat {self.chat}: add the bot to it and post there once"
                ) from exc
        return self._peer


class TelegramDigestSender:
    """The daily digest into the same chat as the alerts, through the same sink."""

    def __init__(self, sink: TelegramSink) -> None:
        self.name = sink.name
        self._sink = sink

    async def send(self, digest: Digest, chart: bytes | None) -> None:
        await self._sink.post(render_html(digest))
        if chart is not None:
            await self._sink.post_photo(chart, f"Posts per hour, {digest.period.day:%Y-%m-%d}")

    async def close(self) -> None:
        return None


def destination_name(chat: int | str) -> str:
    """The outbox key of a chat destination, stable across restarts."""
    return f"telegram:{chat}"


def _spacing_for(chat: int | str) -> float:
    private = isinstance(chat, int) and chat > 0
    return PRIVATE_SPACING_S if private else GROUP_SPACING_S
