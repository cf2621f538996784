"""The daily digest over a small replayed day: content, rendering, chart, sending once."""

import asyncio
import io
import json
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from telethon.extensions import html as telethon_html

from bot.app import App
from bot.cli import cli
from bot.config import parse_config
from bot.digest import HourVolume, Volume, build_digest
from bot.digest_chart import LEGEND_MAX, _hourly, category_series, render_chart
from bot.digest_render import render_html, render_json, render_text
from bot.digest_send import ConsoleDigestSender, DigestPublisher
from bot.telegram_html import split_message, utf16_len
from monitors.models import Claim, Match, Post

DAY = date(2026, 3, 10)  # Kyiv is UTC+2 that day
RDK, GOV, CITY, QUIET, NEVER = 11, 12, 13, 15, 16
CHANNELS = [
    {"id": "rdk_north", "category": "partisan"},
    {"id": GOV, "category": "official", "name": "Governor"},
    {"id": CITY, "category": "regional", "name": "City News"},
    {"id": QUIET, "category": "state-media", "name": "Quiet Agency"},
    {"id": NEVER, "category": "commentator", "name": "Never Posts"},
]


def at(hour: int, minute: int = 0, day: date = DAY) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC)


def post(channel: int, message: int, when: datetime, text: str, **extra) -> Post:
    username = "rdk_north" if channel == RDK else None
    return Post(channel, message, when, text, channel_username=username, **extra)


RAID = "Бойцы корпуса вошли в село Любечане Брянской области, видео прилагаем"
POSTS = [
    post(QUIET, 1, at(10, day=DAY - timedelta(days=1)), "Погода на завтра: снег"),
    post(GOV, 1, at(22, 30, DAY - timedelta(days=1)), "Совещание по посевной"),  # 00:30 local
    post(RDK, 1, at(6), RAID),
    post(CITY, 1, at(6, 30), RAID),
    post(CITY, 2, at(7), "Источник: в селе удерживают шесть заложников"),
    post(GOV, 2, at(9, 15), "Информация о заложниках не подтвердилась"),
    post(RDK, 2, at(22, 30), "Спокойной ночи"),  # 00:30 local on the next day
]
CLAIMS = [
    Claim("raid", "The group said it had taken the village", "Raid on village",
          source_url="https://blog.example/live#1", published=at(9)),
    Claim("hostages", "Up to six hostages were taken", "<Hostages> & more",
          published=at(8)),
    Claim("red-lines", "A commentator said red lines were erased", published=at(10)),
]  # fmt: skip


async def open_day(db) -> App:
    """An app over a fresh database holding the replayed day and its matches."""
    config = parse_config(
        {
            "channels": CHANNELS,
            "translation": {"backend": "none"},
            "digest": {"timezone": "Europe/Kyiv"},
        }
    )
    app = await App.open(config, db_path=db, embedder=None)
    await app.add_claims(CLAIMS)
    await app.process(POSTS)
    await app.process([post(CITY, 2, at(7), "Заложников нет", edit_date=at(11))])
    store = app.store
    ids = await store.posts.lookup([(RDK, 1), (CITY, 1), (CITY, 2), (GOV, 2)])
    evidence = [
        ((RDK, 1), "raid", "supports"),
        ((CITY, 1), "raid", "supports"),
        ((CITY, 2), "hostages", "supports"),
        ((GOV, 2), "hostages", "refutes"),
    ]
    async with store.transaction():
        for key, claim, stance in evidence:
            stored = ids[key]
            match = Match(claim, 0.9, True, stance)  # type: ignore[arg-type]
            await store.alerts.record(stored.id, stored.cluster_id, [match], [], "2026-03-10")
        assert await store.alerts.set_feedback(RDK, 1, "raid", "useful")
    return app


@pytest.fixture
async def app(tmp_path):
    app = await open_day(tmp_path / "digest.db")
    yield app
    await app.close()


async def digest_of(app):
    return await build_digest(app.store, DAY, "Europe/Kyiv", app.config.channels)


