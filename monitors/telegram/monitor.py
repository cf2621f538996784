"""The live Telegram source: which channels are followed, and keeping each one complete.

`set_channels` is both the start and the config reload: channels already resolved are
followed at once from storage (no network), new ones are resolved one by one, and each
newly followed channel is backfilled. `reconcile`, run every few minutes on the
service's scheduler, re-reads every channel's history, because update catch-up silently
drops channel messages, retries the live events whose processing failed, and tries again
to resolve the channels an outage kept from being followed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass

from telethon import TelegramClient, errors

from monitors.memory import release_free_memory
from monitors.telegram.guard import TRANSIENT, Counters, Retry, SessionExpired, Sleep
from monitors.telegram.handlers import LiveHandlers
from monitors.telegram.history import History, Process, Progress
from monitors.telegram.resolver import ChannelRef, ChannelSpec, ResolveError, Resolver
from monitors.telegram.retries import FailedEvents
from storage import Store

log = logging.getLogger(__name__)

# One account following more than this many channels is asking for flood waits.
CHANNELS_PER_ACCOUNT = 500


@dataclass(frozen=True, slots=True)
class MonitorSettings:
    history_on_join: int = 100
    resolve_spacing_s: float = 3.0
    batch_size: int = 100
    # Telethon pauses 1 s between pages of an unbounded history read; a reconcile pass
    # over hundreds of channels cannot afford that, and flood waits are obeyed anyway.
    page_wait_s: float | None = 0.0


class TelegramMonitor:
    def __init__(
        self,
        client: TelegramClient,
        store: Store,
        process: Process,
        settings: MonitorSettings,
        *,
        sleep: Sleep = asyncio.sleep,
        progress: Progress | None = None,
    ) -> None:
        self.client = client
        self.store = store
        self.settings = settings
        self.counters = Counters()
        self.followed: dict[int, ChannelRef] = {}
        # Configured channels not followed, by name: those to resolve again on every
        # reconcile pass (the network or Telegram failed), and those that cannot work
        # until the config changes (no such username, private, ...).
        self.unresolved: dict[str, ChannelSpec] = {}
        self.unfollowable: dict[str, str] = {}  # name -> why
        self._lock = asyncio.Lock()  # one pipeline writer: live events and history alike
        self._channels_lock = asyncio.Lock()  # a reload waits for the previous one
        # The scheduled pass and the one after a reconnect must not read the same
        # channels at once: the second waits, then reads what the outage hid.
        self._reconcile_lock = asyncio.Lock()
        self._process = process
        retry = Retry(self.counters, sleep=sleep)
        self.resolver = Resolver(client, store, retry, spacing_s=settings.resolve_spacing_s)
        self.history = History(
            client,
            store,
            self._locked_process,
            retry,
            history_on_join=settings.history_on_join,
            batch_size=settings.batch_size,
            page_wait_s=settings.page_wait_s,
            progress=progress,
        )
        self.failed = FailedEvents(client, store, self._locked_process, retry)
        self.handlers = LiveHandlers(
            store, self._locked_process, self.counters, self.followed, self.failed.add
        )
        self._stalled_passes = 0
        # Told the count of passes in a row that read no channel (0: reading again).
        self.on_stall: Callable[[int], None] = lambda passes: None

    async def _locked_process(self, posts) -> object:
        async with self._lock:
            return await self._process(posts)

    def install(self) -> None:
        self.handlers.install(self.client)

    @contextlib.asynccontextmanager
    async def drained(self) -> AsyncIterator[None]:
        """Stop taking updates and hold the pipeline once its current batch is written:
        the graceful-shutdown point, where nothing is half processed."""
        self.handlers.uninstall(self.client)
        async with self._lock:
            yield

    async def set_channels(self, channels: Sequence[ChannelSpec]) -> None:
        """Follow exactly these channels: drop the others, add and backfill new ones."""
        async with self._channels_lock:
            await self._set_channels(channels)

    async def _set_channels(self, channels: Sequence[ChannelSpec]) -> None:
        if len(channels) > CHANNELS_PER_ACCOUNT:
            log.warning(
                "%d channels configured: one account following more than %d invites flood "
                "waits and missed updates; split them across accounts",
                len(channels),
                CHANNELS_PER_ACCOUNT,
            )
        known: list[ChannelRef] = []
        unresolved: list[ChannelSpec] = []
        for channel in channels:
            if ref := await self.resolver.stored(channel):
                known.append(ref)
            else:
                unresolved.append(channel)
        wanted = {ref.id for ref in known}
        self.unresolved, self.unfollowable = {}, {}
        for gone in [cid for cid in self.followed if cid not in wanted]:
            log.info("no longer following %s", self.followed.pop(gone))
        added = [ref for ref in known if ref.id not in self.followed]
        self.followed.update((ref.id, ref) for ref in added)
        for ref in added:
            await self._sync(ref)
        for channel in unresolved:
            await self._resolve_and_follow(channel)
        await self.counters.flush(self.store)
        release_free_memory()  # after a backfill, as after a pass (see reconcile)

    async def _resolve_and_follow(self, channel: ChannelSpec) -> bool:
        """Resolve, follow and backfill one channel; False when it cannot be read now.
        Whatever the failure, the next channel is still tried: one that may pass (the
        network, Telegram) is kept for the next reconcile pass."""
        name = _name(channel)
        try:
            ref = await self.resolver.resolve(channel)
        except SessionExpired:
            raise
        except Exception as exc:
            if _permanent(exc):
                self.counters.count("resolve_error", detail=str(exc))
                log.error("cannot follow %s: %s", name, exc)
                self.unfollowable[name] = str(exc)
            else:
                self.counters.count("resolve_error", detail=f"{name}: {exc!r}")
                log.error("cannot resolve %s now, trying again next pass: %r", name, exc)
                self.unresolved[name] = channel
            return False
        self.unresolved.pop(name, None)
        log.info("following %s (id %d)", ref, ref.id)
        self.followed[ref.id] = ref
        return await self._sync(ref)

    async def _retry_unresolved(self) -> int:
        """Resolve again the channels a failure kept unfollowed; returns how many are
        still unread. A `set_channels` in flight is resolving them itself."""
        if self._channels_lock.locked():
            return len(self.unresolved)
        async with self._channels_lock:
            unread = 0
            for channel in list(self.unresolved.values()):
                unread += not await self._resolve_and_follow(channel)
            return unread

    async def reconcile(self) -> int:
        """One pass over every followed channel, then another try at the configured ones
        not followed yet; returns how many configured channels could not be read."""
        async with self._reconcile_lock:
            await self.failed.retry(self.followed)
            failed = 0
            for ref in list(self.followed.values()):
                failed += not await self._sync(ref)
            failed += await self._retry_unresolved() + len(self.unfollowable)
            configured = len(self.followed) + len(self.unresolved) + len(self.unfollowable)
            self.counters.count("reconcile_pass", detail=f"{failed} of {configured} failed")
            await self.counters.flush(self.store)
            self._note_stall(failed, configured)
            # A pass may have read hundreds of pages, whose freed texts would otherwise stay
            # resident in the C heap (a replay of ru-news left 55 MB so).
            release_free_memory()
            return failed

    async def _sync(self, ref: ChannelRef) -> bool:
        try:
            read = await self.history.sync(ref)
        except SessionExpired:
            raise
        except Exception as exc:
            self.counters.count("sync_error", ref.id, repr(exc))
            log.error("reading history of %s failed: %r", ref, exc)
            return False
        if read:
            log.info("%s: %d message(s) read from history", ref, read)
        return True

    def _note_stall(self, failed: int, configured: int) -> None:
        """A pass that could read none of the configured channels, followed or not."""
        if configured and failed == configured:
            self._stalled_passes += 1
            log.error(
                "telegram client stalled: no channel could be read (%d pass(es) in a row)",
                self._stalled_passes,
            )
            self.counters.count("stalled")
            self.on_stall(self._stalled_passes)
        elif self._stalled_passes:
            self._stalled_passes = 0
            self.on_stall(0)


def _name(channel: ChannelSpec) -> str:
    return f"@{channel.username}" if channel.username else str(channel.numeric_id)


def _permanent(exc: Exception) -> bool:
    """A failure to resolve that trying again will not fix: the channel itself, or an RPC
    error about this request rather than the connection."""
    return isinstance(exc, ResolveError) or (
        isinstance(exc, errors.RPCError) and not isinstance(exc, TRANSIENT)
    )
