"""Plain records that flow through the pipeline.

Sources convert what they read (Telethon messages, export JSON, web pages) into these
at the edge, so processing stages and storage never see a Telethon object.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Stance = Literal["supports", "refutes", "unclear"]

UNDETERMINED = "und"
MAX_ID = 2**63 - 1  # Telegram ids are 64-bit, as SQLite integers are


def parse_id(text: str) -> int | None:
    """The id written in `text` as ASCII digits, or None when it is not one or SQLite could
    not hold it (so a lookup with it cannot fail: nothing has that id). isdigit alone
    also accepts "²", which int refuses."""
    if not (text.isascii() and text.isdigit()):
        return None
    value = int(text)
    return value if value <= MAX_ID else None


@dataclass(frozen=True, slots=True)
class ForwardOrigin:
    """Where a forwarded post came from (as much as the source tells)."""

    channel_id: int | None = None
    message_id: int | None = None
    name: str | None = None


@dataclass(slots=True)
class Post:
    """One channel message, as seen by a source at one moment.

    `channel_id` is Telegram's bare channel id (as in a Desktop export, no -100 prefix).
    """

    channel_id: int
    message_id: int
    date: datetime
    text: str
    channel_username: str | None = None
    channel_title: str | None = None
    edit_date: datetime | None = None
    forward: ForwardOrigin | None = None
    grouped_id: int | None = None
    media: tuple[str, ...] = ()
    reply_to: int | None = None
    # Filled by the processing stages.
    lang: str = UNDETERMINED
    cluster_id: str | None = None
    translation: str | None = None

    @property
    def key(self) -> tuple[int, int]:
        return (self.channel_id, self.message_id)

    @property
    def link(self) -> str:
        return message_link(self.channel_id, self.channel_username, self.message_id)


@dataclass(slots=True)
class Claim:
    """A checkable statement posts are matched against."""

    id: str
    text: str
    title: str | None = None
    source: str | None = None
    source_url: str | None = None
    published: datetime | None = None
    lang: str = "en"
    status: Literal["open", "closed"] = "open"


@dataclass(frozen=True, slots=True)
class Match:
    """One claim ranked for one post, with the evidence an analyst needs."""

    claim_id: str
    score: float
    alert: bool
    stance: Stance = "unclear"
    reasons: tuple[str, ...] = field(default=())


def message_link(channel_id: int, username: str | None, message_id: int) -> str:
    """A t.me link a reader can open: public username, else the private c/ form."""
    if username:
        return f"https://t.me/{username}/{message_id}"
    return f"https://t.me/c/{channel_id}/{message_id}"
