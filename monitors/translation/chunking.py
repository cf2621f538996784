"""Cut long texts into pieces a translation backend accepts, and put them back together.

Backends refuse (or silently truncate) texts over a few thousand characters, so a long
post is cut at sentence ends, else between words, else anywhere. Each chunk keeps the
whitespace that followed it, so joining the translated chunks restores the paragraphs.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# A sentence ends at . ! ? … (optionally followed by a closing quote or bracket) or at a
# line break; the split point is the whitespace after it.
_SENTENCE_GAP = re.compile(r"(?<=[.!?…])\s+|(?<=[.!?…][\"'»”’)\]])\s+|\s*\n\s*")
_WORD_GAP = re.compile(r"\s+")


@dataclass(frozen=True, slots=True)
class Chunk:
    """A piece to translate and the whitespace that followed it in the original."""

    text: str
    gap: str = ""


def split_text(text: str, limit: int) -> list[Chunk]:
    """Non-empty chunks of at most `limit` characters; `join_chunks` on them gives
    `text.strip()` back."""
    if limit < 1:
        raise ValueError(f"chunk limit must be positive, got {limit}")
    text = text.strip()
    if not text:
        return []
    raws = _pack(text, limit, (_SENTENCE_GAP, _WORD_GAP))
    return [_to_chunk(raw) for raw in raws]


def join_chunks(chunks: Sequence[Chunk]) -> str:
    """Glue (translated) chunks back with the whitespace the original had between them."""
    return "".join(chunk.text + chunk.gap for chunk in chunks).strip()


def _pack(text: str, limit: int, gaps: Sequence[re.Pattern[str]]) -> list[str]:
    """Greedily fill pieces up to `limit`, cutting at the coarsest gap that fits."""
    if len(text.rstrip()) <= limit:
        return [text]
    if not gaps:
        body = text.rstrip()
        cuts = [body[i : i + limit] for i in range(0, len(body), limit)]
        cuts[-1] += text[len(body) :]
        return cuts
    out: list[str] = []
    current: list[str] = []
    size = 0  # of `current`, trailing whitespace included
    for piece in _pieces(text, gaps[0]):
        body = len(piece.rstrip())
        if size + body <= limit:
            current.append(piece)
            size += len(piece)
            continue
        if current:
            out.append("".join(current))
        if body <= limit:
            current, size = [piece], len(piece)
        else:
            *whole, last = _pack(piece, limit, gaps[1:])
            out.extend(whole)
            current, size = [last], len(last)
    if current:
        out.append("".join(current))
    return out


def _pieces(text: str, gap: re.Pattern[str]) -> list[str]:
    """Split after each gap, keeping the gap at the end of the piece before it."""
    pieces: list[str] = []
    start = 0
    for match in gap.finditer(text):
        if match.end() > start:
            pieces.append(text[start : match.end()])
            start = match.end()
    if start < len(text):
        pieces.append(text[start:])
    return pieces


def _to_chunk(raw: str) -> Chunk:
    body = raw.rstrip()
    return Chunk(body, raw[len(body) :])
