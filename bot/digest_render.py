"""The digest as plain text, Telegram HTML and JSON.

Text and HTML come from one layout (`_lines`) written against a tiny style: the plain
style folds untrusted text to printable characters, the HTML style escapes it and builds
links with bot.telegram_html (t.me message links, and live-blog URLs when http(s)).
"""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Protocol

from bot import telegram_html as tg
from bot.digest import ClaimReport, Digest, Source

TOP_CHANNELS = 10
MAX_HELD = 20  # held alerts listed; the count covers the rest
MAX_SOURCES = 3  # refuting posts named per claim; the JSON has them all


class _Style(Protocol):
    def text(self, raw: str) -> str: ...
    def bold(self, raw: str) -> str: ...
    def link(self, raw: str, url: str) -> str: ...
    def aside_link(self, raw: str, url: str) -> str:
        """A link worth a click in a chat but not worth a long URL in plain text."""
        ...


class _Plain:
    def text(self, raw: str) -> str:
        return _printable(raw)

    def bold(self, raw: str) -> str:
        return _printable(raw)

    def link(self, raw: str, url: str) -> str:
        return f"{_printable(raw)} <{url}>"

    def aside_link(self, raw: str, url: str) -> str:
        return _printable(raw)


class _Html:
    """Each line stays one line: untrusted line breaks become spaces."""

    def text(self, raw: str) -> str:
        return tg.escape(tg.one_line(raw))

    def bold(self, raw: str) -> str:
        return tg.bold(tg.one_line(raw))

    def link(self, raw: str, url: str) -> str:
        return tg.link(tg.one_line(raw), url)

    aside_link = link


def render_text(digest: Digest) -> str:
    return "\n".join(_lines(digest, _Plain()))


def render_html(digest: Digest) -> list[str]:
    """Telegram HTML messages, each under the message limit."""
    return tg.split_message("\n".join(_lines(digest, _Html())))


def render_json(digest: Digest, indent: int | None = 1) -> str:
    body = dataclasses.asdict(digest)
    body["new_claims"] = digest.new_claims
    for claim, out in zip(digest.claims, body["claims"], strict=True):
        out["lead_minutes"] = (
            None if claim.lead is None else round(claim.lead / timedelta(minutes=1))
        )
    return json.dumps(body, ensure_ascii=False, default=_json_value, indent=indent)


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"cannot serialise {type(value).__name__}")


def _lines(digest: Digest, s: _Style) -> Iterator[str]:
    period, volume = digest.period, digest.volume
    yield s.bold(f"Daily digest · {period.day:%a %-d %b %Y} ({period.tz})")
    yield s.text(f"{volume.posts} posts from {len(volume.by_channel)} channels")
    if volume.posts:
        yield s.text(f"By category: {_counts(volume.by_category)}")
        yield s.text(f"By language: {_counts(volume.by_language)}")
        busiest = {c.channel: c.posts for c in volume.by_channel[:TOP_CHANNELS]}
        yield s.text(f"Busiest channels: {_counts(busiest)}")
    yield from _stories(digest, s)
    yield from _claims(digest, s)
    yield from _changed(digest, s)
    yield from _silent(digest, s)
    yield from _held(digest, s)
    yield ""
    feedback = _counts(digest.feedback) if digest.feedback else "none"
    yield s.bold("Analyst feedback: ") + s.text(feedback)


_HELD_REASONS = {
    "quiet_hours": "quiet hours",
    "cooldown": "cool-down",
    "muted": "muted channel",
    "claim_age": "claim older than claim_days",
}


def _held(digest: Digest, s: _Style) -> Iterator[str]:
    """Alerts nobody was told about: the digest is where they surface."""
    if not digest.held:
        return
    reasons = Counter(_HELD_REASONS.get(held.reason, held.reason) for held in digest.held)
    yield ""
    yield s.bold(f"Held back from the chat ({_counts(dict(reasons.most_common()))})")
    for held in digest.held[:MAX_HELD]:
        yield s.text(f"• {held.claim_id}: ") + _source(digest, held.source, s)
    if len(digest.held) > MAX_HELD:
        yield s.text(f"… and {len(digest.held) - MAX_HELD} more")


