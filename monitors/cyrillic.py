"""Cyrillic spelling evidence: which of ru, uk, be, bg, sr and mk a word's letters allow.

Each of these languages has its own alphabet and spelling rules, so letters rule languages
out before any statistics (monitors.language weighs what they leave open). Also here: the
marks of Belarusian spelling, frequent function words per language, and the Russian
spellings of a Belarusian word, so a Russian dictionary can vouch for it.
"""

from __future__ import annotations

import functools
import itertools
import re
from collections.abc import Iterable, Iterator, Sequence

CYRILLIC_LANGS = ("ru", "uk", "be", "bg", "sr", "mk")

_ALPHABETS = {
    "ru": "абвгдеёжзийклмнопрстуфхцчшщъыьэюя",
    "uk": "абвгґдеєжзиіїйклмнопрстуфхцчшщьюя'",
    "be": "абвгдеёжзійклмнопрстуўфхцчшыьэюя'",
    "bg": "абвгдежзийклмнопрстуфхцчшщъьюя",
    "sr": "абвгдђежзијклљмнњопрстћуфхцчџш",
    "mk": "абвгдѓежзѕијклљмнњопрстќуфхцчџш",
}
# Letters in places the language's spelling never puts them, within one word.
_MISPLACED = {
    "ru": r"ъ(?![еёюя])",  # ъ only separates a prefix from е ё ю я
    # An apostrophe follows a lone labial (м'ясо); reflexive verbs end in -ться, never -тся.
    "uk": r"(?:(?<!\S)|[аеєиіїоуюяр])[бпвмф][яєї]|тся(?!\S)",
    "be": r"[тдржшч][еёюяіь]",  # ць, дзь for ть, дь; р ж ш ч are always hard
    "bg": r"ь(?!о)",  # ь only in ьо
}
# In one word: a letter the language lacks or puts nowhere there.
_MISFIT = {
    lang: re.compile(f"[^{alphabet}]" + (f"|{_MISPLACED[lang]}" if lang in _MISPLACED else ""))
    for lang, alphabet in _ALPHABETS.items()
}
# Marks of Belarusian spelling that Russian and Ukrainian words rarely show: э after a
# consonant, дз and ць (from д and т), шч, doubled consonants before е (-нне, -цца), the
# neuter -ае and plural -ыя endings.
_BELARUSIAN_MARKS = re.compile(r"[бвгдзклмнпрстфхцчшж]э|дз|ць|шч|(?:нн|лл|жж|сс)е|цц|ае\b|ыя\b")
# Unstressed о turns into а in Belarusian, so a word rarely holds two.
_TWO_O = re.compile(r"о[^\sо]*о")
# Frequent short words, each listed for the languages it is common in. They count only where
# spelling leaves several languages open, and only among those.
_FUNCTION_WORDS = {
    "ru": "в и на не с по за до от из к о у для при со во об что чтобы это как когда где был "
    "была были было будет уже еще также только после сейчас сегодня его он она они или нет так "
    "может можно около между через года который которые которая все всех время ли им те той "
    "под над",
    "uk": "в і й у на не з за до по від для при що щоб це як коли де був була були було буде вже "
    "ще також зараз сьогодні його він вона вони або немає так може можна близько між через року "
    "який яка які все та але під над про",
    "be": "у і на не з за да па ад аб для пры што каб як калі дзе была было будзе зараз яго яна "
    "яны або няма так можа можна каля паміж праз года які якая якія усе але пад над пра",
    "bg": "в и на не с по за до от към при със във че това този тази тези които който която как "
    "като когато къде беше бяха бил била били ще вече още също само след сега днес него нея "
    "той тя те или няма така може около повече между година години се са да си ги го му им ли "
    "но през под над пред",
    "sr": "у и на не са по за до од из при што шта да је су се као када где био била били било "
    "биће већ још такође само после сада данас он она они или нема тако али преко може око "
    "више између године година који која које сви све време према током због ће би бити му "
    "им ли под над пред",
    "mk": "во и на не со по за до од при што дека да е се како кога каде беше биле бил била било "
    "ќе веќе уште само сега денес тој таа тие или нема така но преку може околу повеќе меѓу "
    "година години кој која кое кои сите време оваа ова овој тоа го ја ги му им ли под над пред",
}
_WORD_LANGS: dict[str, frozenset[str]] = {}
for _lang, _words in _FUNCTION_WORDS.items():
    for _word in _words.split():
        _WORD_LANGS[_word] = _WORD_LANGS.get(_word, frozenset()) | {_lang}


