"""Fault injection at each boundary (issue 10, part 3): the database, the translator,
live-blog HTTP, Telegram and the config file. Each test breaks one thing on purpose and
checks the documented answer: a clear error, a retry, nothing lost, no corrupted file.

Cases other test modules already cover are not repeated here (see their names).
"""

from __future__ import annotations

import contextlib
import gzip
import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import deep_translator
import pytest
from click.testing import CliRunner
from telethon import errors
from telethon.tl import functions

from bot.app import BATCH_SIZE, App
from bot.cli import cli
from monitors.liveblog import FetchState, LiveBlogFetcher
from monitors.models import Post
from storage import StorageError, Store
from tests.conftest import make_post
from tests.fake_telegram import T0, FakeChannels, flood_wait, rpc_error
from tests.libretranslate_server import Reply
from tests.telegram_harness import GOV, RDK, Harness, restart
from tests.test_translate import make_translator, server  # noqa: F401 (pytest fixtures)

# --- Database ------------------------------------------------------------------------------


def posts(count: int) -> list[Post]:
    return [make_post(message_id=n, text=f"Сообщение номер {n}") for n in range(1, count + 1)]


def hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another process's writer, as far as SQLite can tell: a second connection inside
    BEGIN IMMEDIATE. It may be released from another thread."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


async def test_a_write_lock_released_within_the_busy_timeout_is_waited_out(app):
    other = hold_write_lock(Path(app.store.db.path))
    releaser = threading.Timer(0.3, other.commit)
    releaser.start()
    try:
        summary = await app.replay(posts(40))
    finally:
        releaser.join()
        other.close()
    assert (summary.new, await app.store.posts.count()) == (40, 40)


async def test_a_write_lock_held_too_long_fails_clearly_and_writes_no_half_batch(app):
    await app.store.db.execute("PRAGMA busy_timeout = 100")  # the default waits 5 s
    path = Path(app.store.db.path)
    held: list[sqlite3.Connection] = []

    def lock_after_first_batch(done: int) -> None:
        if not held:
            held.append(hold_write_lock(path))

    with pytest.raises(StorageError, match=r"cw\.db: database is locked"):
        await app.replay(posts(BATCH_SIZE * 3), progress=lock_after_first_batch)
    held[0].close()
    assert await app.store.posts.count() == BATCH_SIZE  # the first batch, whole
    assert await app.store.db.scalar("PRAGMA integrity_check") == "ok"

    summary = await app.replay(posts(BATCH_SIZE * 3))  # the operator runs it again
    assert (summary.new, summary.unchanged) == (BATCH_SIZE * 2, BATCH_SIZE)
    assert await app.store.posts.count() == BATCH_SIZE * 3


async def test_a_writer_cancelled_while_it_waits_for_the_lock_leaves_no_transaction(app):
    import asyncio

    other = hold_write_lock(Path(app.store.db.path))

    async def write() -> None:
        async with app.store.transaction():
            await app.store.db.execute("PRAGMA user_version")

    writer = asyncio.create_task(write())
    await asyncio.sleep(0.2)  # BEGIN IMMEDIATE waits in the database thread
    writer.cancel()
    threading.Timer(0.1, other.commit).start()  # ... and gets the lock after all
    with pytest.raises(asyncio.CancelledError):
        await writer
    await write()  # shutdown's last flush: no "transaction within a transaction"
    assert not app.store.db._conn.in_transaction


async def test_health_counts_survive_a_flush_that_fails(app):
    from monitors.telegram.guard import Counters

    await app.store.db.execute("PRAGMA busy_timeout = 100")
    counters = Counters()
    counters.count("flood_wait", 7, "FloodWait 30 s")
    other = hold_write_lock(Path(app.store.db.path))
    with pytest.raises(StorageError, match="database is locked"):
        await counters.flush(app.store)
    other.close()
    counters.count("flood_wait", 7)
    await counters.flush(app.store)
    (counter,) = await app.store.health.counters()
    assert (counter.channel_id, counter.name, counter.count) == (7, "flood_wait", 2)


async def test_a_full_disk_fails_clearly_and_keeps_the_file_sound(app):
    await app.replay(posts(10))
    # SQLite answers SQLITE_FULL once the file would pass max_page_count, as on a full disk.
    pages = await app.store.db.scalar("PRAGMA page_count")
    await app.store.db.scalar(f"PRAGMA max_page_count = {pages}")
    long_posts = [make_post(message_id=100 + n, text="Брянск " * 2000) for n in range(20)]
    with pytest.raises(StorageError, match="database or disk is full"):
        await app.replay(long_posts)
    assert await app.store.db.scalar("PRAGMA integrity_check") == "ok"
    assert await app.store.posts.count() == 10
    assert [v for v, _ in await app.store.posts.versions(100, 3)] == [1]

    await app.store.db.scalar("PRAGMA max_page_count = 1073741823")  # space freed
    assert (await app.replay(long_posts)).new == 20


