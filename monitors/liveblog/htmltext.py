"""HTML to plain-text blocks, skipping page furniture by tag and by class/id.

The walk never mutates the tree and never runs scripts: `<script>` and friends are skipped
as subtrees. It is iterative, so absurdly deep markup cannot exhaust the Python stack.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitors.liveblog.depth import cap_depth

BLOCK_TAGS = frozenset(
    (
        "address",
        "article",
        "aside",
        "blockquote",
        "dd",
        "details",
        "dialog",
        "div",
        "dl",
        "dt",
        "fieldset",
        "figcaption",
        "figure",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "hr",
        "li",
        "main",
        "ol",
        "p",
        "pre",
        "section",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "ul",
    )
)
# Never content: code, embedded objects, forms, navigation.
SKIP_TAGS = frozenset(
    (
        "button",
        "canvas",
        "embed",
        "footer",
        "form",
        "head",
        "iframe",
        "input",
        "nav",
        "noscript",
        "object",
        "script",
        "select",
        "style",
        "svg",
        "template",
        "textarea",
    )
)
# class/id words that mark furniture; matched as whole words so "live-commentary" survives.
FURNITURE_WORDS = frozenset(
    (
        "ad",
        "ads",
        "advert",
        "advertisement",
        "banner",
        "breadcrumb",
        "breadcrumbs",
        "comment",
        "comments",
        "consent",
        "cookie",
        "cookies",
        "menu",
        "modal",
        "newsletter",
        "popup",
        "promo",
        "related",
        "respond",
        "share",
        "sharing",
        "sidebar",
        "signup",
        "social",
        "subscribe",
    )
)
_WORD_SPLIT = re.compile(r"[\s_\-]+")
_LOOKS_LIKE_HTML = re.compile(r"<(?:[a-zA-Z][a-zA-Z0-9]*\b[^<>]*|/[a-zA-Z][a-zA-Z0-9]*\s*)>")


@dataclass(frozen=True, slots=True)
class Block:
    """One paragraph of visible text; `link_ratio` is the share of it that sits inside links."""

    text: str
    link_ratio: float
    tag: str


def fold(text: str) -> str:
    """Collapse every run of whitespace (non-breaking spaces included) into one space."""
    return " ".join(text.split())


def parse_html(markup: str) -> LexborHTMLParser:
    """A lexbor tree of `markup`, cut off first if it nests deep enough to parse slowly."""
    return LexborHTMLParser(cap_depth(markup))


def is_furniture(node: LexborNode) -> bool:
    """Skip by tag, by `hidden`, or by a furniture word in class, id or role."""
    if node.tag in SKIP_TAGS:
        return True
    attrs = node.attributes
    if not attrs:
        return False
    if "hidden" in attrs or attrs.get("aria-hidden") == "true":
        return True
    names = f"{attrs.get('class') or ''} {attrs.get('id') or ''} {attrs.get('role') or ''}"
    return not FURNITURE_WORDS.isdisjoint(_WORD_SPLIT.split(names.lower()))


class _BlockBuilder:
    def __init__(self) -> None:
        self.blocks: list[Block] = []
        self._parts: list[str] = []
        self._link_chars = 0
        self._tag = "p"

    def add(self, text: str, in_link: bool) -> None:
        self._parts.append(text)
        if in_link:
            self._link_chars += len(fold(text))

    def line_break(self) -> None:
        self.flush(self._tag)

    def flush(self, next_tag: str = "p") -> None:
        text = fold("".join(self._parts))
        if text:
            ratio = min(1.0, self._link_chars / len(text))
            self.blocks.append(Block(text, ratio, self._tag))
        self._parts.clear()
        self._link_chars = 0
        self._tag = next_tag


def html_blocks(root: LexborNode) -> list[Block]:
    """The visible paragraphs under `root`, in document order."""
    out = _BlockBuilder()
    stack: list[tuple[Iterator[LexborNode], LexborNode]] = [(root.iter(include_text=True), root)]
    in_link = 0
    while stack:
        children, parent = stack[-1]
        child = next(children, None)
        if child is None:
            stack.pop()
            if parent.tag == "a":
                in_link -= 1
            if parent.tag in BLOCK_TAGS:
                out.flush()
            continue
        if child.is_text_node:
            out.add(child.text_content or "", in_link > 0)
            continue
        tag = child.tag
        if not child.is_element_node or is_furniture(child):
            continue
        if tag == "br":
            out.line_break()
            continue
        if tag in BLOCK_TAGS:
            out.flush(tag)
        if tag == "a":
            in_link += 1
        stack.append((child.iter(include_text=True), child))
    out.flush()
    return out.blocks


def markup_blocks(value: str) -> list[Block]:
    """Blocks of a string that may hold HTML (JSON-LD bodies often do) or plain text."""
    if not _LOOKS_LIKE_HTML.search(value):
        value = html.unescape(value)  # some CMSes escape the HTML they put in JSON-LD
    if _LOOKS_LIKE_HTML.search(value):
        body = parse_html(value).body
        return html_blocks(body) if body is not None else []
    lines = (fold(line) for line in value.splitlines())
    return [Block(line, 0.0, "p") for line in lines if line]


def plain(value: object) -> str | None:
    """A short field (headline, name) as folded plain text, or None when empty."""
    if not isinstance(value, str):
        return None
    text = " ".join(block.text for block in markup_blocks(value))
    return text or None
