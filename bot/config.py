"""The channel-subscription file: validated once at start, then passed down frozen.

Every error names the file and the field (`config.toml: channels[2].category: ...`) so the
operator can fix it without reading a traceback; the CLI turns `ConfigError` into exit 2.
Secrets never live here: they come from environment variables (`bot.secrets`).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import re
import tomllib
from pathlib import Path
from typing import Annotated, Literal, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from monitors.models import MAX_ID, Claim

USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{3,31}$")
# What monitors.language.detect returns, so a target or hint can equal a post's language.
LANG_CODE = re.compile(r"^[a-z]{2}$")
LABEL = re.compile(r"^[a-z][a-z0-9_-]{0,31}$")
# Values copied from config.example.toml that would silently send alerts nowhere.
PLACEHOLDER_CHATS = frozenset({-1001234567890})
# The Bot API writes channel N as -(10**12 + N): "-100" and ten digits.
BOT_API_OFFSET = 10**12
BOT_API_MAX_CHANNEL = 10**10
T = TypeVar("T")


def bare_username(text: str) -> str:
    """The username in "@name", "t.me/name" or "https://t.me/name" (or "name" itself)."""
    return text.removeprefix("https://t.me/").removeprefix("t.me/").lstrip("@")


class ConfigError(Exception):
    """A configuration or credential problem the operator must fix (exit status 2)."""


def _check_language(code: str) -> str:
    if not LANG_CODE.match(code):
        raise ValueError(f"{code!r} is not an ISO 639-1 code (two lower-case letters: ru, uk, en)")
    return code


def _not_empty(value: str) -> str:
    """An empty SQLite path opens a throwaway database; an empty session file, none at all."""
    if not value:
        raise ValueError("must not be empty")
    return value


def _local_time(value: object) -> object:
    """TOML writes times bare (08:00:00); Python callers write "08:00". Strict pydantic
    takes neither string, lax pydantic takes numbers as seconds, so parse here."""
    if isinstance(value, str):
        with contextlib.suppress(ValueError):  # left a string: the message below
            value = dt.time.fromisoformat(value)
    if not isinstance(value, dt.time) or value.tzinfo is not None:
        raise ValueError("expected a local time like 08:00 (no UTC offset)")
    return value


def _int_or_text(expected: str) -> BeforeValidator:
    """Let only whole numbers and strings reach an `int | str` union (bool is an int to
    Python), so a wrong type gets one message instead of one per union member."""

    def check(value: object) -> object:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise ValueError(f"expected {expected}")
        return value

    return BeforeValidator(check)


# TOML arrays arrive as lists: the container is lax, its items stay strict.
Array = Annotated[tuple[T, ...], Field(strict=False)]
Language = Annotated[str, AfterValidator(_check_language)]
FileName = Annotated[str, AfterValidator(_not_empty)]
LocalTime = Annotated[dt.time, BeforeValidator(_local_time)]
ChannelKey = Annotated[str | int, _int_or_text("a channel id number or @username")]
ChatKey = Annotated[int | str, _int_or_text("a chat id number or @username")]


class _Model(BaseModel):
    # strict: a TOML `true` or "100" where a number belongs is a mistake, not a 1 or a 100
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True, strict=True)


class ChannelConfig(_Model):
    """One followed channel: `id` is a public username or Telegram's numeric channel id."""

    id: ChannelKey
    category: str = "uncategorised"
    languages: Array[Language] = ()
    priority: Literal["high", "normal", "low"] = "normal"
    alert: bool = True
    join: bool = True
    name: str | None = None

    @field_validator("id")
    @classmethod
    def _check_id(cls, value: str | int) -> str | int:
        if isinstance(value, int):
            return _channel_number(value)
        value = bare_username(value)
        if not USERNAME.match(value):
            raise ValueError(f"{value!r} is not a Telegram username (5-32 letters, digits, _)")
        return value

    @field_validator("category")
    @classmethod
    def _check_category(cls, value: str) -> str:
        if not LABEL.match(value):
            raise ValueError(f"{value!r}: use a lower-case label like partisan, official")
        return value

    @property
    def numeric_id(self) -> int | None:
        return self.id if isinstance(self.id, int) else None

    @property
    def username(self) -> str | None:
        return self.id if isinstance(self.id, str) else None


