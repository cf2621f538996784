"""Analysts' claims from the command line: add, import, close, list, with history."""

import asyncio
import json

import pytest

from bot.claims_cmd import new_claim_id
from bot.cli import main
from storage import Store


def run(capsys, *args) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(list(args))
    out = capsys.readouterr()
    return done.value.code, out.out, out.err


def test_add_import_close_list(tmp_path, capsys):
    db = str(tmp_path / "cw.db")
    code, out, _ = run(capsys, "claims", "add", "--db", db, "Six", "hostages", "were", "taken")
    added = out.strip()
    assert code == 0 and added.startswith("six-hostages-were-taken-")

    file = tmp_path / "claims.jsonl"
    file.write_text(
        json.dumps({"id": "car", "text": "A car was fired on", "published": "2023-03-02T09:40:00Z"})
        + "\n\n"
        + json.dumps({"id": "trip", "text": "Putin cancelled a trip"})
        + "\n",
        encoding="utf-8",
    )
    assert (
        run(capsys, "claims", "import", "--db", db, str(file))[1] == "2 claim(s) added or updated\n"
    )
    assert (
        run(capsys, "claims", "import", "--db", db, str(file))[1] == "0 claim(s) added or updated\n"
    )

    assert run(capsys, "claims", "close", "--db", db, "car")[0] == 0
    listed = run(capsys, "claims", "list", "--db", db)[1].splitlines()
    assert sorted(line.split("\t")[0] for line in listed) == sorted([added, "trip"])
    everything = run(capsys, "claims", "list", "--db", db, "--all")[1]
    assert "car\tclosed\tA car was fired on" in everything

    async def history():
        store = await Store.open(db)
        try:
            return await store.claims.history("car")
        finally:
            await store.close()

    assert [action for _, action, _ in asyncio.run(history())] == ["added", "closed"]


def test_bad_input_is_a_clear_error(tmp_path, capsys):
    db = str(tmp_path / "cw.db")
    code, _, err = run(capsys, "claims", "close", "--db", db, "missing")
    assert code == 1 and "no claim 'missing'" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "ok"}\n{"id": "y"}\n', encoding="utf-8")
    code, _, err = run(capsys, "claims", "import", "--db", db, str(bad))
    assert code == 1 and "bad.jsonl:2: missing field 'text'" in err


def test_ids_are_readable_and_distinct():
    assert new_claim_id("Putin cancelled a trip!") != new_claim_id("Putin cancelled a trip?")
    assert new_claim_id("Путин отменил поездку").startswith("claim-")