def replay_into(db: Path, export: Path) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["replay", str(export), "--db", str(db)])
    return result.exit_code, result.output


DEMO_EXPORT = Path(__file__).parent.parent / "bot" / "demo_data" / "exports" / "federal_info"


def test_replay_into_a_file_that_is_not_sqlite_exits_1_and_leaves_it_alone(tmp_path):
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 40)
    before = junk.read_bytes()
    code, output = replay_into(junk, DEMO_EXPORT)
    assert code == 1
    assert output == f"claimwatch: {junk}: file is not a database\n"
    assert junk.read_bytes() == before


def test_replay_into_a_path_below_a_file_exits_1_with_one_line(tmp_path):
    (tmp_path / "afile").write_text("not a folder")
    code, output = replay_into(tmp_path / "afile" / "cw.db", DEMO_EXPORT)
    assert code == 1
    assert output.startswith("claimwatch: ") and "cannot open database" in output
    assert output.count("\n") == 1


async def test_a_truncated_database_is_a_storage_error(tmp_path):
    path = tmp_path / "cut.db"
    store = await Store.open(path)
    await store.close()
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(StorageError, match=r"cut\.db: database disk image is malformed"):
        await Store.open(path)


def test_another_programs_database_is_left_as_it_is(tmp_path):
    other = tmp_path / "notes.sqlite"
    with contextlib.closing(sqlite3.connect(other)) as conn:
        conn.execute("CREATE TABLE notes (x)")
        conn.commit()
    before = other.read_bytes()
    code, output = replay_into(other, DEMO_EXPORT)
    assert (
        code == 1
        and output == f"claimwatch: {other}: not a claimwatch database (it has other tables)\n"
    )
    result = CliRunner().invoke(cli, ["export", "posts", "--db", str(other)])
    assert result.exit_code == 1 and "not a claimwatch database" in result.output
    assert other.read_bytes() == before  # no tables added, still not in WAL mode


def test_a_chart_folder_that_cannot_be_made_exits_1_with_one_line(tmp_path):
    db = tmp_path / "cw.db"
    assert replay_into(db, DEMO_EXPORT)[0] == 0
    (tmp_path / "afile").write_text("not a folder")
    out = tmp_path / "afile" / "charts"
    command = ["digest", "--db", str(db), "--date", "2023-03-02", "--out", str(out)]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 1 and result.output.startswith("claimwatch: ")
    assert "Not a directory" in result.output and "Traceback" not in result.output


# --- Translator (timeouts, 429, 5xx, HTML and missing fields: tests/test_translate.py) -----


def test_a_translator_that_needs_a_key_without_one_exits_2_naming_the_variable(
    tmp_path, monkeypatch
):
    monkeypatch.delenv("CLAIMWATCH_TRANSLATE_KEY", raising=False)
    config = tmp_path / "deepl.toml"
    config.write_text('[translation]\nbackend = "deepl"\n', encoding="utf-8")
    command = ["replay", str(DEMO_EXPORT), "--config", str(config), "--db", str(tmp_path / "d.db")]
    result = CliRunner().invoke(cli, command)
    assert result.exit_code == 2
    assert result.output.startswith("claimwatch: CLAIMWATCH_TRANSLATE_KEY is not set")


async def test_commands_other_than_run_read_the_translators_key_too(tmp_path, monkeypatch):
    from bot.config import parse_config

    monkeypatch.setenv("CLAIMWATCH_TRANSLATE_KEY", "secret-key")
    config = parse_config({"translation": {"backend": "deepl"}})
    app = await App.open(config, db_path=tmp_path / "cw.db", embedder=None)
    try:
        assert app.translator is not None and app.translator.settings.api_key == "secret-key"
    finally:
        await app.close()


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (Reply(body=b"\xff\xfe{\x00}"), "invalid response (JSONDecodeError)"),
        (Reply(body='{"translatedText": "ТИ'), "invalid response (JSONDecodeError)"),
        (Reply(body={"translatedText": 42}), "empty result"),
        (Reply(body={"translatedText": ["a", "b"]}), "empty result"),
        (Reply(status=200, body=b"", content_type="text/plain"), "invalid response"),
    ],
)
async def test_more_garbage_is_a_failure_without_retry(server, make_translator, reply, error):  # noqa: F811
    server.script(reply)
    translator = make_translator()
    [result] = await translator.translate(["Тиша."], source="ru")
    assert result.text is None and result.error.startswith(error)
    assert (translator.stats.requests, translator.stats.retries) == (1, 0)


