"""schema.org BlogPosting in microdata (itemscope/itemprop markup)."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from monitors.liveblog.fields import make_update, parse_datetime
from monitors.liveblog.htmltext import fold, html_blocks
from monitors.liveblog.junk import clean_blocks
from monitors.liveblog.models import Update


def _is_posting(node: LexborNode) -> bool:
    kind = (node.attributes.get("itemtype") or "").strip().rstrip("/")
    return kind.rsplit("/", 1)[-1] == "BlogPosting"


def _own(scope: LexborNode, prop: str) -> LexborNode | None:
    """The first `prop` of this item, not of an item nested in it."""
    for node in scope.css(f'[itemprop~="{prop}"]'):
        owner = node.parent
        while (
            owner is not None
            and owner.mem_id != scope.mem_id
            and "itemscope" not in owner.attributes
        ):
            owner = owner.parent
        if owner is None or owner.mem_id == scope.mem_id:
            return node
    return None


def _value(node: LexborNode | None) -> str | None:
    """An itemprop's value as the microdata spec reads it: attribute first, then text."""
    if node is None:
        return None
    attrs = node.attributes
    for key in ("content", "datetime", "href", "src"):
        if attrs.get(key):
            return attrs[key]
    return fold(node.text(deep=True)) or None


def _update(scope: LexborNode, page_url: str) -> Update | None:
    body = _own(scope, "articleBody") or _own(scope, "text")
    text = "\n".join(clean_blocks(html_blocks(body))) if body is not None else ""
    if not text:
        return None
    return make_update(
        own_id=scope.attributes.get("itemid") or _id_fragment(scope),
        own_url=_value(_own(scope, "url")),
        page_url=page_url,
        published=parse_datetime(_value(_own(scope, "datePublished"))),
        headline=_value(_own(scope, "headline")),
        text=text,
    )


def _id_fragment(scope: LexborNode) -> str | None:
    element_id = scope.attributes.get("id")
    return f"#{element_id}" if element_id else None


def parse_microdata(tree: LexborHTMLParser, url: str) -> list[Update]:
    """Every BlogPosting item with a body, in page order."""
    postings = (node for node in tree.css("[itemscope][itemtype]") if _is_posting(node))
    return [update for node in postings if (update := _update(node, url))]