_NO_MISFITS = (False,) * len(CYRILLIC_LANGS)
_MISFIT_ROWS: dict[tuple[bool, ...], tuple[bool, ...]] = {}


@functools.lru_cache(maxsize=1 << 14)
def _misfits(word: str) -> tuple[bool, ...]:
    """Whether each of CYRILLIC_LANGS rules this lower-case word out. Cached: news repeats its
    words (77% hits over ru-news), and six searches a word were a quarter of detection time."""
    row = tuple(_MISFIT[lang].search(word) is not None for lang in CYRILLIC_LANGS)
    return _MISFIT_ROWS.setdefault(row, row)  # 64 rows at most, shared by every cached word


def spelling_candidates(words: Iterable[str], langs: Sequence[str] = CYRILLIC_LANGS) -> list[str]:
    """The Cyrillic languages whose spelling fits the most of these lower-case words."""
    rows = [_misfits(word) for word in words] or [_NO_MISFITS]
    misfits = dict(zip(CYRILLIC_LANGS, map(sum, zip(*rows, strict=True)), strict=True))
    fewest = min(misfits[lang] for lang in langs)
    return [lang for lang in langs if misfits[lang] == fewest]


def belarusian_marks(text: str) -> int:
    """Belarusian marks in lower-case text, less words with two о (Belarusian keeps one)."""
    return len(_BELARUSIAN_MARKS.findall(text)) - len(_TWO_O.findall(text))


# Belarusian spells the sounds of words it shares with Russian: undo that and a Russian
# dictionary knows them (фота -> фото, пункце -> пункте, футбольны -> футбольный). Akanye is
# undone last, by trying о for each а (unstressed о is written а), at most MAX_AKANYE of them.
_RUSSIAN_SOUNDS = (
    (re.compile(r"ц(?=[ьеёюяі])"), "т"),
    (re.compile(r"дз(?=[ьеёюяі])"), "д"),
    (re.compile(r"шч"), "щ"),
    (re.compile(r"ў"), "в"),
    (re.compile(r"і"), "и"),
    (re.compile(r"(?<=[бвгдзклмнпрстфхцчшж])э"), "е"),
    (re.compile(r"(?<=[бвгдзклмнпрстфхцжчш])([ыи])$"), r"\1й"),  # добры: добрый (і is и by now)
)
MAX_AKANYE = 3


def russian_spellings(word: str) -> Iterator[str]:
    """The spellings a Russian writer would give a lower-case Belarusian word."""
    for pattern, sound in _RUSSIAN_SOUNDS:
        word = pattern.sub(sound, word)
    slots = [i for i, ch in enumerate(word) if ch == "а"][:MAX_AKANYE]
    for chosen in itertools.product("ао", repeat=len(slots)):
        letters = list(word)
        for i, letter in zip(slots, chosen, strict=True):
            letters[i] = letter
        yield "".join(letters)


def function_word_votes(words: Iterable[str], candidates: Sequence[str]) -> dict[str, float]:
    """Function-word votes among the candidates; a word shared by all of them says nothing."""
    votes = dict.fromkeys(candidates, 0.0)
    for word in words:
        langs = _WORD_LANGS.get(word, frozenset()).intersection(candidates)
        if langs and len(langs) < len(candidates):
            for lang in langs:
                votes[lang] += 1 / len(langs)
    return votes


def is_function_word(word: str) -> bool:
    """Whether a lower-case word is one of the frequent short words listed per language."""
    return word in _WORD_LANGS
