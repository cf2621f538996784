"""A cross-lingual bridge for names: Брянской / Bryansk -> the same key.

Proper names are what an untranslated Russian or Ukrainian post shares with an English
claim. Each capitalised word loses its inflection (by its script, not the text's language),
is transliterated, and is reduced to a consonant skeleton with the usual spelling variants
folded (kh/х, g/h/г, Kyiv/Kiev), so inflection and romanisation differences disappear while
unrelated names stay apart.
"""

from __future__ import annotations

import re
from functools import lru_cache

from monitors.matching.stopwords import STOP_WORDS
from monitors.matching.text import clean, stem, words

_CYRILLIC = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяіїєґў"
_LATIN = "a b v g d e e zh z i y k l m n o p r s t u f kh ts ch sh shch _ y _ e yu ya i yi ye g u"
_CYR = dict(zip(_CYRILLIC, _LATIN.split(), strict=True))
_DIGRAPHS = (
    ("shch", "S"),
    ("sch", "S"),  # German: Scholz, Шольц
    ("zh", "Z"),
    ("kh", "G"),  # х and h meet: Хантер, Hunter; Херсон, Kherson
    ("ch", "C"),
    ("sh", "S"),
    ("ts", "C"),
    ("tz", "C"),
    ("ph", "f"),
    ("ck", "k"),
    ("x", "ks"),
)
_FOLD = str.maketrans({"h": "G", "g": "G", "c": "k", "q": "k", "w": "v", "j": "y", "_": ""})
_VOWELS = re.compile(r"[aeiouy]+")
# A leading vowel stays as one mark: without it Украины (krn) would be Krynky's prefix.
_LEADING_VOWELS = re.compile(r"^[aeiouy]+")
_REPEAT = re.compile(r"(.)\1+")
_GERMAN_Z = re.compile(r"(?<=[lnr])z$")  # Scholz, Franz: Шольц, Франц
# A region named after its centre: Брянщина, Сумщина, Белгородчина (the stem, case gone)
_REGION = re.compile(r"(?P<centre>[а-яіїєґ]{3,}?)[щч]ин")
# Ukrainian puts в before a leading у (Вугледар, Vuhledar), Russian does not (Угледар)
_PROTHETIC_V = re.compile(r"^vu")
_MIN_PREFIX = 3  # shorter skeletons meet only their equals
SurfaceKeys = tuple[tuple[str, ...], ...]  # `name_key` of each word of a capitalised word
# inner apostrophes are letters' business in Ukrainian: Куп'янськ, Слов'янськ
_CAPITALISED = re.compile(r"(?<![\w@#'’ʼ])[A-ZА-ЯЁІЇЄҐЎ](?:[^\W\d_]|['’ʼ](?=[^\W\d_])){2,}")


def transliterate(word: str) -> str:
    """Latin spelling of a lower-case Cyrillic word (Latin passes through)."""
    return "".join(_CYR.get(ch, ch) for ch in word)


def name_key(word: str) -> tuple[str, ...]:
    """Keys a name is indexed under: "~" and its consonant skeleton, then "^" and each of
    the skeleton's shorter prefixes of three letters or more. Empty when too short."""
    # The same key whatever the text's language: a Latin name takes the English stemmer,
    # a Cyrillic one loses only its case ending (the Ukrainian rules), since Snowball's
    # Russian stemmer cuts names like nouns (Байден -> байд).
    skeleton = _skeleton(stem(word, "uk"))
    if len(skeleton) < _MIN_PREFIX and word.isascii():
        # The English stemmer leaves short names too little: Harris -> harri, Hamas -> hama,
        # where Харрис and ХАМАС keep their s (a Cyrillic name loses only a case ending).
        skeleton = _skeleton(word)
    if len(skeleton) < 2 or not skeleton.isalpha():
        return ()
    return ("~" + skeleton, *("^" + skeleton[:n] for n in range(_MIN_PREFIX, len(skeleton))))


def _skeleton(word: str) -> str:
    """A stem's consonant skeleton, spelling variants folded (see the module docstring)."""
    latin = _PROTHETIC_V.sub("u", _GERMAN_Z.sub("ts", transliterate(word)))
    for digraph, symbol in _DIGRAPHS:
        latin = latin.replace(digraph, symbol)
    return _REPEAT.sub(r"\1", _VOWELS.sub("", _LEADING_VOWELS.sub("V", latin.translate(_FOLD))))


