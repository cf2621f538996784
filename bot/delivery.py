"""The outbox worker: hands pending alert deliveries to their sinks, durably.

A delivery is marked sent only after the sink returned, in its own transaction. If that
commit fails (the file locked by another process, a full disk), the worker remembers the
send and later passes retry only the commit. If the process dies after a sink accepted an
alert but before the commit, the alert is sent again on restart: the only window in which
an analyst can see an alert twice.

Only a failure the sink calls permanent (chat gone, message rejected) ends a delivery.
Anything else is retried for as long as it takes, with backoff capped at `max_delay_s`;
`attempts` and `last_error` of the delivery show a destination that keeps failing. A wait
the far side asks for (a flood wait) is obeyed and is not counted as an attempt.

Before sending to a chat, the policy may hold an alert back (muted channel, quiet
hours, cool-down); a terminal or a file gets every alert. Alerts held by quiet hours go
out when the hours end (or at a start outside them), if raised within `QUIET_RELEASE`:
analysts asked not to be woken, not to wait for the next digest. After sending, sinks
that can edit re-render alerts whose story changed, at most once per `EDIT_GAP_S` each;
edits are best effort and never block new alerts.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

from bot.alert_policy import AlertPolicy
from bot.sinks import DeliveryError, Editable, OutputClosed, Sink
from storage import Alert, StorageError, Store
from storage.dates import now_db, to_db

log = logging.getLogger(__name__)

EDIT_GAP_S = 60.0  # a viral story is re-rendered at most once a minute per chat
BATCH = 50  # deliveries loaded at a time
QUIET_RELEASE = timedelta(hours=24)  # older held alerts were listed in a digest


class DeliveryWorker:
    def __init__(
        self,
        store: Store,
        sinks: Sequence[Sink],
        *,
        policy: AlertPolicy | None = None,
        base_delay_s: float = 5.0,
        max_delay_s: float = 3600.0,
    ) -> None:
        self._store = store
        self._sinks = tuple(sinks)
        self._policy = policy
        self._quiet: bool | None = None  # whether quiet hours held the last pass
        self._base = base_delay_s
        self._max = max_delay_s
        # destination -> alert id -> (message ref, sent at): sent, but not yet committed
        self._unrecorded: dict[str, dict[int, tuple[str | None, str]]] = {}
        # One pass at a time: the run loop, a replay and the flush at stop all call
        # deliver_due, and two passes would both send what is due before either commits.
        self._pass = asyncio.Lock()
        self.wake = asyncio.Event()

    @property
    def destinations(self) -> tuple[str, ...]:
        return tuple(sink.name for sink in self._sinks)

    @property
    def editable(self) -> tuple[str, ...]:
        """Destinations whose sent alerts are kept up to date."""
        return tuple(sink.name for sink in self._sinks if isinstance(sink, Editable))

    async def deliver_due(self) -> int:
        """One pass over every sink's due deliveries, then the due edits; returns how
        many alerts were sent or held."""
        async with self._pass:
            return await self._deliver_due()

    async def _deliver_due(self) -> int:
        await self._end_quiet_hours()
        done = 0
        for sink in self._sinks:
            await self._record_unrecorded(sink.name)
            while due := await self._due(sink.name):
                progressed = 0
                for alert in await self._store.alerts.load(due):
                    progressed += await self._deliver(sink, alert)
                done += progressed
                if progressed < len(due):
                    break  # the rest waits for its retry time
        for sink in self._sinks:
            if isinstance(sink, Editable):
                await self._edit_due(sink, sink.name)
        return done

    async def _end_quiet_hours(self) -> None:
        """Once quiet hours are over, what they held is pending again: the pass sends it
        through the policy, so mutes and the cool-down still apply."""
        if self._policy is None:
            return
        quiet, was_quiet = self._policy.quiet(), self._quiet
        self._quiet = quiet
        if quiet or was_quiet is False:
            return
        now = datetime.now(UTC)
        async with self._store.transaction():
            released = await self._store.alerts.release_held(
                "quiet_hours", to_db(now - QUIET_RELEASE), to_db(now)
            )
        if released:
            log.info("quiet hours are over: %d held alert deliveries go out", released)

    async def _due(self, destination: str) -> list[int]:
        """Pending deliveries due now, less those sent whose commit is still owed."""
        sent = self._unrecorded.get(destination, {})
        due = await self._store.alerts.due(destination, now_db(), limit=BATCH + len(sent))
        return [alert_id for alert_id in due if alert_id not in sent][:BATCH]

    async def _deliver(self, sink: Sink, alert: Alert) -> int:
        reason = None
        if self._policy is not None and sink.interrupts:
            reason = await self._policy.hold_reason(alert, sink.name)
        if reason is not None:
            log.info("alert %d held back from %s: %s", alert.id, sink.name, reason)
            async with self._store.transaction():
                await self._store.alerts.hold(alert.id, sink.name, reason)
            return 1
        try:
            ref = await sink.send(alert)
        except OutputClosed:
            raise  # nobody is reading: not a failed delivery, and nothing to retry
        except DeliveryError as exc:
            await self._failed(sink.name, alert.id, str(exc), exc.retry_after, exc.permanent)
            return 0
        except Exception as exc:  # a sink bug must not stop the outbox
            log.exception("sink %s failed on alert %d", sink.name, alert.id)
            await self._failed(sink.name, alert.id, repr(exc), None, False)
            return 0
        await self._record_sent(sink.name, alert.id, ref, now_db())
        return 1

    async def _record_sent(
        self, destination: str, alert_id: int, ref: str | None, sent_at: str
    ) -> bool:
        """Commit a send; if the database cannot take it now, keep it for a later pass,
        which retries this commit and never the send."""
        owed = self._unrecorded.setdefault(destination, {})
        try:
            async with self._store.transaction():
                await self._store.alerts.mark_sent(alert_id, destination, ref, sent_at)
        except StorageError as exc:
            if alert_id not in owed:
                log.warning(
                    "alert %d reached %s but is not recorded yet (retrying the record, "
                    "not the send): %s",
                    alert_id,
                    destination,
                    exc,
                )
            owed[alert_id] = (ref, sent_at)
            return False
        if owed.pop(alert_id, None) is not None:
            log.info("alert %d at %s recorded as sent after all", alert_id, destination)
        return True

    async def _record_unrecorded(self, destination: str) -> None:
        for alert_id, (ref, sent_at) in list(self._unrecorded.get(destination, {}).items()):
            if not await self._record_sent(destination, alert_id, ref, sent_at):
                return  # the database still cannot be written: the next pass tries again

    async def _failed(
        self,
        destination: str,
        alert_id: int,
        error: str,
        retry_after: float | None,
        permanent: bool,
    ) -> None:
        if permanent:
            log.warning("delivery of alert %d to %s given up: %s", alert_id, destination, error)
            async with self._store.transaction():
                await self._store.alerts.mark_retry(alert_id, destination, error, None)
            return
        if retry_after is not None:  # the far side's wait: obeyed, not a failed attempt
            log.info("delivery of alert %d to %s deferred: %s", alert_id, destination, error)
            delay = retry_after
        else:
            attempts = await self._store.alerts.attempts(alert_id, destination) + 1
            log.warning(
                "delivery of alert %d to %s failed (attempt %d): %s",
                alert_id,
                destination,
                attempts,
                error,
            )
            delay = self._backoff(attempts)
        retry_at = to_db(datetime.now(UTC) + timedelta(seconds=delay))
        async with self._store.transaction():
            await self._store.alerts.mark_retry(
                alert_id, destination, error, retry_at, attempt=retry_after is None
            )

    async def _edit_due(self, sink: Editable, destination: str) -> None:
        now = datetime.now(UTC)
        edits = await self._store.alerts.edits_due(
            destination, to_db(now), to_db(now - timedelta(seconds=EDIT_GAP_S))
        )
        alerts = {
            alert.id: alert
            for alert in await self._store.alerts.load([edit.alert_id for edit in edits])
        }
        for edit in edits:
            ref = None
            try:
                ref = await sink.edit(alerts[edit.alert_id], edit.message_ref)
            except OutputClosed:
                raise
            except DeliveryError as exc:
                if not exc.permanent:
                    log.info("edit of alert %d at %s deferred: %s", edit.alert_id, destination, exc)
                    return  # flood wait or network: the next pass tries again
                log.warning("edit of alert %d at %s given up: %s", edit.alert_id, destination, exc)
            except Exception:
                log.exception(
                    "edit of alert %d at %s failed; not retried", edit.alert_id, destination
                )
            async with self._store.transaction():
                await self._store.alerts.mark_edited(edit, destination, now_db(), ref)

    def _backoff(self, attempts: int) -> float:
        """Doubling from `base_delay_s`, jittered, never over `max_delay_s`."""
        doublings = min(attempts - 1, 64)  # after weeks of outage 2.0 ** n would overflow
        return min(self._max, self._base * 2.0**doublings * random.uniform(0.8, 1.2))

    async def run(self, poll_s: float = 5.0) -> None:
        """Deliver forever: on every wake-up (new alerts) and every `poll_s` (retries)."""
        while True:
            try:
                await self.deliver_due()
            except Exception:
                log.exception("delivery pass failed; retrying")
            self.wake.clear()
            # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation
            # that races a wake-up, and the service would never stop.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(poll_s):
                    await self.wake.wait()

    async def close(self) -> None:
        for sink in self._sinks:
            await sink.close()
