"""Language detection: each language whole and in short snippets, "und", hints, mixed scripts."""

from __future__ import annotations

import random

import langdetect
import pymorphy3
import pytest
from langdetect.utils.ngram import NGram

from monitors.cyrillic import russian_spellings, spelling_candidates
from monitors.language import LanguageDetector, Lexicon, _ngrams, detect

SENTENCES = {
    "ru": [
        "Вечером в Белгороде снова работала противовоздушная оборона, жителей просят не выходить.",
        "Мэр пообещал, что горячую воду вернут в дома уже к выходным.",
        "Сборная проиграла в серии пенальти и покидает турнир.",
    ],
    "uk": [
        "Увечері в Одесі знову працювала протиповітряна оборона, мешканців просять не виходити.",
        "Мер пообіцяв, що гарячу воду повернуть у будинки вже до вихідних.",
        "Збірна програла в серії пенальті та залишає турнір.",
    ],
    "be": [
        "Увечары ў Гомелі зноў працавала супрацьпаветраная абарона, жыхароў просяць не выходзіць.",
        "Мэр паабяцаў, што гарачую ваду вернуць у дамы ўжо да выхадных.",
        "Зборная прайграла ў серыі пенальці і пакідае турнір.",
    ],
    "bg": [
        "Вечерта във Варна отново работи противовъздушната отбрана, хората да не излизат.",
        "Кметът обеща, че топлата вода ще бъде пусната до края на седмицата.",
        "Националите загубиха след дузпи и отпадат от турнира.",
    ],
    "sr": [
        "Увече је у Нишу поново радила противваздушна одбрана, грађани се моле да не излазе.",
        "Градоначелник је обећао да ће топла вода бити враћена до викенда.",
        "Репрезентација је изгубила после пенала и напушта турнир.",
    ],
    "mk": [
        "Навечер во Битола повторно работеше противвоздушната одбрана, граѓаните да не излегуваат.",
        "Градоначалникот вети дека топлата вода ќе биде вратена до викендот.",
        "Репрезентацијата загуби по пенали и го напушта турнирот.",
    ],
    "en": [
        "Air defence was active over the city again tonight, and residents are asked to stay in.",
        "The mayor promised hot water would be back in homes by the weekend.",
        "The team lost on penalties and is out of the tournament.",
    ],
}

# Two to four words, the way a short post reads. Short Bulgarian, Serbian and Macedonian need
# a telltale letter or word ("Хитна вест" fits Russian spelling too): the benchmark measures how
# often snippets have one.
SNIPPETS = {
    "ru": ["Работает ПВО", "Отбой тревоги", "Срочная новость", "Взрывы в Харькове"],
    "uk": ["Працює ППО", "Відбій тривоги", "Термінова новина", "Вибухи у Харкові"],
    "be": ["Працуе СПА", "Адбой трывогі", "Тэрміновая навіна", "Выбухі ў Гомелі"],
    "bg": ["Към момента няма ток", "Спешно: взрив в Русе", "Вестите от днес"],
    "sr": ["Хитно: експлозија у Нишу", "Ово је вест", "Нема струје"],
    "mk": ["Итно: ќе има прекин", "Ова е вест"],
    "en": ["Air defence active", "All clear", "Breaking news"],
}


@pytest.fixture(scope="module")
def detector() -> LanguageDetector:
    return LanguageDetector()


def _cases(table: dict[str, list[str]]) -> list[tuple[str, str]]:
    return [(lang, text) for lang, texts in table.items() for text in texts]


@pytest.mark.parametrize(("lang", "text"), _cases(SENTENCES))
def test_sentences(detector: LanguageDetector, lang: str, text: str) -> None:
    assert detector.detect(text) == lang


@pytest.mark.parametrize(("lang", "text"), _cases(SNIPPETS))
def test_snippets(detector: LanguageDetector, lang: str, text: str) -> None:
    assert detector.detect(text) == lang


