"""The Matcher: ranking, incremental claims, cross-lingual matches, calibration."""

import numpy as np
import pytest

from monitors.embedding import load_embedder
from monitors.matching import Matcher, Query
from monitors.matching.features import FEATURES
from monitors.matching.text import gloss
from monitors.models import Claim

CLAIMS = [
    Claim(
        "hostages",
        "A sabotage group crossed into Russia's Bryansk region and took six "
        "people hostage in the village of Lyubichane.",
    ),
    Claim("trip", "Vladimir Putin cancelled a planned trip to the North Caucasus."),
    Claim(
        "depot",
        "A drone attack set fire to a fuel depot in Sevastopol, Crimea.",
        title="Oil depot burns in Sevastopol",
    ),
    Claim("bridge", "An explosion damaged the Crimean Bridge and two people in a car were killed."),
    Claim(
        "drills",
        "Belarus announced joint military exercises with Russian troops near "
        "the border with Ukraine.",
    ),
]


@pytest.fixture(scope="module")
def embedder():
    return load_embedder("use-multilingual")


@pytest.fixture(scope="module")
def matcher(embedder):
    m = Matcher(embedder)
    m.add_claims(CLAIMS)
    return m


def ids(matches):
    return [m.claim_id for m in matches]


def test_lexical_ranking_order_without_embedder():
    m = Matcher(None)
    m.add_claims(CLAIMS)
    found = m.rank("Saboteurs hold six hostages in a Bryansk village", k=3)
    assert ids(found)[0] == "hostages"
    assert len(found) <= 3
    assert [f.score for f in found] == sorted((f.score for f in found), reverse=True)
    assert ids(m.rank("Fuel depot on fire in Sevastopol after a drone attack"))[0] == "depot"


def test_a_republished_claim_ranks_after_its_first_copy():
    m = Matcher(None)
    copy = Claim("repost", CLAIMS[2].text, title=CLAIMS[2].title)
    m.add_claims([CLAIMS[2], *CLAIMS[3:], copy])
    found = m.rank("Drone attack: fuel depot on fire in Sevastopol", k=2)
    assert ids(found) == ["depot", "repost"]


def test_english_paraphrase_alerts_with_reasons(matcher):
    best = matcher.rank("Drones hit an oil depot in Sevastopol overnight, a big fire broke out")[0]
    assert best.claim_id == "depot" and best.alert
    assert best.stance == "supports"
    assert any(r.startswith("names: Sevastopol") for r in best.reasons)
    assert any(r.startswith("terms:") and "depot" in r for r in best.reasons)


@pytest.mark.parametrize(
    ("post", "lang", "claim_id"),
    [
        ("ДРГ проникла в Брянскую область, в селе Любечане шестеро заложников.", "ru", "hostages"),
        ("Путин отменил поездку на Северный Кавказ.", "ru", "trip"),
        ("Вибух на Кримському мосту, загинули двоє людей в автомобілі.", "uk", "bridge"),
        (
            "Беларусь объявила совместные учения с российскими войсками у границы с Украиной.",
            "und",
            "drills",
        ),
    ],
)
def test_russian_and_ukrainian_posts_match_english_claims(matcher, post, lang, claim_id):
    best = matcher.rank(post, lang=lang)[0]
    assert best.claim_id == claim_id
    assert best.alert


def test_translation_is_used_when_given(matcher):
    post = "Губернатор сообщил о происшествии."
    translation = "Saboteurs took six hostages in the village of Lyubichane, Bryansk region."
    assert ids(matcher.rank(post, translation=translation, lang="ru"))[0] == "hostages"


@pytest.mark.parametrize(
    "post",
    [
        "В Брянской области открылся фестиваль народной музыки.",
        "У Севастополі відкрили новий пляж після реконструкції набережної.",
        "Путин провел совещание с правительством по вопросам экономики.",
        "A folk music festival opened in the Bryansk region this weekend.",
    ],
)
def test_unrelated_post_sharing_a_place_or_name_does_not_alert(matcher, post):
    assert not any(m.alert for m in matcher.rank(post))


