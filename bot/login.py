"""`claimwatch login`: sign the user account in once, interactively.

Telethon's `client.start()` asks for the phone number, the login code and the two-step
password on the terminal, so claimwatch never handles them itself.
"""

from __future__ import annotations

from typing import IO

from bot.config import Config, Secrets
from bot.session import open_client, session_path


async def login(
    config: Config, *, as_string: bool, out: IO[str], env: dict[str, str] | None = None
) -> None:
    """Log in and report where the session went; `as_string` prints a string session
    for CLAIMWATCH_SESSION_STRING instead of writing a file."""
    secrets = Secrets.from_env(env)
    client = open_client(
        config.telegram, secrets, flood_sleep_threshold=60, fresh_string_session=as_string
    )
    await client.start()
    try:
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