@pytest.mark.parametrize(
    "text",
    [
        "",
        "   \n\t",
        "🔥🔥🔥",
        "https://t.me/some_channel/123",
        "www.example.com/news",
        "12:45 21.03.2024 +380",
        "#война #новини",
        "@somebody",
        "на",  # one word every Cyrillic language writes
        "Бюро",
        "🇺🇦 https://t.me/x/1 #Київ",
    ],
)
def test_not_enough_evidence_is_und(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == "und"


# One word: its letters, the dictionaries and n-grams must clearly prefer one language.
LONE_WORDS = {
    "ru": ["работать", "Срочно!!!", "сегодня", "спасибо", "обстрелы"],
    "uk": ["працювати", "Україна", "сьогодні", "дякую", "обстріли"],
    "be": ["працаваць", "Ўсё", "сёння", "дзякуй", "абстрэлы"],
    "bg": ["съобщение", "всъщност", "държавата"],
    "sr": ["ћирилица", "грађани", "данас"],
    "mk": ["ѓубре", "денес", "ќерка"],
    "en": ["shelling", "Kyiv"],
}


@pytest.mark.parametrize(("lang", "text"), _cases(LONE_WORDS))
def test_a_clear_lone_word_gets_its_language(
    detector: LanguageDetector, lang: str, text: str
) -> None:
    assert detector.detect(text) == lang


def test_a_lone_word_follows_the_hint_only_where_it_fits(detector: LanguageDetector) -> None:
    assert detector.detect("новини", ["uk"]) == "uk"  # Ukrainian, Bulgarian, Macedonian...
    assert detector.detect("Україна", ["ru"]) == "uk"  # ї: only Ukrainian
    assert detector.detect("учора") == "und"  # Ukrainian and Belarusian alike
    assert detector.detect("учора", ["be"]) == "be"


# Held out: written for these tests, not taken from the benchmark data. Two-word posts are
# often ambiguous ("на фронт"), so the check is a share, as in the benchmark: the 95%
# for ru, uk, be and en; Bulgarian, Serbian and Macedonian have no dictionary here and share
# many words, so two words of theirs are allowed more misses.
ALLOWED_MISSES = {"bg": 3, "sr": 3, "mk": 3}
HELD_OUT_PAIRS = {
    "ru": "Сбиты беспилотники|Горит нефтебаза|Обстановка спокойная|Эвакуация продолжается|"
    "Потери уточняются|Связь восстановлена|Колонна техники|Перекрыли мост|Пострадавших нет|"
    "Отключили электричество",
    "uk": "Збито безпілотники|Горить нафтобаза|Обстановка спокійна|Евакуація триває|"
    "Втрати уточнюються|Зв'язок відновлено|Колона техніки|Перекрили міст|Постраждалих немає|"
    "Вимкнули електрику",
    "be": "Збітыя беспілотнікі|Гарыць нафтабаза|Становішча спакойнае|Эвакуацыя працягваецца|"
    "Страты ўдакладняюцца|Сувязь адноўлена|Калона тэхнікі|Перакрылі мост|Пацярпелых няма|"
    "Адключылі электрычнасць",
    "bg": "Свалени дронове|Гори нефтобаза|Обстановката спокойна|Евакуацията продължава|"
    "Загубите се уточняват|Връзката възстановена|Колона техника|Затвориха моста|"
    "Няма пострадали|Спряха тока",
    "sr": "Оборени дронови|Гори складиште|Стање је мирно|Евакуација се наставља|"
    "Губици се утврђују|Веза успостављена|Колона возила|Мост је затворен|Нема повређених|"
    "Искључили струју",
    "mk": "Соборени дронови|Изгоре магацинот|Ситуацијата мирна|Евакуацијата продолжува|"
    "Загубите се утврдуваат|Врската воспоставена|Колоната со возила|Го затворија мостот|"
    "Нема повредени|Ја исклучија струјата",
    "en": "Drones downed|Depot burning|Situation calm|Evacuation continues|Losses unclear|"
    "Power restored|Armoured column|Bridge closed|Nobody hurt|Electricity cut",
}


@pytest.mark.parametrize("lang", list(HELD_OUT_PAIRS))
def test_held_out_two_word_posts(detector: LanguageDetector, lang: str) -> None:
    texts = HELD_OUT_PAIRS[lang].split("|")
    wrong = [(text, detector.detect(text)) for text in texts if detector.detect(text) != lang]
    assert len(wrong) <= ALLOWED_MISSES.get(lang, len(texts) // 10), wrong


# Held out too: Belarusian words a Russian dictionary knows once respelt, and Russian words.
HELD_OUT_WORDS = {
    "be": ["малако", "гарадскі", "вайскоўцы", "дзяржаўны", "сустрэча", "цяпер"],
    "ru": ["вертолёт", "подразделение", "наступление", "переговоры", "разрушены", "жители"],
    "uk": ["гелікоптер", "підрозділ", "наступ", "перемовини", "зруйновано", "мешканці"],
}


@pytest.mark.parametrize(("lang", "text"), _cases(HELD_OUT_WORDS))
def test_held_out_lone_words(detector: LanguageDetector, lang: str, text: str) -> None:
    assert detector.detect(text) == lang


@pytest.mark.parametrize(
    ("word", "russian"),
    [
        ("фота", "фото"),
        ("пункце", "пункте"),
        ("дзень", "день"),
        ("добры", "добрый"),
        ("законапраект", "законопроект"),
        ("цэнтр", "центр"),
    ],
)
def test_russian_spellings_undo_belarusian_sounds(word: str, russian: str) -> None:
    assert russian in set(russian_spellings(word))


def test_hints_tip_ambiguous_posts(detector: LanguageDetector) -> None:
    ambiguous = "наш канал"  # written the same in Russian, Ukrainian, Belarusian, Bulgarian
    assert detector.detect(ambiguous) in ("ru", "uk", "be", "bg")
    assert detector.detect(ambiguous, ["uk"]) == "uk"
    assert detector.detect(ambiguous, ["be"]) == "be"
    assert detector.detect("нова цена", ["bg"]) == "bg"  # Russian dictionary words, too
    assert detector.detect("нова цена", ["ru"]) == "ru"


def test_hints_do_not_override_clear_evidence(detector: LanguageDetector) -> None:
    assert detector.detect("Взрывы в Харькове", ["uk"]) == "ru"  # ы: not Ukrainian
    assert detector.detect("Работает ПВО", ["uk"]) == "ru"
    assert detector.detect("Добрий вечір, друзі", ["ru"]) == "uk"


@pytest.mark.parametrize(
    ("lang", "text"),
    [
        ("ru", "Apple представила новый iPhone 16 Pro на презентации в Купертино"),
        ("ru", "Вышел Python 3.13: `pip install --upgrade python` и ```print('hello world')```"),
        ("uk", "Зеленський зустрівся з Joe Biden у Washington DC"),
        ("uk", "Вибухи у Kиєвi тa oблaстi, пpaцює ППO"),  # Latin look-alikes typed in
        ("en", "Zelensky met Biden in Washington, the office said: «Слава Україні»"),
        ("ru", "Москва: https://t.me/news/1 @reporter #срочно сильный ветер повалил деревья"),
    ],
)
def test_mixed_scripts_follow_the_dominant_one(
    detector: LanguageDetector, lang: str, text: str
) -> None:
    assert detector.detect(text) == lang


def test_other_latin_languages_when_asked_for() -> None:
    detector = LanguageDetector(languages=("ru", "uk", "en", "de", "fr"))
    assert detector.detect("Die Regierung hat heute neue Sanktionen beschlossen.") == "de"
    assert detector.detect("Le gouvernement a annoncé de nouvelles sanctions.") == "fr"
    assert detector.detect("The government announced new sanctions today.") == "en"


def test_a_script_no_asked_language_uses_is_und() -> None:
    assert LanguageDetector(languages=("ru", "uk")).detect("New sanctions were announced.") == "und"
    assert LanguageDetector(languages=("en",)).detect("Объявлены новые санкции") == "und"


LATIN_SET = ("ru", "uk", "en", "de", "fr", "pl", "it", "es", "nl")


def test_answers_are_stable(monkeypatch: pytest.MonkeyPatch) -> None:
    # "Mama mia" and "Alpha Omega" get different answers from run to run of unseeded langdetect.
    texts = ["Mama mia", "Alpha Omega"] + [t for ts in (SENTENCES | SNIPPETS).values() for t in ts]
    first = LanguageDetector(languages=LATIN_SET, cache_size=0)
    answers = [first.detect(text) for text in texts]
    assert [first.detect(text) for _ in range(10) for text in texts[:2]] == answers[:2] * 10
    # Global state other code may touch: the random module and langdetect's shared factory.
    random.seed(12345)
    monkeypatch.setattr(langdetect.DetectorFactory, "seed", 99)
    langdetect.detect("Some unrelated text to initialise the global factory")
    second = LanguageDetector(languages=LATIN_SET, cache_size=0)
    assert [second.detect(text) for text in texts] == answers


def test_module_level_detect() -> None:
    assert detect("Повітряна тривога в Київській області") == "uk"
    assert detect("") == "und"


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        (["ўсё"], ["be"]),
        (["їжак"], ["uk"]),
        (["ђак"], ["sr"]),
        (["ќе"], ["mk"]),
        (["отбой", "тревоги"], ["ru", "uk", "bg"]),  # й rules out Serbian and Macedonian
        (["делается"], ["ru", "bg"]),  # Ukrainian writes -ться; Belarusian has no т before е
        (["въезд"], ["ru", "bg"]),
        (["във"], ["bg"]),  # Russian ъ only before е ё ю я
        (["м'ясо"], ["uk", "be"]),
        (["мясо"], ["ru", "be", "bg"]),  # Ukrainian wants the apostrophe
    ],
)
def test_spelling_candidates(words: list[str], expected: list[str]) -> None:
    assert spelling_candidates(words) == expected


