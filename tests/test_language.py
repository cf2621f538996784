"""Language detection: each language whole and in short snippets, "und", hints, mixed scripts."""

from __future__ import annotations

import random

import langdetect
import pytest

from monitors.language import LanguageDetector, detect, spelling_candidates

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
        "Україна",  # one word, no hint
        "Срочно!!!",
        "🇺🇦 https://t.me/x/1 #Київ",
    ],
)
def test_not_enough_evidence_is_und(detector: LanguageDetector, text: str) -> None:
    assert detector.detect(text) == "und"


def test_one_word_needs_decisive_letters_and_an_agreeing_hint(detector: LanguageDetector) -> None:
    assert detector.detect("Україна", ["uk"]) == "uk"  # ї: only Ukrainian
    assert detector.detect("Україна", ["ru"]) == "und"
    assert detector.detect("Ўсё", ["be"]) == "be"
    assert detector.detect("Москва", ["ru"]) == "und"  # fits every Cyrillic alphabet
    assert detector.detect("Kyiv", ["en"]) == "und"


def test_hints_tip_ambiguous_posts(detector: LanguageDetector) -> None:
    ambiguous = "наш канал"  # written the same in Russian, Ukrainian, Belarusian, Bulgarian
    assert detector.detect(ambiguous) == "ru"
    assert detector.detect(ambiguous, ["uk"]) == "uk"
    assert detector.detect(ambiguous, ["be"]) == "be"
    assert detector.detect(ambiguous, ["bg"]) == "bg"


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


def test_other_scripts_use_every_profile(detector: LanguageDetector) -> None:
    assert detector.detect("Η κυβέρνηση ανακοίνωσε νέες κυρώσεις σήμερα.") == "el"


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