def _channel_number(value: int) -> int:
    """The bare channel id of 1234567890 or of its Bot API form -1001234567890; other
    negative ids are basic groups, not channels."""
    if 0 < value <= MAX_ID:
        return value
    bare = -value - BOT_API_OFFSET
    if 0 < bare < BOT_API_MAX_CHANNEL:
        return bare
    raise ValueError(
        f"{value} is not a channel id: write it as 1234567890 or, in the Bot API form, "
        "-1001234567890"
    )


class ClaimConfig(_Model):
    id: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=3, max_length=2000)
    title: str | None = None
    source: str | None = None
    source_url: str | None = None

    def to_claim(self) -> Claim:
        return Claim(
            id=self.id,
            text=self.text,
            title=self.title,
            source=self.source or "config",
            source_url=self.source_url,
        )


class LiveBlogConfig(_Model):
    url: Annotated[str, Field(pattern=r"^https?://")]
    poll_minutes: float = Field(default=5, gt=0, le=1440)
    language: Language = "en"
    name: str | None = None


class DestinationConfig(_Model):
    type: Literal["telegram", "console", "jsonl"]
    chat: ChatKey | None = None
    path: str | None = None

    @model_validator(mode="after")
    def _check_target(self) -> DestinationConfig:
        if self.type == "telegram":
            if not self.chat:  # also 0 and "": no chat, nowhere to send
                raise ValueError("a telegram destination needs chat (a chat id or @username)")
            if self.chat in PLACEHOLDER_CHATS:
                raise ValueError(f"chat {self.chat} is the example value: put your chat id")
        if self.type == "jsonl" and not self.path:
            raise ValueError("a jsonl destination needs path")
        return self


class QuietHours(_Model):
    """Local times (the digest's time zone) between which alerts wait for the digest."""

    start: LocalTime
    end: LocalTime

    @model_validator(mode="after")
    def _check_span(self) -> QuietHours:
        if self.start == self.end:
            raise ValueError("start and end are equal: leave quiet_hours out instead")
        return self

    def covers(self, moment: dt.time) -> bool:
        if self.start < self.end:
            return self.start <= moment < self.end
        return moment >= self.start or moment < self.end  # spans midnight


class AlertsConfig(_Model):
    threshold: float | None = Field(default=None, ge=0, le=1)
    destinations: Array[DestinationConfig] = (DestinationConfig(type="console"),)
    cooldown_minutes: float = Field(default=0, ge=0)
    # Posts dated this long after a claim's publication carry it rarely: 10 of the 677
    # labelled ru-news posts (benchmarks/data/realchatter) against 136 of 238 wrong alerts.
    claim_days: float = Field(default=3, ge=0)
    link_previews: bool = False
    via: Literal["bot", "user"] = "bot"
    quiet_hours: QuietHours | None = None
    analysts: Array[int] = ()

    @property
    def chats(self) -> tuple[int | str, ...]:
        return tuple(d.chat for d in self.destinations if d.type == "telegram" and d.chat)


class TranslationConfig(_Model):
    backend: Literal["google", "libre", "deepl", "microsoft", "mymemory", "none"] = "google"
    target: Language = "en"
    url: str | None = None
    timeout_s: float = Field(default=20, gt=0, le=300)
    max_concurrency: int = Field(default=4, ge=1, le=64)
    rate_per_s: float = Field(default=5, gt=0)

    @model_validator(mode="after")
    def _check_url(self) -> TranslationConfig:
        if self.backend == "libre" and not self.url:
            raise ValueError("backend 'libre' needs url (your LibreTranslate server)")
        return self


