"""RSS and Atom feeds, through feedparser (which also sanitises entry HTML)."""

from __future__ import annotations

import io
import re
from calendar import timegm
from datetime import UTC, datetime
from time import struct_time
from typing import Any

import feedparser

from monitors.liveblog.fields import body_text, make_update
from monitors.liveblog.htmltext import plain
from monitors.liveblog.models import Update

_FEED_START = re.compile(
    rb"^(?:\xef\xbb\xbf)?\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*)*<(?:rss|feed|rdf:RDF)\b",
    re.DOTALL,
)
_FEED_TYPES = ("rss", "atom", "application/xml", "text/xml", "rdf")
_CHAR_REF = re.compile(rb"&#(?:[xX]([0-9a-fA-F]+)|([0-9]+));")
_REPLACEMENT_REF = b"&#xFFFD;"


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    """By declared type when it says feed or XML, else by the first element."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind and any(name in kind for name in _FEED_TYPES):
        return True
    return bool(_FEED_START.match(body[:4096]))


def _time(entry: Any) -> datetime | None:
    # dict.get: FeedParserDict.get maps a missing "published" to "updated" with a warning.
    parsed: struct_time | None = dict.get(entry, "published_parsed") or dict.get(
        entry, "updated_parsed"
    )
    if not parsed:
        return None
    try:
        return datetime.fromtimestamp(timegm(parsed), UTC)
    except (ValueError, OverflowError, OSError):  # feedparser reads "0000-00-00" as year 0
        return None


def _body(entry: Any) -> str:
    # Atom <content> is usually the full text; <summary>/<description> the teaser.
    for content in entry.get("content") or ():
        if text := body_text(content.get("value")):
            return text
    return body_text(entry.get("summary"))


def _valid_char_ref(ref: re.Match[bytes]) -> bytes:
    hexadecimal, decimal = ref.groups()
    digits = (hexadecimal or decimal).lstrip(b"0") or b"0"
    if len(digits) > 8:  # names no character, and int() refuses a huge decimal
        return _REPLACEMENT_REF
    code = int(digits, 16 if hexadecimal else 10)
    if code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return _REPLACEMENT_REF
    return ref.group(0)


def parse_feed(body: bytes, url: str) -> list[Update]:
    """Every entry with text. A BytesIO, because feedparser opens str arguments as URLs or files.

    Character references to no character (a surrogate, past U+10FFFF) become U+FFFD first:
    feedparser's lenient parser crashes on them instead of flagging the feed.
    """
    body = _CHAR_REF.sub(_valid_char_ref, body)
    parsed = feedparser.parse(io.BytesIO(body), sanitize_html=True, resolve_relative_uris=False)
    updates: list[Update] = []
    for entry in parsed.entries:
        text = _body(entry)
        if text:
            updates.append(
                make_update(
                    own_id=entry.get("id"),
                    own_url=entry.get("link"),
                    page_url=url,
                    published=_time(entry),
                    headline=plain(entry.get("title")),
                    text=text,
                )
            )
    return updates
