"""Which alerts an analyst is spared: decided when an alert is about to go out.

Held alerts are not dropped: the delivery is marked `held` with its reason and the
digest lists them. A muted channel and quiet hours are about the analysts' time now;
the cool-down is about the story, so it compares post dates (and replays behave the
same as live runs).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import Config
from storage import Alert, Store


class AlertPolicy:
    def __init__(self, store: Store, config: Config) -> None:
        self._store = store
        self.config = config  # swapped by App.reconfigure on a reload

    async def hold_reason(
        self, alert: Alert, destination: str, now: datetime | None = None
    ) -> str | None:
        """Why this alert must not go to `destination` now, or None to send it."""
        now = now or datetime.now(UTC)
        settings = self.config.alerts
        if await self._store.mutes.muted_until(alert.channel_id, now):
            return "muted"
        quiet = settings.quiet_hours
        if quiet and quiet.covers(now.astimezone(ZoneInfo(self.config.digest.timezone)).time()):
            return "quiet_hours"
        if settings.cooldown_minutes:
            start = alert.date - timedelta(minutes=settings.cooldown_minutes)
            if await self._store.alerts.claim_sent_between(
                alert.claim_id, destination, start, alert.date
            ):
                return "cooldown"
        return None
