"""Time `build_digest` and the renderers over a synthetic busy day.

    python benchmarks/bench_digest.py [POSTS]

Prints `posts=... build_s=... text_s=... html_s=... chart_s=...` on its last line.
"""

from __future__ import annotations

import asyncio
import random
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bot.digest import build_digest
from bot.digest_chart import render_chart
from bot.digest_render import render_html, render_text
from monitors.models import Claim, Match, Post
from storage import NewPost, Store

DAY = date(2026, 3, 10)
CHANNELS = 300
CATEGORIES = ("partisan", "official", "state-media", "regional", "commentator")


async def seed(store: Store, n: int) -> None:
    rng = random.Random(7)
    start = datetime(2026, 3, 9, 22, tzinfo=UTC)
    posts, heads = [], []
    for i in range(n):
        channel = 1 + rng.randrange(CHANNELS)
        head = rng.randrange(max(1, i)) if i and rng.random() < 0.4 else i
        post = Post(
            channel,
            1_000_000 + i,
            start + timedelta(seconds=rng.randrange(86_400)),
            f"post {i} about story {head}",
            lang=rng.choice(("ru", "uk", "en")),
            cluster_id=f"story/{head}",
        )
        posts.append(post)
        if head == i:
            heads.append(post)
    async with store.transaction():
        await store.channels.ensure(
            [(c, None, f"channel {c}", CATEGORIES[c % 5]) for c in range(1, CHANNELS + 1)]
        )
        await store.posts.insert([NewPost(p, str(i), "none") for i, p in enumerate(posts)], "now")
        await store.clusters.refresh(heads, {p.cluster_id for p in posts})  # type: ignore[misc]
        await store.claims.upsert(
            [
                Claim(f"c{k}", f"claim {k}", published=start + timedelta(hours=k % 24))
                for k in range(50)
            ]
        )
        ids = await store.posts.lookup(p.key for p in posts[:2000])
        for j, p in enumerate(posts[:2000]):
            stance = "refutes" if j % 10 == 0 else "supports"
            match = Match(f"c{j % 50}", 0.9, True, stance)  # type: ignore[arg-type]
            await store.alerts.record(ids[p.key].id, p.cluster_id, [match], [], "now")  # type: ignore[arg-type]


def timed(func, *args):
    begin = time.perf_counter()
    result = func(*args)
    return result, time.perf_counter() - begin


async def main(n: int) -> None:
    with tempfile.TemporaryDirectory() as scratch:
        store = await Store.open(Path(scratch) / "bench.db")
        try:
            await seed(store, n)
            begin = time.perf_counter()
            digest = await build_digest(store, DAY, "Europe/Kyiv")
            build_s = time.perf_counter() - begin
        finally:
            await store.close()
    _, text_s = timed(render_text, digest)
    pieces, html_s = timed(render_html, digest)
    _, chart_s = timed(render_chart, digest)
    print(
        f"posts={digest.volume.posts} claims={len(digest.claims)} messages={len(pieces)} "
        f"build_s={build_s:.3f} text_s={text_s:.4f} html_s={html_s:.4f} chart_s={chart_s:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000))
