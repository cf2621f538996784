"""Does a post repeat a claim, or deny it? (en/ru/uk cue phrases)

Officials walk claims back in set phrases ("information does not correspond to reality",
"фейк", "не підтверджується"), so cue matching catches most denials; a post that only
hedges ("unconfirmed", "якобы") is left unclear rather than read as support.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitors.matching.text import terms
from monitors.models import Stance

_REFUTE = (
    # English
    r"\bfake\b",
    r"\bhoax\b",
    r"\bdebunk",
    r"\bden(?:y|ies|ied|ial|ying)\b",
    r"\brefut",
    r"\bnot (?:been )?(?:confirmed|true|happen)",
    r"\bno truth\b",
    r"\bfalse(?:ly)?\b",
    r"\bdisinformation\b",
    r"\bmisinformation\b",
    r"\bwalked back\b",
    r"\bretract",
    r"\bdoes not correspond to reality\b",
    r"\bnever happened\b",
    r"\buntrue\b",
    r"\bunfounded\b",
    r"\bbaseless\b",
    r"\bfabricat",
    # Russian
    r"\bфейк",
    r"\bопроверг",
    r"\bопроверж",
    r"\bне подтвержда",
    r"\bне подтвердил",
    r"\bне соответству\w* действительности",
    r"\bдезинформац",
    r"\bложн\w*",
    r"\bложь\b",
    r"\bвбро[сш]",
    r"\bнеправд",
    r"\bне соответствует",
    r"\bне имеет отношения",
    r"\bвыдумк",  # «чистой выдумкой»
    r"\bголословн",
    # Ukrainian
    r"\bфейк",
    r"\bспрост",
    r"\bне підтверджу",
    r"\bне підтвердил",
    r"\bнеправд",
    r"\bне відповіда\w* дійсності",
    r"\bдезінформац",
    r"\bвигадк",
    r"\bвигадан",
    r"\bбезпідставн",
    r"\bбрехн",
)
_HEDGE = (
    # the live blogs' own formula, and the agencies'
    r"\bcould not (?:be )?(?:independently )?(?:verif|confirm)",
    r"\bне удалось (?:независимо )?(?:проверить|подтвердить)",
    r"\bне вдалося (?:незалежно )?(?:перевірити|підтвердити)",
    r"\bunconfirmed\b",
    r"\bunverified\b",
    r"\breportedly\b",
    r"\ballegedly\b",
    r"\brumou?r",
    r"\bякобы\b",
    r"\bпредположительно\b",
    r"\bне исключ",
    r"\bслух",
    r"\bпо неподтвержденн",
    r"\bнібито\b",
    r"\bймовірно\b",
    r"\bчутк",
    r"\bза неперевірен",
)
# "No information about X" denies a claim about X, but a report of a strike that adds
# "информации о пострадавших нет" (no word of casualties) does not deny the strike: these
# count only when X is something the claim speaks of.
# Each alternative has one group, X; a text without one of _ABSENCE_WORDS has none.
_ABSENCE = re.compile(
    "|".join(
        (
            r"\bno (?:information|evidence|sign|confirmation) (?:of|about|on|that) (\w+(?: \w+)?)",
            r"\bнет (?:никакой )?информации (?:о|об|про) (\w+(?: \w+)?)",
            r"\bинформаци\w* (?:о|об|про) (\w+(?: \w+)?) нет\b",
            r"\bне располага\w* (?:\w+ )?информаци\w* (?:о|об) (\w+(?: \w+)?)",
            r"\bнемає (?:жодної )?інформації (?:про|щодо) (\w+(?: \w+)?)",
            r"\bінформаці\w* (?:про|щодо) (\w+(?: \w+)?) немає\b",
        )
    ),
    re.IGNORECASE,
)
_ABSENCE_WORDS = (
    "информаци",
    "інформаці",
    "no information",
    "no evidence",
    "no sign",
    "no confirmation",
)
# Characters re.IGNORECASE equates with a Latin or Cyrillic letter although str.lower()
# does not turn them into it (dotted/dotless i, long s, old Cyrillic letter forms).
_FOLD_EXCEPTIONS = re.compile("[\u0130\u0131\u017f\u1c80-\u1c88]")


class _Cues:
    """A case-insensitive alternation of `\\b`-anchored cue patterns, searched fast.

    re tries every alternative at every position (60 us for a 600-character post), and
    most posts hold no cue at all: a text whose lower-cased form contains none of the
    patterns' literal beginnings cannot match, and that takes a few `in` checks."""

    def __init__(self, patterns: tuple[str, ...]) -> None:
        self._regex = re.compile("|".join(patterns), re.IGNORECASE)
        self._starts = tuple(sorted({_literal_start(p) for p in patterns}))

    def search(self, text: str) -> re.Match[str] | None:
        if not _FOLD_EXCEPTIONS.search(text):
            folded = text.lower()
            if not any(start in folded for start in self._starts):
                return None
        return self._regex.search(text)


def _literal_start(pattern: str) -> str:
    """The letters a pattern must start with after its `\\b` ("rumou?r" -> "rumo")."""
    found = re.match(r"\\b([^\\()\[\]?*+{|.]*)(.?)", pattern)
    if found is None:
        raise ValueError(f"cue pattern must start with \\b: {pattern}")
    letters, after = found.groups()
    return letters[:-1] if after in ("?", "*", "{") else letters


_REFUTE_CUES = _Cues(_REFUTE)
_HEDGE_CUES = _Cues(_HEDGE)


# A post's cues are asked for once for the post and once per claim it matched, all within
# its batch: a small cache serves that without keeping thousands of post texts alive.
@lru_cache(maxsize=512)
def refutation_cue(text: str) -> str | None:
    """The first denial phrase in `text`, if any (shown to the analyst as evidence)."""
    found = _REFUTE_CUES.search(text.replace("ё", "е").replace("Ё", "Е"))
    return found.group() if found else None


def denial(post: str, claim: str) -> str | None:
    """The phrase by which `post` denies `claim`: a denial cue, or "no information about
    X" where X is something the claim speaks of (shown to the analyst as evidence)."""
    cue = refutation_cue(post)
    if cue is not None:
        return cue
    absences = _absences(post)
    if not absences:
        return None
    spoken_of = set(terms(claim))
    return next((phrase for phrase, what in absences if what & spoken_of), None)


@lru_cache(maxsize=512)
def _absences(text: str) -> tuple[tuple[str, frozenset[str]], ...]:
    """Each "no information about X" phrase of a text, with the terms of X."""
    text = text.replace("ё", "е").replace("Ё", "Е")
    folded = text.lower()
    if not _FOLD_EXCEPTIONS.search(text) and not any(w in folded for w in _ABSENCE_WORDS):
        return ()
    return tuple(
        (found.group(), frozenset(terms(found[found.lastindex])))
        for found in _ABSENCE.finditer(text)
    )


def stance(post: str, claim: str, *, matched: bool) -> Stance:
    """Stance of a post towards a claim it matched; `matched` says whether it alerted.

    A claim that is itself a denial ("the Kremlin denied ...") is supported by a post
    that denies, so a denial only refutes a claim that asserts."""
    if denial(post, claim):
        if not (refutation_cue(claim) or _absences(claim)):
            return "refutes"
        return "supports" if matched else "unclear"
    if _hedged(post) or not matched:
        return "unclear"
    return "supports"


@lru_cache(maxsize=512)
def _hedged(text: str) -> bool:
    return _HEDGE_CUES.search(text) is not None