async def test_volume_counts_the_local_day(app):
    digest = await digest_of(app)
    assert digest.volume.posts == 5  # the 00:30-local posts fall on their local days
    assert digest.volume.by_category == {"regional": 2, "official": 2, "partisan": 1}
    assert {c.channel: c.posts for c in digest.volume.by_channel} == {
        "City News": 2,
        "Governor": 2,
        "@rdk_north": 1,
    }
    assert sum(digest.volume.by_language.values()) == 5


async def test_top_story_is_the_copied_post_with_its_first_source(app):
    story = (await digest_of(app)).stories[0]
    assert (story.posts, story.channels) == (2, 2)
    assert story.categories == ("partisan", "regional")
    assert story.first.link == "https://t.me/rdk_north/1"
    assert story.headline == RAID


async def test_a_story_whose_first_post_has_no_text_is_headed_by_its_first_caption(app):
    smoke = "Фото с места: дым над промзоной"
    await app.process(
        [
            post(QUIET, 10, at(12), "", grouped_id=77, media=("photo",)),
            post(QUIET, 11, at(12), smoke, grouped_id=77, media=("photo",)),
        ]
    )
    [album] = [s for s in (await digest_of(app)).stories if s.first.message_id == 10]
    assert album.headline == smoke


async def test_claims_are_sorted_by_what_telegram_said(app):
    claims = {claim.claim_id: claim for claim in (await digest_of(app)).claims}
    raid = claims["raid"]
    assert raid.status == "corroborated"
    assert raid.supporting == {"partisan": 1, "regional": 1}
    assert raid.first is not None and raid.first.channel == "@rdk_north"
    assert raid.lead == timedelta(hours=3)
    hostages = claims["hostages"]
    assert hostages.status == "refuted"
    assert [s.channel for s in hostages.refuting] == ["Governor"]
    assert [(c.source.channel, c.change) for c in hostages.changed] == [("City News", "edited")]
    assert hostages.lead == timedelta(hours=1)
    assert claims["red-lines"].status == "unverified"
    assert all(claim.new for claim in claims.values())


async def test_silent_channels_and_feedback(app):
    digest = await digest_of(app)
    assert [(c.channel, c.last_post_at) for c in digest.silent] == [
        ("Never Posts", None),
        ("Quiet Agency", at(10, day=DAY - timedelta(days=1))),
    ]
    assert digest.feedback == {"useful": 1}


async def test_text_and_json_say_the_same(app):
    digest = await digest_of(app)
    text = render_text(digest)
    assert "raid: Raid on village [new]" in text
    assert "3 h 00 min before the live blog" in text
    assert "refuted by: Governor (official) 11:15 <https://t.me/c/12/2>" in text
    body = json.loads(render_json(digest))
    lead = {claim["claim_id"]: claim["lead_minutes"] for claim in body["claims"]}
    assert lead == {"hostages": 60, "raid": 180, "red-lines": None}
    assert body["period"]["start"] == "2026-03-09T22:00:00+00:00"


async def test_html_escapes_untrusted_text_and_parses(app):
    pieces = render_html(await digest_of(app))
    assert len(pieces) == 1
    text, entities = telethon_html.parse(pieces[0])
    assert "<Hostages> & more" in text
    urls = {entity.url for entity in entities if hasattr(entity, "url")}
    assert "https://t.me/rdk_north/1" in urls and "https://blog.example/live#1" in urls


def test_split_keeps_every_piece_under_the_limit_and_parseable():
    line = '• <a href="https://t.me/c/1/{0}">канал 🇺🇦 &amp; {0}</a> <b>жирный {0}</b>'
    whole = "<b>Digest</b>\n" + "\n".join(line.format(n) for n in range(400))
    pieces = split_message(whole, limit=500)
    assert len(pieces) > 10
    assert all(utf16_len(telethon_html.parse(piece)[0]) <= 500 for piece in pieces)
    texts = [telethon_html.parse(piece)[0] for piece in pieces]
    assert "\n".join(texts) == telethon_html.parse(whole)[0]
    assert all(piece.count("<a ") == piece.count("</a>") for piece in pieces)


