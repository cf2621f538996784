"""The inline buttons under an alert and the callback data they carry.

Callback data is `cw:<action>:<alert id>` (well under Telegram's 64 bytes); the chat
controller parses it back with `parse_callback` and checks who pressed.
"""

from __future__ import annotations

from dataclasses import dataclass

from telethon import Button

from monitors.models import parse_id
from storage import Alert

PREFIX = "cw"
MUTE_HOURS = 24  # the mute button's length; `/mute @channel N` sets any other
ACTIONS = {"r": "relevant", "n": "not_relevant", "m": "mute"}


@dataclass(frozen=True, slots=True)
class Press:
    action: str  # relevant | not_relevant | mute
    alert_id: int


def alert_buttons(alert: Alert) -> list[list[Button]]:
    """One row: the two verdicts (the chosen one ticked) and the 24 h mute."""

    def tick(verdict: str) -> str:
        return "✓ " if alert.feedback == verdict else ""

    return [
        [
            Button.inline(tick("relevant") + "Relevant", _data("r", alert.id)),
            Button.inline(tick("not_relevant") + "Not relevant", _data("n", alert.id)),
            Button.inline(f"Mute channel {MUTE_HOURS} h", _data("m", alert.id)),
        ]
    ]


def parse_callback(data: bytes) -> Press | None:
    """The press encoded in `data`, or None for data that is not ours or malformed."""
    try:
        prefix, code, alert_id = data.decode("ascii").split(":")
    except (UnicodeDecodeError, ValueError):
        return None
    number = parse_id(alert_id)
    if prefix != PREFIX or code not in ACTIONS or number is None:
        return None
    return Press(ACTIONS[code], number)


def _data(code: str, alert_id: int) -> bytes:
    return f"{PREFIX}:{code}:{alert_id}".encode("ascii")
