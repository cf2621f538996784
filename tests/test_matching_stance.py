"""Stance cues in English, Russian and Ukrainian (monitors.matching.stance)."""

import importlib
import re

import pytest

from monitors.matching import refutation_cue, stance

# The package re-exports the function `stance`, which hides the module of that name.
stance_module = importlib.import_module("monitors.matching.stance")

CLAIM = "Saboteurs took six hostages in Bryansk region."


@pytest.mark.parametrize(
    "post",
    [
        "The governor says reports of hostages are fake.",
        "Officials denied that anyone was taken hostage.",
        "Hostage reports not confirmed, no information about hostages.",
        "В ведомстве опровергли сообщения о заложниках.",
        "Это фейк, заложников нет.",
        "Информация не соответствует действительности.",
        "Інформація про заручників не підтверджується.",
        "Це фейк російської пропаганди.",
        "Повідомлення не відповідають дійсності.",
        "Officials are denying it; the reports are baseless.",
        "The ministry called the claims unfounded and fabricated.",
        "Песков назвал сообщения о заложниках чистой выдумкой.",
        "Все обвинения на этот счёт голословны.",
        "У ЦПД назвали це безпідставними та вигаданими чутками.",
    ],
)
def test_denials_refute(post):
    assert refutation_cue(post)
    assert stance(post, CLAIM, matched=True) == "refutes"


@pytest.mark.parametrize(
    "post",
    [
        "Saboteurs are holding six hostages in a Bryansk village.",
        "Диверсанты удерживают шестерых заложников в Брянской области.",
        "Диверсанти утримують шістьох заручників на Брянщині.",
    ],
)
def test_plain_reports_support_when_matched(post):
    assert refutation_cue(post) is None
    assert stance(post, CLAIM, matched=True) == "supports"
    assert stance(post, CLAIM, matched=False) == "unclear"


@pytest.mark.parametrize(
    "post",
    [
        "Unconfirmed reports of hostages in Bryansk.",
        "Якобы диверсанты взяли заложников.",
        "Нібито диверсанти взяли заручників.",
        "Saboteurs took hostages, the governor said; Reuters could not independently verify it.",
        "Reuters не удалось независимо проверить сообщения о заложниках.",
        "Reuters не вдалося перевірити повідомлення про заручників.",
    ],
)
def test_hedged_reports_are_unclear(post):
    assert stance(post, CLAIM, matched=True) == "unclear"


@pytest.mark.parametrize(
    "post",
    [
        "There is no information about hostages, the governor says.",
        "Информации о заложниках нет, сообщил губернатор.",
        "В Кремле не располагают информацией о заложниках.",
        "Інформації про заручників немає.",
    ],
)
def test_no_word_of_what_the_claim_says_refutes_it(post):
    assert refutation_cue(post) is None  # not a denial by itself
    assert stance(post, CLAIM, matched=True) == "refutes"
    assert stance_module.denial(post, CLAIM)


def test_no_word_of_something_else_is_no_denial():
    post = "Дроны атаковали нефтебазу в Брянске. Информации о пострадавших нет."
    claim = "Drones attacked an oil depot in Bryansk."
    assert stance_module.denial(post, claim) is None
    assert stance(post, claim, matched=True) == "supports"
    assert stance("Официальной информации пока нет.", CLAIM, matched=True) != "refutes"


def test_denial_supports_a_claim_that_is_itself_a_denial():
    claim = "The Kremlin denied that Putin cancelled his trip."
    assert stance("В Кремле опровергли отмену поездки", claim, matched=True) == "supports"
    claim = "The governor said there was no information about hostages."
    assert stance("Информации о заложниках нет.", claim, matched=True) == "supports"


@pytest.mark.parametrize(
    "text",
    [
        "Reports of the strike are FAKE, the ministry says.",
        "ОПРОВЕРЖЕНИЕ: информация не подтвердилась",
        "Слухи о прорыве появились утром.",
        "Rumors spread; rumours too.",
        "It was dısınformation.",  # dotless i: re.IGNORECASE equates it with i
        "A ſtatement called it falſe.",  # long s
        "İt was DİSİNFORMATION.",
        "Это \u1c82пр\u1c82вержение.",  # old Cyrillic o forms
        "Nothing to see: the ministry reported new shelling.",
        "Фейковое видео, ЛОЖНАЯ тревога",
    ],
)
def test_fast_cue_search_finds_what_the_plain_pattern_finds(text):
    for cues, patterns in (
        (stance_module._REFUTE_CUES, stance_module._REFUTE),
        (stance_module._HEDGE_CUES, stance_module._HEDGE),
    ):
        plain = re.compile("|".join(patterns), re.IGNORECASE).search(text)
        fast = cues.search(text)
        assert (fast and fast.group()) == (plain and plain.group())


def test_fold_exceptions_cover_every_letter_ignorecase_equates_differently():
    """Every character re.IGNORECASE matches to a cue letter either lower-cases to that
    letter or is one the fast path hands to the regex."""
    letters = "".join(sorted(set("".join(stance_module._REFUTE + stance_module._HEDGE))))
    letters = "".join(ch for ch in letters if ch.isalpha())
    everything = "".join(map(chr, range(0x110000)))
    equal = set(re.findall(f"[{letters}]", everything, re.IGNORECASE))
    odd = {ch for ch in equal if ch.lower() not in letters}
    assert odd and all(stance_module._FOLD_EXCEPTIONS.match(ch) for ch in odd)
