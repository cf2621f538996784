"""The translation retry job: it never undoes an edit, and posts that keep failing wait
their turn instead of starving the others."""

import asyncio
import threading
from datetime import UTC, datetime, timedelta

import aiosqlite
from click.testing import CliRunner

from bot.app import App
from bot.cli import cli
from bot.config import parse_config
from monitors.pipeline import RETRY_WAIT, TRANSLATION_ATTEMPTS
from storage import NewPost, Store
from storage.dates import now_db
from storage.migrations import MIGRATIONS
from storage.translation_retries import Retranslated
from tests.conftest import T0, make_post
from tests.libretranslate_server import LibreTranslateServer, Reply, Seen

RU, BE = 2000000001, 2000000002
TAKEN = "Губернатор: в селе Козинка боевики захватили заложников. v1"
WALKED_BACK = "Губернатор: информация о заложниках в Козинке не подтвердилась. v2"
CLAIM = "Militants took hostages in the village of Kozinka."


def config(url):
    return parse_config(
        {
            "channels": [{"id": RU, "languages": ["ru"]}, {"id": BE, "languages": ["be"]}],
            "claims": [{"id": "hostages", "text": CLAIM}],
            "translation": {"backend": "libre", "url": url, "timeout_s": 5, "rate_per_s": 1000},
            "matching": {"embedder": "none", "min_score": 0},
        }
    )


async def post_row(app, message_id, channel_id=RU):
    return await app.store.db.fetch_one(
        "SELECT * FROM posts WHERE channel_id = ? AND message_id = ?", (channel_id, message_id)
    )


async def translated(app, message_id):
    row = await post_row(app, message_id)
    return row["text"], row["translation"], row["translation_state"]


async def matches_and_alerts(app):
    matches = await app.store.db.fetch_all(
        "SELECT post_id, claim_id, score, alert FROM matches ORDER BY post_id, claim_id"
    )
    return [tuple(row) for row in matches], await app.store.db.scalar("SELECT count(*) FROM alerts")


async def test_an_edit_made_while_the_old_text_is_translated_is_not_walked_back(tmp_path):
    """The old text's translation arrives after the edit was stored: it is dropped, and so
    are its matches and alerts; the edit keeps what the live path gave it."""
    retrying, asked, release = threading.Event(), threading.Event(), threading.Event()

    def translate(seen: Seen) -> str:
        if seen.q.endswith("v1"):
            if not retrying.is_set():
                return ""  # an empty result: the first translation fails, at once
            asked.set()
            release.wait(10)  # the retry job's slow translation of the old text
            return CLAIM
        return "The governor: reports of hostages in Kozinka were not confirmed."

    with LibreTranslateServer(translate) as server:
        app = await App.open(config(server.url), db_path=tmp_path / "cw.db", embedder=None)
        try:
            await app.process([make_post(RU, 7, TAKEN, date=T0)])
            assert (await post_row(app, 7))["translation_state"] == "pending"
            retrying.set()
            job = asyncio.create_task(app.retry_translations())
            await asyncio.to_thread(asked.wait, 10)
            await app.process([make_post(RU, 7, WALKED_BACK, date=T0)])  # the live edit
            after_edit = await translated(app, 7), await matches_and_alerts(app)
            release.set()
            await job
            after_retry = await translated(app, 7), await matches_and_alerts(app)
        finally:
            release.set()
            await app.close()
    text, translation, state = after_edit[0]
    assert (text, state) == (WALKED_BACK, "done") and "not confirmed" in translation
    assert after_retry == after_edit


async def test_a_retry_of_an_edited_post_translates_the_new_text(tmp_path):
    """An edit whose translation fails is retried like a new post, with the new text."""
    with LibreTranslateServer() as server:
        app = await App.open(config(server.url), db_path=tmp_path / "cw.db", embedder=None)
        try:
            await app.process([make_post(RU, 7, TAKEN, date=T0)])
            server.script(Reply(status=403))
            await app.process([make_post(RU, 7, WALKED_BACK, date=T0)])
            assert (await translated(app, 7))[2] == "pending"
            assert await app.retry_translations() == 1
            row = await post_row(app, 7)
        finally:
            await app.close()
    assert (row["translation"], row["translation_state"]) == (WALKED_BACK.upper(), "done")


async def test_the_translation_is_stored_only_for_the_text_that_was_translated(store):
    """The text hash is checked in the update itself, whatever the caller's transaction."""
    async with store.transaction():
        ids = await store.posts.insert(
            [NewPost(make_post(message_id=1), "new", "pending")], now_db()
        )
    post_id = ids[(100, 1)]
    stale = Retranslated(post_id, "old", "the old text's English", "done", 2)
    assert await store.translation_retries.record([stale]) == set()
    current = Retranslated(post_id, "new", "the new text's English", "done", 2)
    assert await store.translation_retries.record([current]) == {post_id}
    assert (await store.posts.lookup([(100, 1)]))[(100, 1)].translation == "the new text's English"


def refusing_belarusian(seen: Seen) -> str:
    return "" if seen.source == "be" else seen.q.upper()  # an empty result: a failure


