import asyncio
import sqlite3
from datetime import timedelta

import pytest

from monitors.models import Claim, Match
from storage import NewPost, StorageError, Store, checkpoint
from storage.dates import now_db, to_db
from storage.migrations import SCHEMA_VERSION
from tests.conftest import T0, make_post


async def insert(store: Store, *posts, cluster: str = "100/1") -> dict:
    for post in posts:
        post.cluster_id = post.cluster_id or cluster
    async with store.transaction():
        return await store.posts.insert(
            [NewPost(p, f"h{p.message_id}", "none") for p in posts], now_db()
        )


async def test_new_database_is_at_latest_schema_in_wal_mode(store):
    assert await store.db.scalar("PRAGMA user_version") == SCHEMA_VERSION
    assert await store.db.scalar("PRAGMA journal_mode") == "wal"


async def test_the_full_text_index_is_merged_in_steps_and_still_finds_posts(store):
    assert await store.db.scalar("SELECT v FROM posts_fts_config WHERE k = 'automerge'") == 0
    for n in range(1, 41):  # one index segment an insert; a merge starts at four
        await insert(store, make_post(message_id=n, text=f"обстрел Белгорода номер {n}"))
    found = await store.db.fetch_all(
        "SELECT rowid FROM posts_fts WHERE posts_fts MATCH 'белгорода' ORDER BY rowid"
    )
    assert len(found) == 40
    check = "INSERT INTO posts_fts (posts_fts, rank) VALUES ('integrity-check', 1)"
    async with store.transaction():
        await store.db.execute(check)


async def test_commits_never_checkpoint_and_a_second_connection_does(tmp_path, monkeypatch):
    monkeypatch.setattr(checkpoint, "CHECKPOINT_INTERVAL_S", 0.0)
    store = await Store.open(tmp_path / "c.db")
    try:
        assert await store.db.scalar("PRAGMA wal_autocheckpoint") == 0
        await insert(store, *[make_post(message_id=n, text="слово " * 200) for n in range(1, 200)])
        main_file = (tmp_path / "c.db").stat().st_size
        for _ in range(500):  # the checkpoint runs in its own thread: wait for the file
            if main_file > 100_000:
                break
            await asyncio.sleep(0.01)
            main_file = (tmp_path / "c.db").stat().st_size
        assert main_file > 100_000  # the posts reached the database file while it is open
        assert await store.posts.count() == 199
    finally:
        await store.close()
    assert not (tmp_path / "c.db-wal").exists()


async def test_database_from_a_newer_claimwatch_is_refused(tmp_path):
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(StorageError, match="newer than this claimwatch"):
        await Store.open(path)


async def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path):
    path = tmp_path / "junk.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StorageError, match=r"junk\.db"):
        await Store.open(path)


async def test_inserts_are_idempotent_on_channel_and_message(store):
    first = await insert(store, make_post(message_id=1), make_post(message_id=2))
    again = await insert(store, make_post(message_id=1, text="другой"))
    assert again[(100, 1)] == first[(100, 1)]
    assert await store.posts.count() == 2
    assert await store.posts.versions(100, 1) == [(1, "текст")]


async def test_a_storys_first_post_is_its_earliest_carrier_even_when_it_arrives_late(store):
    """A backfilled channel had the story an hour before the post that started it here."""
    head = make_post(100, 1, date=T0 + timedelta(hours=1), cluster_id="100/1")
    older = make_post(200, 5, date=T0, cluster_id="100/1")
    for post, heads in [(head, [head]), (older, [])]:
        await insert(store, post)
        async with store.transaction():
            await store.clusters.refresh(heads, ["100/1"])
    [row] = [row async for row in store.clusters.export_rows()]
    assert (row["cluster_id"], row["first_channel_id"], row["first_message_id"]) == (
        "100/1",
        200,
        5,
    )
    assert (row["first_date"], row["size"], row["channels"]) == (to_db(T0), 2, 2)


async def test_edits_keep_every_version_and_deletions_only_mark(store):
    ids = await insert(store, make_post(message_id=7, text="шесть заложников"))
    edited = make_post(message_id=7, text="информация о заложниках не подтвердилась")
    async with store.transaction():
        await store.posts.record_edit(ids[(100, 7)], edited, "h7b", 2, now_db())
        assert await store.posts.mark_deleted(100, [7, 999], now_db()) == 1
    assert [text for _, text in await store.posts.versions(100, 7)] == [
        "шесть заложников",
        "информация о заложниках не подтвердилась",
    ]
    state = (await store.posts.lookup([(100, 7)]))[(100, 7)]
    assert state.deleted and state.version == 2 and state.text_hash == "h7b"


async def test_full_text_search_treats_input_as_terms_not_syntax(store):
    await insert(
        store, make_post(message_id=1, text="Губернатор: обстреляли автомобиль в Брянской области")
    )
    await insert(store, make_post(message_id=2, text="Погода в Москве"))
    found = await store.posts.search("автомобиль")
    assert [p.message_id for p in found] == [1]
    for hostile in ['"', "NEAR(", "text:*", "'); DROP TABLE posts; --", "AND OR NOT", "\0"]:
        assert await store.posts.search(hostile) == []
    assert [p.message_id for p in await store.posts.search("авто\0мобиль \ud83d")] == []
    assert [p.message_id for p in await store.posts.search("автомобиль\0 \ud83d")] == [1]
    assert await store.posts.count() == 2


