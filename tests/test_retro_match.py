"""Retro-matching new claims against the archive: one alert, for the earliest carrier."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.app import App
from bot.cli import main
from bot.config import parse_config
from bot.retro import retro_match, search_prefixes, to_cyrillic
from monitors.models import Claim, Post
from storage import Store

BLOG_UPDATE = datetime(2023, 3, 2, 11, 30, tzinfo=UTC)
RAID = Claim(
    "car-fired-on",
    "The governor of Bryansk said saboteurs fired on a car in Lyubechane, killing the driver "
    "and wounding a child.",
    source="Border live",
    source_url="https://blog.example/live#u7",
    published=BLOG_UPDATE,
)
ORPHAN = Claim(
    "trip-cancelled",
    "The president cancelled a planned trip to the Caucasus.",
    published=BLOG_UPDATE,
)


def post(channel: int, at: datetime, text: str, translation: str | None = None) -> Post:
    return Post(
        channel_id=channel,
        message_id=1,
        date=at,
        text=text,
        channel_username=f"chan{channel}",
        translation=translation,
    )


ARCHIVE = [
    # The first to carry the claim, two hours and a quarter before the live blog.
    post(
        10,
        BLOG_UPDATE - timedelta(hours=2, minutes=15),
        "Bryansk governor: saboteurs fired on a car in Lyubechane, the driver was killed "
        "and a child was wounded.",
    ),
    # The same story later, in Russian (translated by the translator stage) and in English.
    post(
        25,
        BLOG_UPDATE - timedelta(hours=1, minutes=30),
        "Губернатор Брянской области: диверсанты обстреляли автомобиль в Любечане, "
        "водитель погиб, ранен ребенок.",
        "Bryansk region governor: saboteurs fired at a car in Lyubechane, the driver died, "
        "a child is wounded.",
    ),
    post(
        20,
        BLOG_UPDATE - timedelta(hours=1),
        "Saboteurs fired on a car in Lyubechane, Bryansk governor says: driver killed, "
        "child wounded.",
    ),
    # Older than the retro-match window: not a candidate however well it matches.
    post(
        30,
        BLOG_UPDATE - timedelta(days=9),
        "Bryansk governor says saboteurs fired on a car in Lyubechane, killing the driver "
        "and wounding a child.",
    ),
    # Unrelated posts that share a word or a name.
    post(40, BLOG_UPDATE - timedelta(hours=3), "В Брянской области ожидается снег и гололед."),
    post(50, BLOG_UPDATE - timedelta(hours=4), "A child was born in the governor's village."),
]


@pytest.fixture
async def app(tmp_path):
    config = parse_config({"translation": {"backend": "none"}, "matching": {"embedder": "none"}})
    app = await App.open(config, db_path=tmp_path / "cw.db", embedder=None)
    result = await app.process(ARCHIVE)
    assert result.new == len(ARCHIVE) and not result.alert_ids  # no claims yet
    yield app
    await app.close()


async def test_one_alert_for_the_earliest_carrier_with_lead_time(app):
    added = await app.add_claims([RAID, ORPHAN])
    alert_ids = added.alert_ids

    alerts = await app.store.alerts.load(alert_ids)
    assert [(a.claim_id, a.channel_id, a.message_id) for a in alerts] == [("car-fired-on", 10, 1)]
    assert alerts[0].date == BLOG_UPDATE - timedelta(hours=2, minutes=15)
    assert app.delivery.wake.is_set()

    first = await app.store.claims.first_seen("car-fired-on")
    assert first is not None and (first.channel_id, first.message_id) == (10, 1)
    assert first.lead == timedelta(hours=2, minutes=15)
    assert await app.store.claims.first_seen("trip-cancelled") is None

    # Matching the same claims again raises nothing new and keeps the earliest source.
    assert await retro_match(app, [RAID, ORPHAN]) == []
    assert await app.store.alerts.count() == 1
    assert await app.store.claims.first_seen("car-fired-on") == first


async def test_closed_or_unindexed_claims_are_not_matched(app):
    closed = Claim(RAID.id, RAID.text, published=BLOG_UPDATE, status="closed")
    assert await retro_match(app, [closed]) == []
    assert await retro_match(app, [RAID]) == []  # never added to the matcher
    assert await app.store.alerts.count() == 0


async def test_a_closed_claim_that_its_source_rewords_stays_closed(app):
    await app.add_claims([RAID])
    await app.set_claim_status(RAID.id, "closed")
    reworded = Claim(RAID.id, RAID.text + " Two were wounded.", published=BLOG_UPDATE)
    added = await app.add_claims([reworded])
    assert [claim.status for claim in added.changed] == ["closed"] and not added.alert_ids
    assert RAID.id not in app.matcher
    assert (await app.store.claims.get(RAID.id)).text == reworded.text


async def test_window_follows_the_claim_time(app):
    """A claim published long after the archive finds nothing in its window."""
    late = Claim(RAID.id, RAID.text, published=BLOG_UPDATE + timedelta(days=30))
    assert (await app.add_claims([late])).alert_ids == []
    assert await app.store.claims.first_seen(RAID.id) is None


async def test_cyrillic_names_find_untranslated_posts(app):
    assert to_cyrillic("Bryansk") == "брянск" and to_cyrillic("Lyubechane") == "любечане"
    prefixes = search_prefixes(RAID)
    assert {"governor", "saboteur", "брян", "любеча"} <= set(prefixes)
    found = await app.store.posts.match_any(["брян"], BLOG_UPDATE - timedelta(days=7), 10)
    assert sorted(p.channel_id for _, p in found) == [25, 40]


async def test_inline_config_claims_are_retro_matched_on_start_and_reload(tmp_path):
    """A claim written into the config file is matched like any other: when the service
    starts with it, and when a reload brings it in. Unchanged claims are not re-matched."""
    now = datetime.now(UTC)
    recent = [replace(p, date=now - (BLOG_UPDATE - p.date)) for p in ARCHIVE]
    base = {"translation": {"backend": "none"}, "matching": {"embedder": "none"}}
    raid = {"id": RAID.id, "text": RAID.text}
    async with opened(tmp_path, base) as app:
        await app.process(recent)
    async with opened(tmp_path, {**base, "claims": [raid]}) as app:
        alerts = await app.store.alerts.load([1])
        assert [(a.claim_id, a.channel_id) for a in alerts] == [(RAID.id, 10)]
        other = {
            "id": "car-attack",
            "text": "The Bryansk governor says a driver was killed and a child wounded when "
            "saboteurs fired on their car in Lyubechane.",
        }
        await app.reconfigure(parse_config({**base, "claims": [raid, other]}))
        assert await app.store.alerts.count() == 2
        assert (await app.store.claims.first_seen("car-attack")).channel_id == 10
    async with opened(tmp_path, {**base, "claims": [raid, other]}) as app:
        assert await app.store.alerts.count() == 2


@asynccontextmanager
async def opened(tmp_path, raw: dict) -> AsyncIterator[App]:
    app = await App.open(parse_config(raw), db_path=tmp_path / "cw.db", embedder=None)
    try:
        yield app
    finally:
        await app.close()


def test_cli_import_retro_matches(app, tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(
        f'[storage]\npath = "{tmp_path / "cw.db"}"\n[matching]\nembedder = "none"\n'
        '[translation]\nbackend = "none"\n',
        encoding="utf-8",
    )
    claims = tmp_path / "claims.jsonl"
    row = {"id": RAID.id, "text": RAID.text, "published": BLOG_UPDATE.isoformat()}
    claims.write_text(json.dumps(row) + "\n", encoding="utf-8")
    with pytest.raises(SystemExit) as done:
        main(["claims", "import", "--config", str(config), str(claims)])
    assert done.value.code == 0 and capsys.readouterr().out == "1 claim(s) added or updated\n"
    assert asyncio.run(alerted_channels(tmp_path / "cw.db")) == [10]


async def alerted_channels(db) -> list[int]:
    store = await Store.open(db)
    try:
        return [alert.channel_id for alert in await store.alerts.load([1, 2, 3])]
    finally:
        await store.close()