async def test_posts_that_keep_failing_do_not_starve_newer_ones(tmp_path):
    """Three untranslatable posts fill a batch of three once, then wait their turn."""
    with LibreTranslateServer(refusing_belarusian) as server:
        app = await App.open(config(server.url), db_path=tmp_path / "cw.db", embedder=None)
        try:
            doomed = [
                make_post(
                    BE, n, f"Паведамленне {n}: {word} у горадзе", date=T0 + timedelta(minutes=n)
                )
                for n, word in enumerate(["выбух", "пажар", "трывога"], start=1)
            ]
            await app.process(doomed)
            server.script(Reply(status=403))  # a spent quota, for the newer post only
            await app.process([make_post(RU, 9, TAKEN, date=T0 + timedelta(days=1))])
            tried = [len((await app.pipeline.retry_translations(limit=3)).items) for _ in range(3)]
            newer = await post_row(app, 9)
            waiting = await post_row(app, 1, BE)
        finally:
            await app.close()
    assert tried == [3, 1, 0]
    assert (newer["translation_state"], newer["translation"]) == ("done", TAKEN.upper())
    assert (waiting["translation_state"], waiting["translation_attempts"]) == ("pending", 2)


async def test_a_failing_post_is_retried_with_doubling_waits_then_given_up(tmp_path):
    with LibreTranslateServer(refusing_belarusian) as server:
        app = await App.open(config(server.url), db_path=tmp_path / "cw.db", embedder=None)
        try:
            await app.process([make_post(BE, 1, "Паведамленне пра выбух у горадзе", date=T0)])
            now, waits = datetime.now(UTC).replace(microsecond=0), []
            while (await post_row(app, 1, BE))["translation_state"] == "pending":
                assert len(server.requests) < 2 * TRANSLATION_ATTEMPTS, "never given up"
                await app.pipeline.retry_translations(now=now)
                due = (await post_row(app, 1, BE))["translation_due_at"]
                if due is None:
                    break
                wait = datetime.fromisoformat(due) - now
                before = len(server.requests)
                await app.pipeline.retry_translations(now=now + wait - timedelta(seconds=1))
                assert len(server.requests) == before  # not due yet: not sent
                waits.append(wait)
                now += wait
            row = await post_row(app, 1, BE)
            requests = len(server.requests)
            await app.pipeline.retry_translations(now=now + timedelta(days=30))
            assert len(server.requests) == requests  # a failed post is never sent again
        finally:
            await app.close()
    assert (row["translation_state"], row["translation_attempts"]) == (
        "failed",
        TRANSLATION_ATTEMPTS,
    )
    assert requests == TRANSLATION_ATTEMPTS  # the live try and the retries, one request each
    assert waits == [RETRY_WAIT * 2**n for n in range(TRANSLATION_ATTEMPTS - 2)]


async def test_a_refused_text_is_given_up_at_once_until_requeued(tmp_path):
    """The translator refuses the text itself (400): no two days of retries. After a change
    of backend, `claimwatch retranslate` queues it, and the next retry run translates it."""
    with LibreTranslateServer() as server:
        server.script(Reply(status=400, body={"error": "Invalid request"}))
        app = await App.open(config(server.url), db_path=tmp_path / "cw.db", embedder=None)
        try:
            await app.process([make_post(RU, 1, TAKEN, date=T0)])
            refused = await post_row(app, 1)
            retried = await app.pipeline.retry_translations(
                now=datetime.now(UTC) + timedelta(days=3)
            )
        finally:
            await app.close()
        assert (refused["translation_state"], refused["translation_attempts"]) == ("failed", 1)
        assert (len(retried.items), len(server.requests)) == (0, 1)

        queued = await asyncio.to_thread(  # the command runs its own event loop
            CliRunner().invoke, cli, ["retranslate", "--db", str(tmp_path / "cw.db")]
        )
        assert (queued.exit_code, queued.output) == (0, "1 post(s) queued for translation\n")
        app = await App.open(config(server.url), db_path=tmp_path / "cw.db", embedder=None)
        try:
            retried = await app.pipeline.retry_translations()
            row = await post_row(app, 1)
        finally:
            await app.close()
    assert (row["translation_state"], row["translation"]) == ("done", TAKEN.upper())
    assert [item.post.message_id for item in retried.items if item.matches] == [1]


def test_retranslate_needs_an_existing_database(tmp_path):
    result = CliRunner().invoke(cli, ["retranslate", "--db", str(tmp_path / "typo.db")])
    assert result.exit_code == 1
    assert "no database there" in result.output
    assert not (tmp_path / "typo.db").exists()


async def test_a_database_from_before_retry_counts_is_migrated(tmp_path):
    """A v6 database keeps its pending posts, now counted as tried once and due at once."""
    path = tmp_path / "v6.db"
    async with aiosqlite.connect(path, isolation_level=None) as conn:
        await conn.execute("BEGIN")
        for step in MIGRATIONS[:6]:
            await step(conn)
        for message_id, state in [(1, "pending"), (2, "done")]:
            await conn.execute(
                """INSERT INTO posts (channel_id, message_id, date, text, text_hash, lang,
                     translation_state, stored_at) VALUES (?, ?, ?, 'текст', ?, 'ru', ?, ?)""",
                (RU, message_id, "2023-03-02T08:00:00+00:00", f"h{message_id}", state, now_db()),
            )
        await conn.execute("COMMIT")
        await conn.execute("PRAGMA user_version = 6")
    store = await Store.open(path)
    try:
        assert await store.db.scalar("PRAGMA user_version") == len(MIGRATIONS)
        pending = await store.translation_retries.due(10, now_db())
        attempts = await store.db.fetch_all(
            "SELECT message_id, translation_attempts FROM posts ORDER BY message_id"
        )
    finally:
        await store.close()
    assert [(p.post.message_id, p.attempts) for p in pending] == [(1, 1)]
    assert [tuple(row) for row in attempts] == [(1, 1), (2, 0)]