async def test_full_text_search_shows_the_newest_matches_first(store):
    # Older posts that repeat the word would rank first by relevance.
    for n in range(1, 13):
        post = make_post(message_id=n, text="автомобиль автомобиль автомобиль обстрел")
        post.date -= timedelta(days=1)
        await insert(store, post)
    for n in range(13, 16):
        await insert(store, make_post(message_id=n, text="Обстреляли автомобиль у границы"))
    found = await store.posts.search("автомобиль", limit=10)
    assert [p.message_id for p in found][:3] == [15, 14, 13]


async def test_failed_transaction_leaves_nothing_behind(store):
    with pytest.raises(RuntimeError):
        async with store.transaction():
            await store.posts.insert([NewPost(make_post(message_id=5), "h", "none")], now_db())
            raise RuntimeError("crash mid-batch")
    assert await store.posts.count() == 0


async def test_nested_transactions_join_the_outer_one(store):
    with pytest.raises(RuntimeError):
        async with store.transaction():
            async with store.transaction():
                await store.posts.insert([NewPost(make_post(message_id=5), "h", "none")], now_db())
            raise RuntimeError("outer fails after inner finished")
    assert await store.posts.count() == 0


async def test_one_alert_per_claim_and_story_with_a_delivery_per_destination(store):
    await store.claims.upsert([Claim(id="hostages", text="six hostages were taken")])
    ids = await insert(store, make_post(message_id=1), make_post(message_id=2))
    match = Match("hostages", 0.9, True, "supports", ("hostages",))
    async with store.transaction():
        first = await store.alerts.record(
            ids[(100, 1)], "100/1", [match], ["console", "tg"], now_db()
        )
        repost = await store.alerts.record(
            ids[(100, 2)], "100/1", [match], ["console", "tg"], now_db()
        )
    assert len(first) == 1 and repost == []
    assert await store.alerts.match_count() == 2
    assert await store.alerts.due("tg", now_db()) == first
    async with store.transaction():
        await store.alerts.mark_sent(first[0], "tg", "555", now_db())
        await store.alerts.mark_retry(first[0], "console", "boom", None)
    assert await store.alerts.due("tg", now_db()) == []
    assert await store.alerts.due("console", now_db()) == []
    [alert] = await store.alerts.load(first)
    assert alert.claim_text == "six hostages were taken"
    assert alert.link == "https://t.me/c/100/1"


async def test_every_match_of_a_post_is_stored_and_the_alert_shows_its_own(store):
    await store.claims.upsert([Claim(id=c, text=f"claim {c}") for c in "abc"])
    ids = await insert(store, make_post(message_id=1))
    quiet, loud = Match("a", 0.2, False), Match("b", 0.9, True, "supports", ("names: x",))
    async with store.transaction():
        raised = await store.alerts.record(
            ids[(100, 1)], "100/1", [quiet, loud, Match("c", 0.1, False)], ["console"], now_db()
        )
        rescored = Match("b", 0.95, True, "supports", ("names: y",))
        again = await store.alerts.record(ids[(100, 1)], "100/1", [rescored], ["console"], now_db())
    assert len(raised) == 1 and again == []
    assert await store.alerts.match_count() == 3
    [alert] = await store.alerts.load(raised)
    assert (alert.claim_id, alert.score, alert.reasons) == ("b", 0.95, ("names: y",))


async def test_claims_keep_history_and_status(store):
    changed = await store.claims.upsert([Claim(id="c1", text="first wording")])
    assert [c.id for c in changed] == ["c1"]
    assert await store.claims.upsert([Claim(id="c1", text="first wording")]) == []
    await store.claims.upsert([Claim(id="c1", text="second wording")])
    assert await store.claims.set_status("c1", "closed")
    assert not await store.claims.set_status("c1", "closed")
    assert await store.claims.list("open") == []
    assert [action for _, action, _ in await store.claims.history("c1")] == [
        "added",
        "updated",
        "closed",
    ]


async def test_cursor_only_moves_forward(store):
    from tests.conftest import T0

    await store.channels.ensure([(100, "chan_name", "Chan", "official")])
    await store.channels.advance_cursors({100: (50, T0)})
    await store.channels.advance_cursors({100: (40, T0)})
    row = await store.channels.get(100)
    assert row.cursor == 50 and row.category == "official"
    assert (await store.channels.get_by_username("CHAN_NAME")).id == 100


async def test_matches_of_a_whole_batch_are_recorded_together(store):
    await store.claims.upsert([Claim(id=c, text=f"claim {c}") for c in "ab"])
    ids = await insert(store, *(make_post(message_id=n) for n in (1, 2, 3)))
    loud, quiet = Match("a", 0.9, True), Match("b", 0.2, False)
    async with store.transaction():
        raised = await store.alerts.record_many(
            [
                (ids[(100, 1)], "100/1", [quiet]),
                (ids[(100, 2)], "100/1", [loud, quiet]),
                (ids[(100, 3)], "100/1", [loud]),  # the same story: no second alert
            ],
            ["console"],
            now_db(),
        )
    assert await store.alerts.match_count() == 4
    [alert] = await store.alerts.load(raised)
    assert (alert.message_id, alert.claim_id) == (2, "a")
    assert await store.alerts.due("console", now_db()) == raised
