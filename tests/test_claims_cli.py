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
    assert run(capsys, "claims", "add", "--db", db, "Putin cancelled a trip")[0] == 0
    code, _, err = run(capsys, "claims", "close", "--db", db, "missing")
    assert code == 1 and "no claim 'missing'" in err
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x", "text": "fine words"}\n{"id": "y"}\n', encoding="utf-8")
    code, _, err = run(capsys, "claims", "import", "--db", db, str(bad))
    assert code == 1 and "bad.jsonl:2: missing field 'text'" in err


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ({"id": "a", "text": "fine words", "source": ["x"]}, "bad.jsonl:2: 'source' must be"),
        ({"id": "a", "text": "fine words", "title": {"a": 1}}, "'title' must be a string"),
        ({"id": "a", "text": None}, '"text" must be a string'),
        ({"id": "a", "text": {"x": 1}}, '"text" must be a string'),
        ({"id": "", "text": "fine words"}, '"id" must be a non-empty'),
        ({"id": True, "text": "fine words"}, '"id" must be'),
        ({"id": "a", "text": " ok "}, "a few words"),
        ({"id": "a", "text": "fine words", "published": 5}, "'published' must be"),
        ({"id": "a", "text": "fine words", "published": "9999-12-31T23:00-05:00"}, "out of range"),
    ],
)
def test_an_imported_claim_of_the_wrong_shape_stores_nothing(tmp_path, capsys, row, message):
    db = tmp_path / "cw.db"
    bad = tmp_path / "bad.jsonl"
    good = {"id": "good", "text": "Putin cancelled a trip"}
    bad.write_text(f"{json.dumps(good)}\n{json.dumps(row)}\n", encoding="utf-8")
    code, _, err = run(capsys, "claims", "import", "--db", str(db), str(bad))
    assert code == 1 and message in err and "Traceback" not in err
    assert run(capsys, "claims", "list", "--db", str(db))[1] == ""


def test_a_claims_file_that_is_not_utf8_is_named(tmp_path, capsys):
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes(b'\xff\xfe{"id": 1}\n')
    code, _, err = run(capsys, "claims", "import", "--db", str(tmp_path / "cw.db"), str(latin))
    assert code == 1 and "latin.jsonl: not UTF-8" in err


def test_reimporting_a_claim_updates_what_changed(tmp_path, capsys):
    db = str(tmp_path / "cw.db")
    file = tmp_path / "claims.jsonl"
    row = {"id": "car", "text": "A car was fired on"}
    file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    run(capsys, "claims", "import", "--db", db, str(file))
    file.write_text(json.dumps({**row, "published": "2023-03-02T08:30:00Z"}) + "\n")
    assert run(capsys, "claims", "import", "--db", db, str(file))[1].startswith("1 claim(s)")
    exported = run(capsys, "export", "claims", "--db", db)[1]
    assert json.loads(exported)["published"].startswith("2023-03-02T08:30:00")


def test_adding_a_closed_claim_again_reopens_it(tmp_path, capsys):
    db = str(tmp_path / "cw.db")
    claim_id = run(capsys, "claims", "add", "--db", db, "Putin cancelled a trip")[1].strip()
    run(capsys, "claims", "close", "--db", db, claim_id)
    assert run(capsys, "claims", "list", "--db", db)[1] == ""
    assert run(capsys, "claims", "add", "--db", db, "Putin cancelled a trip")[1].strip() == claim_id
    assert run(capsys, "claims", "list", "--db", db)[1].startswith(f"{claim_id}\topen")


def test_reading_commands_do_not_create_a_database(tmp_path, capsys):
    db = tmp_path / "typo.db"
    for args in (["claims", "list"], ["claims", "close", "x"], ["digest", "--date", "2024-01-01"]):
        code, _, err = run(capsys, *args, "--db", str(db))
        assert code == 1 and "typo.db: no database there" in err
    assert not db.exists()


def test_ids_are_readable_and_distinct():
    assert new_claim_id("Putin cancelled a trip!") != new_claim_id("Putin cancelled a trip?")
    assert new_claim_id("Путин отменил поездку").startswith("claim-")


def test_csv_export_defuses_text_a_spreadsheet_would_run(tmp_path, capsys):
    import csv

    db = str(tmp_path / "cw.db")
    file = tmp_path / "claims.jsonl"
    row = {"id": "x", "text": "-5 degrees in Bryansk", "title": '=HYPERLINK("http://e.x","y")'}
    file.write_text(json.dumps(row) + "\n", encoding="utf-8")
    run(capsys, "claims", "import", "--db", db, str(file))
    exported = run(capsys, "export", "claims", "--db", db, "--format", "csv")[1]
    (claim,) = csv.DictReader(exported.splitlines())
    assert claim["title"] == "'" + row["title"] and claim["text"] == "'" + row["text"]
    assert claim["id"] == "x" and claim["matches"] == "0"
