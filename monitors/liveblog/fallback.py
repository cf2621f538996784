"""Main text of a plain article page, when it carries no live-blog markup.

A readability-style choice of container (article markup first, else the element holding
the most paragraph text), then the same furniture and junk filters as everywhere else.
Chosen over trafilatura to keep lxml and its five companions out of the install; live
blogs mostly publish JSON-LD, so this path only has to be good on simple pages.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitors.liveblog.fields import make_update, parse_datetime
from monitors.liveblog.htmltext import fold, html_blocks, is_furniture
from monitors.liveblog.junk import clean_blocks
from monitors.liveblog.models import Update

# Below this many words a page is furniture, an error page or a teaser, not an article.
MIN_WORDS = 20
_MARKED = ('[itemprop~="articleBody"]', "article", "main", '[role="main"]')
_TIME_META = (
    'meta[property="article:published_time"]',
    'meta[itemprop="datePublished"]',
    'meta[name="date"]',
    "time[datetime]",
)


def _paragraph_chars(node: LexborNode) -> int:
    return sum(len(fold(p.text(deep=True))) for p in node.css("p"))


def _best_parent(root: LexborNode) -> LexborNode:
    """The element whose direct <p> children hold the most text."""
    scores: dict[int, tuple[int, LexborNode]] = {}
    for p in root.css("p"):
        parent = p.parent
        if parent is None or is_furniture(parent):
            continue
        score, _ = scores.get(parent.mem_id, (0, parent))
        scores[parent.mem_id] = (score + len(fold(p.text(deep=True))), parent)
    if not scores:
        return root
    return max(scores.values(), key=lambda item: item[0])[1]


def main_container(tree: LexborHTMLParser) -> LexborNode | None:
    for selector in _MARKED:
        found = [n for n in tree.css(selector) if not is_furniture(n)]
        if found:
            return max(found, key=_paragraph_chars)
    return _best_parent(tree.body) if tree.body is not None else None


def _headline(tree: LexborHTMLParser) -> str | None:
    og = tree.css_first('meta[property="og:title"]')
    if og is not None and og.attributes.get("content"):
        return fold(og.attributes["content"] or "")
    for selector in ("h1", "title"):
        node = tree.css_first(selector)
        if node is not None and (text := fold(node.text(deep=True))):
            return text
    return None


def _published(tree: LexborHTMLParser) -> str | None:
    for selector in _TIME_META:
        node = tree.css_first(selector)
        if node is not None:
            return node.attributes.get("content") or node.attributes.get("datetime")
    return None


def parse_article(tree: LexborHTMLParser, url: str) -> list[Update]:
    """The page as one update, or nothing when no article text survives the filters."""
    container = main_container(tree)
    if container is None:
        return []
    headline = _headline(tree)
    paragraphs = [p for p in clean_blocks(html_blocks(container)) if p != headline]
    text = "\n".join(paragraphs)
    if len(text.split()) < MIN_WORDS:
        return []
    return [
        make_update(
            own_id=None,
            own_url=None,
            page_url=url,
            published=parse_datetime(_published(tree)),
            headline=headline,
            text=text,
        )
    ]
