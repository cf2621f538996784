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


def looks_like_feed(body: bytes, content_type: str | None) -> bool:
    """By declared type when it says feed or XML, else by the first element."""
    kind = (content_type or "").split(";")[0].strip().lower()
    if kind and any(name in kind for name in _FEED_TYPES):
        return True
    return bool(_FEED_START.match(body[:4096]))


def _time(entry: Any) -> datetime | None:
    parsed: struct_time | None = entry.get("published_parsed") or entry.get("updated_parsed")
    return datetime.fromtimestamp(timegm(parsed), UTC) if parsed else None


def _body(entry: Any) -> str:
    # Atom <content> is usually the full text; <summary>/<description> the teaser.
    for content in entry.get("content") or ():
        if text := body_text(content.get("value")):
            return text
    return body_text(entry.get("summary"))


def parse_feed(body: bytes, url: str) -> list[Update]:
    """Every entry with text. A BytesIO, because feedparser opens str arguments as URLs or files."""
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
