"""The Telethon user client: where its session lives and how it is protected.

A session file is a login: anyone who reads it is the account. It is created owner-only
(0600) before Telethon writes to it. Containers can pass the session as a string in
CLAIMWATCH_SESSION_STRING instead, and then no file is written at all.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Callable
from pathlib import Path

from telethon import TelegramClient
from telethon.sessions import StringSession

from bot.config import Config, ConfigError, TelegramConfig
from bot.secrets import Secrets

SESSION_SUFFIX = ".session"  # Telethon appends it to a session name lacking it


def open_client(
    config: TelegramConfig,
    secrets: Secrets,
    *,
    flood_sleep_threshold: int = 0,
    fresh_string_session: bool = False,
    client_type: Callable[..., TelegramClient] = TelegramClient,
) -> TelegramClient:
    """The user client (not yet connected). Raises ConfigError naming a missing variable.

    `flood_sleep_threshold=0` hands every flood wait to the caller, which obeys and counts
    it (monitors.telegram.guard.Retry); `login` lets Telethon sleep through short ones.
    `client_type` is the seam where tests put a client served in-process.
    """
    api_id, api_hash = secrets.require_api()
    if fresh_string_session:
        session: StringSession | str = StringSession()
    elif secrets.session_string:
        session = StringSession(secrets.session_string)
    else:
        session = str(private_file(session_path(config)))
    return client_type(session, api_id, api_hash, flood_sleep_threshold=flood_sleep_threshold)


def open_bot_client(config: TelegramConfig, secrets: Secrets) -> TelegramClient:
    """The bot that posts to the alert chat (not yet connected or signed in). Its own
    session file sits beside the user's, so restarts do not log the bot in again."""
    api_id, api_hash = secrets.require_api()
    if not secrets.bot_token:
        raise ConfigError(
            'CLAIMWATCH_BOT_TOKEN is not set: alerts.via = "bot" needs the token from'
            ' @BotFather (or set alerts.via = "user")'
        )
    if secrets.session_string:
        session: StringSession | str = StringSession()  # containers: nothing on disk
    else:
        user = session_path(config)
        session = str(private_file(user.with_name(user.stem + "-bot" + SESSION_SUFFIX)))
    return TelegramClient(session, api_id, api_hash, flood_sleep_threshold=0)


@contextlib.asynccontextmanager
async def chat_client(config: Config, secrets: Secrets) -> AsyncIterator[TelegramClient | None]:
    """A connected client for the alert chats (the bot, or the user session), for a
    command that posts once (`digest --send`); None when no chat is configured."""
    if not config.alerts.chats:
        yield None
        return
    bot = config.alerts.via == "bot"
    client = (
        open_bot_client(config.telegram, secrets) if bot else open_client(config.telegram, secrets)
    )
    await client.connect()
    try:
        if not await client.is_user_authorized():
            if not bot:
                raise ConfigError("the Telegram session is not logged in: run `claimwatch login`")
            await client.sign_in(bot_token=secrets.bot_token)
        yield client
    finally:
        await client.disconnect()


def session_path(config: TelegramConfig) -> Path:
    name = config.session
    return Path(name if name.endswith(SESSION_SUFFIX) else name + SESSION_SUFFIX)


def private_file(path: Path) -> Path:
    """Create `path` readable by its owner only (and tighten it if it already exists)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.close(os.open(path, os.O_CREAT | os.O_RDWR, 0o600))
    os.chmod(path, 0o600)
    return path
