"""`claimwatch bench`: the figures line scripts read, and the synthetic claims behind it."""

import json

from click.testing import CliRunner

from bot.bench_claims import synthetic_claims
from bot.cli import cli

KEYS = ["posts", "seconds", "posts/s", "p50_ms", "p99_ms", "peak_rss_mb", "floor_s", "ratio"]


def write_corpus(root, posts=40):
    """A corpus folder as shipped: export folders plus a README beside them."""
    folder = root / "channel_1600000001"
    folder.mkdir(parents=True)
    messages = [
        {
            "id": i,
            "type": "message",
            "date": f"2024-05-01T10:{i:02d}:00",
            "date_unixtime": str(1714557600 + 60 * i),
            "text": f"Сводка {i}: беспилотник сбит над районом {i * 7}, пострадавших нет.",
        }
        for i in range(1, posts + 1)
    ]
    data = {"name": "Сводки", "type": "public_channel", "id": 1600000001, "messages": messages}
    (folder / "result.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    (root / "README.md").write_text("not an export\n", encoding="utf-8")
    return [folder, root / "README.md"]


def test_synthetic_claims_are_deterministic():
    claims = synthetic_claims(300)
    assert [c.text for c in claims] == [c.text for c in synthetic_claims(300)]
    assert len({c.id for c in claims}) == 300
    assert len({c.text for c in claims}) > 250  # templates vary enough to be distinct
    assert [c.text for c in synthetic_claims(300, seed=1)] != [c.text for c in claims]
    assert synthetic_claims(0) == []


def test_bench_prints_the_figures_last(tmp_path):
    db = tmp_path / "bench.db"
    paths = [str(p) for p in write_corpus(tmp_path / "corpus")]
    result = CliRunner().invoke(cli, ["bench", *paths, "--claims", "50", "--db", str(db)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.strip().splitlines()
    figures = dict(pair.split("=") for pair in lines[-1].split())
    assert list(figures) == KEYS
    assert figures["posts"] == "40"
    assert float(figures["ratio"]) > 0 and float(figures["floor_s"]) > 0
    assert float(figures["p50_ms"]) <= float(figures["p99_ms"])
    assert any(line.startswith("stage Embed") for line in lines)
    exported = CliRunner().invoke(cli, ["export", "posts", "--db", str(db)])
    assert len(exported.output.splitlines()) == 40


def test_bench_refuses_a_used_database(tmp_path):
    db = tmp_path / "bench.db"
    db.write_bytes(b"")
    paths = [str(p) for p in write_corpus(tmp_path / "corpus", posts=2)]
    result = CliRunner().invoke(cli, ["bench", *paths, "--db", str(db)])
    assert result.exit_code == 1
    assert "new database" in result.output
