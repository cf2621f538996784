"""`claimwatch replay`: Telegram Desktop exports through the live pipeline."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from pathlib import Path

from tqdm import tqdm

from bot.app import App
from bot.config import Config
from bot.sinks import ConsoleSink, JsonlSink, Sink
from bot.summary import describe_replay
from monitors.export import read_posts
from monitors.memory import release_free_memory
from monitors.models import Post

# Posts handed over between two returns of freed memory to the system (~1 s of replay; a
# return costs ~1.5 ms).
RELEASE_EVERY = 256


def handed_over(posts: list[Post]) -> Iterator[Post]:
    """The posts in order, each dropped from `posts` as it is handed over: the pipeline
    keeps what it needs of a post, so a long replay holds only the posts still ahead.

    A post's text lives in the C heap, where the pipeline's small objects (Python's own
    arenas) cannot reuse it: freed memory is handed back every RELEASE_EVERY posts, or it
    stays resident (ru-news: 40 MB of texts, 55 MB free in the heap at the end)."""
    posts.reverse()
    while posts:
        yield posts.pop()
        if len(posts) % RELEASE_EVERY == 0:
            release_free_memory()


def output_sink(fmt: str) -> Sink:
    return JsonlSink(sys.stdout) if fmt == "json" else ConsoleSink(sys.stdout)


async def replay_exports(
    config: Config,
    paths: Sequence[Path],
    *,
    db: Path | None,
    fmt: str,
    progress: bool | None,
) -> None:
    posts = read_posts(paths)
    app = await App.open(config, db_path=db, sinks=[output_sink(fmt)])
    try:
        show = sys.stderr.isatty() if progress is None else progress
        with tqdm(total=len(posts), disable=not show, file=sys.stderr, unit="post") as bar:
            summary = await app.replay(handed_over(posts), progress=bar.update)
        report = await describe_replay(app.store, summary)
    finally:
        await app.close()
    print(report, file=sys.stderr if fmt == "json" else sys.stdout)
