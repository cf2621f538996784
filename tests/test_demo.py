"""The bundled scenario, end to end, checked against the expectations in its README."""

import asyncio
import json
import re

import pytest

from bot.cli import main
from bot.demo import DEMO_DATA
from storage import Store

ROW = re.compile(r"^\| (\d+) \| (\d+) \| (alert|none|-) \| ([\w-]*) \| (\w*) \|", re.M)


def expectations() -> list[tuple[int, int, str, str, str]]:
    rows = ROW.findall((DEMO_DATA / "README.md").read_text(encoding="utf-8"))
    return [(int(c), int(m), expect, claim, stance) for c, m, expect, claim, stance in rows]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    with pytest.raises(SystemExit) as done:
        main(["demo", "--format", "json", "--db", str(db)])
    assert done.value.code == 0
    return db


async def alerting(db) -> dict[tuple[int, int, str], str]:
    store = await Store.open(db)
    try:
        rows = await store.alerts.alerting_matches()
    finally:
        await store.close()
    return {(c, m, claim): stance for c, m, claim, stance in rows}


def test_expected_posts_alert_with_their_stance(demo_run):
    found = asyncio.run(alerting(demo_run))
    missing, wrong_stance = [], []
    for channel, message, expect, claim, stance in expectations():
        if expect != "alert":
            continue
        got = found.get((channel, message, claim))
        if got is None:
            missing.append((channel, message, claim))
        elif stance != "any" and got != stance:
            wrong_stance.append((channel, message, claim, got))
    assert not missing, f"posts that should alert but did not: {missing}"
    assert not wrong_stance, f"alerts with the wrong stance: {wrong_stance}"


def test_chatter_never_alerts(demo_run):
    found = asyncio.run(alerting(demo_run))
    quiet = {(c, m) for c, m, expect, _, _ in expectations() if expect == "none"}
    noisy = sorted({(c, m, claim) for c, m, claim in found if (c, m) in quiet})
    assert not noisy, f"chatter that alerted: {noisy}"


def test_json_output_is_one_alert_object_a_line(capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(SystemExit):
        main(["demo", "--format", "json"])
    out = capsys.readouterr()
    assert list(tmp_path.iterdir()) == []  # leaves nothing behind without --db
    alerts = [json.loads(line) for line in out.out.splitlines()]
    assert len(alerts) >= 3
    for alert in alerts:
        assert {
            "channel_id",
            "message_id",
            "link",
            "text",
            "lang",
            "translation",
            "claim_id",
            "claim_text",
            "score",
            "stance",
            "cluster_size",
        } <= alert.keys()
    # one alert per claim and story: no (claim, story) pair twice
    pairs = [(a["claim_id"], a["cluster_id"]) for a in alerts]
    assert len(pairs) == len(set(pairs))
    assert "posts: 47 read" in out.err
