"""Where alerts go. A sink renders one `Alert` and hands it over; the outbox decides
when to call it and what to do when it fails (bot/delivery.py)."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path
from typing import IO, Protocol

from storage import Alert


class DeliveryError(Exception):
    """A sink could not deliver now. `retry_after` is a wait the far side asked for;
    `permanent` means retrying cannot help (chat gone, message rejected)."""

    def __init__(self, message: str, *, retry_after: float | None = None, permanent: bool = False):
        super().__init__(message)
        self.retry_after = retry_after
        self.permanent = permanent


class OutputClosed(Exception):
    """The reader of stdout went away (`claimwatch demo | head`): stop, do not retry."""


class Sink(Protocol):
    name: str  # the destination key stored with each delivery

    async def send(self, alert: Alert) -> str | None:
        """Deliver; return a reference to the delivered message if the sink has one."""
        ...

    async def close(self) -> None: ...


class ConsoleSink:
    """Readable blocks for a person at a terminal, coloured when it is a terminal."""

    name = "console"

    def __init__(self, stream: IO[str] | None = None, colour: bool | None = None) -> None:
        self._stream = stream or sys.stdout
        self._colour = self._stream.isatty() if colour is None else colour

    async def send(self, alert: Alert) -> str | None:
        _write(self._stream, render_console(alert, colour=self._colour) + "\n")
        return None

    async def close(self) -> None:
        self._stream.flush()


class JsonlSink:
    """One JSON object a line, for scripts: to a stream, or appended to a file."""

    name = "jsonl"

    def __init__(self, stream: IO[str] | None = None, path: Path | None = None) -> None:
        self._owned = stream is None and path is not None
        if self._owned:
            stream = open(path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._stream = stream or sys.stdout

    async def send(self, alert: Alert) -> str | None:
        _write(self._stream, json.dumps(alert.to_json(), ensure_ascii=False) + "\n")
        return None

    async def close(self) -> None:
        if self._owned:
            self._stream.close()
        else:
            self._stream.flush()


def _write(stream: IO[str], text: str) -> None:
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        raise OutputClosed from None


_STANCE_COLOUR = {"supports": "32", "refutes": "31", "unclear": "33"}


def render_console(alert: Alert, *, colour: bool = False, width: int = 100) -> str:
    def paint(text: str, code: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if colour else text

    when = alert.date.strftime("%Y-%m-%d %H:%M UTC")
    stance = paint(alert.stance, _STANCE_COLOUR.get(alert.stance, "0"))
    lines = [
        paint(f"▶ {alert.channel} [{alert.category}] {when}", "1"),
        f"  claim {alert.claim_id}: {_clean(alert.claim_text)}",
        f"  score {alert.score:.2f} · {stance} · {alert.lang} · "
        f"story carried by {alert.cluster_channels} channel(s), {alert.cluster_posts} post(s)",
    ]
    if alert.reasons:
        lines.append(f"  why: {', '.join(_clean(r) for r in alert.reasons)}")
    lines.append(_block("post", alert.text, width))
    if alert.translation:
        lines.append(_block("english", alert.translation, width))
    lines.append(f"  {alert.link}")
    return "\n".join(lines)


def _block(label: str, text: str, width: int, limit: int = 400) -> str:
    text = _clean(text)
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    body = textwrap.fill(text, width=width, initial_indent="    ", subsequent_indent="    ")
    return f"  {label}:\n{body}"


def _clean(text: str) -> str:
    """Fold whitespace and drop control characters (untrusted text must not drive the
    terminal: no escape sequences from a channel reach it)."""
    return " ".join("".join(ch if ch.isprintable() else " " for ch in text).split())
