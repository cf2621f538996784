"""Read Telegram Desktop exports (``result.json``) into plain Posts.

Two shapes exist: a one-chat export (``{"name", "type", "id", "messages": [...]}``) and a full
account export (``{"chats": {"list": [chat, ...]}, "left_chats": {"list": [...]}}``).
`read_exports` accepts both and returns one `Export` per channel or supergroup; personal chats
and basic groups are skipped because their ids are not channel ids. `read_export` is the
one-chat shortcut.

The whole file is validated before anything is returned, so a caller never stores half an
export: every problem is an `ExportError` naming the file and the place.
"""

from __future__ import annotations

import json
import re
import reprlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from monitors.models import MAX_ID, ForwardOrigin, Post

# Chat types whose "id" is a channel id (the -100 peers); others would collide with them.
CHANNEL_TYPES = frozenset(
    {"public_channel", "private_channel", "public_supergroup", "private_supergroup"}
)

# "channel<id>" in forwarded_from_id; ASCII digits only, at most a 64-bit id.
_CHANNEL_REF = re.compile(r"channel([0-9]{1,19})")
# Telegram counts text in UTF-16 units, so an entity boundary can split a surrogate pair.
_SURROGATE = re.compile("[\ud800-\udfff]")

# Attachment keys that carry no media_type of their own.
_OTHER_MEDIA = (
    ("poll", "poll"),
    ("location_information", "location"),
    ("contact_information", "contact"),
)


_SHORT_REPR = reprlib.Repr()
_SHORT_REPR.maxstring = _SHORT_REPR.maxother = 80


def _shown(value: Any) -> str:
    """A value for an error message, cut short: a broken field may hold megabytes."""
    return _SHORT_REPR.repr(value)


class ExportError(ValueError):
    """An export that cannot be read; the message names the file and what is wrong."""


class _Invalid(ValueError):
    """A problem inside the JSON; read_exports prefixes it with the file name."""


@dataclass(slots=True)
class Export:
    """One chat of an export: its identity and its messages as Posts, in file order."""

    channel_id: int
    name: str
    posts: list[Post]
    username: str | None = None  # Desktop exports do not record it.
    kind: str | None = None  # The export's "type", e.g. "public_channel".


def read_exports(path: Path | str) -> list[Export]:
    """Every channel and supergroup in an export folder or ``result.json``."""
    file = _result_file(Path(path))
    data = _load(file)
    try:
        return [_export(chat) for chat in _chats(data)]
    except _Invalid as exc:
        raise ExportError(f"{file}: {exc}") from None


def read_posts(paths: Sequence[Path | str]) -> list[Post]:
    """Every post of every export, in time order across channels (so the first carrier
    of a story is its first post). Parsed in full first: a broken file stores nothing."""
    posts = [post for path in paths for export in read_exports(path) for post in export.posts]
    posts.sort(key=lambda post: (post.date, post.channel_id, post.message_id))
    return posts


def read_export(path: Path | str) -> Export:
    """The single chat of a one-chat export; an account export with several is an error."""
    exports = read_exports(path)
    if len(exports) != 1:
        raise ExportError(f"{path}: holds {len(exports)} channels, expected one")
    return exports[0]


def _result_file(path: Path) -> Path:
    file = path / "result.json" if path.is_dir() else path
    if not file.is_file():
        raise ExportError(f"{file}: no such file (expected an export folder or result.json)")
    return file


def _load(file: Path) -> Any:
    try:
        return json.loads(file.read_bytes())
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno} (char {exc.pos})"
        raise ExportError(f"{file}: broken JSON at {where}: {exc.msg}") from None
    except UnicodeDecodeError as exc:
        raise ExportError(f"{file}: not UTF-8 at byte {exc.start}") from None
    except ValueError as exc:  # e.g. an integer past Python's 4300-digit conversion limit
        raise ExportError(f"{file}: unreadable JSON: {exc}") from None
    except RecursionError:
        raise ExportError(f"{file}: JSON nested too deeply") from None
    except OSError as exc:
        raise ExportError(f"{file}: cannot read: {exc.strerror}") from None


def _chats(data: Any) -> list[dict[str, Any]]:
    if not isinstance(data, dict):
        raise _Invalid(f"top level is a JSON {type(data).__name__}, expected an object")
    if "messages" in data:
        kind = data.get("type")
        if kind is not None and not _is_channel(kind):
            raise _Invalid(f"chat type {_shown(kind)} is not a channel or supergroup")
        return [data]
    if "chats" not in data:
        raise _Invalid('top level has neither "messages" (one chat) nor "chats" (account export)')
    chats = [*_chat_list(data, "chats"), *_chat_list(data, "left_chats")]
    return [chat for chat in chats if _is_channel(chat.get("type"))]


def _is_channel(kind: Any) -> bool:
    return isinstance(kind, str) and kind in CHANNEL_TYPES


def _chat_list(data: dict[str, Any], key: str) -> list[dict[str, Any]]:
    section = data.get(key, {"list": []})
    chats = section.get("list") if isinstance(section, dict) else None
    if not isinstance(chats, list) or not all(isinstance(chat, dict) for chat in chats):
        raise _Invalid(f'"{key}" is not an object with a "list" of chats')
    return chats


