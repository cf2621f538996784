"""Language of a post: an ISO 639-1 code, or "und" when the post does not say enough.

langdetect alone mixes up short Russian, Bulgarian and Macedonian and has no Belarusian or
Serbian profile, so for Cyrillic text the letters decide first: each language has its own
alphabet and spelling rules (monitors.cyrillic), and a post goes to the languages whose
spelling fits the most words. What spelling leaves open is settled by a log-linear score:
langdetect's n-gram likelihoods (read exactly from our own factory's table; its random
sampling is overconfident on a few words), Russian and Ukrainian dictionaries (pymorphy3),
function words, Belarusian sound marks and Belarusian respellings of Russian words, and the
channel's hints. Serbian gets a profile made by transliterating langdetect's Croatian one
(one language, two scripts); Belarusian borrows its neighbours' n-gram likelihood and must
show its own marks. A lone word gets a language only when that score clearly prefers one.
lingua's n-gram models were tried instead (issue 7): as accurate on two words, +160 MB of
memory. Latin-script text goes to the Latin-script languages asked for (seeded langdetect
when there are several). Text in another script goes to the few profiles langdetect has for
that script (Arabic: ar, fa, ur; Han and Kana: zh-cn, zh-tw, ja; Hangul: ko...), loaded on
its first post: all 55 profiles at once took 84 MB for one Arabic post. A script langdetect
has no profile for (Georgian, Armenian...) is "und".
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import operator
import os
import re
import threading
from collections import Counter, OrderedDict
from collections.abc import Iterable, Iterator, Sequence

import pymorphy3.lang
import regex
from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory
from langdetect.lang_detect_exception import LangDetectException
from langdetect.utils.lang_profile import LangProfile
from langdetect.utils.ngram import NGram
from pymorphy3.analyzer import lang_dict_path
from pymorphy3.dawg import WordsDawg

from monitors.cyrillic import (
    CYRILLIC_LANGS,
    belarusian_marks,
    function_word_votes,
    is_function_word,
    russian_spellings,
    spelling_candidates,
)
from monitors.memory import release_free_memory
from monitors.models import UNDETERMINED

DEFAULT_LANGUAGES = (*CYRILLIC_LANGS, "en")

_SERBIAN_LATIN = {"lj": "љ", "nj": "њ", "dž": "џ"} | dict(
    zip("abcčćdđefghijklmnoprsštuvzž", "абцчћдђефгхијклмнопрсштувзж", strict=True)
)
_SERBIAN_LATIN |= {latin.capitalize(): cyr.upper() for latin, cyr in _SERBIAN_LATIN.items()}
_SERBIAN_LETTER = re.compile("|".join(sorted(_SERBIAN_LATIN, key=len, reverse=True)) + "| ")

_URL = re.compile(
    r"(?:https?://|www\.|t\.me/)\S+|\b[\w.-]+\.(?:com|net|org|ru|ua|by|info|io|me|tv)\b\S*",
    re.IGNORECASE,
)
_MENTION = re.compile(r"@\w+")
_CODE = re.compile(r"```.*?(?:```|$)|`[^`\n]*`", re.DOTALL)
_HASHTAG = re.compile(r"#(\w+)")
_WORD = re.compile(r"[^\W\d_]+(?:['’ʼ`][^\W\d_]+)*")
_CYRILLIC = re.compile(r"[\u0400-\u052f]")
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_APOSTROPHES = "’ʼ`"
# Latin look-alikes typed into Cyrillic words (Ukrainian "i" above all).
_HOMOGLYPHS = str.maketrans("aceiopxyABCEHIKMOPTXY", "асеіорхуАВСЕНІКМОРТХУ")

# langdetect's profiles for each Unicode script besides Latin and Cyrillic; letters of any other
# script have none. Japanese mixes Han and Kana, and Chinese is written in Han alone.
_CJK = ("zh-cn", "zh-tw", "ja")
_SCRIPT_LANGS = {
    "Arabic": ("ar", "fa", "ur"),
    "Hebrew": ("he",),
    "Greek": ("el",),
    "Devanagari": ("hi", "mr", "ne"),
    "Bengali": ("bn",),
    "Gurmukhi": ("pa",),
    "Gujarati": ("gu",),
    "Tamil": ("ta",),
    "Telugu": ("te",),
    "Kannada": ("kn",),
    "Malayalam": ("ml",),
    "Thai": ("th",),
    "Hangul": ("ko",),
    "Han": _CJK,
    "Hiragana": _CJK,
    "Katakana": _CJK,
}
_SCRIPT_LETTER = regex.compile(
    "|".join(rf"(?P<{script}>\p{{sc={script}}})" for script in _SCRIPT_LANGS)
    + r"|(?P<none>[^\W\d_])"
)
# Chinese, Japanese and Thai run their words together: so many letters count as a word.
LETTERS_A_WORD = {_CJK: 2, ("th",): 2}

# Latin words inside Cyrillic posts are mostly names, terms and code, the reverse is rare: a
# Cyrillic letter counts twice when finding the dominant script.
_SCRIPT_WEIGHTS = {"cyrillic": 2, "latin": 1, "other": 1}
MIN_WORDS = 2  # a lone word is as often a name, tag or exclamation: it needs a clear lead
MAX_CHARS = 1000  # the opening of a post tells its language; the rest only costs time
MAX_WORDS = 60  # words whose spelling is checked
MAX_LOOKUPS = 12  # words looked up in the dictionaries
MAX_SCORED_CHARS = 300  # characters scored for n-grams
# Weights of the Cyrillic score, in natural-log units like the n-gram likelihoods.
LOGLIK_SCALE = 1 / 3  # 1-, 2- and 3-grams overlap: their naive sum counts each letter thrice
LEXICON_NATS = 3.0  # per word in the language's dictionary...
UNKNOWN_COST = 1.5  # ...and this many times that per word missing from it
# A word the dictionary knows is weaker evidence than one it lacks: Bulgarian, Serbian and
# Macedonian (no dictionary here) share much of the vocabulary.
KNOWN_WORD = 1.0
VOTE_NATS = 3.0  # per function word
MARK_NATS = 4.0  # per Belarusian mark
# A language the channel is configured with: worth about two dictionary words, enough to tip
# a post both languages could have written, not one whose words only exist in another.
HINT_NATS = 6.0
# Belarusian shares many words with Russian and Ukrainian but spells many others its own way
# (akanye, ць, ў): a word their dictionaries know counts half as much for it.
SHARED_NATS = LEXICON_NATS / 2
# A lone word needs a lead over the runner-up worth that half: a word the neighbours' dictionary
# knows, with no Belarusian mark, is theirs; less is a guess.
LONE_WORD_MARGIN = SHARED_NATS
# Russian and Ukrainian dominate the channels this service follows; the prior only tips texts
# too short for anything else to decide.
PRIOR = {"bg": 0.5, "sr": 0.5, "mk": 0.5}
_SMOOTHING = 0.5 / 10_000  # langdetect's own: alpha / BASE_FREQ


def _words_by_script(text: str) -> dict[str, list[str]]:
    """The text's words grouped by script, Latin look-alikes inside Cyrillic words mended."""
    scripts: dict[str, list[str]] = {}
    for word in _WORD.findall(text):
        if _CYRILLIC.search(word):
            if _LATIN.search(word):
                word = word.translate(_HOMOGLYPHS)
            script = "mixed" if _LATIN.search(word) else "cyrillic"
        else:
            script = "latin" if _LATIN.search(word) else "other"
        scripts.setdefault(script, []).append(word)
    return scripts


