"""Where alerts go. A sink renders one `Alert` and hands it over; the outbox decides
when to call it and what to do when it fails (bot/delivery.py)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import IO, Protocol, runtime_checkable

from bot.alert_render import render_console
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
    # Whether a delivery interrupts a person (a chat notification). Only those are held
    # back by mutes, quiet hours and the cool-down; a terminal or a file gets everything.
    interrupts: bool

    async def send(self, alert: Alert) -> str | None:
        """Deliver; return a reference to the delivered message if the sink has one."""
        ...

    async def close(self) -> None: ...


@runtime_checkable
class Editable(Protocol):
    """A sink whose sent messages can be updated in place (a Telegram chat can; stdout
    cannot): a story that grows, an edited post or a verdict re-renders the message."""

    async def edit(self, alert: Alert, ref: str) -> str:
        """Update the messages of `ref`; returns the reference of every message the alert
        now spans (a grown alert may need more)."""
        ...


class ConsoleSink:
    """Readable blocks for a person at a terminal, coloured when it is a terminal."""

    name = "console"
    interrupts = False

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
    interrupts = False

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
