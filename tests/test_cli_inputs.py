"""`rank` and `detect-lang` read files and stdin written by others: a field of the wrong
type or a line that is not UTF-8 is a one-line error or a harmless answer, never a
traceback, and a post without "lang" is read as the pipeline reads it."""

import json

from click.testing import CliRunner

from bot.cli import cli

CLAIMS = [
    {"id": "hostages", "text": "A sabotage group took six hostages in Bryansk region."},
    {"id": "depot", "text": "A drone set an oil depot on fire in Sevastopol."},
]
UKRAINIAN = "Диверсанти взяли в заручники шістьох людей на Брянщині."


def rank(tmp_path, posts: list[dict]) -> CliRunner:
    claims, posts_file = tmp_path / "claims.jsonl", tmp_path / "posts.jsonl"
    claims.write_text("".join(json.dumps(c) + "\n" for c in CLAIMS), encoding="utf-8")
    lines = "".join(json.dumps(p, ensure_ascii=False) + "\n" for p in posts)
    posts_file.write_text(lines, encoding="utf-8")
    config = tmp_path / "claimwatch.toml"
    config.write_text('[translation]\nbackend = "none"\n', encoding="utf-8")
    command = ["rank", "--claims", str(claims), "--posts", str(posts_file), "--config", str(config)]
    return CliRunner().invoke(cli, command)


def test_rank_detects_the_language_of_a_post_that_does_not_give_it(tmp_path):
    result = rank(tmp_path, [{"id": "given", "text": UKRAINIAN, "lang": "uk"}])
    detected = rank(tmp_path, [{"id": "given", "text": UKRAINIAN}])
    assert result.exit_code == detected.exit_code == 0, detected.output
    assert json.loads(detected.output) == json.loads(result.output)
    assert json.loads(result.output)["matches"][0]["claim_id"] == "hostages"


def test_rank_refuses_fields_of_the_wrong_type_naming_the_line(tmp_path):
    result = rank(
        tmp_path, [{"id": "a", "text": "fine"}, {"id": "b", "text": "x", "translation": 5}]
    )
    assert result.exit_code == 1
    assert "posts.jsonl:2: 'translation' must be a string" in result.output
    assert "Traceback" not in result.output
    result = rank(tmp_path, [{"id": "a", "text": None}])
    assert result.exit_code == 1 and "posts.jsonl:1: 'text' must be a string" in result.output


def test_rank_refuses_a_folder_for_a_file(tmp_path):
    result = CliRunner().invoke(cli, ["rank", "--claims", str(tmp_path), "--posts", str(tmp_path)])
    assert result.exit_code == 2 and "is a directory" in result.output


def test_detect_lang_reads_a_line_that_is_not_utf8(tmp_path):
    stdin = "Привет, как у вас дела сегодня утром?\n".encode() + b"abc\xff\xfe\n" + b"Hello there\n"
    result = CliRunner().invoke(cli, ["detect-lang"], input=stdin)
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert len(lines) == 3 and lines[0] == "ru"
