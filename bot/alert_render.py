"""One alert as a terminal block (console sink) and as Telegram HTML (the analyst chat).

Every field that came from a channel, a live blog or a claims file is untrusted: on a
terminal it is folded to printable characters, in Telegram it goes through
bot.telegram_html, and the only links are the post links and the claim's http(s) URL.
"""

from __future__ import annotations

import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime

from bot import telegram_html as tg
from storage import Alert

MAX_NAME = 64  # channel titles, claim ids and categories
MAX_CLAIM = 500
MAX_WHY = 300
FEEDBACK = {"relevant": "relevant", "not_relevant": "not relevant"}
_STANCE_COLOUR = {"supports": "32", "refutes": "31", "unclear": "33"}


def render_console(alert: Alert, *, colour: bool = False, width: int = 100) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    stance = paint(alert.stance, _STANCE_COLOUR.get(alert.stance, "0"))
    lines = [
        paint(
            f"▶ {plain_line(alert.channel)} [{plain_line(alert.category)}] {_utc(alert.date)}", "1"
        ),
        f"  claim {plain_line(alert.claim_id)}: {plain_line(alert.claim_text)}",
        f"  score {alert.score:.2f} · {stance} · {alert.lang} · "
        f"story carried by {alert.cluster_channels} channel(s), {alert.cluster_posts} post(s)",
    ]
    if alert.reasons:
        lines.append(f"  why: {', '.join(plain_line(r) for r in alert.reasons)}")
    lines.append(_block("post", alert.text, width))
    if alert.translation:
        lines.append(_block("english", alert.translation, width))
    lines.append(f"  {alert.link}")
    return "\n".join(lines)


def render_alert_html(alert: Alert, *, max_text: int = 900) -> list[str]:
    """The Telegram HTML message(s) for one alert: one unless the texts are huge."""
    return tg.split_message("\n".join(_html_lines(alert, max_text)))


def _html_lines(alert: Alert, max_text: int) -> Iterator[str]:
    flags = (("edited", alert.edited), ("deleted", alert.deleted))
    marks = "".join(f" · {tg.bold(mark)}" for mark, on in flags if on)
    yield (
        f"{tg.bold(_name(alert.channel))} · {tg.escape(_name(alert.category))} · "
        f"{_utc(alert.date)}{marks}"
    )
    yield tg.link("Open the post", alert.link)
    claim = _text(alert.claim_text, MAX_CLAIM)
    yield f"{tg.bold(f'Claim {_name(alert.claim_id)}:')} {tg.italic(claim)}"
    if source := _claim_source(alert):
        yield f"Source: {source}"
    why = _text(tg.one_line("; ".join(alert.reasons)), MAX_WHY)
    yield tg.escape(f"Score {alert.score:.2f} · {alert.stance}" + (f" · why: {why}" if why else ""))
    yield tg.bold(f"Original ({_name(alert.lang)})")
    yield _quote(alert.text, max_text, expandable=True)
    if alert.translation:
        yield tg.bold("English")
        yield _quote(alert.translation, max_text, expandable=False)
    yield from _story(alert)
    if alert.feedback:
        verdict = FEEDBACK.get(alert.feedback, alert.feedback)
        yield tg.escape(f"Analyst feedback: {_name(verdict)}")


def _claim_source(alert: Alert) -> str | None:
    label = _name(alert.claim_source) if alert.claim_source else None
    if tg.is_web_url(alert.claim_url):
        return tg.link(label or "live blog", alert.claim_url)
    return tg.escape(label) if label else None


def _story(alert: Alert) -> Iterator[str]:
    posts, channels = alert.cluster_posts, alert.cluster_channels
    yield tg.escape(f"Story: {_count(posts, 'post')} in {_count(channels, 'channel')}")
    others = max(len(alert.also), channels - 1)
    if others:
        yield f"+{_count(others, 'channel')}" + _also_links(alert, others)
    if first := _first_seen(alert):
        yield tg.escape(first)


def _also_links(alert: Alert, others: int) -> str:
    if not alert.also:
        return ""
    links = ", ".join(tg.link(_name(post.channel), post.link) for post in alert.also)
    more = others - len(alert.also)
    return f": {links}" + (f" and {more} more" if more else "")


def _first_seen(alert: Alert) -> str | None:
    """How long the story was on Telegram before the live blog had it, if it was."""
    if alert.claim_published is None:
        return None
    seen = [(alert.date, alert.channel), *((post.date, post.channel) for post in alert.also)]
    date, channel = min(seen, key=lambda item: item[0])
    if date >= alert.claim_published:
        return None
    lead = tg.duration(alert.claim_published - date)
    return f"First seen on {_name(channel)} {lead} before the live blog"


def _quote(raw: str, max_text: int, *, expandable: bool) -> str:
    text = _text(raw, max_text)
    return tg.blockquote(text, expandable=expandable) if text else tg.italic("(no text)")


def _text(raw: str, max_chars: int) -> str:
    """Untrusted text as shown: controls dropped, ends trimmed, shortened."""
    return tg.shorten(tg.strip_controls(raw).strip(), max_chars)


def _name(raw: str) -> str:
    """An untrusted name for a one-line slot; never empty, so a link always has text."""
    return _text(tg.one_line(raw), MAX_NAME) or "?"


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _block(label: str, text: str, width: int, limit: int = 400) -> str:
    body = textwrap.fill(
        tg.shorten(plain_line(text), limit),
        width=width,
        initial_indent="    ",
        subsequent_indent="    ",
    )
    return f"  {label}:\n{body}"


def plain_line(text: str) -> str:
    """Fold whitespace and drop control characters (untrusted text must not drive the
    terminal: no escape sequences from a channel reach it)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
