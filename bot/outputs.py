"""Where alerts and digests go: one mapping from the configured destinations to the
alert sink and the digest sender of each, for the service and the CLI alike."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path

from telethon import TelegramClient

from bot.config import Config
from bot.digest_send import ConsoleDigestSender, DigestSender, JsonlDigestSender
from bot.sinks import ConsoleSink, JsonlSink, Sink
from bot.telegram_sink import TelegramDigestSender, TelegramSink

log = logging.getLogger(__name__)


@dataclass
class Outputs:
    sinks: list[Sink] = field(default_factory=list)
    digest_senders: list[DigestSender] = field(default_factory=list)
    telegram: list[TelegramSink] = field(default_factory=list)  # also in `sinks`


def build_outputs(
    config: Config, chat_client: TelegramClient | None = None, *, buttons: bool = True
) -> Outputs:
    """Sinks and senders for every destination. Telegram chats need `chat_client` (the
    bot, or the user session, which cannot show buttons); without one they are skipped,
    as when a replay should not flood the chat with history."""
    outputs = Outputs()
    for destination in config.alerts.destinations:
        if destination.type == "console":
            outputs.sinks.append(ConsoleSink())
            outputs.digest_senders.append(ConsoleDigestSender())
        elif destination.type == "jsonl":
            path = Path(destination.path)  # type: ignore[arg-type]
            outputs.sinks.append(JsonlSink(path=path))
            outputs.digest_senders.append(JsonlDigestSender(path))
        elif chat_client is None:
            log.info("telegram chat %s is served by `claimwatch run` only", destination.chat)
        else:
            sink = TelegramSink(
                chat_client,
                destination.chat,  # type: ignore[arg-type]
                link_previews=config.alerts.link_previews,
                buttons=buttons,
            )
            outputs.sinks.append(sink)
            outputs.telegram.append(sink)
            outputs.digest_senders.append(TelegramDigestSender(sink))
    return outputs