def _straight_apostrophes(text: str) -> str:
    """The text with every apostrophe written '. (str.translate took 5 times as long.)"""
    for apostrophe in _APOSTROPHES:
        text = text.replace(apostrophe, "'")
    return text


def _lexicon_score(words: Sequence[str], known: Sequence[bool]) -> float:
    """+KNOWN_WORD per word the dictionary knows, -UNKNOWN_COST per word it does not.

    An unknown capitalised word after the first is most likely a name, so it costs nothing.
    """
    score = 0.0
    for i, (word, is_known) in enumerate(zip(words, known, strict=True)):
        if is_known:
            score += KNOWN_WORD
        elif i == 0 or not word[0].isupper():
            score -= UNKNOWN_COST
    return score


def _profile(name: str) -> dict:
    with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as f:
        return json.load(f)


def _serbian_profile() -> dict:
    """langdetect's Croatian profile in Serbian Cyrillic; n-grams with foreign letters dropped."""
    croatian = _profile("hr")
    freq: dict[str, int] = {}
    for gram, count in croatian["freq"].items():
        cyrillic = _SERBIAN_LETTER.sub(lambda m: _SERBIAN_LATIN.get(m[0], " "), gram)
        if len(cyrillic) == len(_SERBIAN_LETTER.findall(gram)) and cyrillic.strip():
            freq[cyrillic] = freq.get(cyrillic, 0) + count
    return {"name": "sr", "freq": freq, "n_words": croatian["n_words"]}


