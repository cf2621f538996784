"""Stance cues in English, Russian and Ukrainian (monitors.matching.stance)."""

import pytest

from monitors.matching import refutation_cue, stance

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
    ],
)
def test_hedged_reports_are_unclear(post):
    assert stance(post, CLAIM, matched=True) == "unclear"


def test_denial_supports_a_claim_that_is_itself_a_denial():
    claim = "The Kremlin denied that Putin cancelled his trip."
    assert stance("В Кремле опровергли отмену поездки", claim, matched=True) == "supports"
