"""The translate stage inside a replay: once per story, cached, and never blocking."""

import asyncio
import json

import pytest

from bot.app import App
from bot.config import parse_config
from monitors.export import read_posts
from storage import Store
from tests.libretranslate_server import LibreTranslateServer, Reply

STORY = "Губернатор: диверсанты обстреляли автомобиль в селе Любечане, водитель погиб."


def export(tmp_path, channel_id, messages):
    folder = tmp_path / str(channel_id)
    folder.mkdir()
    data = {
        "name": f"c{channel_id}",
        "type": "public_channel",
        "id": channel_id,
        "messages": messages,
    }
    (folder / "result.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def message(mid, text, minute, **extra):
    return {
        "id": mid,
        "type": "message",
        "date_unixtime": str(1677751200 + 60 * minute),
        "date": "2023-03-02T10:00:00",
        "text": text,
        **extra,
    }


def config(url):
    return parse_config(
        {
            "channels": [{"id": 2000000001, "languages": ["ru"]}, {"id": 2000000002}],
            "claims": [
                {"id": "car", "text": "Saboteurs fired on a car in Lyubechane, the driver died."}
            ],
            "translation": {"backend": "libre", "url": url, "timeout_s": 2, "rate_per_s": 1000},
            # Every ranked post keeps its best claim, so a re-ranking shows in its matches.
            "matching": {"embedder": "none", "min_score": 0},
        }
    )


@pytest.fixture
def exports(tmp_path):
    return [
        export(tmp_path, 2000000001, [message(1, STORY, 0), message(2, "Доброе утро, Брянск!", 1)]),
        export(
            tmp_path,
            2000000002,
            [
                message(7, STORY, 3),  # copy-paste
                message(
                    8, STORY, 4, forwarded_from="c2000000001", forwarded_from_id="channel2000000001"
                ),
                message(9, "Morning in Bryansk.", 5),  # English: nothing to translate
            ],
        ),
    ]


async def replay(tmp_path, url, exports):
    app = await App.open(config(url), db_path=tmp_path / "cw.db", embedder=None)
    try:
        await app.replay(read_posts(exports))
    finally:
        await app.close()
    store = await Store.open(tmp_path / "cw.db")
    try:
        return [row async for row in store.posts.export_rows()]
    finally:
        await store.close()


def test_each_story_is_translated_once(tmp_path, exports):
    with LibreTranslateServer() as server:
        rows = asyncio.run(replay(tmp_path, server.url, exports))
        asked = sorted(seen.q for seen in server.requests)
    assert asked == sorted([STORY, "Доброе утро, Брянск!"])
    by_key = {(r["channel_id"], r["message_id"]): r for r in rows}
    for key in [(2000000001, 1), (2000000002, 7), (2000000002, 8)]:
        assert by_key[key]["translation"] == STORY.upper()
    assert by_key[(2000000002, 9)]["translation"] is None


def test_a_dead_translator_delays_translation_but_not_storage(tmp_path, exports):
    with LibreTranslateServer() as server:
        server.script(*[Reply(status=500)] * 50)
        rows = asyncio.run(replay(tmp_path, server.url, exports))
    assert len(rows) == 5
    assert all(row["translation"] is None for row in rows)


def test_failed_translations_are_retried_later_once_per_story(tmp_path, exports):
    with LibreTranslateServer() as server:
        server.script(*[Reply(status=500)] * 50)
        asyncio.run(replay(tmp_path, server.url, exports))

    async def retry(url):
        app = await App.open(config(url), db_path=tmp_path / "cw.db", embedder=None)
        try:
            result = await app.pipeline.retry_translations()
            again = await app.retry_translations()  # nothing is pending any more
            rows = [row async for row in app.store.posts.export_rows()]
        finally:
            await app.close()
        return result.items, again, rows

    with LibreTranslateServer() as server:
        items, again, rows = asyncio.run(retry(server.url))
        asked = sorted(seen.q for seen in server.requests)
    assert (len(items), again) == (4, 0)  # the English post was never pending
    assert {item.translation_state for item in items} == {"done"}
    assert asked == sorted([STORY, "Доброе утро, Брянск!"])
    by_key = {(r["channel_id"], r["message_id"]): r for r in rows}
    for key in [(2000000001, 1), (2000000002, 7), (2000000002, 8)]:
        assert by_key[key]["translation"] == STORY.upper()
    rematched = {item.post.message_id for item in items if item.matches}
    assert {1, 7, 8} <= rematched  # the story's posts were ranked again, with the translation


TALLY = (
    "Минобороны: за ночь силы ПВО перехватили и уничтожили {n} украинских беспилотников над "
    "территорией Брянской, Курской и Белгородской областей, а также над Крымом и акваторией "
    "Азовского моря. Пострадавших и разрушений нет, сообщили в ведомстве."
)


def test_a_copy_with_other_figures_gets_its_own_translation(tmp_path):
    exports = [
        export(tmp_path, 2000000001, [message(1, TALLY.format(n=12), 0)]),
        export(
            tmp_path,
            2000000002,
            [
                message(7, TALLY.format(n=47), 2),  # the next tally: near the first, not it
                message(8, TALLY.format(n=12) + " Подписывайтесь!", 3),  # a re-captioned copy
            ],
        ),
    ]
    with LibreTranslateServer() as server:
        rows = asyncio.run(replay(tmp_path, server.url, exports))
        asked = sorted(seen.q for seen in server.requests)
    assert asked == sorted([TALLY.format(n=12), TALLY.format(n=47)])
    by_id = {r["message_id"]: r for r in rows}
    assert len({by_id[m]["cluster_id"] for m in (1, 7, 8)}) == 1  # one story
    assert " 47 " in by_id[7]["translation"] and " 12 " in by_id[8]["translation"]