def _stories(digest: Digest, s: _Style) -> Iterator[str]:
    yield ""
    yield s.bold("Top stories")
    if not digest.stories:
        yield s.text("No story was carried by more than one post.")
    for rank, story in enumerate(digest.stories, 1):
        yield s.text(
            f"{rank}. {story.posts} posts in {story.channels} channels "
            f"({', '.join(story.categories)}) · first: "
        ) + _source(digest, story.first, s)
        yield s.text(f"   “{story.headline}”")


def _claims(digest: Digest, s: _Style) -> Iterator[str]:
    yield ""
    yield s.bold(f"Claims: {len(digest.claims)} followed, {digest.new_claims} new")
    sections = (
        ("corroborated", "Corroborated on Telegram"),
        ("refuted", "Refuted or walked back"),
        ("unverified", "Still unverified"),
    )
    for status, heading in sections:
        claims = digest.claims_with(status)  # type: ignore[arg-type]
        if claims:
            yield s.bold(f"{heading} ({len(claims)})")
        for claim in claims:
            yield from _claim(digest, claim, s)


def _claim(digest: Digest, claim: ClaimReport, s: _Style) -> Iterator[str]:
    title = s.text(f"• {claim.claim_id}: ") + _claim_title(claim, s)
    yield title + (s.text(" [new]") if claim.new else "")
    if claim.supporting:
        yield s.text(
            f"   supported by {claim.supporting_channels} channel(s): {_counts(claim.supporting)}"
        )
    if claim.refuting:
        refuters = ", ".join(_source(digest, src, s) for src in claim.refuting[:MAX_SOURCES])
        more = len(claim.refuting) - MAX_SOURCES
        yield (
            s.text("   refuted by: ") + refuters + (s.text(f" and {more} more") if more > 0 else "")
        )
    if claim.first is not None:
        yield (
            s.text("   first on Telegram: ")
            + _source(digest, claim.first, s)
            + s.text(_lead(claim))
        )
    elif claim.published is not None:
        when = digest.period.local(claim.published)
        yield s.text(f"   live blog {when:%d %b %H:%M}; no channel has carried it")


def _claim_title(claim: ClaimReport, s: _Style) -> str:
    if tg.is_web_url(claim.url):
        return s.aside_link(claim.title, claim.url)
    return s.text(claim.title)


def _changed(digest: Digest, s: _Style) -> Iterator[str]:
    changed = digest.changed_posts
    if not changed:
        return
    yield ""
    yield s.bold(f"Matched posts edited or deleted ({len(changed)})")
    for change in changed:
        yield (
            s.text(f"• {change.change}: ")
            + _source(digest, change.source, s)
            + s.text(f" (claim {change.claim_id})")
        )


def _silent(digest: Digest, s: _Style) -> Iterator[str]:
    yield ""
    if not digest.silent:
        yield s.bold("Silent channels: ") + s.text("none")
        return
    yield s.bold(f"Silent channels ({len(digest.silent)})")
    for channel in digest.silent:
        last = channel.last_post_at
        since = f"last post {digest.period.local(last):%d %b %H:%M}" if last else "no post yet"
        yield s.text(f"• {channel.channel} ({channel.category}) · {since}")


def _source(digest: Digest, source: Source, s: _Style) -> str:
    when = digest.period.local(source.date)
    label = f"{source.channel} ({source.category}) {when:%H:%M}"
    if when.date() != digest.period.day:
        label = f"{source.channel} ({source.category}) {when:%d %b %H:%M}"
    return s.link(label, source.link)


def _lead(claim: ClaimReport) -> str:
    lead = claim.lead
    if lead is None:
        return ""
    return f", {tg.duration(lead)} {'before' if lead >= timedelta(0) else 'after'} the live blog"


def _counts(counts: dict[str, int]) -> str:
    return " · ".join(f"{key} {value}" for key, value in counts.items())


def _printable(raw: str) -> str:
    """Fold whitespace and drop control characters: channel text must not break lines
    of the layout or drive a terminal."""
    return "".join(ch if ch.isprintable() else " " for ch in raw)
