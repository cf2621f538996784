"""Telegram HTML: the one place messages for the analyst chat are escaped, built and split.

Channel text is untrusted: builders take raw text and escape it themselves, so a post can
never add a tag or a link; links are only ever made by `link`, from URLs we chose.
Lengths are counted as Telegram counts them: UTF-16 code units of the text that
`telethon.extensions.html.parse` leaves once the tags are gone.
"""

from __future__ import annotations

import html
import re
from datetime import timedelta
from typing import TypeGuard

import regex

TELEGRAM_LIMIT = 4096

# C0 and C1 controls except tab and newline, and lone surrogates (Telethon would pair
# two of them into a character nobody wrote).
_CONTROLS = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ud800-\udfff]")
_LINE_BREAKS = re.compile("[\t\n\x0b\x0c\r\x1c-\x1e\x85\u2028\u2029]")
# Explicit bidi embeddings, overrides and isolates. In a one-line slot an unclosed one
# (a channel titled with U+202E) would turn the rest of the line around: the next
# channel's name, a count. Right-to-left names still read right to left without them.
_BIDI_CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
_GRAPHEME = regex.compile(r"\X", regex.S)
_LAST_SPACE = re.compile(r"\s+\S*\Z")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def strip_controls(text: str) -> str:
    """`text` without the control characters and lone surrogates `escape` drops."""
    return _CONTROLS.sub("", text)


def escape(text: str) -> str:
    """Untrusted text as safe Telegram HTML text (tags, entities and quotes escaped)."""
    return html.escape(strip_controls(text), quote=True)


def one_line(text: str) -> str:
    """`text` for a one-line slot of a layout: line breaks and tabs become spaces, and
    bidi controls that could reorder the rest of the line are dropped."""
    return _BIDI_CONTROLS.sub("", _LINE_BREAKS.sub(" ", text))


def shorten(text: str, max_chars: int) -> str:
    """`text` in at most `max_chars` characters, cut after a word and marked with "…".

    A cut that would lose more than half the room (a long URL, text without spaces) falls
    between two graphemes instead, so no emoji or accented letter is torn apart.
    """
    if len(text) <= max_chars:
        return text
    room = max_chars - 1  # for the "…"
    space = _LAST_SPACE.search(text, 0, room + 1)  # a space just after the room counts
    if space is not None and space.start() >= room // 2:
        return text[: space.start()] + "…"
    end = 0
    for grapheme in _GRAPHEME.finditer(text):
        if grapheme.end() > room:
            break
        end = grapheme.end()
    return text[:end].rstrip() + "…"


def duration(span: timedelta) -> str:
    """A lead time as analysts say it: "45 min", "2 h 05 min" (sign ignored)."""
    minutes = round(abs(span) / timedelta(minutes=1))
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def is_web_url(url: str | None) -> TypeGuard[str]:
    """Whether a URL from outside (a live blog) may become a link."""
    return url is not None and url.startswith(("https://", "http://"))


def bold(text: str) -> str:
    return f"<b>{escape(text)}</b>"


def italic(text: str) -> str:
    return f"<i>{escape(text)}</i>"


def link(text: str, url: str) -> str:
    """A link we chose to `url` (quote-escaped, so it cannot leave the attribute)."""
    return f'<a href="{html.escape(url, quote=True)}">{escape(text)}</a>'


def blockquote(text: str, *, expandable: bool = False) -> str:
    """A quote; an expandable one shows a few lines until the reader taps it."""
    opening = "<blockquote expandable>" if expandable else "<blockquote>"
    return f"{opening}{escape(text)}</blockquote>"


# A tag, an entity, or one character: the units a message may be cut between.
_ATOM = re.compile(r"<[^<>]*>|&#?\w+;|.", re.S)
_TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)")
_ANY_TAG = re.compile(r"<[^<>]*>")
# Code points looked back over for a cut between graphemes: the longest emoji sequences
# (a family, a tagged flag) have 7 to 10; a letter stacked with 40 accents is cut inside.
_GRAPHEME_LOOKBACK = 32


