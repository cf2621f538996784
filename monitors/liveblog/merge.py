"""Merging the same claim repeated across updates into one ClaimGroup.

Two claims are the same when their stemmed content words overlap by MIN_JACCARD and they
cite the same numbers ("six hostages" and "two hostages" are different claims however alike
the wording). An inverted index keeps this near-linear: only groups sharing a word are scored.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import Stemmer

from monitors.liveblog.models import ClaimGroup, ExtractedClaim

MIN_JACCARD = 0.6
_NEVER = datetime.min.replace(tzinfo=UTC)
_STEMMER = Stemmer.Stemmer("english")
_WORD = re.compile(r"[^\W_]+(?:[’'.,-][^\W_]+)*")
_NUMBER_WORDS = {
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
    "ten": "10",
    "eleven": "11",
    "twelve": "12",
}
_STOPWORDS = frozenset(
    (
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "from",
        "by",
        "with",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "that",
        "this",
        "it",
        "its",
        "their",
        "his",
        "her",
        "they",
        "he",
        "she",
        "said",
        "says",
        "say",
        "told",
        "according",
        "would",
        "will",
        "also",
        "which",
        "who",
        "after",
        "up",
    )
)


@dataclass(frozen=True, slots=True)
class _Signature:
    words: frozenset[str]
    numbers: frozenset[str]


def signature(text: str) -> _Signature:
    """Stemmed content words and the numbers (digits or words) a claim cites."""
    tokens = [t.lower().replace(",", "") for t in _WORD.findall(text)]
    numbers = frozenset(
        _NUMBER_WORDS.get(t, t) for t in tokens if t in _NUMBER_WORDS or t[:1].isdigit()
    )
    words = frozenset(_STEMMER.stemWord(t) for t in tokens if t not in _STOPWORDS)
    return _Signature(words | numbers, numbers)


def _group_id(sig: _Signature) -> str:
    return "lb-" + hashlib.sha1(" ".join(sorted(sig.words)).encode()).hexdigest()[:16]


def _oldest_first(claim: ExtractedClaim) -> tuple[bool, datetime]:
    return (claim.published is None, claim.published or _NEVER)


def merge_claims(claims: Iterable[ExtractedClaim]) -> list[ClaimGroup]:
    """Groups of near-identical claims, oldest claim first in each and groups by first sight."""
    ordered = sorted(claims, key=_oldest_first)
    heads: list[_Signature] = []
    members: list[list[ExtractedClaim]] = []
    index: defaultdict[str, list[int]] = defaultdict(list)
    for claim in ordered:
        sig = signature(claim.text)
        shared = Counter(g for word in sig.words for g in index[word])
        best = max(
            (
                (n / (len(sig.words) + len(heads[g].words) - n), g)
                for g, n in shared.items()
                if heads[g].numbers == sig.numbers
            ),
            default=(0.0, -1),
        )
        if best[0] >= MIN_JACCARD:
            members[best[1]].append(claim)
            continue
        for word in sig.words:
            index[word].append(len(heads))
        heads.append(sig)
        members.append([claim])
    return [
        ClaimGroup(_group_id(head), tuple(group))
        for head, group in zip(heads, members, strict=True)
    ]
