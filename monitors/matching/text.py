"""Turn post and claim text into index terms (en/ru/uk/be).

Posts are tweets and Telegram messages: links, @handles and #CamelCaseTags carry words,
so they are unpacked rather than dropped. Numbers are kept as terms because casualty
counts, dates and unit numbers are often what ties a post to a claim.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterator
from functools import lru_cache, partial

import Stemmer

from monitors.matching.glossary import english_term, english_word
from monitors.matching.stopwords import STOP_WORDS

_URL = re.compile(r"(?:https?://|www\.|pic\.twitter\.com/|t\.me/)\S+", re.IGNORECASE)
# The footer of an embedded tweet: "— Author (@handle) March 2, 2023".
_TWEET_FOOTER = re.compile(r"\s*[—–-]+\s*[^—\n]{0,80}\(@\w+\)\s+\w+ \d{1,2}, \d{4}\s*$")
_HANDLE = re.compile(r"[@#](\w+)")
# Split CamelCase and letter/digit boundaries inside handles and hashtags.
_CAMEL = re.compile(r"(?<=[a-zа-яёіїєґў])(?=[A-ZА-ЯЁІЇЄҐЎ])|(?<=[^\W\d])(?=\d)|(?<=\d)(?=[^\W\d])")
# A word: letters/digits, keeping inner apostrophes (don't, п'ять) and digit separators.
_WORD = re.compile(r"\d+(?:[.,]\d+)*|[^\W\d_]+(?:['’ʼ][^\W\d_]+)*")
_UK_LETTERS = frozenset("іїєґ")
_BE_LETTERS = frozenset("ўі")

# PyStemmer: the Snowball C stemmers, the same stems as pure-Python snowballstemmer on
# the 193,000 words of ru-news and CheckThat!, at 1 us a Russian word instead of 19.
# Their own 10,000-word caches are off: the token caches below hold what repeats (4 MB).
_SNOWBALL = {
    "en": Stemmer.Stemmer("english", 0),
    "ru": Stemmer.Stemmer("russian", 0),
}
# Ukrainian and Belarusian have no Snowball stemmer: strip the common inflections,
# longest first, keeping a stem of at least four letters.
_UK_ENDINGS = (
    "ами ями ові еві ів їв ах ях ам ям ом ем ою ею ого ому ими ій ої ий их им ім "
    "ться ись ати ити ала ало али ила ило или ував ують ють ить ать ав ив ла ло ли ти"
)
_BE_ENDINGS = "амі ямі аму ага ымі ых ым ай ой аў яў ае ая ы"
_ONE_LETTER_ENDINGS = "а я у ю і и е є о ь й ў"
_SLAVIC_ENDINGS = tuple(
    sorted(set(f"{_UK_ENDINGS} {_BE_ENDINGS} {_ONE_LETTER_ENDINGS}".split()), key=len, reverse=True)
)


def clean(text: str) -> str:
    """Drop links, unpack @handles/#tags into words, fold case and ё."""
    text = _URL.sub(" ", text)
    return _fold(_HANDLE.sub(lambda m: " " + _CAMEL.sub(" ", m.group(1)) + " ", text))


_RUN_TOGETHER = re.compile(r"[@#]([A-Za-z][a-z]{7,})\b")  # #Fyrefestival, @georgesoros
_MIN_PART = 4


def run_together_terms(text: str, known: Callable[[str], bool]) -> list[str]:
    """Terms of the lower-case tags and handles that join two `known` terms: #fyrefestival
    gives fyre and festiv, #stonemanshooting stoneman and shoot. Camel case is split by
    `clean` already; joined lower case needs a vocabulary to find the seam."""
    found = []
    for tag in map(str.lower, _RUN_TOGETHER.findall(text)):
        for cut in range(len(tag) - _MIN_PART, _MIN_PART - 1, -1):  # longest first part first
            parts = [stem(tag[:cut], "en"), stem(tag[cut:], "en")]
            if all(known(part) for part in parts):
                found += parts
                break
    return found


def _fold(text: str) -> str:
    return text.lower().replace("ё", "е").replace("ʼ", "'").replace("’", "'")


def embed_text(text: str) -> str:
    """What a sentence embedding should see: the message without links or tweet footer."""
    # A footer holds "(@"; looking for one in every post cost 20 us a post.
    body = _TWEET_FOOTER.sub("", text) if "(@" in text else text
    body = _URL.sub(" ", body).strip()
    return body or text


GLOSSED = frozenset({"uk", "be"})  # languages the sentence encoder was never trained on


