"""schema.org LiveBlogPosting in JSON-LD, tolerant of the JSON real sites publish.

Strict parsing first (with raw control characters allowed); on failure json-repair, which
copes with trailing commas, comments, unescaped newlines and several objects in one script.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterator
from typing import Any

import json_repair
from selectolax.lexbor import LexborHTMLParser

from monitors.liveblog.fields import body_text, make_update, parse_datetime
from monitors.liveblog.htmltext import plain
from monitors.liveblog.models import Update

log = logging.getLogger(__name__)

_OPENERS = re.compile(r"\s*(?://\s*)?(?:<!\[CDATA\[|<!--)")
_CLOSERS = re.compile(r"(?://\s*)?(?:\]\]>|-->)\s*$")
# Real pages nest the blog a few levels deep; a limit keeps hostile nesting cheap.
MAX_DEPTH = 12
# json-repair is pure Python (~0.1 s per MB, more on hostile input); bigger broken scripts
# are skipped rather than risk a slow poll.
MAX_REPAIR_CHARS = 2_000_000
# A "\ud800" escape without its other half parses to a lone surrogate.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _unwrap(text: str) -> str:
    """Without the CDATA or comment wrapper old CMSes put around script content."""
    if opener := _OPENERS.match(text):
        text = text[opener.end() :]
    if closer := _CLOSERS.search(text, max(0, len(text) - 64)):
        text = text[: closer.start()]
    return text.strip()


def load_json(text: str) -> Any:
    """Parse one script's JSON, repairing it if needed; None when nothing usable."""
    text = _unwrap(text)
    if not text:
        return None
    data = _parse(text)
    if data is not None and _SURROGATE_ESCAPE.search(text):
        return _whole_characters(data)
    return data


def _whole_characters(data: Any) -> Any:
    """`data` with each lone surrogate (no encoder takes one) replaced by U+FFFD."""
    dumped = json.dumps(data, ensure_ascii=False).encode("utf-16", "surrogatepass")
    return json.loads(dumped.decode("utf-16", "replace"))


def _parse(text: str) -> Any:
    try:
        return json.loads(text, strict=False)
    except (ValueError, RecursionError):
        pass
    if len(text) > MAX_REPAIR_CHARS:
        log.info("broken JSON-LD of %d chars left unrepaired", len(text))
        return None
    try:
        return json_repair.loads(text)
    except Exception as exc:  # json-repair documents no exception contract
        log.debug("unrepairable JSON-LD: %s", exc)
        return None


def scripts(tree: LexborHTMLParser) -> Iterator[Any]:
    """The parsed content of every ld+json script on the page."""
    for node in tree.css("script[type]"):
        kind = (node.attributes.get("type") or "").split(";")[0].strip().lower()
        if kind == "application/ld+json":
            data = load_json(node.text(deep=True) or "")
            if data not in (None, ""):
                yield data


def _has_type(obj: dict[str, Any], name: str) -> bool:
    kinds = obj.get("@type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    return any(
        isinstance(k, str) and k.rsplit("/", 1)[-1].rsplit(":", 1)[-1] == name for k in kinds
    )


def objects(data: Any, depth: int = 0) -> Iterator[dict[str, Any]]:
    """Every JSON object in `data`, outer first (walks @graph, lists and values)."""
    if depth > MAX_DEPTH:
        return
    if isinstance(data, list):
        for item in data:
            yield from objects(item, depth + 1)
    elif isinstance(data, dict):
        yield data
        for value in data.values():
            if isinstance(value, dict | list):
                yield from objects(value, depth + 1)


def _as_list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [] if value is None else [value]


def _update(entry: dict[str, Any], page_url: str) -> Update | None:
    text = body_text(entry.get("articleBody") or entry.get("text") or entry.get("description"))
    if not text:
        return None
    return make_update(
        own_id=entry.get("@id") or entry.get("identifier"),
        own_url=entry.get("url"),
        page_url=page_url,
        published=parse_datetime(entry.get("datePublished") or entry.get("dateCreated")),
        headline=plain(entry.get("headline") or entry.get("name")),
        text=text,
    )


def parse_jsonld(tree: LexborHTMLParser, url: str) -> list[Update]:
    """The updates of every LiveBlogPosting on the page, in page order."""
    updates: list[Update] = []
    for data in scripts(tree):
        for obj in objects(data):
            if not _has_type(obj, "LiveBlogPosting"):
                continue
            for entry in _as_list(obj.get("liveBlogUpdate")):
                if isinstance(entry, dict) and (update := _update(entry, url)):
                    updates.append(update)
    return updates