@pytest.mark.parametrize("lang", ["ru", "uk"])
def test_lexicon_knows_what_the_morph_analyzer_knows(lang: str) -> None:
    analyzer, lexicon = pymorphy3.MorphAnalyzer(lang=lang), Lexicon(lang)
    # Forms, misspellings, е for ё and г for ґ, Latin and nonsense.
    words = [
        "еж",
        "ёж",
        "ежик",
        "танки",
        "танков",
        "йшов",
        "ґанок",
        "ганок",
        "гарний",
        "говорила",
        "кіт",
        "кот",
        "qwerty",
        "жжжж",
    ]
    answers = [lexicon.word_is_known(word) for word in words]
    assert answers == [analyzer.word_is_known(word) for word in words]
    assert any(answers) and not all(answers)
    assert [lexicon.word_is_known(word) for word in reversed(words)] == answers[::-1]  # cached


@pytest.mark.parametrize(
    "text", ["Взрывы в Харькове ", "ПВО работает, м'ясо ", "Kиєвi iPhone ’т 北京 ", "a  б "]
)
def test_ngrams_are_the_ones_langdetect_reads(text: str) -> None:
    ngram, expected = NGram(), []
    for ch in text:
        ngram.add_char(ch)
        expected += [gram for n in (1, 2, 3) if (gram := ngram.get(n))]
    assert list(_ngrams(text)) == expected


def test_the_answer_cache_is_bounded_and_keeps_answers() -> None:
    texts = ["Повітряна тривога в Київській області", "Воздушная тревога в Киевской области"]
    cached = LanguageDetector(cache_size=1)
    uncached = LanguageDetector(cache_size=0)
    answers = [cached.detect(text, hints) for text in texts * 2 for hints in ((), ("uk",))]
    assert answers == [uncached.detect(t, h) for t in texts * 2 for h in ((), ("uk",))]
    assert answers[:2] == ["uk", "uk"] and answers[2:4] == ["ru", "ru"]