def _factory(langs: Iterable[str], seed: int) -> DetectorFactory | None:
    """A private, seeded langdetect factory, so nobody else's settings change our answers."""
    profiles = [_serbian_profile() if lang == "sr" else _profile(lang) for lang in langs]
    if len(profiles) < 2:  # nothing to choose between
        return None
    factory = DetectorFactory()
    factory.set_seed(seed)
    for index, profile in enumerate(profiles):
        factory.add_profile(LangProfile(**profile), index, len(profiles))
    return factory


def _log_table(factory: DetectorFactory | None) -> dict[str, tuple[float, ...]]:
    """Each n-gram's smoothed log-probability in each of the factory's languages, in its order:
    taken once here instead of for each n-gram of each post."""
    if factory is None:
        return {}
    return {
        gram: tuple(math.log(prob + _SMOOTHING) for prob in probs)
        for gram, probs in factory.word_lang_prob_map.items()
    }


class _NGram(NGram):
    """langdetect's n-gram reader, its per-character normalisation (a Unicode block search)
    remembered: it was a third of the n-gram scoring time."""

    normalize = staticmethod(functools.lru_cache(maxsize=4096)(NGram.normalize))


def _ngrams(text: str) -> Iterator[str]:
    """The text's 1- to 3-grams as langdetect reads them (normalised, none across words)."""
    ngram = _NGram()
    for ch in text:
        ngram.add_char(ch)
        for n in (1, 2, 3):
            gram = ngram.get(n)
            if gram:
                yield gram


def _script_langs(words: Iterable[str]) -> tuple[str, ...]:
    """langdetect's profiles for the script most letters of these words are in (maybe none)."""
    letters = " ".join(words)
    counts = Counter(
        _SCRIPT_LANGS.get(m.lastgroup or "", ()) for m in _SCRIPT_LETTER.finditer(letters)
    )
    return max(counts, key=counts.__getitem__, default=())


class Lexicon:
    """The word list of a pymorphy3 dictionary, for `word_is_known` alone.

    A MorphAnalyzer also loads paradigms, tag tables and prediction data this module never
    uses: 37 MB for Russian and Ukrainian against 16 MB for their word lists. The answers are
    the analyzer's: the same DAWG, the same letter substitutions (е for ё, г for ґ).
    """

    def __init__(self, lang: str) -> None:
        self._words = WordsDawg().load(os.path.join(lang_dict_path(lang), "words.dawg"))
        substitutes = getattr(pymorphy3.lang, lang).CHAR_SUBSTITUTES
        self._substitutes = self._words.compile_replaces(substitutes)
        # A lookup walks the DAWG in pure Python; posts repeat words (77% hits over ru-news).
        self._known = functools.lru_cache(maxsize=4096)(self._look_up)

    def word_is_known(self, word: str) -> bool:
        """Whether the lower-case word is a form the dictionary lists."""
        return self._known(word)

    def _look_up(self, word: str) -> bool:
        return bool(self._words.similar_keys(word, self._substitutes))


