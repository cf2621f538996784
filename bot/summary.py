"""Short human summaries: of a config (`check-config`) and of a replay."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

from bot.config import Config
from storage import Store


def describe_config(config: Config, path: Path) -> str:
    categories = Counter(channel.category for channel in config.channels)
    destinations = ", ".join(
        d.type + (f" {d.chat}" if d.chat is not None else f" {d.path}" if d.path else "")
        for d in config.alerts.destinations
    )
    threshold = config.alerts.threshold
    lines = [
        f"{path}: OK",
        f"  channels: {len(config.channels)}"
        + (
            f" ({', '.join(f'{n} {c}' for c, n in sorted(categories.items()))})"
            if categories
            else ""
        ),
        f"  claims: {len(config.claims)} inline; live blogs: {len(config.liveblogs)}",
        f"  alerts: to {destinations or 'nowhere'}; threshold "
        + (f"{threshold:.2f}" if threshold is not None else "default (calibrated)"),
        *_chat_lines(config),
        f"  translation: {config.translation.backend} -> {config.translation.target}",
        f"  digest: {config.digest.time.strftime('%H:%M')} {config.digest.timezone}",
        f"  storage: {config.storage.path}",
    ]
    if len(config.channels) > 500:
        lines.append("  warning: one account following more than 500 channels hits Telegram limits")
    return "\n".join(lines)


def _chat_lines(config: Config) -> list[str]:
    alerts = config.alerts
    if not alerts.chats:
        return []
    who = f"{len(alerts.analysts)} analyst(s)" if alerts.analysts else "any member of the chat"
    quiet = alerts.quiet_hours
    return [
        f"  chat: via the {alerts.via}"
        + (" (no buttons)" if alerts.via == "user" else "")
        + f"; commands from {who}; cool-down {alerts.cooldown_minutes:g} min; claims alert "
        + (f"for {alerts.claim_days:g} days" if alerts.claim_days else "for ever")
        + "; quiet hours "
        + (f"{quiet.start:%H:%M}-{quiet.end:%H:%M}" if quiet else "none")
    ]


async def describe_replay(store: Store, summary) -> str:
    languages = await store.posts.languages()
    langs = ", ".join(f"{lang} {count}" for lang, count in languages.most_common())
    return "\n".join(
        [
            f"posts: {summary.posts} read, {summary.new} new, {summary.edited} edited, "
            f"{summary.unchanged} already stored",
            f"languages: {langs or 'none'}",
            f"stories (clusters): {await store.clusters.count()}",
            f"matches: {await store.alerts.match_count()}; alerts: {summary.alerts} new, "
            f"{await store.alerts.count()} in total",
        ]
    )
