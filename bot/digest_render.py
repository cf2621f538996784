"""The digest as plain text, Telegram HTML and JSON.

Text and HTML come from one layout (`_lines`) written against a tiny style: the plain
style folds untrusted text to printable characters, the HTML style also escapes it, and
links are only ever built here (t.me message links, and live-blog URLs when http(s)).
"""

from __future__ import annotations

import dataclasses
import html
import json
import re
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Protocol

from bot.digest import ClaimReport, Digest, Source

TOP_CHANNELS = 10
MAX_SOURCES = 3  # refuting posts named per claim; the JSON has them all
TELEGRAM_LIMIT = 4096


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
    def text(self, raw: str) -> str:
        return html.escape(_printable(raw), quote=False)

    def bold(self, raw: str) -> str:
        return f"<b>{self.text(raw)}</b>"

    def link(self, raw: str, url: str) -> str:
        return f'<a href="{html.escape(url, quote=True)}">{self.text(raw)}</a>'

    aside_link = link


def render_text(digest: Digest) -> str:
    return "\n".join(_lines(digest, _Plain()))


def render_html(digest: Digest) -> list[str]:
    """Telegram HTML messages, each under the message limit."""
    return split_message("\n".join(_lines(digest, _Html())))


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
    yield ""
    feedback = _counts(digest.feedback) if digest.feedback else "none"
    yield s.bold("Analyst feedback: ") + s.text(feedback)


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
    if claim.url and claim.url.startswith(("https://", "http://")):
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
    minutes = round(abs(lead) / timedelta(minutes=1))
    span = f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"
    return f", {span} {'before' if lead >= timedelta(0) else 'after'} the live blog"


def _counts(counts: dict[str, int]) -> str:
    return " · ".join(f"{key} {value}" for key, value in counts.items())


def _printable(raw: str) -> str:
    """Fold whitespace and drop control characters: channel text must not break lines
    of the layout or drive a terminal."""
    return "".join(ch if ch.isprintable() else " " for ch in raw)


# A tag, an entity, or one character: the units a message may be cut between.
_ATOM = re.compile(r"<[^<>]*>|&#?\w+;|.", re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def split_message(html_text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Cut Telegram HTML into messages of at most `limit` UTF-16 code units.

    Cuts fall after the last newline that fits (after the last space when one line is
    longer than a message), never inside a tag or entity; tags open at a cut are closed
    at the end of one piece and reopened at the start of the next. The raw HTML length
    bounds the parsed text length, so every piece is safe to send.
    """
    atoms = _ATOM.findall(html_text)
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, opening tag) open at the piece start
    start = 0
    while start < len(atoms):
        end, after = _fit(atoms, start, stack, limit)
        body = "".join(atoms[start:end]).strip("\n")
        if body.strip():
            opening = "".join(tag for _, tag in stack)
            closing = "".join(f"</{name}>" for name, _ in reversed(after))
            pieces.append(opening + body + closing)
        start, stack = end, after
    return pieces


def _fit(
    atoms: list[str], start: int, stack: list[tuple[str, str]], limit: int
) -> tuple[int, list[tuple[str, str]]]:
    """How far from `start` one piece goes: (end index, tags open there)."""
    open_now = list(stack)
    size = sum(utf16_len(tag) for _, tag in open_now)
    line_end = word_end = None  # the last cuts after a newline / after a space
    for index in range(start, len(atoms)):
        atom = atoms[index]
        after = _track(open_now, atom)
        closing = sum(len(name) + 3 for name, _ in after)
        if size + utf16_len(atom) + closing > limit:
            if best := line_end or word_end:
                return best
            if index == start:
                raise ValueError(f"limit {limit} is too small for {atom[:40]!r}")
            return index, open_now
        size += utf16_len(atom)
        open_now = after
        if atom == "\n":
            line_end = (index + 1, open_now)
        elif atom == " ":
            word_end = (index + 1, open_now)
    return len(atoms), open_now


def _track(stack: list[tuple[str, str]], atom: str) -> list[tuple[str, str]]:
    """The open-tag stack after `atom`."""
    tag = _TAG.match(atom)
    if tag is None or atom.endswith("/>"):
        return stack
    closing, name = tag.group(1), tag.group(2).lower()
    if not closing:
        return [*stack, (name, atom)]
    for depth in range(len(stack) - 1, -1, -1):
        if stack[depth][0] == name:
            return stack[:depth]
    return stack