def test_refuting_post_is_marked(matcher):
    post = "Сообщения о заложниках в Любечане Брянской области — фейк, заявил губернатор."
    best = matcher.rank(post, lang="ru")[0]
    assert best.claim_id == "hostages"
    assert best.stance == "refutes"
    assert any(r.startswith("denial: фейк") for r in best.reasons)


def test_scores_are_probabilities(matcher):
    for post in ("", "!!!", "Sevastopol", "a" * 5000, "Путин " * 300):
        for match in matcher.rank(post, k=10):
            assert 0.0 <= match.score <= 1.0


def test_a_floor_keeps_only_the_matches_that_reach_it(matcher):
    post = Query("Путин отменил поездку на Северный Кавказ", lang="ru")
    [everything] = matcher.rank_many([post], k=5)
    floor = (everything[0].score + everything[-1].score) / 2
    [kept] = matcher.rank_many([post], k=5, floor=floor)
    assert kept == [m for m in everything if m.score >= floor]
    assert 0 < len(kept) < len(everything)
    assert matcher.rank_many([post], k=5, floor=1.01) == [[]]


def test_an_untranslated_ukrainian_post_is_embedded_glossed(matcher, embedder):
    text = "Путін скасував поїздку на Північний Кавказ через диверсантів"
    glossed = embedder.encode([gloss(text, "uk")])[0]
    assert matcher.rank(text, lang="uk") == matcher.rank(text, lang="uk", vector=glossed)
    assert matcher.rank(text, lang="uk")[0].claim_id == "trip"


def test_threshold_override(embedder):
    post = "Sevastopol"
    always, never = Matcher(embedder, threshold=0.0), Matcher(embedder, threshold=1.01)
    for m in (always, never):
        m.add_claims(CLAIMS)
    assert [m.alert for m in always.rank(post)] == [True, False, False, False, False]
    assert not any(m.alert for m in never.rank(post))


def test_batch_equals_single(matcher, embedder):
    posts = [
        Query("Путин отменил поездку на Кавказ", lang="ru"),
        Query("Drone attack on a depot in Sevastopol"),
        Query("Вибух на Кримському мосту", lang="uk", vector=embedder.encode(["міст"])[0]),
    ]
    batch = matcher.rank_many(posts, k=3)
    single = [matcher.rank(q.text, lang=q.lang, vector=q.vector, k=3) for q in posts]
    assert batch == single


def test_claims_added_and_removed_incrementally(embedder):
    m = Matcher(embedder)
    post = "Взрыв на Крымском мосту, погибли два человека"
    assert m.rank(post) == []
    m.add_claims(CLAIMS[:2])
    assert "bridge" not in ids(m.rank(post))
    m.add_claims([CLAIMS[3]])
    assert ids(m.rank(post))[0] == "bridge" and len(m) == 3
    m.remove_claim("bridge")
    m.remove_claim("unknown")
    assert "bridge" not in ids(m.rank(post)) and "bridge" not in m
    m.add_claims([Claim("bridge", "The Crimean Bridge reopened to traffic.")])
    assert ids(m.rank(post))[0] == "bridge" and len(m) == 3


def test_precomputed_vector_is_used(matcher, embedder):
    vector = embedder.encode(["Putin cancelled his trip to the Caucasus"])[0]
    assert ids(matcher.rank("", vector=vector.astype(np.float32)))[0] == "trip"


def test_cross_lingual_reasons_use_the_claims_words(matcher):
    best = matcher.rank("ДРГ в Брянской области взяла шестерых заложников", lang="ru")[0]
    assert best.claim_id == "hostages"
    assert "names: Bryansk" in best.reasons
    assert "numbers: six" in best.reasons
    assert any(r.startswith("terms:") and "hostage" in r for r in best.reasons)


def feature(m: Matcher, post: str, lang: str, name: str = "cover_claim") -> dict[str, float]:
    """Each candidate claim's value of one feature (by default its share of the claim's
    idf mass found in the post)."""
    found, rows = m.pair_features(Query(post, lang=lang))
    return dict(zip(found, rows[:, FEATURES.index(name)].tolist(), strict=True))