async def test_an_exception_outside_deep_translators_hierarchy_is_a_result(
    server,  # noqa: F811
    make_translator,  # noqa: F811
    monkeypatch,
):
    def explode(self, text, **kwargs):
        raise RuntimeError(f"client bug while sending {text!r}")

    monkeypatch.setattr(deep_translator.LibreTranslator, "translate", explode)
    translator = make_translator()
    [result] = await translator.translate(["Секретный текст."], source="ru")
    assert (result.text, result.error) == (None, "unexpected RuntimeError")
    assert (translator.stats.requests, translator.stats.retries) == (1, 0)


async def test_429_on_every_attempt_gives_up_after_the_retries(server, make_translator):  # noqa: F811
    server.script(*[Reply(status=429, body={"error": "slow down"})] * 5)
    translator = make_translator(retries=2)
    [result] = await translator.translate(["Тиша."], source="ru")
    assert (result.text, result.error) == (None, "http 429")
    assert (translator.stats.requests, translator.stats.retries) == (3, 2)


async def test_one_failed_chunk_fails_the_whole_post_not_half_of_it(server, make_translator):  # noqa: F811
    server.script(Reply(), Reply(status=400, body={"error": "no"}))
    translator = make_translator(chunk_chars=200)
    long_text = " ".join(f"Предложение номер {n} о Брянске." for n in range(12))
    [result] = await translator.translate([long_text], source="ru")
    assert (result.text, result.error) == (None, "http 400")
    assert len(server.requests) >= 2


async def test_a_translation_after_close_is_an_error_result(make_translator):  # noqa: F811
    translator = make_translator()
    translator.close()
    [result] = await translator.translate(["Тиша."], source="ru")
    assert (result.text, result.error) == (None, "translator closed")


# --- Live-blog HTTP (errors, slow, trickling, huge: tests/test_liveblog_fetch.py) ----------

BOMB = gzip.compress(b"\0" * (8 * 1024 * 1024), compresslevel=9)


class BrokenHandler(BaseHTTPRequestHandler):
    """Servers that break HTTP in the ways the fetcher must survive."""

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self.close_connection = True
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
            getattr(self, "_" + self.path.strip("/").replace("-", "_"))()

    def _head(self, status: int = 200, **headers: str) -> None:
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()

    def _truncated(self) -> None:
        self._head(Content_Type="text/html", Content_Length="1000")
        self.wfile.write(b"<p>Only the start")

    def _bad_gzip(self) -> None:
        self._head(Content_Encoding="gzip", Content_Length="16")
        self.wfile.write(b"this is not gzip")

    def _gzip_bomb(self) -> None:
        self._head(Content_Type="text/html", Content_Encoding="gzip", Content_Length=str(len(BOMB)))
        self.wfile.write(BOMB)

    def _loop(self) -> None:
        self._head(302, Location="/loop", Content_Length="0")

    def _junk(self) -> None:
        self.wfile.write(b"SPAM SPAM SPAM\r\n\r\n")

    def _hangup(self) -> None:
        pass

    def _ok(self) -> None:
        body = b"<article><p>Officials said 12 people were evacuated from Bryansk.</p></article>"
        self._head(Content_Type="text/html", Content_Length=str(len(body)))
        self.wfile.write(body)


@pytest.fixture
def broken_site() -> Iterator[str]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), BrokenHandler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    thread.join(5)


@pytest.mark.parametrize(
    ("path", "error"),
    [
        ("/truncated", "RemoteProtocolError"),
        ("/bad-gzip", "DecodingError"),
        ("/gzip-bomb", "page passed the 1048576-byte cap"),
        ("/loop", "TooManyRedirects"),
        ("/junk", "RemoteProtocolError"),
        ("/hangup", "RemoteProtocolError"),
    ],
)
async def test_broken_http_is_a_failed_result_and_the_next_poll_works(broken_site, path, error):
    async with LiveBlogFetcher(timeout=2.0, deadline=5.0, max_bytes=1024 * 1024) as fetcher:
        failed = await fetcher.fetch(broken_site + path, FetchState(failures=2))
        assert (failed.ok, failed.body, failed.state.failures) == (False, None, 3)
        assert error in failed.error and "\n" not in failed.error
        healthy = await fetcher.fetch(broken_site + "/ok", failed.state)
    assert healthy.ok and healthy.state.failures == 0 and b"Bryansk" in healthy.body


