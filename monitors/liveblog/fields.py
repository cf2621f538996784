"""Normalising the fields every format yields: dates, ids, body text."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urldefrag, urljoin

from monitors.liveblog.htmltext import markup_blocks
from monitors.liveblog.junk import clean_blocks
from monitors.liveblog.models import Update
from storage.dates import storable


def parse_datetime(value: object) -> datetime | None:
    """ISO 8601 (schema.org) or RFC 2822 (feeds); a time without zone is taken as UTC.
    None when unreadable, or when UTC cannot hold it ("9999-12-31T23:00-05:00"): storage
    writes UTC, and one such date had failed every poll of its page."""
    if not isinstance(value, str) or not value.strip():
        return None
    value = value.strip()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        try:
            parsed = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
    parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    return parsed if storable(parsed) else None


def body_text(value: object) -> str:
    """An entry body (HTML or plain) as clean paragraphs, one a line."""
    if not isinstance(value, str):
        return ""
    return "\n".join(clean_blocks(markup_blocks(value)))


def entry_id(
    own_id: object, page_url: str, published: datetime | None, headline: str | None, text: str
) -> str:
    """The entry's own id (its URL fragment when it has one), else a content hash."""
    if isinstance(own_id, str) and own_id.strip():
        own = own_id.strip()
        return _fragment(own) or own
    stamp = published.isoformat() if published else ""
    key = [page_url, stamp, headline or ""]
    if not stamp and not headline:
        key.append(text)
    return hashlib.sha1("\x1f".join(key).encode()).hexdigest()[:16]


def _fragment(url: str) -> str:
    try:
        return urldefrag(url).fragment
    except ValueError:  # e.g. "http://[::1": unparsable, but still a usable id
        return ""


def _joined(page_url: str, own_url: str) -> str:
    """The entry's absolute URL; a broken one ("http://[x") falls back to the page's."""
    try:
        return urljoin(page_url, own_url)
    except ValueError:
        return page_url


def _is_web_url(value: object) -> bool:
    return isinstance(value, str) and value.strip().lower().startswith(("http://", "https://"))


def make_update(
    *,
    own_id: object,
    own_url: object,
    page_url: str,
    published: datetime | None,
    headline: str | None,
    text: str,
) -> Update:
    """An Update with absolute url and stable id; entries without own url get the page's."""
    if not (isinstance(own_url, str) and own_url.strip()) and _is_web_url(own_id):
        own_url = own_id  # JSON-LD @id is usually the entry's own URL
    url = page_url
    if isinstance(own_url, str) and own_url.strip():
        url = _joined(page_url, own_url.strip())
    if not (isinstance(own_id, str) and own_id.strip()) and url != page_url:
        own_id = url
    return Update(
        id=entry_id(own_id, page_url, published, headline, text),
        published=published,
        headline=headline,
        text=text,
        url=url,
    )
