"""`claimwatch replay` through the real pipeline: idempotent, edit-aware, clean errors."""

import asyncio
import csv
import json

import pytest

from bot import replay
from bot.cli import main
from bot.replay import handed_over
from storage import Store

CHANNEL = 1111111111


def export(tmp_path, messages, name="chan"):
    folder = tmp_path / name
    folder.mkdir(exist_ok=True)
    data = {"name": "Test channel", "type": "public_channel", "id": CHANNEL, "messages": messages}
    (folder / "result.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def message(mid, text, minute=0, **extra):
    return {
        "id": mid,
        "type": "message",
        "date": f"2023-03-02T10:{minute:02d}:00",
        "date_unixtime": str(1677751200 + 60 * minute),
        "text": text,
        **extra,
    }


CLAIM_CONFIG = """
[[channels]]
id = 1111111111
category = "official"
languages = ["en"]

[[claims]]
id = "car"
text = "Bryansk governor said saboteurs fired on a car, killing the driver, wounding a child."

[translation]
backend = "none"

[matching]
embedder = "none"
"""

RAID = (
    "Bryansk governor: saboteurs fired on a car near the border, the driver was killed "
    "and a child wounded."
)


def run(args, capsys):
    with pytest.raises(SystemExit) as done:
        main(args)
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


async def stored(db):
    store = await Store.open(db)
    try:
        return (
            await store.posts.count(),
            await store.alerts.count(),
            await store.posts.versions(CHANNEL, 2),
        )
    finally:
        await store.close()


def test_replaying_twice_stores_and_alerts_nothing_twice(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text(CLAIM_CONFIG, encoding="utf-8")
    folder = export(
        tmp_path,
        [
            message(1, "Sunny in Bryansk today, +3 and no wind.", 0),
            message(2, RAID, 5),
            {"id": 3, "type": "service", "date": "2023-03-02T10:06:00", "action": "pin_message"},
        ],
    )
    db = tmp_path / "cw.db"
    args = ["replay", str(folder), "--config", str(config), "--db", str(db), "--format", "json"]
    code, out, err = run(args, capsys)
    assert code == 0
    alerts = [json.loads(line) for line in out.splitlines()]
    assert [(a["message_id"], a["claim_id"]) for a in alerts] == [(2, "car")]
    assert "posts: 2 read, 2 new" in err

    code, out, err = run(args, capsys)
    assert (code, out) == (0, "")
    assert "2 already stored" in err
    assert asyncio.run(stored(db))[:2] == (2, 1)

    # The same export twice in one run: every post read is accounted for.
    code, out, err = run([*args[:2], str(folder / "result.json"), *args[2:]], capsys)
    assert "posts: 4 read, 0 new, 0 edited, 4 already stored" in err

    # The channel edits the post: a new version is stored; the story alerted already.
    export(
        tmp_path,
        [
            message(1, "Sunny in Bryansk today, +3 and no wind.", 0),
            message(2, RAID + " Обновлено.", 5, edited="2023-03-02T11:00:00"),
        ],
    )
    code, out, err = run(args, capsys)
    assert "1 edited" in err
    posts, alert_count, versions = asyncio.run(stored(db))
    assert (posts, alert_count) == (2, 1)
    assert [v for v, _ in versions] == [1, 2]


def test_broken_export_is_a_clear_error_and_stores_nothing(tmp_path, capsys):
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "result.json").write_text('{"name": "x", "messages": [', encoding="utf-8")
    db = tmp_path / "cw.db"
    code, _out, err = run(["replay", str(folder), "--db", str(db)], capsys)
    assert code == 1
    assert err.startswith("claimwatch: ") and "result.json" in err
    assert not db.exists()


def test_bad_config_exits_2(tmp_path, capsys):
    config = tmp_path / "config.toml"
    config.write_text("[alerts]\nthreshold = 2\n", encoding="utf-8")
    folder = export(tmp_path, [message(1, "текст")])
    code, _, err = run(["replay", str(folder), "--config", str(config)], capsys)
    assert code == 2 and "alerts.threshold" in err


def test_replay_batches_close_at_a_size_or_a_weight():
    from bot.app import BATCH_SIZE, BATCH_WEIGHT, POST_WEIGHT, batches
    from monitors.embedding import MAX_CHARS
    from tests.conftest import make_post

    short = [make_post(message_id=n, text="x") for n in range(BATCH_SIZE + 5)]
    assert [len(b) for b in batches(short)] == [BATCH_SIZE, 5]

    # characters past the encoder's limit cost nothing more, so they weigh nothing more
    long = [make_post(message_id=n, text="слово " * 1000) for n in range(40)]
    per_batch = -(-BATCH_WEIGHT // (POST_WEIGHT + MAX_CHARS))
    sizes = [len(b) for b in batches(long)]
    assert sizes[0] == per_batch < BATCH_SIZE
    assert [p.message_id for b in batches(long) for p in b] == list(range(40))


def test_posts_are_handed_over_in_order_and_let_go():
    posts = ["first", "second", "third"]
    handed = handed_over(posts)
    assert next(handed) == "first"
    assert posts == ["third", "second"]  # the bench and the CLI no longer hold "first"
    assert list(handed) == ["second", "third"]
    assert posts == []


def test_freed_memory_is_returned_as_posts_are_handed_over(monkeypatch):
    returned = []
    monkeypatch.setattr(replay, "RELEASE_EVERY", 2)
    monkeypatch.setattr(replay, "release_free_memory", lambda: returned.append(True))
    assert list(handed_over(list(range(5)))) == [0, 1, 2, 3, 4]
    assert len(returned) == 3  # with 4, 2 and 0 posts left
    replay.release_free_memory()  # the real one (a no-op without glibc)


async def export_fields(db, table: str) -> tuple[str, ...]:
    """The table's declared columns; opening the store makes an empty database."""
    store = await Store.open(db)
    try:
        return getattr(store, table).EXPORT_FIELDS
    finally:
        await store.close()


@pytest.mark.parametrize("table", ["posts", "claims", "alerts", "clusters"])
def test_csv_export_names_its_columns_with_rows_or_without(tmp_path, capsys, table):
    empty = tmp_path / "empty.db"
    fields = asyncio.run(export_fields(empty, table))
    header = run(["export", table, "--db", str(empty), "--format", "csv"], capsys)[1]
    assert header.splitlines() == [",".join(fields)]

    config = tmp_path / "config.toml"
    config.write_text(CLAIM_CONFIG, encoding="utf-8")
    folder = export(tmp_path, [message(1, "Sunny in Bryansk today.", 0), message(2, RAID, 5)])
    db = tmp_path / "cw.db"
    assert run(["replay", str(folder), "--config", str(config), "--db", str(db)], capsys)[0] == 0
    exported = run(["export", table, "--db", str(db), "--format", "csv"], capsys)[1]
    rows = list(csv.DictReader(exported.splitlines()))
    assert rows and all(tuple(row) == fields for row in rows)
    lines = run(["export", table, "--db", str(db)], capsys)[1].splitlines()
    assert [tuple(json.loads(line)) for line in lines] == [fields] * len(rows)
