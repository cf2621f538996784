"""Claim extraction (sentences, speakers, hedges, walk-backs) and merging across updates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitors.liveblog import extract_claims, merge_claims, parse_page
from monitors.liveblog.models import ExtractedClaim, Update
from monitors.liveblog.sentences import split_sentences

PAGES = Path(__file__).parent / "pages"
T0 = datetime(2023, 3, 2, 9, 0, tzinfo=UTC)


def update(text: str, uid: str = "u1", minutes: int = 0) -> Update:
    return Update(uid, T0 + timedelta(minutes=minutes), None, text, f"https://news.example/#{uid}")


def only_claim(text: str) -> ExtractedClaim:
    (claim,) = extract_claims(update(text))
    return claim


@pytest.fixture(scope="module")
def bryansk() -> list[ExtractedClaim]:
    page = (PAGES / "bryansk_liveblog.html").read_bytes()
    updates = parse_page(page, url="https://news.example/live/bryansk")
    return [claim for u in updates for claim in extract_claims(u)]


def test_bryansk_story_claims(bryansk):
    found: dict[tuple[str | None, bool, bool], ExtractedClaim] = {}
    for c in bryansk:
        found.setdefault((c.attribution, c.hedged, c.walked_back), c)
    governor = found[("the governor of Bryansk", False, False)]
    assert "fired on a car" in governor.text and governor.update_id == "update-2"
    hostages = found[("Russian state news agencies", True, True)]
    assert hostages.text == (
        "Russian state news agencies reported that up to six people had been taken hostage."
    )
    assert "left Russian territory" in found[("Tass", False, False)].text
    assert "liquidated" in found[("the Kremlin spokesman", False, False)].text
    assert "Caucasus" in found[("the Kremlin", False, False)].text
    assert len(bryansk) == 6


def test_bryansk_furniture_and_qualifiers_are_not_claims(bryansk):
    texts = " ".join(c.text for c in bryansk)
    for phrase in (
        "Welcome",
        "Here is what we know",
        "could not be independently verified",
        "walked back",
        "start of something bigger",
        "Follow our coverage",
        "Mr. Bogomaz gave no further details",
    ):
        assert phrase not in texts
    assert all(c.published and c.url for c in bryansk)


def test_bryansk_repeated_claim_merges_across_updates(bryansk):
    groups = merge_claims(bryansk)
    assert len(groups) == 5
    (governor,) = [g for g in groups if len(g.claims) == 2]
    assert [c.update_id for c in governor.claims] == ["update-2", "update-3"]
    assert governor.attributions == ("the governor of Bryansk",)
    claim = governor.to_claim()
    assert claim.id == governor.id and claim.text.startswith("The governor of Bryansk said")
    assert claim.source == "the governor of Bryansk"


@pytest.mark.parametrize(
    ("sentence", "speaker"),
    [
        ("The governor of Bryansk said saboteurs had fired on a car.", "the governor of Bryansk"),
        (
            "Saboteurs fired on a car, killing the driver, the governor of Bryansk said.",
            "the governor of Bryansk",
        ),
        ("According to Tass, the armed group had already left Russia.", "Tass"),
        (
            "The group had left Russia, according to state news agency Tass.",
            "state news agency Tass",
        ),
        ("Tass reported that the group had crossed back into Ukraine.", "Tass"),
        (
            "A senior Ukrainian official told Reuters that 30 soldiers were captured.",
            "a senior Ukrainian official",
        ),
        (
            "Up to six people were taken hostage, said Russian state news agencies.",
            "Russian state news agencies",
        ),
        (
            "“The last red lines have been erased,” an ultranationalist commentator "
            "wrote on Telegram.",
            "an ultranationalist commentator",
        ),
        (
            "On Thursday, Ukrainian officials said the raid showed Russia was falling apart.",
            "Ukrainian officials",
        ),
        (
            "The Kremlin spokesman, Dmitry Peskov, told reporters the raiders would be liquidated.",
            "the Kremlin spokesman, Dmitry Peskov",
        ),
        ("The Wagner chief later said his fighters had taken the town centre.", "the Wagner chief"),
        ("Moscow has repeatedly denied targeting civilians in Kharkiv.", "Moscow"),
        ("The U.S. announced a $400 million aid package for Ukraine.", "the U.S."),
        ("Putin cancelled a planned trip to the Caucasus.", None),
        ("Shelling damaged two schools overnight in Kherson.", None),
    ],
)
def test_attribution(sentence, speaker):
    assert only_claim(sentence).attribution == speaker


def test_pronoun_speaker_resolves_to_the_last_named_one():
    first, second = extract_claims(
        update(
            "Dmitry Peskov said the raiders would be found. He said two of them had been killed."
        )
    )
    assert first.attribution == second.attribution == "Dmitry Peskov"


@pytest.mark.parametrize(
    "sentence",
    [
        "Three people were reportedly killed in the strike on Kramatorsk.",
        "Officials said 20 soldiers died, a figure that could not be independently verified.",
        "Unconfirmed reports said a Russian jet was shot down near Bryansk.",
        "Officials said 20 soldiers died, which Reuters was unable to verify.",
    ],
)
def test_hedged_in_the_sentence(sentence):
    assert only_claim(sentence).hedged


@pytest.mark.parametrize(
    "qualifier",
    [
        "Reuters could not verify the claim.",
        "This could not be independently confirmed.",
        "The report has not been verified.",
        "He did not provide evidence.",
    ],
)
def test_hedge_sentence_qualifies_the_claim_before_it(qualifier):
    claim = only_claim(f"The governor said six drones hit a fuel depot in Bryansk. {qualifier}")
    assert claim.hedged and not claim.walked_back


@pytest.mark.parametrize(
    "text",
    [
        "Agencies said six people were taken hostage. The agencies later walked back the report.",
        "Agencies said six people were taken hostage. They later retracted the claim.",
        "Agencies said six people were taken hostage, but later walked the figure back.",
        "The ministry later said no hostages had been taken in Lyubichane.",
        "Kyiv denied any involvement in the raid on the Bryansk region.",
    ],
)
def test_walked_back(text):
    assert only_claim(text).walked_back


def test_plain_claim_is_neither_hedged_nor_walked_back():
    claim = only_claim("The governor said saboteurs killed the driver of a car in Lyubichane.")
    assert not claim.hedged and not claim.walked_back


@pytest.mark.parametrize(
    "text",
    [
        "Welcome to our live coverage of the Russia-Ukraine war.",
        "Here is what we know so far about the Bryansk raid.",
        "We will bring you the latest from Kyiv throughout the day.",
        "What did Russia gain from the attack on Bakhmut?",
        "It has been a busy morning.",
        "Stay with us.",
    ],
)
def test_not_claims(text):
    assert extract_claims(update(text)) == []


def test_headline_is_not_a_claim_source():
    u = Update("u", T0, "Governor says car fired on, driver killed", "Stay with us.", "https://x/")
    assert extract_claims(u) == []


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            "Mr. Putin met Gen. Gerasimov on Jan. 5. The Kremlin confirmed it.",
            ["Mr. Putin met Gen. Gerasimov on Jan. 5.", "The Kremlin confirmed it."],
        ),
        (
            "Aid arrived from the U.S. The Pentagon said 10 launchers were sent. "
            "U.S. Army trucks left.",
            [
                "Aid arrived from the U.S.",
                "The Pentagon said 10 launchers were sent.",
                "U.S. Army trucks left.",
            ],
        ),
        (
            "“We will find them. They will be liquidated,” Peskov said. Then he left.",
            ["“We will find them. They will be liquidated,” Peskov said.", "Then he left."],
        ),
        (
            'He shouted "Get down!" and ran. Two shells hit. The toll was 3.5 times higher.',
            [
                'He shouted "Get down!" and ran.',
                "Two shells hit.",
                "The toll was 3.5 times higher.",
            ],
        ),
        (
            "First paragraph without a stop\nSecond one.",
            ["First paragraph without a stop", "Second one."],
        ),
    ],
)
def test_sentence_splitter(text, sentences):
    assert split_sentences(text) == sentences


LONG_QUOTE = "“" + "word " * 130  # an unclosed quote past MAX_QUOTE_CHARS: a typo


@pytest.mark.parametrize(
    ("text", "sentences"),
    [
        (
            'Mr. Smith met Dr. Jones. They spoke... "(The talks) failed," he said. ?! Nothing.',
            [
                "Mr. Smith met Dr. Jones.",
                "They spoke...",
                '"(The talks) failed," he said. ?!',
                "Nothing.",
            ],
        ),
        (
            "Wait… What? — 3 died. “He said. ‘No.’” Then silence.",
            ["Wait…", "What? — 3 died.", "“He said. ‘No.’” Then silence."],
        ),
        (
            "Lt. Col. J. R. Smith Jr. And others came. The U.S. The end",
            ["Lt. Col. J. R. Smith Jr.", "And others came.", "The U.S.", "The end"],
        ),
        (LONG_QUOTE + "end. Next one. Last.", [LONG_QUOTE + "end.", "Next one.", "Last."]),
        (
            "Tabs.\tNew one.  Double space!)  (Opened. lower case. Ⓐ circled. ²squared.",
            [
                "Tabs.",
                "New one.",
                "Double space!)",
                "(Opened. lower case.",
                "Ⓐ circled.",
                "²squared.",
            ],
        ),
        (
            "Sent to the Co. Inc. Bob Ltd. The deal closed at 5 p.m. The shares fell.",
            ["Sent to the Co. Inc. Bob Ltd.", "The deal closed at 5 p.m.", "The shares fell."],
        ),
        ("." * 50 + "x. Done. " + "…" * 5, ["." * 50 + "x.", "Done. " + "…" * 5]),
    ],
)
def test_sentence_splitter_edge_cases(text, sentences):
    """Pinned from the slicing splitter, before it was made linear in the page length."""
    assert split_sentences(text) == sentences


def test_merge_near_identical_wording_from_several_sources():
    a = update(
        "Russian state media reported that six people were taken hostage in Lyubichane.",
        "a",
        minutes=5,
    )
    b = update(
        "Six people were taken hostage in Lyubichane, Russian state media reported.", "b", minutes=1
    )
    c = update(
        "Russian state media reported that two people were taken hostage in Lyubichane.",
        "c",
        minutes=9,
    )
    groups = merge_claims([cl for u in (a, b, c) for cl in extract_claims(u)])
    assert [[cl.update_id for cl in g.claims] for g in groups] == [["b", "a"], ["c"]]
    assert groups[0].text.startswith("Six people")  # oldest wording represents the group
    assert groups[0].published == T0 + timedelta(minutes=1)


def test_merge_keeps_different_claims_apart_and_ids_stable():
    claims = [
        only_claim("Tass said the group had already left Russian territory."),
        only_claim("The governor said a child was wounded when a car was fired on."),
    ]
    groups = merge_claims(claims)
    assert len(groups) == 2
    assert [g.id for g in groups] == [g.id for g in merge_claims(list(claims))]
    assert len({g.id for g in groups}) == 2


def test_group_flags_combine_its_claims():
    hedged = only_claim("State media said six people were reportedly taken hostage in Lyubichane.")
    walked = only_claim(
        "State media said six people were taken hostage in Lyubichane but later retracted it."
    )
    (group,) = merge_claims([hedged, walked])
    assert group.hedged and group.walked_back
