"""`claimwatch status --db F`: how the live service is doing, read from its database.

Works while the service runs (SQLite in WAL mode lets a reader in) and after it died,
which is when an operator most needs it.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import IO

from storage import Store
from storage.health import SERVICE, Backlog, ChannelHealth, HealthCounter

_TRANSLATION_COUNTERS = (
    "requests",
    "retries",
    "failures",
    "chars_sent",
    "cache_hits",
    "cluster_hits",
)


async def show_status(db: Path, out: IO[str], *, now: datetime | None = None) -> None:
    now = now or datetime.now(UTC)
    store = await Store.open(db)
    try:
        channels = await store.health.channels()
        counters = await store.health.counters()
        backlogs = await store.health.backlogs()
    finally:
        await store.close()
    pending = sum(backlog.pending for backlog in backlogs)
    out.write(f"channels: {len(channels)}   alerts waiting for delivery: {pending}\n")
    for backlog in backlogs:
        out.write(_backlog_line(backlog, now) + "\n")
    errors = _errors_by_channel(counters)
    for channel in channels:
        out.write(_channel_line(channel, now, errors.get(channel.id, 0)) + "\n")
    service = [c for c in counters if c.channel_id == SERVICE]
    if service:
        out.write("service:\n")
        for counter in service:
            out.write(_counter_line(counter, now) + "\n")
    translation = _translation_line({c.name: c.count for c in service})
    if translation:
        out.write(translation + "\n")


def _backlog_line(backlog: Backlog, now: datetime) -> str:
    """A destination's waiting alerts; a failing one with its tries and last error."""
    oldest = _ago(backlog.oldest, now) if backlog.oldest else "-"
    line = f"  to {backlog.destination}: {backlog.pending} waiting, oldest raised {oldest}"
    if backlog.attempts:
        line += f", failed up to {backlog.attempts} times (last: {backlog.last_error})"
    return line


def _channel_line(channel: ChannelHealth, now: datetime, errors: int) -> str:
    name = f"@{channel.username}" if channel.username else (channel.title or str(channel.id))
    last = _ago(channel.last_post_at, now) if channel.last_post_at else "never"
    lag = "-"
    if channel.last_post_at and channel.last_stored_at:
        lag = _duration((channel.last_stored_at - channel.last_post_at).total_seconds())
    synced = "never" if channel.synced_id is None else str(channel.synced_id)
    return (
        f"  {name:<32} last post {last:<10} lag {lag:<8} cursor {channel.cursor:<8} "
        f"synced {synced:<8} errors {errors}"
    )


def _counter_line(counter: HealthCounter, now: datetime) -> str:
    when = _ago(counter.last_at, now) if counter.last_at else "-"
    detail = f"  ({counter.detail})" if counter.detail else ""
    return f"  {counter.name:<18} {counter.count:>7}  last {when}{detail}"


def _translation_line(service: dict[str, int]) -> str | None:
    """What translation cost in one line: requests and characters sent, texts that failed,
    texts the cache (same text, or the story's earlier translation) spared a request."""
    counts = {name: service.get(f"translate_{name}", 0) for name in _TRANSLATION_COUNTERS}
    if not any(counts.values()):
        return None
    return (
        f"translation: {counts['requests']} requests ({counts['retries']} retries), "
        f"{counts['chars_sent']} chars sent, {counts['failures']} texts failed, "
        f"{counts['cache_hits']} cache hits, {counts['cluster_hits']} story reuses"
    )


def _errors_by_channel(counters: list[HealthCounter]) -> dict[int, int]:
    errors: dict[int, int] = {}
    for counter in counters:
        if counter.channel_id != SERVICE and counter.name.endswith("error"):
            errors[counter.channel_id] = errors.get(counter.channel_id, 0) + counter.count
    return errors


def _ago(moment: datetime, now: datetime) -> str:
    return _duration((now - moment).total_seconds()) + " ago"


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
