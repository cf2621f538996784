"""`claimwatch login`: sign the user account in once, interactively.

Telethon's `client.start()` runs the login (code request, sign-in, the two-step
password's SRP check) and asks for the phone number, the login code and the password
through callbacks; claimwatch only supplies the questions (on the terminal, or scripted
in tests) and never stores the answers.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import IO, Protocol

import click
from telethon import TelegramClient

from bot.config import Config, TelegramConfig
from bot.secrets import Secrets
from bot.session import open_client, session_path

Ask = Callable[[str, bool], str]  # (question, hide the answer) -> answer


class OpenClient(Protocol):
    """`bot.session.open_client`'s shape: tests pass one that opens a fake client."""

    def __call__(
        self,
        config: TelegramConfig,
        secrets: Secrets,
        *,
        flood_sleep_threshold: int,
        fresh_string_session: bool,
    ) -> TelegramClient: ...


def ask_terminal(question: str, hidden: bool) -> str:
    return click.prompt(question, hide_input=hidden)


async def login(
    config: Config,
    *,
    as_string: bool,
    out: IO[str],
    env: dict[str, str] | None = None,
    open_user_client: OpenClient = open_client,
    ask: Ask = ask_terminal,
) -> None:
    """Log in and report where the session went; `as_string` prints a string session
    for CLAIMWATCH_SESSION_STRING instead of writing a file."""
    secrets = Secrets.from_env(env)
    client = open_user_client(
        config.telegram, secrets, flood_sleep_threshold=60, fresh_string_session=as_string
    )
    try:
        await client.start(
            phone=lambda: ask("Phone number (international format, e.g. +44 7700 900123)", False),
            code_callback=lambda: ask("Login code Telegram sent you", False),
            password=lambda: ask("Two-step verification password", True),
        )
        me = await client.get_me()
        who = f"@{me.username}" if me.username else f"user {me.id}"
        if as_string:
            out.write(f"Logged in as {who}. Put this in CLAIMWATCH_SESSION_STRING:\n")
            out.write(client.session.save() + "\n")
        elif secrets.session_string:
            out.write(f"Logged in as {who} with CLAIMWATCH_SESSION_STRING (no file written).\n")
        else:
            out.write(
                f"Logged in as {who}; session saved to {session_path(config.telegram)} "
                "(owner-only, mode 0600).\n"
            )
    finally:
        await client.disconnect()
