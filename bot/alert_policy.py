"""Which alerts an analyst is spared: decided when an alert is about to go out.

Held alerts are not dropped: the delivery is marked `held` with its reason and the
digest lists them; alerts held by quiet hours go out when they end (bot/delivery.py).
A muted channel and quiet hours are about the analysts' time now;
the cool-down and a claim's age are about the story, so they compare post dates (and
replays behave the same as live runs).
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
        if self.quiet(now):
            return "quiet_hours"
        if settings.claim_days and _claim_age(alert) > timedelta(days=settings.claim_days):
            return "claim_age"
        if settings.cooldown_minutes:
            start = alert.date - timedelta(minutes=settings.cooldown_minutes)
            if await self._store.alerts.claim_sent_between(
                alert.claim_id, destination, start, alert.date
            ):
                return "cooldown"
        return None

    def quiet(self, now: datetime | None = None) -> bool:
        """Whether `now` falls in the configured quiet hours (the digest's time zone)."""
        quiet = self.config.alerts.quiet_hours
        if quiet is None:
            return False
        zone = ZoneInfo(self.config.digest.timezone)
        return quiet.covers((now or datetime.now(UTC)).astimezone(zone).time())


def _claim_age(alert: Alert) -> timedelta:
    """How long after the claim was published (else stored) the post came: a live-blog
    claim reports one event, and posts days later are mostly another event of the same
    kind (the next night's drone tally, the next strike on the city)."""
    since = alert.claim_published or alert.claim_added
    return alert.date - since if since is not None else timedelta(0)
