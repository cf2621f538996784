"""Checkable claims in live-blog updates: which sentences, who says them, how firmly.

A sentence is a claim when it reports an event or a statement (an event word or a
speaker) about something specific (a number, a name, a speaker). A short sentence that
only qualifies the one before ("The report could not be independently verified", "The
agencies later walked it back") marks that claim hedged or walked back instead of
standing alone.
"""

from __future__ import annotations

import re
from dataclasses import replace

from monitors.liveblog.attribution import attribution, is_pronoun
from monitors.liveblog.models import ExtractedClaim, Update
from monitors.liveblog.sentences import split_sentences

_HEDGE = re.compile(
    r"could not (?:be )?(?:independently |immediately )*(?:verif|confirm)"
    r"|(?:has|have|had) not (?:been )?(?:independently )?(?:verified|confirmed)"
    r"|(?:unable|not able) to (?:independently )?(?:verify|confirm)|\bun(?:confirmed|verified)\b"
    r"|\breportedly\b|\ballegedly\b|\bpurported(?:ly)?\b|without (?:providing |offering )?evidence"
    r"|no independent (?:confirmation|verification)|\bclaimed without\b"
    r"|(?:did not|didn't|does not|doesn't) (?:provide|offer|give|present) (?:any )?evidence",
    re.I,
)
_WALK_BACK = re.compile(
    r"\bwalk(?:ed|ing|s)? (?:\w+ ){0,3}back\b|\bback(?:tracked|-?pedalled)\b"
    r"|\bretract(?:ed|s|ion)\b"
    r"|\bwithdr(?:ew|awn) (?:the|its|their|that) (?:claim|report|statement)|\bdenied\b|\bdenies\b"
    r"|\browed back\b|\blater (?:said|says|clarified|corrected)\b[^.]*\b(?:not|no|never|nobody"
    r"|none|n't)\b|\bcorrected (?:the|its|their) (?:figure|report|claim|number)",
    re.I,
)
_REFERS_BACK = re.compile(
    r"^(?:it|this|that|these|those|they|he|she|the (?:\w+ ){0,2}(?:claims?|reports?|figures?"
    r"|accounts?|numbers?|information|footage|videos?|statements?|agenc(?:y|ies)))\b"
    r"|\b(?:the|this|that|these|those|such) (?:\w+ ){0,2}(?:claims?|reports?|figures?|accounts?"
    r"|information|footage|videos?)\b|\b(?:it|them) back\b",
    re.I,
)
# Live-blog furniture that reads like prose.
_EDITORIAL = re.compile(
    r"^(?:welcome\b|here(?:'s|’s| is| are) (?:what|the latest|how|our)|follow (?:our|along|the)"
    r"|this (?:live )?blog|we(?:'ll|’ll| will| are|'re|’re| have|'ve|’ve)\b|you can\b"
    r"|stay (?:tuned|with us)|good (?:morning|afternoon|evening)|hello\b|thanks? (?:you )?for"
    r"|read (?:more|our)|sign up|catch up|for more\b|refresh\b|click\b|live updates?\b"
    r"|key (?:events|developments)|what we know|summary\b|recap\b)",
    re.I,
)
_EVENT = re.compile(
    r"\b(?:kill|wound|injur|hurt|die|dead|death|attack|fire|fired|shell|strike|struck|hit|bomb"
    r"|captur|seiz|took|taken|destroy|damag|down(?:ed)?|shot|launch|intercept|cancel|postpon"
    r"|arrest|detain|evacuat|left|leave|enter|cross|advanc|retreat|withdr|liberat|occup"
    r"|threat|order|deploy|explo|blast|raid|infiltrat|hostage|sabot|casualt|erase|sign|approv"
    r"|sanction|impos|sent|deliver|suppl|pledg|visit|resign|dismiss|appoint|mobili|drone|announc"
    r"|missile|troops|forces|invad|incursion|clash|fight|battle|surrender|liquidat|falling)\w*",
    re.I,
)
_NUMBER = re.compile(
    r"\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|dozens?"
    r"|hundreds?|thousands?|millions?)\b",
    re.I,
)
_NAME = re.compile(r"(?<=[\s(“\"'-])[A-Z][\w’'-]+")
_LABEL = re.compile(
    r"^(?:[•*·▪–—-]\s*|(?:breaking|update|updated|latest|analysis)\s*[:—–-]\s*)+", re.I
)
MIN_WORDS = 5
MAX_QUALIFIER_WORDS = 16


def clean_sentence(sentence: str) -> str:
    return _LABEL.sub("", " ".join(sentence.split())).strip()


def is_claim(sentence: str, speaker: str | None) -> bool:
    """Reports an event or statement about something specific; no questions or furniture."""
    if len(sentence.split()) < MIN_WORDS or sentence.rstrip('"”’)').endswith("?"):
        return False
    if _EDITORIAL.match(sentence):
        return False
    reports = bool(speaker) or bool(_EVENT.search(sentence))
    specific = bool(speaker) or bool(_NUMBER.search(sentence)) or bool(_NAME.search(sentence))
    return reports and specific


def _qualifies_previous(sentence: str) -> bool:
    short = len(sentence.split()) <= MAX_QUALIFIER_WORDS and not re.search(r"\d", sentence)
    return short and bool(_REFERS_BACK.search(sentence))


def extract_claims(update: Update) -> list[ExtractedClaim]:
    """The checkable sentences of one update, in order (the headline is not used)."""
    claims: list[ExtractedClaim] = []
    last_speaker: str | None = None
    for raw in split_sentences(update.text):
        sentence = clean_sentence(raw)
        hedged = bool(_HEDGE.search(sentence))
        walked_back = bool(_WALK_BACK.search(sentence))
        if claims and (hedged or walked_back) and _qualifies_previous(sentence):
            previous = claims[-1]
            claims[-1] = replace(
                previous,
                hedged=previous.hedged or hedged,
                walked_back=previous.walked_back or walked_back,
            )
            continue
        speaker = attribution(sentence)
        if is_pronoun(speaker):
            speaker = last_speaker
        if not is_claim(sentence, speaker):
            continue
        last_speaker = speaker or last_speaker
        claims.append(
            ExtractedClaim(
                text=sentence,
                attribution=speaker,
                hedged=hedged,
                walked_back=walked_back,
                update_id=update.id,
                url=update.url,
                published=update.published,
            )
        )
    return claims