def test_split_cuts_an_overlong_line_between_tags_and_reopens_them():
    whole = "<b>" + "слово &amp; " * 200 + "</b>"
    pieces = split_message(whole, limit=300)
    assert all(utf16_len(telethon_html.parse(piece)[0]) <= 300 for piece in pieces)
    assert all(piece.startswith("<b>") and piece.endswith("</b>") for piece in pieces)
    words = " ".join(telethon_html.parse(piece)[0] for piece in pieces).split()
    assert words == telethon_html.parse(whole)[0].split()
    assert all(piece.startswith("<b>слово") for piece in pieces)  # cut between words


async def test_chart_is_a_png(app):
    png = render_chart(await digest_of(app))
    assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 10_000


def test_chart_folds_the_smallest_categories_into_one_series():
    start = datetime(2023, 3, 2, tzinfo=UTC)
    hourly = [
        HourVolume(start + timedelta(hours=n % 24), f"cat{n:02d}", 100 - n) for n in range(60)
    ]
    by_category = {row.category: row.posts for row in hourly}
    volume = Volume(sum(by_category.values()), by_category, {}, (), tuple(hourly))
    series = category_series(volume)
    assert len(series) == LEGEND_MAX
    assert [name for name, _ in series[:-1]] == [f"cat{n:02d}" for n in range(LEGEND_MAX - 1)]
    name, counts = series[-1]
    assert name == f"{60 - LEGEND_MAX + 1} other categories"
    assert sum(sum(c.values()) for _, c in series) == volume.posts  # nothing dropped
    assert counts[start + timedelta(hours=9)] == (100 - 9) + (100 - 33) + (100 - 57)
    few = Volume(3, {"official": 2, "partisan": 1}, {}, (), tuple(hourly[:0]))
    assert [name for name, _ in category_series(few)] == ["official", "partisan"]


def test_the_hour_clocks_repeat_gets_its_own_bar():
    """Kyiv, 27 Oct 2024: 03:00 comes twice (00:00 and 01:00 UTC)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    first, second = datetime(2024, 10, 27, 0, tzinfo=UTC), datetime(2024, 10, 27, 1, tzinfo=UTC)
    hourly = (HourVolume(first, "official", 4), HourVolume(second, "official", 6))
    fig, ax = plt.subplots()
    try:
        _hourly(Volume(10, {"official": 10}, {}, (), hourly), ax)
        bars = sorted((patch.get_x(), patch.get_height()) for patch in ax.patches)
    finally:
        plt.close(fig)
    assert [height for _, height in bars] == [4, 6]
    assert bars[1][0] - bars[0][0] == pytest.approx(1 / 24)


async def test_a_day_is_sent_once(app):
    out = io.StringIO()
    publisher = DigestPublisher(app.store, app.config, [ConsoleDigestSender(out)], chart=False)
    assert await publisher.send(DAY)
    assert not await publisher.send(DAY)
    assert out.getvalue().count("Daily digest") == 1
    row = await app.store.digests.get(DAY)
    assert row is not None and row.sent_at is not None
    assert json.loads(row.body)["volume"]["posts"] == 5


async def seed(db) -> None:
    app = await open_day(db)
    await app.close()


def test_cli_previews_writes_the_chart_and_sends_once(tmp_path):
    db = tmp_path / "digest.db"
    asyncio.run(seed(db))
    config = tmp_path / "config.toml"
    config.write_text('[digest]\ntimezone = "Europe/Kyiv"\n', encoding="utf-8")
    base = ["digest", "--db", str(db), "--config", str(config), "--date", "2026-03-10"]
    runner = CliRunner()
    preview = runner.invoke(cli, [*base, "--format", "html", "--out", str(tmp_path / "out")])
    assert preview.exit_code == 0, preview.output
    assert "<b>Top stories</b>" in preview.stdout
    assert (tmp_path / "out" / "digest-2026-03-10.png").read_bytes().startswith(b"\x89PNG")
    first = runner.invoke(cli, [*base, "--send"])
    again = runner.invoke(cli, [*base, "--send"])
    assert first.stdout.count("Daily digest") == 1 and "sent" in first.stderr
    assert again.stdout == "" and "already sent" in again.stderr
