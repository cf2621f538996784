"""Credentials: read from environment variables only, never from the config file, and
never shown in logs or tracebacks."""

from __future__ import annotations

import os
from dataclasses import dataclass

from bot.config import ConfigError


@dataclass(frozen=True)
class Secrets:
    """Credentials, read from the environment only, never from the config file."""

    api_id: int | None
    api_hash: str | None
    bot_token: str | None
    session_string: str | None
    translate_key: str | None

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> Secrets:
        env = dict(os.environ if env is None else env)
        raw_id = env.get("CLAIMWATCH_API_ID") or None
        if raw_id is not None and not raw_id.isdigit():
            raise ConfigError("CLAIMWATCH_API_ID: must be the number from my.telegram.org")
        return cls(
            api_id=int(raw_id) if raw_id else None,
            api_hash=env.get("CLAIMWATCH_API_HASH") or None,
            bot_token=env.get("CLAIMWATCH_BOT_TOKEN") or None,
            session_string=env.get("CLAIMWATCH_SESSION_STRING") or None,
            translate_key=env.get("CLAIMWATCH_TRANSLATE_KEY") or None,
        )

    def require_api(self) -> tuple[int, str]:
        if self.api_id is None:
            raise ConfigError("CLAIMWATCH_API_ID is not set (get it at my.telegram.org)")
        if not self.api_hash:
            raise ConfigError("CLAIMWATCH_API_HASH is not set (get it at my.telegram.org)")
        return self.api_id, self.api_hash

    def __repr__(self) -> str:  # never leak secrets into logs or tracebacks
        return "Secrets(<redacted>)"