@lru_cache(maxsize=4_096)
def probes(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The index keys (`name_key`) that a name with `keys` meets: those of a name whose
    skeleton equals its own, or starts with it, or begins its own, three letters at least.
    Stemmers cut a name in different places in each language (Харків -> харк, Kharkiv;
    Медведев -> медвед, Medvedev), but a shared beginning alone proves little: Коренево
    and Krynky share k-r-n."""
    skeleton = keys[0][1:]
    return ("~" + skeleton, "^" + skeleton, *("~" + key[1:] for key in keys[1:]))


def name_keys(text: str, probing: bool = False) -> dict[str, str]:
    """Name key -> first surface form, for the capitalised words of a text."""
    return surfaces_by_key(capitalised_names(text), probing)


def surfaces_by_key(names: list[tuple[str, SurfaceKeys]], probing: bool = False) -> dict[str, str]:
    """Name key -> first surface form, from `capitalised_names`: the keys the names are
    indexed under, or with `probing` the keys they meet (`probes`)."""
    found: dict[str, str] = {}
    for surface, groups in names:
        for keys in groups:
            for key in probes(keys) if probing else keys:
                found.setdefault(key, surface)
    return found


def capitalised_names(text: str) -> list[tuple[str, SurfaceKeys]]:
    """Each capitalised word as the text spells it, with `name_key` of each word in it."""
    return [(surface, _surface_keys(surface)) for surface in _CAPITALISED.findall(text)]


@lru_cache(maxsize=32_768)
def _surface_keys(surface: str) -> SurfaceKeys:
    """`name_key` of each word of one capitalised surface (names recur post after post)."""
    return tuple(
        keys
        for word in words(clean(surface))
        if word not in STOP_WORDS
        for keys in _word_keys(word)
        if keys
    )


def _word_keys(word: str) -> tuple[tuple[str, ...], ...]:
    """`name_key` of a word; a region named after its centre meets the centre, whose English
    name may end in -sk or not: Брянщина as брян and брянск (Bryansk), Сумщина as сум
    (Sumy), Курщина as курск (Kursk)."""
    region = _REGION.fullmatch(stem(word, "uk"))
    if region is None:
        return (name_key(word),)
    return name_key(region["centre"]), name_key(region["centre"] + "ск")


# International words keep their letters, vowels included, across scripts (система /
# system, астероид / asteroid, атмосфера / atmosphere): folded like this they meet, while
# words that only share consonants (данных / denied) stay apart.
_COGNATE_FOLD = (
    ("shch", "sh"),
    ("kh", "h"),
    ("ph", "f"),
    ("th", "t"),
    ("ck", "k"),
    ("x", "ks"),
)
_COGNATE_LETTERS = str.maketrans(
    {"y": "i", "j": "i", "w": "v", "c": "k", "q": "k", "z": "s", "e": "i", "_": ""}
)


def _fold_cognate(latin: str) -> str:
    for digraph, letter in _COGNATE_FOLD:
        latin = latin.replace(digraph, letter)
    return latin.translate(_COGNATE_LETTERS)


_COGNATE_CYRILLIC = str.maketrans({cyr: _fold_cognate(latin) for cyr, latin in _CYR.items()})
MIN_COGNATE = 6  # shorter keys collide by chance (севере / several)
COGNATE_SLACK = 3  # letters a stem may run past the other's: stemmers cut in other places


def cognate_key(term: str) -> str:
    """A stem (either script) spelled so that its cognates in the other language share it."""
    # Cyrillic letter by letter, in one pass: posts' stems are the hot path
    latin = term.translate(_COGNATE_CYRILLIC) if term[:1] in _CYR else _fold_cognate(term)
    return _REPEAT.sub(r"\1", latin)


def cognate_index_keys(term: str) -> tuple[str, ...]:
    """Keys a claim's stem is indexed under: "=" and its `cognate_key`, "^" and the key's
    prefixes a few letters shorter."""
    key, prefixes = _cognate_prefixes(term)
    return ("=" + key, *("^" + prefix for prefix in prefixes)) if key else ()


def cognate_probes(term: str) -> tuple[str, ...]:
    """Index keys a post's stem meets: its key's equal, a key a few letters longer, or one a
    few letters shorter."""
    key, prefixes = _cognate_prefixes(term)
    return ("=" + key, "^" + key, *("=" + prefix for prefix in prefixes)) if key else ()


def _cognate_prefixes(term: str) -> tuple[str, list[str]]:
    """A stem's `cognate_key` and its prefixes down to COGNATE_SLACK letters shorter; an
    empty key when it is too short or not all letters."""
    key = cognate_key(term)
    if len(key) < MIN_COGNATE or not key.isalpha():
        return "", []
    shortest = max(MIN_COGNATE, len(key) - COGNATE_SLACK)
    return key, [key[:n] for n in range(shortest, len(key))]
