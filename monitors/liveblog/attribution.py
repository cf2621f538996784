"""Who a sentence says makes the claim: "X said", "according to X", "..., X told Reuters"."""

from __future__ import annotations

import re

_SPEECH = (
    r"(?:said|says|say|told|tells|reported|reports|claimed|claims|announced|stated|added|wrote"
    r"|writes|posted|confirmed|denied|denies|warned|insisted|alleged|estimated|tweeted|noted"
    r"|declared|acknowledged|quoted|cited|promised|vowed|accused)"
)
# Verbs that can precede their speaker: "..., said the governor" (never "told").
_INVERTIBLE = r"(?:said|says|reported|reports|added|wrote|writes|claimed|stated|announced|noted)"
# "told reporters", "told Reuters", "said on Telegram", "said in a statement".
_VERB_TAIL = (
    rf"(?:has |have |had )?(?:\w+ly |later |also |earlier |again |then |previously )?"
    rf"{_SPEECH}(?: (?:reporters|journalists|the [a-z]+|[A-Z][\w.-]+))?"
    r"(?: (?:on|in|to|at|of|about|after|late|early|earlier|later)\b[^,.;:\"“”]{0,40})?"
)
_END = r"[.!]?[\"”’]?\s*$"
_ACCORDING = re.compile(r"\baccording to (?P<who>[^,.;:“”\"]+?)(?=[,.;:]|$|\s+(?:on|in)\s)", re.I)
_TAIL_INVERTED = re.compile(rf"[,“”\"]\s*{_INVERTIBLE}\s+(?P<who>[^,.;“”\"]+?)(?:,[^,]*)?{_END}")
_TAIL = re.compile(rf"[,“”\"]\s*(?P<who>[^,.;“”\"]{{2,80}}?)\s+{_VERB_TAIL}{_END}")
_LEADING = re.compile(rf"^(?P<who>[^;:“”\"]{{2,100}}?)\s+{_VERB_TAIL}\b")
_INTRO = re.compile(
    r"^(?:(?:on|in|late|early|earlier|later|meanwhile|separately|however|but|and|also|now)\b"
    r"[^,]*,\s*|(?:but|and|meanwhile|however|separately|also)\s+)+",
    re.I,
)
_ARTICLE = re.compile(r"^(?:The|A|An)\b")
_PRONOUNS = frozenset(("he", "she", "they", "it", "we", "i"))
# A speaker is a name (capitalised) or one of the roles news copy quotes.
_ROLE = re.compile(
    r"\b(?:governor|spokes(?:man|woman|person)|ministry|minister|officials?|agenc(?:y|ies)"
    r"|military|army|president|police|authorities|commander|group|sources?|witnesses|residents"
    r"|media|channel|analysts?|commentator|blogger|mayor|prosecutors?|service|office|kremlin"
    r"|government|staff|forces|council|administration|chief|head|leader|founder|envoy"
    r"|ambassador|secretary|general|advis[eo]r|aide|deputy|representative|lawmaker|newspaper"
    r"|outlet|institute|observers?|monitors?|he|she|they)\b",
    re.I,
)
# A phrase with these is a clause ("the raiders would be found"), not a speaker.
_CLAUSE = re.compile(r"\b(?:that|which|who|would|will|was|were|is|are|be|been|had|has|have)\b")
_CONNECTIVES = frozenset(("of", "the", "and", "de", "al", "for", "in", "on"))
MAX_WORDS = 10


def _is_proper_name(phrase: str) -> bool:
    """ "Tass", "Dmitry Peskov", "the Kremlin": every word capitalised but connectives."""
    words = phrase.replace(",", " ").split()
    return any(w[0].isupper() for w in words) and all(
        w[0].isupper() or w.lower() in _CONNECTIVES for w in words
    )


def _speaker(who: str, *, needs_role: bool) -> str | None:
    who = _INTRO.sub("", who.strip(" ,'\"“”’")).strip()
    who = re.sub(r"[’']s$", "", who)
    if not who or len(who.split()) > MAX_WORDS or _CLAUSE.search(who):
        return None
    apposition = who.split(",")[1:]
    if any(part.strip() and not part.strip()[0].isupper() for part in apposition):
        return None  # a clause, not "The Kremlin spokesman, Dmitry Peskov"
    if needs_role and not (_ROLE.search(who) or _is_proper_name(who)):
        return None
    return _ARTICLE.sub(lambda m: m.group(0).lower(), who.strip(", "))


def attribution(sentence: str) -> str | None:
    """The speaker of `sentence` as written ("the governor of Bryansk"), or None."""
    for pattern in (_ACCORDING, _TAIL_INVERTED, _TAIL, _LEADING):
        match = pattern.search(sentence)
        # A phrase before "said" at the end of a sentence is a speaker; elsewhere it must
        # look like one.
        needs_role = pattern is _LEADING or pattern is _TAIL_INVERTED
        if match and (who := _speaker(match.group("who"), needs_role=needs_role)):
            return who
    return None


def is_pronoun(speaker: str | None) -> bool:
    return speaker is not None and speaker.lower() in _PRONOUNS
