"""`claimwatch run`: the long-running service around the live Telegram monitor.

Lifecycle as in mautrix's Program: `prepare` (config, credentials, database, client;
credentials are checked before anything slow is loaded), `start` (connect, follow and
backfill the channels, start the delivery worker, the scheduled jobs (reconciliation
among them) and the connection watchdog), `stop` (on SIGINT/SIGTERM: take no more
updates, let the batch in flight finish, flush health counters and due alerts,
disconnect). SIGHUP re-reads the config; channels added or removed take effect without
a restart.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from telethon import TelegramClient, errors

from bot.app import App
from bot.chat import AnalystChat
from bot.chat_commands import Commands
from bot.config import ConfigError, TelegramConfig, load_config
from bot.digest_send import DigestPublisher
from bot.liveblog_poll import LiveBlogPoller
from bot.outputs import Outputs, build_outputs
from bot.schedule import DigestSchedule, add_interval_job, make_scheduler
from bot.secrets import Secrets
from bot.session import open_bot_client, open_client
from bot.sinks import DeliveryError, Sink
from bot.telegram_html import escape
from monitors.embedding import Embedder
from monitors.liveblog import LiveBlogFetcher
from monitors.pipeline import RETRY_WAIT
from monitors.telegram import MonitorSettings, Retry, SessionExpired, TelegramMonitor
from monitors.telegram.guard import Tasks
from monitors.telegram.history import Progress

log = logging.getLogger(__name__)

ClientFactory = Callable[[TelegramConfig, Secrets], TelegramClient]
STALL_PASSES = 2  # reconcile passes reading no channel before the chat is told
FLUSH_ALERTS_S = 15.0  # how long shutdown waits for due alerts to go out
# How often posts whose translation failed are looked at: the pipeline's shortest wait.
TRANSLATION_RETRY_MINUTES = RETRY_WAIT.total_seconds() / 60
# How often due live blogs are looked for; each blog keeps its own poll_minutes.
LIVEBLOG_TICK_MINUTES = 0.5


class LiveService:
    def __init__(
        self,
        config_path: Path,
        app: App,
        client: TelegramClient,
        monitor: TelegramMonitor,
        outputs: Outputs,
        chat_client: TelegramClient | None,
        secrets: Secrets,
    ) -> None:
        self.config_path = config_path
        self.app = app
        self.client = client
        self.monitor = monitor
        self.outputs = outputs
        self.chat_client = chat_client  # posts alerts: the bot, or `client` itself
        # A second connection of its own to keep alive (alerts.via = "bot"), or None.
        self.bot = chat_client if chat_client is not client else None
        self._secrets = secrets
        self.chat = (
            AnalystChat(app, chat_client, Commands(app), on_change=app.delivery.wake.set)
            if chat_client is not None
            else None
        )
        self._fetcher = LiveBlogFetcher()
        self.poller = LiveBlogPoller(app, self._fetcher)
        monitor.on_stall = self._on_stall
        self._stall_reported = False
        self.stopping = asyncio.Event()
        self.fatal: BaseException | None = None
        self.tasks = Tasks(monitor.counters, on_fatal=self._on_fatal)
        # Reconnecting never gives up: the service has nothing better to do.
        self._reconnect = Retry(monitor.counters, attempts=sys.maxsize, max_delay_s=300)
        self.scheduler = make_scheduler(app.config.digest)

    @classmethod
    async def prepare(
        cls,
        config_path: Path,
        *,
        db: Path | None = None,
        env: dict[str, str] | None = None,
        client_factory: ClientFactory = open_client,
        bot_factory: ClientFactory = open_bot_client,
        sinks: Sequence[Sink] | None = None,
        embedder: Embedder | str | None = "config",
        progress: Progress | None = None,
        monitor_overrides: Mapping[str, Any] | None = None,
    ) -> LiveService:
        """Build everything; `sinks` replaces the configured alert sinks (tests), and
        `monitor_overrides` tunes MonitorSettings (tests: no spacing)."""
        config = load_config(config_path)
        secrets = Secrets.from_env(env)
        client = client_factory(config.telegram, secrets)
        chat_client = None
        if config.alerts.chats:
            bot = config.alerts.via == "bot"
            chat_client = bot_factory(config.telegram, secrets) if bot else client
        outputs = build_outputs(config, chat_client, buttons=config.alerts.via == "bot")
        if sinks is not None:
            outputs.sinks = list(sinks)
        app = await App.open(
            config, db_path=db, sinks=outputs.sinks, secrets=secrets, embedder=embedder
        )
        settings = MonitorSettings(
            history_on_join=config.telegram.history_on_join,
            **(monitor_overrides or {}),
        )
        monitor = TelegramMonitor(client, app.store, app.process, settings, progress=progress)
        return cls(config_path, app, client, monitor, outputs, chat_client, secrets)

    async def start(self) -> None:
        await self._reconnect("connect", self.client.connect)
        if not await self.client.is_user_authorized():
            raise ConfigError("the Telegram session is not logged in: run `claimwatch login`")
        if self.bot is not None:
            await self._start_bot(self.bot)
        if self.chat is not None:
            await self.chat.start()
        self.monitor.install()
        self.tasks.spawn(self.monitor.set_channels(self.app.config.channels), "follow channels")
        self.tasks.spawn(self.app.delivery.run(), "alert delivery")
        self.tasks.spawn(self._keep_connected(self.client, "telegram"), "connection watchdog")
        if self.bot is not None:
            self.tasks.spawn(self._keep_connected(self.bot, "bot"), "bot connection watchdog")
        await self._start_schedule()
        log.info("following %d configured channel(s)", len(self.app.config.channels))

    async def _start_schedule(self) -> None:
        """The scheduled jobs: reconciliation, failed translations retried, and the
        daily digest with its start-up catch-up for a day missed while the service was
        down."""
        config = self.app.config
        add_interval_job(
            self.scheduler,
            functools.partial(self.tasks.run, self.monitor.reconcile, "reconcile"),
            minutes=config.telegram.reconcile_minutes,
            job_id="reconcile",
        )
        add_interval_job(
            self.scheduler,
            self.poller.poll_once,
            minutes=LIVEBLOG_TICK_MINUTES,
            job_id="live-blog polls",
            start_now=True,
        )
        if self.app.translator is not None:
            add_interval_job(
                self.scheduler,
                self.app.retry_translations,
                minutes=TRANSLATION_RETRY_MINUTES,
                job_id="translation retry",
            )
        publisher = DigestPublisher(
            self.app.store,
            config,
            self.outputs.digest_senders,
            chart=bool(self.outputs.telegram),  # only a chat shows the chart
        )
        digest = DigestSchedule(config.digest, publisher.send)
        digest.install(self.scheduler)
        self.scheduler.start()
        first_stored = await self.app.store.posts.first_stored_at()
        last_sent = await self.app.store.digests.last_sent()
        self.tasks.spawn(digest.catch_up(first_stored, last_sent), "digest catch-up")

    async def reload(self) -> None:
        """Re-read the config file: channels, their hints, categories and alert flags, and
        inline claims take effect; storage, credentials and destinations need a restart."""
        try:
            config = load_config(self.config_path)
        except ConfigError as exc:
            log.error("config reload refused, keeping the old one: %s", exc)
            return
        await self.app.reconfigure(config)
        log.info("config reloaded: %d channel(s)", len(config.channels))
        self.tasks.spawn(self.monitor.set_channels(config.channels), "reload channels")

    async def stop(self) -> None:
        self.stopping.set()
        if self.fatal is not None:
            await self.notify(
                "claimwatch stopped: the Telegram session expired or was revoked. "
                "Run `claimwatch login` on the server, then start it again."
            )
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        async with self.monitor.drained():
            await self.tasks.cancel_all()
            await self.monitor.counters.flush(self.app.store)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.app.delivery.deliver_due(), FLUSH_ALERTS_S)
        if self.chat is not None:
            self.chat.stop()
        await self._fetcher.aclose()
        await self.client.disconnect()
        if self.bot is not None:
            await self.bot.disconnect()
        await self.app.close()

    async def run_until_stopped(self) -> None:
        """Start, serve until SIGINT/SIGTERM (or a fatal error), then stop cleanly."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self.stopping.set)
        loop.add_signal_handler(signal.SIGHUP, lambda: self.tasks.spawn(self.reload(), "reload"))
        try:
            await self._start_unless_stopped()
            await self.stopping.wait()
        finally:
            for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
                loop.remove_signal_handler(sig)
            await self.stop()
        if self.fatal is not None:
            raise ConfigError(f"{self.fatal}: run `claimwatch login` again")

    async def _start_unless_stopped(self) -> None:
        """`start`, abandoned as soon as a stop is requested: while Telegram is unreachable
        the connection is retried forever, and SIGTERM must not wait for it."""
        starting = asyncio.create_task(self.start(), name="start")
        stop = asyncio.create_task(self.stopping.wait(), name="stop request")
        try:
            await asyncio.wait({starting, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (starting, stop):
                task.cancel()
            await asyncio.gather(starting, stop, return_exceptions=True)
        if starting.cancelled():
            log.info("stop requested during start-up")
        else:
            starting.result()  # start's own failure (a session not logged in) is raised

    def _on_stall(self, passes: int) -> None:
        """Tell the chat once when no channel can be read, and once when it recovers."""
        if passes >= STALL_PASSES and not self._stall_reported:
            self._stall_reported = True
            minutes = passes * self.app.config.telegram.reconcile_minutes
            self.tasks.spawn(
                self.notify(
                    f"claimwatch cannot read any channel ({passes} passes, about {minutes:g} "
                    "min). Posts are not being collected; see `claimwatch status` and the log."
                ),
                "stall notice",
            )
        elif passes == 0 and self._stall_reported:
            self._stall_reported = False
            self.tasks.spawn(self.notify("claimwatch reads channels again."), "recovery notice")

    async def notify(self, text: str) -> None:
        """An operator notice in every alert chat, best effort: the log has it anyway."""
        for sink in self.outputs.telegram:
            try:
                await sink.post([f"⚠️ {escape(text)}"])
            except DeliveryError as exc:
                log.warning("operator notice to %s failed: %s", sink.name, exc)

    def _on_fatal(self, exc: BaseException) -> None:
        log.critical("Telegram session expired or revoked; stopping. Run `claimwatch login`.")
        self.fatal = exc
        self.stopping.set()

    async def _start_bot(self, bot: TelegramClient) -> None:
        await self._reconnect("connect bot", bot.connect)
        if not await bot.is_user_authorized():
            try:
                await self._reconnect(
                    "bot login", lambda: bot.sign_in(bot_token=self._secrets.bot_token)
                )
            except (errors.AccessTokenInvalidError, errors.AccessTokenExpiredError) as exc:
                # Not the user session: `claimwatch login` would not help here.
                raise ConfigError(
                    f"Telegram refused the bot token ({exc.message}): set CLAIMWATCH_BOT_TOKEN "
                    "to the token @BotFather gives for the bot"
                ) from None
        log.info("alerts go to %d chat(s) through the bot", len(self.outputs.telegram))

    async def _keep_connected(self, client: TelegramClient, name: str) -> None:
        """The watchdog of one client the service owns (the user client; the bot, when
        alerts go through one). Telethon reconnects on its own a few times, then gives
        up: take over there. The user client reconciles afterwards, since channel updates
        during the outage may be lost."""
        while not self.stopping.is_set():
            with contextlib.suppress(Exception):
                await client.disconnected
            if self.stopping.is_set():
                return
            self.monitor.counters.count("disconnected", detail=name)
            log.warning("%s connection lost; reconnecting", name)
            await self._reconnect(f"reconnect {name}", client.connect)
            log.info("%s connection restored", name)
            if client is self.client:
                await self._reconcile_after_outage()

    async def _reconcile_after_outage(self) -> None:
        try:
            await self.monitor.reconcile()
        except SessionExpired:
            raise
        except Exception:
            log.exception("reconcile after reconnect failed")


async def run_service(config_path: Path, *, db: Path | None) -> None:
    """The `claimwatch run` body."""
    with _progress_bar() as progress:
        service = await LiveService.prepare(config_path, db=db, progress=progress)
        await service.run_until_stopped()


@contextlib.contextmanager
def _progress_bar():
    """A backfill progress bar on a terminal; nothing when logging to a file."""
    if not sys.stderr.isatty():
        yield None
        return
    from tqdm import tqdm

    with tqdm(desc="backfill", unit="msg", file=sys.stderr, leave=False) as bar:
        yield lambda ref, n: bar.update(n)