class LanguageDetector:
    """Detects a post's language among `languages`; build one and keep it (~0.2 s to load).

    Cyrillic and Latin text is answered from `languages` only ("und" if none has its script);
    text in other scripts from langdetect's profiles for that script. Answers are cached by a digest
    of (text, hints), so reposts cost nothing and the cache holds no post text (8,192 keys of
    text held 11 MB once the posts themselves were gone).
    """

    def __init__(
        self,
        languages: Sequence[str] = DEFAULT_LANGUAGES,
        seed: int = 0,
        trials: int = 3,
        cache_size: int = 8192,
    ) -> None:
        self._seed = seed
        self._trials = trials
        self._cyrillic_langs = tuple(lang for lang in CYRILLIC_LANGS if lang in languages)
        self._latin_langs = tuple(lang for lang in languages if lang not in CYRILLIC_LANGS)
        cyrillic = _factory([lang for lang in self._cyrillic_langs if lang != "be"], seed)
        self._ngram_langs = cyrillic.get_lang_list() if cyrillic else []
        self._ngram_logs = _log_table(cyrillic)
        self._latin = _factory(self._latin_langs, seed)
        self._lexicons = {lang: Lexicon(lang) for lang in ("ru", "uk") if lang in languages}
        self._cache_size = cache_size
        self._recent: OrderedDict[tuple[bytes, tuple[str, ...]], str] = OrderedDict()
        self._lock = threading.Lock()
        self._script_factories: dict[tuple[str, ...], DetectorFactory | None] = {}
        self._script_lock = threading.Lock()
        release_free_memory()  # what parsing the profiles' JSON left in the C heap

    def detect(self, text: str, hints: Sequence[str] = ()) -> str:
        """ISO 639-1 code of the text's language, or "und"; hints are the channel's languages."""
        text, hints = text[:MAX_CHARS], tuple(hints)
        key = (hashlib.blake2b(text.encode(), digest_size=16).digest(), hints)
        with self._lock:
            lang = self._recent.get(key)
            if lang is not None:
                self._recent.move_to_end(key)
                return lang
        lang = self._detect(text, hints)
        with self._lock:
            self._recent[key] = lang
            while len(self._recent) > self._cache_size:
                self._recent.popitem(last=False)
        return lang

    def _script_factory(self, langs: tuple[str, ...]) -> DetectorFactory | None:
        """The factory of one script's profiles, loaded on its first post and kept."""
        with self._script_lock:
            if langs not in self._script_factories:
                self._script_factories[langs] = _factory(langs, self._seed)
                release_free_memory()  # what parsing the profiles' JSON left in the C heap
            return self._script_factories[langs]

    def _detect(self, text: str, hints: tuple[str, ...]) -> str:
        text = _MENTION.sub(" ", _URL.sub(" ", _CODE.sub(" ", text)))
        scripts = _words_by_script(_HASHTAG.sub(" ", text))
        tags = _words_by_script(" ".join(_HASHTAG.findall(text)))
        letters = {
            script: weight * sum(map(len, scripts.get(script, []) + tags.get(script, [])))
            for script, weight in _SCRIPT_WEIGHTS.items()
        }
        script = max(letters, key=letters.__getitem__)
        if not letters[script]:
            return UNDETERMINED
        evidence = len(scripts.get(script, ()))  # words of tags alone do not make a sentence
        if not evidence:
            return UNDETERMINED
        words = scripts.get(script, []) + tags.get(script, [])
        if script == "cyrillic":
            if not self._cyrillic_langs:
                return UNDETERMINED
            return self._cyrillic_lang(words[:MAX_WORDS], evidence, hints)
        if script == "other":
            return self._other_lang(words, scripts[script], hints)
        if len(self._latin_langs) == 1:
            return self._latin_langs[0]
        if evidence < MIN_WORDS:  # langdetect's guess on one word is noise
            return UNDETERMINED
        # No Latin-script language asked for: self._latin is None and the answer is "und".
        return self._langdetect(self._latin, words, hints)

    def _other_lang(self, words: list[str], untagged: list[str], hints: tuple[str, ...]) -> str:
        """Language of words in neither Latin nor Cyrillic script: their script decides first."""
        langs = _script_langs(words)
        if langs in LETTERS_A_WORD:
            evidence = sum(map(len, untagged)) // LETTERS_A_WORD[langs]
        else:
            evidence = len(untagged)
        if not langs or evidence < MIN_WORDS:
            return UNDETERMINED
        if len(langs) == 1:
            return langs[0]
        return self._langdetect(self._script_factory(langs), words, hints)

    def _cyrillic_lang(self, words: list[str], evidence: int, hints: tuple[str, ...]) -> str:
        lowered = _straight_apostrophes(" ".join(words).lower()).split(" ")
        candidates = spelling_candidates(dict.fromkeys(lowered), self._cyrillic_langs)
        if len(candidates) == 1:
            return candidates[0]
        scores = self._scores(words, lowered, candidates)
        for lang in hints:
            if lang in scores:
                scores[lang] += HINT_NATS
        best, second = sorted(scores.values(), reverse=True)[:2]
        if evidence < MIN_WORDS and best - second < LONE_WORD_MARGIN:
            return UNDETERMINED
        return max(candidates, key=scores.__getitem__)

    def _scores(self, words: list[str], lowered: list[str], candidates: list[str]) -> dict:
        """Log-linear score of each candidate language; see the module docstring."""
        scores = self._loglik(words, [lang for lang in candidates if lang != "be"])
        if "be" in candidates:
            kin = [scores[lang] for lang in ("ru", "uk") if lang in scores]
            scores["be"] = max(kin, default=0.0) + MARK_NATS * belarusian_marks(" ".join(lowered))
        content = [
            word for word, low in zip(words, lowered, strict=True) if not is_function_word(low)
        ]
        content = content[:MAX_LOOKUPS]
        known = {
            lang: [lexicon.word_is_known(word.lower()) for word in content]
            for lang, lexicon in self._lexicons.items()
        }
        for lang, found in known.items():
            if lang in scores:
                scores[lang] += LEXICON_NATS * _lexicon_score(content, found)
        if "be" in scores:
            # No Belarusian dictionary: credit the words it may share with its neighbours.
            shared = [any(found) for found in zip(*known.values(), strict=True)]
            scores["be"] += SHARED_NATS * sum(shared)
            if "ru" in self._lexicons:
                scores["be"] += MARK_NATS * self._respelt(content, shared)
        for lang, votes in function_word_votes(lowered, candidates).items():
            scores[lang] += VOTE_NATS * votes + math.log(PRIOR.get(lang, 1.0))
        return scores

    def _respelt(self, words: list[str], known: list[bool]) -> int:
        """Words no dictionary knows until respelt the Russian way: Belarusian spellings."""
        russian = self._lexicons["ru"]
        return sum(
            not found and any(map(russian.word_is_known, russian_spellings(word.lower())))
            for word, found in zip(words, known, strict=True)
        )

    def _loglik(self, words: list[str], langs: list[str]) -> dict[str, float]:
        """Log-likelihood of the words' 1- to 3-grams under each langdetect profile, scaled."""
        if len(langs) < 2 or not self._ngram_logs:
            return dict.fromkeys(langs, 0.0)
        grams = _ngrams(" ".join(words)[:MAX_SCORED_CHARS] + " ")
        rows = [self._ngram_logs[gram] for gram in grams if gram in self._ngram_logs]
        by_lang = dict(zip(self._ngram_langs, zip(*rows, strict=True), strict=False))
        # One by one in text order, as ever: sum() compensates rounding from Python 3.12 on.
        return {
            lang: functools.reduce(operator.add, by_lang.get(lang, ()), 0.0) * LOGLIK_SCALE
            for lang in langs
        }

    def _langdetect(
        self, factory: DetectorFactory | None, words: list[str], hints: tuple[str, ...]
    ) -> str:
        """Seeded langdetect's answer, the channel's languages favoured."""
        if factory is None:
            return UNDETERMINED
        detector = factory.create()
        detector.n_trial = self._trials
        detector.set_prior_map(
            {lang: math.exp(HINT_NATS * (lang in hints)) for lang in factory.get_lang_list()}
        )
        detector.append(" ".join(words))
        try:
            found = detector.get_probabilities()
        except LangDetectException:  # no n-gram it knows
            return UNDETERMINED
        # Most probable first; zh-cn: ISO 639-1 has zh.
        return found[0].lang.split("-")[0] if found else UNDETERMINED


@functools.cache
def _default() -> LanguageDetector:
    return LanguageDetector()


def detect(text: str, hints: Sequence[str] = ()) -> str:
    """ISO 639-1 code of a post's language, or "und"; see LanguageDetector."""
    return _default().detect(text, hints)
