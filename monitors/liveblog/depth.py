"""Cutting off absurdly deep markup before it reaches the HTML parser.

HTML tree construction scans the stack of open elements on most block start tags, so
parse time grows with nesting depth times tag count: 50,000 nested <div>s take lexbor
seconds, and 10 MB of them would take minutes. Real pages nest well under a hundred deep,
so a page is cut off where it first nests past MAX_DEPTH (Blink caps depth for the same
reason). The scan is one C-level regex pass plus a tight loop over its tokens.
"""

from __future__ import annotations

import itertools
import re

MAX_DEPTH = 256
# Elements without end tags, or whose end tags are optional and commonly left out:
# counting those would see depth where the parser sees none.
_NOT_NESTING = frozenset(
    (
        "area",
        "base",
        "br",
        "col",
        "embed",
        "hr",
        "img",
        "input",
        "link",
        "meta",
        "param",
        "source",
        "track",
        "wbr",
        "keygen",
        "p",
        "li",
        "dt",
        "dd",
        "option",
        "optgroup",
        "tr",
        "td",
        "th",
        "thead",
        "tbody",
        "tfoot",
        "colgroup",
        "caption",
        "rb",
        "rt",
        "rp",
        "html",
        "head",
        "body",
        "image",
    )
)
# Content that is not HTML markup (scripts) or self-closes in XML style (inline SVG),
# by the token that opens it and the one that ends it.
_OPAQUE = {
    f"<{name}": f"</{name}"
    for name in (
        "script",
        "style",
        "textarea",
        "title",
        "xmp",
        "noembed",
        "noframes",
        "svg",
        "math",
        "template",
    )
} | {"<!--": "-->"}
_IGNORED = frozenset({f"<{n}" for n in _NOT_NESTING} | {f"</{n}" for n in _NOT_NESTING} | {"-->"})
# One capture group: findall then returns plain strings, several times faster than tuples.
_TOKEN = re.compile(r"(<!--|-->|</?[A-Za-z][A-Za-z0-9-]*)")


def too_deep_at(markup: str, max_depth: int = MAX_DEPTH) -> int | None:
    """Index of the token where nesting first passes max_depth, or None."""
    depth = 0
    closer = ""  # while inside a script, SVG or comment: the token that ends it
    for index, token in enumerate(_TOKEN.findall(markup)):
        token = token.lower()
        if closer:
            if token == closer:
                closer = ""
        elif token in _IGNORED:
            continue
        elif token in _OPAQUE:
            closer = _OPAQUE[token]
        elif token[1] == "/":
            depth = depth - 1 if depth else 0
        else:
            depth += 1
            if depth > max_depth:
                return index
    return None


def cap_depth(markup: str, max_depth: int = MAX_DEPTH) -> str:
    """`markup` itself, or its prefix up to where it first nests past max_depth."""
    index = too_deep_at(markup, max_depth)
    if index is None:
        return markup
    match = next(itertools.islice(_TOKEN.finditer(markup), index, None))
    return markup[: match.start()]
