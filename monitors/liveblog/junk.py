"""What on a page is furniture or spam rather than reporting.

Applied to blocks after the HTML walk (which already skipped forms, navigation and
furniture by class name), because scraped pages and JSON-LD bodies carry the same junk as
bare text: comment-form labels, share and cookie prompts, "Related articles" lists and
link spam appended at the end.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from monitors.liveblog.htmltext import Block

# Furniture wording, matched in lower-cased short blocks only, so that a long paragraph
# that happens to mention a newsletter survives. Plain substrings and one anchored regex
# are several times faster than one case-insensitive alternation.
_FURNITURE_PHRASES = (
    "leave a reply",
    "leave a comment",
    "your email address will not be published",
    "required fields are marked",
    "save my name, email",
    "cancel reply",
    "post comment",
    "you must be logged in",
    "you must be signed in",
    "notify me of follow-up",
    "notify me of new",
    "click to share",
    "copy link",
    "we use cookies",
    "cookie policy",
    "cookie settings",
    "cookie preferences",
    "accept cookies",
    "accept all cookies",
    "by continuing to browse",
    "by continuing to use",
    "subscribe to our",
    "newsletter",
    "enter your email",
    "scroll to continue",
    "all rights reserved",
)
# Possessive: "name name ... x" fails in linear time (it took 4.6 s at 25 words).
_FURNITURE_START = re.compile(
    r"(?:(?:name|e-?mail|website|comment)[\s*]*+)++$|share(?:$|\s+(?:this|on|via)\b)"
    r"|(?:tweet|print|email)$|advertisement$|sponsored\b|sign up\b"
    r"|(?:related|read more|see also|more)\s*:|photo(?:graph)?:|(?:image|video) (?:source|caption)"
)
# Headings after which the rest of a container is never reporting.
_TRAILER = re.compile(
    r"^(?:leave a (?:reply|comment)|\d*\s*comments?|related(?: articles| stories| content"
    r"| coverage| posts)?|more on this (?:story|topic)|read more|see also|you (?:may|might) "
    r"also like|most (?:read|popular|viewed)|recommended(?: for you)?|trending)\b\W*$",
    re.IGNORECASE,
)
# Matched on lower-cased text (case-sensitive patterns run several times faster).
_GAMBLING_STRONG = re.compile(
    r"casino|jackpot|poker|roulette|blackjack|sportsbook|bookmakers?\b|free spins|slot machines?"
    r"|online slots|no deposit|bonus code|promo code|1xbet|bet365|betway|mostbet|pin-?up"
)
_GAMBLING_WEAK = re.compile(r"\b(?:bet(?:s|ting)?|slots?|odds|bonus(?:es)?|gambling|wager)\b")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)

SHORT_WORDS = 40


def is_gambling_spam(text: str) -> bool:
    lowered = text.lower()
    return bool(_GAMBLING_STRONG.search(lowered)) or len(_GAMBLING_WEAK.findall(lowered)) >= 2


def is_link_spam(text: str, link_ratio: float = 0.0) -> bool:
    """Mostly links, whether as anchors or as bare URLs in the text."""
    if link_ratio > 0.5:
        return True
    urls = _URL.findall(text)
    return len(urls) >= 3 or sum(map(len, urls)) > len(text) / 2


def is_furniture_text(text: str) -> bool:
    lowered = text.lower()
    return bool(_FURNITURE_START.match(lowered)) or any(p in lowered for p in _FURNITURE_PHRASES)


def is_junk(block: Block) -> bool:
    text = block.text
    if is_gambling_spam(text) or is_link_spam(text, block.link_ratio):
        return True
    return len(text.split()) <= SHORT_WORDS and is_furniture_text(text)


def is_trailer(text: str) -> bool:
    """A heading such as "Related articles" or "Leave a Reply" that ends the content."""
    return len(text) < 60 and bool(_TRAILER.match(text))


def clean_blocks(blocks: Iterable[Block]) -> list[str]:
    """The reporting paragraphs: stop at a trailer heading, drop junk and repeats."""
    kept: list[str] = []
    for block in blocks:
        if is_trailer(block.text):
            break
        if not is_junk(block) and (not kept or kept[-1] != block.text):
            kept.append(block.text)
    return kept
