"""parse_page: any live-blog page or feed to a list of updates.

Formats are tried in order of how much structure they give: a feed is read as a feed;
an HTML page as JSON-LD LiveBlogPosting, else microdata BlogPosting, else its main text.
Input past MAX_PAGE_BYTES is cut off before parsing (the fetcher refuses such pages
anyway), so one absurd page costs bounded time and memory. Nothing is fetched or run.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import replace

from selectolax.lexbor import LexborHTMLParser

from monitors.liveblog.fallback import parse_article
from monitors.liveblog.feeds import looks_like_feed, parse_feed
from monitors.liveblog.htmltext import parse_html
from monitors.liveblog.jsonld import parse_jsonld
from monitors.liveblog.microdata import parse_microdata
from monitors.liveblog.models import Update

log = logging.getLogger(__name__)

MAX_PAGE_BYTES = 10 * 1024 * 1024

HTML_PARSERS: tuple[Callable[[LexborHTMLParser, str], list[Update]], ...] = (
    parse_jsonld,
    parse_microdata,
    parse_article,
)

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.I)


def _charset(body: bytes, content_type: str | None) -> str:
    if body.startswith(b"\xef\xbb\xbf"):
        return "utf-8-sig"
    if content_type and (found := _HEADER_CHARSET.search(content_type)):
        return found.group(1)
    if found := _META_CHARSET.search(body[:4096]):
        return found.group(1).decode("ascii")
    return "utf-8"


def decode(body: bytes, content_type: str | None = None) -> str:
    """Page bytes to text by BOM, header, <meta charset>, else UTF-8; bad bytes replaced."""
    try:
        return body.decode(_charset(body, content_type), errors="replace")
    except LookupError:
        return body.decode("utf-8", errors="replace")


def _unique_ids(updates: list[Update]) -> list[Update]:
    """Sites reuse ids now and then; a colliding entry gets its content hash appended."""
    seen: set[str] = set()
    out: list[Update] = []
    for update in updates:
        if update.id in seen:
            digest = hashlib.sha1(update.text.encode()).hexdigest()[:8]
            update = replace(update, id=f"{update.id}-{digest}")
        if update.id not in seen:
            seen.add(update.id)
            out.append(update)
    return out


def parse_page(
    body: bytes | str, *, url: str, content_type: str | None = None, max_bytes: int = MAX_PAGE_BYTES
) -> list[Update]:
    """The updates of a live-blog page or feed, in the order the page lists them."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    if len(raw) > max_bytes:
        log.warning("page %s is %d bytes; parsing the first %d", url, len(raw), max_bytes)
        raw = raw[:max_bytes]
    if looks_like_feed(raw, content_type):
        return _unique_ids(parse_feed(raw, url))
    tree = parse_html(decode(raw, content_type))
    for parser in HTML_PARSERS:
        if updates := parser(tree, url):
            return _unique_ids(updates)
    return []