def split_message(html_text: str, limit: int = TELEGRAM_LIMIT) -> list[str]:
    """Cut Telegram HTML into messages whose parsed text has at most `limit` UTF-16 units.

    Cuts fall after the last newline that fits (after the last space when one line is
    longer than a message), never inside a tag or entity; tags open at a cut are closed
    at the end of one piece and reopened at the start of the next.
    """
    if utf16_len(html_text) <= limit:  # markup is never shorter than its parsed text
        return [html_text.strip("\n")] if _shows_text(html_text) else []
    atoms = _ATOM.findall(html_text)
    sizes = [_parsed_len(atom) for atom in atoms]
    pieces: list[str] = []
    stack: list[tuple[str, str]] = []  # (tag name, opening tag) open at the piece start
    start = 0
    while start < len(atoms):
        end, after = _fit(atoms, sizes, start, stack, limit)
        body = "".join(atoms[start:end]).strip("\n")
        if _shows_text(body):
            opening = "".join(tag for _, tag in stack)
            closing = "".join(f"</{name}>" for name, _ in reversed(after))
            pieces.append(opening + body + closing)
        start, stack = end, after
    return pieces


def _shows_text(html_text: str) -> bool:
    """Whether this HTML shows anything: Telegram refuses a blank message."""
    return bool(html.unescape(_ANY_TAG.sub("", html_text)).strip())


def _parsed_len(atom: str) -> int:
    """UTF-16 units `atom` adds to the parsed text (never fewer than Telethon finds)."""
    if len(atom) == 1:
        return 2 if atom > "\uffff" else 1
    if atom[0] == "&":
        return utf16_len(html.unescape(atom))
    return 0 if _TAG.match(atom) else utf16_len(atom)


def _fit(
    atoms: list[str], sizes: list[int], start: int, stack: list[tuple[str, str]], limit: int
) -> tuple[int, list[tuple[str, str]]]:
    """How far from `start` one piece goes: (end index, tags open there)."""
    open_now = stack
    size = 0
    line_end = word_end = None  # the last cuts after a newline / after a space
    for index in range(start, len(atoms)):
        atom = atoms[index]
        if size + sizes[index] > limit:
            if best := line_end or word_end:
                return best
            if index == start:
                raise ValueError(f"limit {limit} is too small for {atom!r}")
            return _grapheme_start(atoms, start, index), open_now
        size += sizes[index]
        if atom == "\n":
            line_end = (index + 1, open_now)
        elif atom == " ":
            word_end = (index + 1, open_now)
        elif len(atom) > 1 and atom[0] == "<":
            open_now = _track(open_now, atom)
    return len(atoms), open_now


def _grapheme_start(atoms: list[str], start: int, index: int) -> int:
    """`index`, or the nearest cut before it that does not split a character as shown
    (an emoji joined by U+200D, a flag, a letter and its accents); `start + 1` at least.

    Graphemes are found over the text atoms before `index` (back to a tag or an entity,
    or `_GRAPHEME_LOOKBACK` of them), since whether two code points join can depend on
    those before them."""
    run = index
    while run > max(start, index - _GRAPHEME_LOOKBACK) and len(atoms[run - 1]) == 1:
        run -= 1
    cut = run
    text = "".join(atoms[run : index + 1])
    for grapheme in _GRAPHEME.finditer(text):
        if run + grapheme.end() > index:
            break
        cut = run + grapheme.end()
    return max(cut, start + 1)


def _track(stack: list[tuple[str, str]], atom: str) -> list[tuple[str, str]]:
    """The open-tag stack after `atom`."""
    tag = _TAG.match(atom)
    if tag is None or atom.endswith("/>"):
        return stack
    closing, name = tag.group(1), tag.group(2).lower()
    if not closing:
        return [*stack, (name, atom)]
    for depth in range(len(stack) - 1, -1, -1):
        if stack[depth][0] == name:
            return stack[:depth]
    return stack