def test_an_untranslated_posts_names_count_as_the_claims_words():
    m = Matcher(None)
    m.add_claims(
        [
            Claim("sobyanin", "Mayor Sergei Sobyanin said the towers were hit by drones."),
            Claim("metro", "The Kharkiv metro stopped running."),
        ]
    )
    post = "Собянин: в башнях выбиты стёкла"
    assert feature(m, post, "ru")["sobyanin"] > 0.1
    m.remove_claim("sobyanin")
    m.add_claims([Claim("sobyanin", "The towers were hit by drones.")])
    assert feature(m, post, "ru").get("sobyanin", 0.0) == 0.0


def test_a_name_is_bridged_on_its_skeleton_not_on_a_shared_prefix_alone():
    m = Matcher(None)
    m.add_claims(
        [
            Claim("kharkiv", "Strikes hit the Kharkiv metro."),
            Claim("krynky", "Residents of Krynky were evacuated."),
        ]
    )
    # Харкові stems to харк, whose skeleton is Kharkiv's three-letter prefix
    assert feature(m, "Харкові знову тривога", "uk").get("kharkiv", 0.0) > 0.1
    # Коренево and Krynky share only that prefix (k-r-n)
    assert feature(m, "Бои у Коренево", "ru").get("krynky", 0.0) == 0.0


def test_names_meet_on_a_skeleton_and_explain_no_shared_prefix_alone():
    m = Matcher(None)
    m.add_claims(
        [
            Claim("kharkiv", "Strikes hit the Kharkiv metro."),
            Claim("krynky", "Residents of Krynky were evacuated."),
        ]
    )
    # a claim's names weigh their skeletons: all of them found is all of the claim's names
    names = feature(m, "Strikes on the Kharkiv metro", "en", "names")
    assert names["kharkiv"] == pytest.approx(1.0)
    assert feature(m, "Харкові знову тривога", "uk", "names")["kharkiv"] > 0.1
    assert feature(m, "Бои у Коренево, жители эвакуированы", "ru", "names")["krynky"] == 0.0
    [match] = m.rank("Бои у Коренево, жители эвакуированы", lang="ru", k=1)
    assert not any(line.startswith("names") for line in match.reasons)


def test_an_untranslated_posts_international_words_count_as_the_claims_words():
    m = Matcher(None)
    m.add_claims([Claim("denial", "The Kremlin denied the reports.")])
    post = "Маленький астероид сгорел в атмосфере"
    assert feature(m, post, "ru").get("asteroid", 0.0) == 0.0
    # added after the post's words were looked up: what they met before is forgotten
    m.add_claims([Claim("asteroid", "A small asteroid burned up in the atmosphere.")])
    # астероид and атмосфере are not in the glossary: their letters meet the claim's words
    assert feature(m, post, "ru")["asteroid"] > 0.4
    # данных shares denied's consonants only (д-н-д), not its letters
    assert feature(m, "По данным источников", "ru").get("denial", 0.0) == 0.0


def test_claims_reworded_many_times_leave_no_growing_index(embedder, monkeypatch):
    from monitors.matching import matcher as matcher_module

    monkeypatch.setattr(matcher_module, "COMPACT_AFTER", 20)
    claims = [Claim(f"c{i}", f"Drones hit the oil depot number {i} in Bryansk") for i in range(5)]
    fresh, reworded = Matcher(embedder), Matcher(embedder)
    fresh.add_claims(claims)
    reworded.add_claims(claims)
    for round_ in range(30):  # a live blog re-wording its claims, one update after another
        reworded.add_claims([Claim(c.id, f"{c.text}, update {round_}") for c in claims])
    reworded.add_claims(claims)
    assert len(reworded) == 5 and len(reworded._claims) <= 5 + 25
    post = "Беспилотники атаковали нефтебазу в Брянске"
    assert reworded.rank(post, k=5) == fresh.rank(post, k=5)
