"""A sentence splitter for English news prose: abbreviations, initials and quotations.

Rule-based on purpose: news copy is regular enough, and a model would cost more than
the rest of the live-blog stage together.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Abbreviations that never end a sentence in news copy ("Mr. Peskov", "Jan. 5").
_NEVER_FINAL = frozenset(
    (
        "mr",
        "mrs",
        "ms",
        "dr",
        "prof",
        "gen",
        "lt",
        "col",
        "maj",
        "capt",
        "cpt",
        "sgt",
        "adm",
        "cmdr",
        "gov",
        "sen",
        "rep",
        "pres",
        "st",
        "mt",
        "ft",
        "rev",
        "hon",
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "no",
        "nos",
        "vs",
        "v",
        "approx",
        "est",
        "fig",
        "e.g",
        "i.e",
        "cf",
        "ca",
        "al",
    )
)
# Abbreviations that may end one ("... sent to the U.S. The Pentagon said ...").
_MAYBE_FINAL = frozenset(("inc", "ltd", "co", "corp", "jr", "sr", "etc", "a.m", "p.m"))
_STARTERS = frozenset(
    (
        "the",
        "a",
        "an",
        "he",
        "she",
        "it",
        "they",
        "we",
        "i",
        "but",
        "and",
        "in",
        "on",
        "at",
        "this",
        "that",
        "these",
        "those",
        "there",
        "his",
        "her",
        "their",
        "its",
        "some",
        "many",
        "according",
        "meanwhile",
        "however",
        "earlier",
        "later",
        "separately",
        "after",
        "when",
    )
)
# Possessive runs, and only from the start of a punctuation run: a long run of dots
# with no space after would otherwise be retried from each of its positions.
_BOUNDARY = re.compile(r"(?<![.!?…])[.!?…]++([\"”’»)\]]*+)\s+")
_DOTTED = re.compile(r"^(?:[a-z]\.){2,}$")
_OPENERS = '"“‘«([-–—•*'
_NEXT_WORD = re.compile(rf"[{re.escape(_OPENERS)}]*+(\w*)")
# Past this length an unclosed quotation mark is taken as a typo, not a long quote.
MAX_QUOTE_CHARS = 600


def _is_abbreviation_stop(before: str, next_word: str) -> bool:
    """Whether the full stop at the end of `before` belongs to an abbreviation."""
    token = before.rsplit(None, 1)[-1].lstrip(_OPENERS).lower()
    if not token.endswith("."):
        return False
    stem = token[:-1]
    if stem in _NEVER_FINAL or (len(stem) == 1 and stem.isalpha()):
        return True
    if stem in _MAYBE_FINAL or _DOTTED.match(token):
        return next_word.lower() not in _STARTERS
    return False


def _inside_quote(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] leaves a quotation open; counted in place, not copied."""
    if end - start > MAX_QUOTE_CHARS:
        return False
    curly_open = text.count("“", start, end) > text.count("”", start, end)
    return curly_open or text.count('"', start, end) % 2 == 1


def _ends_sentence(text: str, start: int, last: int, boundary: re.Match[str]) -> bool:
    """Whether `boundary` ends the sentence begun at `start`. `last` is where the previous
    boundary ended (a space), so the word before this one lies in text[last:]."""
    after = _NEXT_WORD.match(text, boundary.end())
    assert after is not None  # every part of the pattern may be empty
    first = text[after.start(1) : after.start(1) + 1]
    if not (first.isupper() or first.isdigit()):
        return False
    if _inside_quote(text, start, boundary.end(1)):
        return False
    return not _is_abbreviation_stop(text[last : boundary.start(1)], after[1])


def _split_paragraph(text: str) -> Iterator[str]:
    """Works on positions: slicing off the rest at each boundary made a page quadratic."""
    start = last = 0  # where the current sentence starts, where the last boundary ended
    for boundary in _BOUNDARY.finditer(text):
        if _ends_sentence(text, start, last, boundary):
            yield text[start : boundary.end(1)]
            start = boundary.end()
        last = boundary.end()
    if tail := text[start:].strip():
        yield tail


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`; a line break always ends one (paragraphs, list items)."""
    return [s for line in text.splitlines() for s in _split_paragraph(line.strip()) if s]
