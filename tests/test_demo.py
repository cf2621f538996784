"""The bundled scenario, end to end, checked against the expectations in its README."""

import asyncio
import json
import re

import pytest

from bot.cli import main
from bot.demo import DEMO_DATA
from storage import Store

# Cells may be empty ("| - | | |"): a row left unasserted names no claim.
ROW = re.compile(r"^\| (\d+) \| (\d+) \| (alert|none|-) \| ?([\w-]*) ?\| ?(\w*) ?\|", re.M)


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


# Posts of the README table marked "alert" that do alert today: 23 of 27. Most misses are
# Russian and Ukrainian posts with no translation (the demo is offline) whose
# cross-lingual score sits just under the threshold; see the matching issue. One is the
# digest post 9906, which carries two claims: only a post's best claim alerts, because
# on the labelled sets the runner-ups that reached the threshold were mostly wrong. The
# floor guards against regressions; raise it as matching improves.
RECALL_FLOOR = 23

# Known false alerts, kept visible rather than hidden; none today.
KNOWN_FALSE_ALERTS: list[tuple[int, int, str]] = []


def test_expected_posts_alert_with_their_stance(demo_run):
    found = asyncio.run(alerting(demo_run))
    expected = [row for row in expectations() if row[2] == "alert"]
    hits, wrong_stance = 0, []
    for channel, message, _, claim, stance in expected:
        got = found.get((channel, message, claim))
        if got is None:
            continue
        hits += 1
        if stance != "any" and got != stance:
            wrong_stance.append((channel, message, claim, got))
    assert len(expected) == 27
    assert hits >= RECALL_FLOOR, f"only {hits} of {len(expected)} expected alerts"
    assert not wrong_stance, f"alerts with the wrong stance: {wrong_stance}"


def test_no_alert_against_a_claim_the_post_does_not_carry(demo_run):
    found = asyncio.run(alerting(demo_run))
    allowed = {(c, m, claim) for c, m, expect, claim, _ in expectations() if expect == "alert"}
    unsure = {(c, m) for c, m, expect, _, _ in expectations() if expect == "-"}
    wrong = sorted(key for key in found if key not in allowed and key[:2] not in unsure)
    assert wrong == KNOWN_FALSE_ALERTS, f"alerts against the wrong claim: {wrong}"


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