def _export(chat: dict[str, Any]) -> Export:
    channel_id = _chat_id(chat.get("id"))
    name = chat.get("name")
    # Deleted chats are exported with "name": null.
    name = _whole_characters(name) if isinstance(name, str) else ""
    messages = chat.get("messages")
    if not isinstance(messages, list):
        raise _Invalid(f'chat {channel_id}: "messages" is not a list')
    posts = []
    for index, msg in enumerate(messages):
        try:
            post = _post(msg, channel_id, name)
        except _Invalid as exc:
            where = msg.get("id") if isinstance(msg, dict) and "id" in msg else f"#{index}"
            raise _Invalid(f"chat {channel_id}: message {where}: {exc}") from None
        if post is not None:
            posts.append(post)
    return Export(channel_id=channel_id, name=name, posts=posts, kind=chat.get("type"))


def _chat_id(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Invalid(f'chat "id" is {_shown(value)}, expected an integer')
    if value >= 0:
        return _bounded(value, 'chat "id"')
    # Hand-made exports sometimes use the Bot API form -100<id>; Post wants the bare id.
    text = str(value)
    if not text.startswith("-100") or text == "-100":
        raise _Invalid(f'chat "id" is {value}, expected a bare channel id')
    return _bounded(int(text[4:]), 'chat "id"')


def _bounded(value: int, what: str) -> int:
    """A Telegram id (positive) that SQLite can store (64 bits): checked while parsing, so
    a bad id fails the whole file before any of it is stored."""
    if not 0 < value <= MAX_ID:
        raise _Invalid(f"{what} is {value}, out of range for an id")
    return value


def _post(msg: Any, channel_id: int, title: str) -> Post | None:
    """The Post for one message, or None for a service or unsupported message."""
    if not isinstance(msg, dict):
        raise _Invalid("is not an object")
    if msg.get("type", "message") != "message":
        return None  # "service" and "unsupported" (which has no date) carry no post.
    message_id = msg.get("id")
    if not isinstance(message_id, int) or isinstance(message_id, bool):
        raise _Invalid('no integer "id"')
    _bounded(message_id, '"id"')
    date = _date(msg, "date")
    if date is None:
        raise _Invalid('no "date"')
    return Post(
        channel_id=channel_id,
        message_id=message_id,
        date=date,
        text=_text(msg["text"] if "text" in msg else msg.get("text_entities")),
        channel_title=title or None,
        edit_date=_date(msg, "edited"),
        forward=_forward(msg),
        media=_media(msg),
        reply_to=_optional_int(msg, "reply_to_message_id"),
    )


def _date(msg: dict[str, Any], key: str) -> datetime | None:
    """A UTC datetime from "<key>_unixtime", else from the naive ISO "<key>" read as UTC."""
    unix = msg.get(f"{key}_unixtime")
    if unix is not None:
        try:
            return datetime.fromtimestamp(int(unix), UTC)
        except (TypeError, ValueError, OverflowError, OSError):
            raise _Invalid(f'"{key}_unixtime" is {_shown(unix)}, expected seconds') from None
    iso = msg.get(key)
    if iso is None:
        return None
    try:
        parsed = datetime.fromisoformat(iso)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    except (TypeError, ValueError, OverflowError):  # Overflow: "0001-01-01T00:00+01:00"
        raise _Invalid(f'"{key}" is {_shown(iso)}, expected an ISO date') from None


def _text(value: Any) -> str:
    """Visible text of a "text" (string or list of strings and entities) or "text_entities"."""
    if value is None:
        return ""
    if isinstance(value, list):
        value = "".join(part if isinstance(part, str) else _entity_text(part) for part in value)
    if isinstance(value, str):
        return _whole_characters(value)
    raise _Invalid(f'"text" is a JSON {type(value).__name__}, expected a string or a list')


def _whole_characters(text: str) -> str:
    """Surrogate pairs split across entities joined again; a lone half becomes U+FFFD."""
    if not _SURROGATE.search(text):
        return text
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _entity_text(entity: Any) -> str:
    # A text_link's visible text is "text"; its target ("href") is not part of the post text.
    text = entity.get("text", "") if isinstance(entity, dict) else None
    if not isinstance(text, str):
        raise _Invalid(f"text entity {_shown(entity)} has no string text")
    return text


def _forward(msg: dict[str, Any]) -> ForwardOrigin | None:
    name, from_id = msg.get("forwarded_from"), msg.get("forwarded_from_id")
    if name is None and from_id is None:
        return None
    ref = _CHANNEL_REF.fullmatch(from_id) if isinstance(from_id, str) else None
    channel_id = _bounded(int(ref.group(1)), '"forwarded_from_id"') if ref else None
    name = _whole_characters(name) if isinstance(name, str) else None
    return ForwardOrigin(channel_id=channel_id, name=name)


def _media(msg: dict[str, Any]) -> tuple[str, ...]:
    if "photo" in msg:
        return ("photo",)
    if kind := msg.get("media_type"):
        return (str(kind),)
    if "file" in msg:
        return ("document",)
    return tuple(kind for key, kind in _OTHER_MEDIA if key in msg)


def _optional_int(msg: dict[str, Any], key: str) -> int | None:
    value = msg.get(key)
    if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
        raise _Invalid(f'"{key}" is {_shown(value)}, expected an integer')
    return value if value is None else _bounded(value, f'"{key}"')