# --- Telegram (flood wait on the first page, resolve flood waits, lost connection, expired
# session: tests/test_telegram_monitor.py and tests/test_telegram_service.py) --------------


def fail_call(world: FakeChannels, nth: int, error: Any) -> None:
    """The nth GetHistory request from now raises `error(request)`; the others are served."""
    kind = functions.messages.GetHistoryRequest
    serve, calls = world.client.handlers[kind], 0

    def maybe_fail(request: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == nth:
            raise error(request)
        return serve(request)

    world.client.on_request(kind, maybe_fail)


def refuse_channel(world: FakeChannels, channel_id: int) -> None:
    """The channel went private: every history read of it is refused from now on."""
    kind = functions.messages.GetHistoryRequest
    serve = world.client.handlers[kind]

    def serve_others(request: Any) -> Any:
        if request.peer.channel_id == channel_id:
            raise errors.ChannelPrivateError(request=request)
        return serve(request)

    world.client.on_request(kind, serve_others)


async def restarted(app: App, live: Harness) -> Harness:
    """A new process over the same Telegram world (batch size 60: pages are 100)."""
    again = Harness(app, restart(live.world), batch_size=60)
    await again.client.connect()
    return again


async def stored_once(app: App, keys: list[tuple[int, int]]) -> bool:
    found = {post.key for post in await app.store.posts.recent(T0 - timedelta(days=1))}
    versions = [await app.store.posts.versions(*key) for key in keys]
    return set(keys) <= found and all(len(v) == 1 for v in versions)


@pytest.mark.parametrize(
    ("error", "counter", "slept"),
    [
        # Telethon itself refuses repeats within a longer wait by the wall clock, which the
        # harness's instant sleep does not move.
        (flood_wait(3), "flood_wait", 4),
        (lambda request: ConnectionError("connection lost"), "transient_error", None),
    ],
)
async def test_a_fault_mid_backfill_resumes_and_stores_each_post_once(
    app, live, error, counter, slept
):
    missed = [live.world.post(RDK, f"Пока нас не было {n}") for n in range(250)]
    again = await restarted(app, live)
    fail_call(again.world, 2, error)  # the second page of RDK's history
    await again.start()
    assert await stored_once(app, [(RDK, m.id) for m in missed])
    assert again.monitor.counters.totals[counter] == 1
    assert slept is None or slept in again.sleeps
    assert set(again.monitor.followed) == {RDK, GOV}


async def test_a_channel_gone_private_during_backfill_spares_the_others(app, live):
    rdk = [live.world.post(RDK, f"Пост {n}") for n in range(5)]
    gov = [live.world.post(GOV, f"Губернатор {n}") for n in range(5)]
    again = await restarted(app, live)
    again.world.client.fail_next(
        functions.messages.GetHistoryRequest, rpc_error(errors.ChannelPrivateError)
    )
    await again.start()  # RDK is read first and refused once
    assert await stored_once(app, [(GOV, m.id) for m in gov])
    assert again.monitor.counters.totals["sync_error"] == 1
    assert await again.monitor.reconcile() == 0  # access back: nothing was skipped
    assert await stored_once(app, [(RDK, m.id) for m in rdk])


async def test_a_channel_gone_private_during_reconcile_spares_the_others(app, live):
    kept = await live.world.publish(RDK, "Уже сохранено")
    late = live.world.post(GOV, "Пропущенное обновление")
    refuse_channel(live.world, RDK)
    assert await live.monitor.reconcile() == 1
    assert await stored_once(app, [(RDK, kept.id), (GOV, late.id)])
    health = {row.name: row for row in await app.store.health.counters()}
    assert "ChannelPrivateError" in health["sync_error"].detail
    assert live.monitor.counters.totals.get("stalled") is None

    refuse_channel(live.world, GOV)  # now nothing can be read: the client looks stalled
    assert await live.monitor.reconcile() == 2
    assert live.monitor.counters.totals["stalled"] == 1


# --- Config (field errors, unknown keys, bad TOML: tests/test_config.py; junk bytes:
# tests/test_fuzz.py) ------------------------------------------------------------------------


def test_check_config_on_a_folder_exits_2_naming_it(tmp_path):
    result = CliRunner().invoke(cli, ["check-config", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"claimwatch: {tmp_path}: cannot read")