class DigestConfig(_Model):
    time: LocalTime = dt.time(8, 0)
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _check_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a folder, too long
            raise ValueError(f"{value!r} is not an IANA time zone like Europe/Kyiv") from None
        return value


class MatchingConfig(_Model):
    embedder: Literal["use-multilingual", "use-multilingual-fp32", "none"] = "use-multilingual"
    # a second encoder for posts with English text (their own or a translation): better
    # English ranking for 7 ms a post and 60 MB. "auto": on when translation is, since
    # every post then has English text; without it, such posts are rare on these channels
    english_embedder: Literal["auto", "minilm", "none"] = "auto"
    top_k: int = Field(default=3, ge=1, le=50)
    # A match is the calibrated probability that the post carries the claim: below this
    # it is unrelated chatter, not worth a row (on ru-news, 73% of top-3 matches).
    min_score: float = Field(default=0.05, ge=0, le=1)


class DedupConfig(_Model):
    window_hours: float = Field(default=48, gt=0, le=24 * 30)


class TelegramConfig(_Model):
    session: FileName = "claimwatch.session"
    reconcile_minutes: float = Field(default=5, gt=0)
    history_on_join: int = Field(default=100, ge=0)


class StorageConfig(_Model):
    path: FileName = "claimwatch.db"


class Config(_Model):
    channels: Array[ChannelConfig] = ()
    claims: Array[ClaimConfig] = ()
    liveblogs: Array[LiveBlogConfig] = ()
    alerts: AlertsConfig = AlertsConfig()
    translation: TranslationConfig = TranslationConfig()
    matching: MatchingConfig = MatchingConfig()
    dedup: DedupConfig = DedupConfig()
    digest: DigestConfig = DigestConfig()
    telegram: TelegramConfig = TelegramConfig()
    storage: StorageConfig = StorageConfig()

    @model_validator(mode="after")
    def _check_unique(self) -> Config:
        _reject_duplicates("channels", [str(c.id).lower() for c in self.channels])
        _reject_duplicates("claims", [c.id for c in self.claims])
        _reject_duplicates("liveblogs", [b.url for b in self.liveblogs])
        return self

    def hints_for(self, channel: int | str | None) -> tuple[str, ...]:
        found = self.channel(channel)
        return found.languages if found else ()

    def channel(self, key: int | str | None) -> ChannelConfig | None:
        """The configured channel for a numeric id or username (case-insensitive)."""
        if key is None:
            return None
        wanted = key.lower() if isinstance(key, str) else key
        for channel in self.channels:
            mine = channel.id.lower() if isinstance(channel.id, str) else channel.id
            if mine == wanted:
                return channel
        return None


def _reject_duplicates(field: str, keys: list[str]) -> None:
    seen: set[str] = set()
    for index, key in enumerate(keys):
        if key in seen:
            raise ValueError(f"{field}[{index}]: {key!r} is listed twice")
        seen.add(key)


def load_config(path: Path | str) -> Config:
    """Read and validate a config file; raise ConfigError with a one-line reason."""
    path = Path(path)
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    return parse_config(data, source=str(path))


def parse_config(data: dict, *, source: str = "config") -> Config:
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{source}: {_describe(exc)}") from None


def _describe(exc: ValidationError) -> str:
    errors = exc.errors()
    first = errors[0]
    where = _dotted(first["loc"])
    message = first["msg"].removeprefix("Value error, ")
    if first["type"] == "extra_forbidden":
        message = "unknown field (check the spelling against config.example.toml)"
    more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
    return f"{where}: {message}{more}" if where else f"{message}{more}"


def _dotted(loc: tuple) -> str:
    parts: list[str] = []
    for item in loc:
        if isinstance(item, int):
            parts[-1] = f"{parts[-1]}[{item}]" if parts else f"[{item}]"
        elif item not in ("function-after", "function-before"):
            name = str(item)
            parts.append(name if name.isprintable() else repr(name))  # keep one line
    return ".".join(parts)
