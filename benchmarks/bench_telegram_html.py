"""Time alert rendering and message splitting.

    python benchmarks/bench_telegram_html.py [ALERTS]

Prints `alerts=... typical_us=... huge_us=... split_mb_s=... split_pieces=...` on its last
line: microseconds per typical alert (a 700-character post and its translation, three
other channels), per alert with 20,000-character texts, and splitting throughput over a
digest-sized document of links and quotes.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot import telegram_html as tg
from bot.alert_render import render_alert_html
from storage.alerts import Alert, StoryPost

T0 = datetime(2023, 3, 2, 8, 0, tzinfo=UTC)
POST = "Бойцы сообщили, что зашли в село & держат позиции <вчера>. " * 12
ENGLISH = "Fighters said they entered the village & hold positions <yesterday>. " * 10


def typical_alert() -> Alert:
    also = tuple(
        StoryPost(f"@channel_{n}", f"https://t.me/channel_{n}/{n}", T0 + timedelta(minutes=n))
        for n in range(1, 4)
    )
    return Alert(
        1, 100, "@rdk_north", "partisan", 5, "https://t.me/rdk_north/5", T0, POST, "ru",
        ENGLISH, "raid", "Fighters took a village in Bryansk region", "Live blog",
        "https://blog.example/live", 0.82, "supports", ("names: Bryansk", "terms: village"),
        "100/5", 4, 4, also=also, claim_published=T0 + timedelta(hours=2),
    )  # fmt: skip


def per_call_us(fn, n: int) -> float:
    start = time.perf_counter()
    for _ in range(n):
        fn()
    return (time.perf_counter() - start) / n * 1e6


def main(alerts: int) -> None:
    typical = typical_alert()
    huge = replace(typical, text="слово 😀 " * 2500, translation="word 🇺🇦 " * 2500)
    typical_us = per_call_us(lambda: render_alert_html(typical), alerts)
    huge_us = per_call_us(lambda: render_alert_html(huge), max(1, alerts // 10))
    line = tg.link("Channel (partisan) 10:15", "https://t.me/c/1/2") + " " + tg.escape(POST)
    document = "\n".join([tg.bold("Digest"), *[line] * 200, tg.blockquote(POST * 20)])
    start = time.perf_counter()
    pieces = tg.split_message(document)
    split_s = time.perf_counter() - start
    print(
        f"alerts={alerts} typical_us={typical_us:.0f} huge_us={huge_us:.0f} "
        f"split_chars={len(document)} split_mb_s={len(document) / split_s / 1e6:.2f} "
        f"split_pieces={len(pieces)}"
    )


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
