"""The daily digest: what happened on one local day, what was confirmed, who was first.

`build_digest` only reads storage and returns plain records; rendering (bot/digest_render.py),
the chart (bot/digest_chart.py) and delivery (bot/digest_send.py) work from those records.
Post facts (edited, deleted) are as known when the digest is built, so a past day's digest
shows walk-backs that happened later.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.config import ChannelConfig
from monitors.models import Claim, message_link
from storage import Store
from storage.alerts import EvidenceRow, channel_name
from storage.clusters import StoryRow

TOP_STORIES = 10
HEADLINE_CHARS = 160
# Open claims this recent that no channel has carried yet are listed as still unverified.
UNVERIFIED_LOOKBACK = timedelta(days=7)

ClaimStatus = Literal["corroborated", "refuted", "unverified"]


@dataclass(frozen=True, slots=True)
class Period:
    day: date
    tz: str
    start: datetime  # aware, UTC
    end: datetime

    @classmethod
    def of(cls, day: date, tz: str) -> Period:
        """The local calendar day `day` in `tz` (23 or 25 hours long on DST changes)."""
        zone = ZoneInfo(tz)
        start = datetime.combine(day, time(0), zone).astimezone(UTC)
        end = datetime.combine(day + timedelta(days=1), time(0), zone).astimezone(UTC)
        return cls(day, tz, start, end)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(ZoneInfo(self.tz))


@dataclass(frozen=True, slots=True)
class Source:
    """One Telegram post, as the digest cites it."""

    channel_id: int
    channel: str
    category: str
    message_id: int
    date: datetime
    link: str


@dataclass(frozen=True, slots=True)
class ChannelVolume:
    channel_id: int
    channel: str
    category: str
    posts: int


@dataclass(frozen=True, slots=True)
class HourVolume:
    hour: datetime  # start of the UTC hour
    category: str
    posts: int


@dataclass(frozen=True, slots=True)
class Volume:
    posts: int
    by_category: dict[str, int]
    by_language: dict[str, int]
    by_channel: tuple[ChannelVolume, ...]
    hourly: tuple[HourVolume, ...]


@dataclass(frozen=True, slots=True)
class Story:
    cluster_id: str
    posts: int
    channels: int
    categories: tuple[str, ...]
    first: Source
    headline: str


@dataclass(frozen=True, slots=True)
class ChangedPost:
    """A matched post edited or deleted after it was seen: a possible walk-back."""

    claim_id: str
    source: Source
    change: Literal["edited", "deleted"]


@dataclass(frozen=True, slots=True)
class ClaimReport:
    claim_id: str
    title: str
    published: datetime | None
    url: str | None
    new: bool
    status: ClaimStatus
    supporting: dict[str, int]  # channels that support it, by category
    first: Source | None  # earliest Telegram post carrying it
    refuting: tuple[Source, ...]
    changed: tuple[ChangedPost, ...]

    @property
    def lead(self) -> timedelta | None:
        """How long Telegram had it before the live blog (negative: the blog was first)."""
        if self.first is None or self.published is None:
            return None
        return self.published - self.first.date

    @property
    def supporting_channels(self) -> int:
        return sum(self.supporting.values())


@dataclass(frozen=True, slots=True)
class SilentChannel:
    channel_id: int | None
    channel: str
    category: str
    last_post_at: datetime | None


@dataclass(frozen=True, slots=True)
class HeldAlert:
    """An alert kept out of the chat (quiet hours, cool-down, muted channel)."""

    reason: str
    claim_id: str
    source: Source


@dataclass(frozen=True, slots=True)
class Digest:
    period: Period
    volume: Volume
    stories: tuple[Story, ...]
    claims: tuple[ClaimReport, ...]
    silent: tuple[SilentChannel, ...]
    feedback: dict[str, int] = field(default_factory=dict)
    held: tuple[HeldAlert, ...] = ()

    @property
    def new_claims(self) -> int:
        return sum(claim.new for claim in self.claims)

    def claims_with(self, status: ClaimStatus) -> list[ClaimReport]:
        return [claim for claim in self.claims if claim.status == status]

    @property
    def changed_posts(self) -> list[ChangedPost]:
        return [change for claim in self.claims for change in claim.changed]


async def build_digest(
    store: Store, day: date, tz: str, channels: Sequence[ChannelConfig] = ()
) -> Digest:
    """The digest of local day `day` in time zone `tz`; `channels` are the configured ones
    (a configured channel never seen is silent too)."""
    period = Period.of(day, tz)
    volume = _volume(await store.posts.volume(period.start, period.end))
    stories = await store.clusters.top(period.start, period.end, TOP_STORIES)
    claims = await store.claims.for_digest(
        period.start - UNVERIFIED_LOOKBACK, period.start, period.end
    )
    evidence = await store.alerts.evidence([claim.id for claim, _ in claims], period.end)
    by_claim: dict[str, list[EvidenceRow]] = defaultdict(list)
    for row in evidence:
        by_claim[row.claim_id].append(row)
    return Digest(
        period=period,
        volume=volume,
        stories=tuple(_story(row) for row in stories),
        claims=tuple(
            _claim(claim, period.start <= appeared < period.end, by_claim[claim.id])
            for claim, appeared in claims
        ),
        silent=_silent(await store.channels.all(), channels, volume),
        feedback=await store.alerts.feedback_counts(period.start, period.end),
        held=await _held(store, period),
    )


async def _held(store: Store, period: Period) -> tuple[HeldAlert, ...]:
    reasons = dict(await store.alerts.held(period.start, period.end))
    return tuple(
        HeldAlert(
            reason=reasons[alert.id],
            claim_id=alert.claim_id,
            source=Source(
                channel_id=alert.channel_id,
                channel=alert.channel,
                category=alert.category,
                message_id=alert.message_id,
                date=alert.date,
                link=alert.link,
            ),
        )
        for alert in await store.alerts.load(list(reasons))
    )


def _volume(rows: Iterable) -> Volume:
    by_category: Counter[str] = Counter()
    by_language: Counter[str] = Counter()
    by_channel: Counter[int] = Counter()
    hourly: Counter[tuple[datetime, str]] = Counter()
    names: dict[int, tuple[str, str]] = {}
    for row in rows:
        by_category[row.category] += row.posts
        by_language[row.lang] += row.posts
        by_channel[row.channel_id] += row.posts
        hourly[(row.hour, row.category)] += row.posts
        names[row.channel_id] = (
            channel_name(row.channel_id, row.username, row.title),
            row.category,
        )
    return Volume(
        posts=sum(by_channel.values()),
        by_category=dict(by_category.most_common()),
        by_language=dict(by_language.most_common()),
        by_channel=tuple(
            ChannelVolume(cid, *names[cid], posts) for cid, posts in by_channel.most_common()
        ),
        hourly=tuple(HourVolume(hour, cat, n) for (hour, cat), n in sorted(hourly.items())),
    )


def _source(
    channel_id: int,
    username: str | None,
    title: str | None,
    category: str,
    message_id: int,
    moment: datetime,
) -> Source:
    return Source(
        channel_id=channel_id,
        channel=channel_name(channel_id, username, title),
        category=category,
        message_id=message_id,
        date=moment,
        link=message_link(channel_id, username, message_id),
    )


def _story(row: StoryRow) -> Story:
    first = _source(
        row.first_channel_id,
        row.first_username,
        row.first_title,
        row.first_category,
        row.first_message_id,
        row.first_date,
    )
    return Story(row.cluster_id, row.posts, row.channels, row.categories, first, _headline(row))


def _headline(row: StoryRow) -> str:
    text = " ".join((row.translation or row.text).split())
    if len(text) <= HEADLINE_CHARS:
        return text
    return text[: HEADLINE_CHARS - 1].rsplit(" ", 1)[0] + "…"


def _evidence_source(row: EvidenceRow) -> Source:
    return _source(row.channel_id, row.username, row.title, row.category, row.message_id, row.date)


def _claim(claim: Claim, new: bool, rows: list[EvidenceRow]) -> ClaimReport:
    """Sort one claim into corroborated, refuted (or walked back) or unverified."""
    carrying = [row for row in rows if row.stance != "refutes"]
    supporting: dict[int, str] = {
        row.channel_id: row.category for row in rows if row.stance == "supports"
    }
    refuting = tuple(_evidence_source(row) for row in rows if row.stance == "refutes")
    changed = tuple(
        ChangedPost(claim.id, _evidence_source(row), "deleted" if row.deleted else "edited")
        for row in carrying
        if row.deleted or row.edited
    )
    status: ClaimStatus = (
        "refuted" if refuting or changed else "corroborated" if supporting else "unverified"
    )
    earliest = carrying[0] if carrying else (rows[0] if rows else None)
    return ClaimReport(
        claim_id=claim.id,
        title=claim.title or claim.text,
        published=claim.published,
        url=claim.source_url,
        new=new,
        status=status,
        supporting=dict(Counter(supporting.values()).most_common()),
        first=_evidence_source(earliest) if earliest else None,
        refuting=refuting,
        changed=changed,
    )


def _silent(
    known, configured: Sequence[ChannelConfig], volume: Volume
) -> tuple[SilentChannel, ...]:
    """Known or configured channels with no post in the period, quietest first."""
    posted = {channel.channel_id for channel in volume.by_channel}
    silent = [
        SilentChannel(
            row.id, channel_name(row.id, row.username, row.title), row.category, row.last_post_at
        )
        for row in known
        if row.id not in posted
    ]
    seen_ids = {row.id for row in known}
    seen_names = {row.username.lower() for row in known if row.username}
    for channel in configured:
        if channel.numeric_id in seen_ids or (channel.username or "").lower() in seen_names:
            continue
        name = f"@{channel.username}" if channel.username else (channel.name or str(channel.id))
        silent.append(SilentChannel(channel.numeric_id, name, channel.category, None))
    oldest = datetime.min.replace(tzinfo=UTC)
    return tuple(sorted(silent, key=lambda c: (c.last_post_at or oldest, c.channel)))