def for_encoder(text: str, lang: str) -> str:
    """What the sentence encoder reads of a post in `lang`, for dedup and matching alike:
    `embed_text`, Ukrainian and Belarusian glossed."""
    body = embed_text(text)
    return gloss(body, lang) if lang in GLOSSED else body


def gloss(text: str, lang: str) -> str:
    """`text` with each word the glossary knows written as its English word ("russian
    volunteer entered на Брянщину, report про 6 hostage у village Любечане").

    For the sentence encoder, which was not trained on Ukrainian: on the cross-lingual
    check set, glossed Ukrainian posts were closest to their own claim for 86% of posts,
    against 62% as written (Russian posts: 80% either way)."""
    hint = _stem_side(lang)

    def english(found: re.Match[str]) -> str:
        term = english_term(stem(_fold(found.group()), hint))
        return found.group() if term is None else english_word(term)

    return _WORD.sub(english, text)


def words(text: str) -> Iterator[str]:
    """Surface words of cleaned text, numbers normalised (1,000 -> 1000)."""
    return map(_normal, _WORD.findall(text))


def _normal(word: str) -> str:
    if word[0].isdigit():
        return word.replace(",", "") if _is_thousands(word) else word.replace(",", ".")
    return word.replace("'", "") if not word.endswith("'s") else word[:-2]


def _is_thousands(number: str) -> bool:
    return "," in number and all(len(g) == 3 for g in number.split(",")[1:])


def script_lang(word: str, hint: str) -> str:
    """Which stemmer a word needs: by its script, refined by the post's language."""
    if word.isascii():
        return "en"
    if _UK_LETTERS.intersection(word):
        return "be" if "ў" in word else "uk"
    if _BE_LETTERS.intersection(word):
        return "be"
    return hint if hint in ("uk", "be") else "ru"


def stem(word: str, hint: str = "und") -> str:
    """Stem one lower-case word; numbers and unknown scripts pass through."""
    if word[0].isdigit():
        return word
    lang = script_lang(word, hint)
    if lang in _SNOWBALL:
        return _SNOWBALL[lang].stemWord(word)
    if not word.isalpha() or not ("а" <= word[0] <= "я" or word[0] in "іїєґў"):
        return word
    for ending in _SLAVIC_ENDINGS:
        if word.endswith(ending) and len(word) - len(ending) >= 4:
            return word[: -len(ending)]
    return word


def terms(text: str, lang: str = "und") -> list[str]:
    """Index terms of a text: cleaned words minus stop words, stemmed, in order; a word
    the glossary knows also yields its English term (шестерых -> 6, заложников -> hostag)."""
    token_terms = _token_cache(lang)
    return [term for token in _WORD.findall(clean(text)) for term in token_terms(token)]


def surface_forms(text: str, lang: str = "und") -> dict[str, str]:
    """Term -> the first word that produced it, to show terms as the text spells them."""
    token_terms = _token_cache(lang)
    forms: dict[str, str] = {}
    for token in _WORD.findall(clean(text)):
        for term in token_terms(token):
            forms.setdefault(term, _normal(token))
    return forms


def _token_terms(token: str, hint: str) -> tuple[str, ...]:
    """Terms of one token of cleaned text: none for a stop word, else its term and, when
    the glossary knows it, its English term."""
    word = _normal(token)
    if not _keep(word):
        return ()
    term = sys.intern(stem(word, hint))
    bridged = english_term(term)
    return (term,) if bridged is None or bridged == term else (term, bridged)


# News vocabulary repeats: most words of a post were met in earlier posts, so what a
# token yields is remembered rather than worked out again. A post's language only changes
# the stem of a Cyrillic word without і ї є ґ ў, and only as Ukrainian/Belarusian (same
# endings) against the rest: one cache per side, keyed by the token alone, holding terms
# only, stems interned (inflections share one). 32,768 tokens keep the hits of 100,000 on
# ru-news: 11.5 MB with the stemmers, where (token, lang) keys to (term, word) pairs took 18.7.
_TOKEN_TERMS = {
    hint: lru_cache(maxsize=32_768)(partial(_token_terms, hint=hint)) for hint in ("ru", "uk")
}


def _token_cache(lang: str) -> Callable[[str], tuple[str, ...]]:
    return _TOKEN_TERMS[_stem_side(lang)]


def _stem_side(lang: str) -> str:
    """The stemmer for a post in `lang`: Ukrainian's for uk and be, else Russian's."""
    return "uk" if lang in ("uk", "be") else "ru"


def _keep(word: str) -> bool:
    return word[0].isdigit() or (len(word) > 1 and word not in STOP_WORDS)
