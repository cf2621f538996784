"""Text normalisation for duplicate detection.

Reposts differ in case, emoji, links, markup and signatures but not in wording, so
dedup compares texts after folding those away.
"""

from __future__ import annotations

import re
import sys

# Applied to lower-cased text, where the only other spelling IGNORECASE would accept is
# the long s (ſ); without IGNORECASE the engine skips ahead on the first letters, 4x faster.
_URL = re.compile(r"(?:http[sſ]?://|www\.|t\.me/)\S*")
_MENTION = re.compile(r"@\w+")
# Everything that is not a letter or digit: punctuation, emoji, markdown (`**`, `__`).
# Newlines are kept, so a whole post is folded in one pass and then split into its lines;
# underscores (word characters to `re`) are made spaces first.
_NON_WORD = re.compile(r"[^\w\n]+")
# Possessive (*+, ++): nothing is matched two ways, so a long line of tags that ends in a
# word fails in linear time (with plain \s* and [\s,...]* both able to take the spaces
# between tags, 24 tags took 14 s).
_TAGS_ONLY = re.compile(
    r"^[\s,.;|•·]*+(?:(?:#\w++|@\w++|(?:https?://|www\.|t\.me/)\S*+)[\s,.;|•·]*+)++$"
)

# Letters that Russian, Ukrainian and Belarusian spell differently in cognates, dropped or
# folded so that the consonant skeletons of a word and its translation coincide.
_DROPPED = "аеёиоуыэюяіїєўьъй'’ʼ"
_FOLDED = {"з": "с", "ґ": "г", "х": "г", "щ": "ш", "ж": "ш", "д": "т", "б": "п", "в": "ф"}
_SKELETON = str.maketrans(dict.fromkeys(_DROPPED) | _FOLDED)
# The same in cp1251, which holds every letter above but ʼ: bytes.translate folds a whole
# post at C speed, where str.translate looks each character up in a dict.
_SKELETON_1251 = bytes.maketrans(
    "".join(_FOLDED).encode("cp1251"), "".join(_FOLDED.values()).encode("cp1251")
)
_DROPPED_1251 = _DROPPED.replace("ʼ", "").encode("cp1251")
SKELETON_PREFIX = 5  # characters kept of a skeleton: endings differ between the languages
# The first 3 to SKELETON_PREFIX characters of each space-separated skeleton.
_BONES = re.compile(rf"(?<![^ ])([^ ]{{3,{SKELETON_PREFIX}}})[^ ]*")
# A word with three letters that are kept.
_THREE_KEPT = re.compile(rf"(?:[{_DROPPED}]*[^ {_DROPPED}]){{3}}")


def normalize(text: str) -> str:
    """Lower-case words only: ё→е, no URLs, @mentions, emoji or punctuation."""
    return " ".join(_fold(text).split())


def content_lines(text: str) -> list[str]:
    """Normalised non-empty lines, without lines made only of hashtags, mentions or links."""
    kept = [line for line in text.splitlines() if not _TAGS_ONLY.match(line)]
    return [line for line in map(str.strip, _fold("\n".join(kept)).split("\n")) if line]


def _fold(text: str) -> str:
    """`text` lower-cased with ё→е, each URL, mention and run of non-word characters but
    newlines made one space."""
    text = _URL.sub(" ", text.lower().replace("ё", "е"))
    return _NON_WORD.sub(" ", _MENTION.sub(" ", text).replace("_", " "))


def skeleton(text: str) -> set[str]:
    """Consonant skeletons of the longer words of `text` (normalised words, one space
    apart), and its numbers: a lexical bridge between Russian, Ukrainian and Belarusian,
    whose cognates differ mostly in vowels (Харьков/Харків).

    Interned: the clusterer keeps these sets for many posts, and a few thousand
    skeletons recur in them (ru-news: 118,000 strings held, 15 MB, before)."""
    distinct = set(text.split(" "))
    out = {word for word in distinct if word.isdigit()}
    text = " ".join(distinct - out if out else distinct).replace("ʼ", "")
    try:
        bones = text.encode("cp1251").translate(_SKELETON_1251, _DROPPED_1251).decode("cp1251")
    except UnicodeEncodeError:  # a letter outside cp1251 (Latin with accents, Greek, ...)
        bones = text.translate(_SKELETON)
    out.update(map(sys.intern, set(_BONES.findall(bones))))
    return out


def has_skeleton(text: str) -> bool:
    """Whether `skeleton(text)` is non-empty, at a fraction of its cost."""
    return bool(_THREE_KEPT.search(text)) or any(map(str.isdigit, text.split(" ")))
