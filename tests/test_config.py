import datetime as dt
from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, load_config, parse_config
from bot.secrets import Secrets

ROOT = Path(__file__).resolve().parent.parent


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_example_config_is_valid_and_documented():
    config = load_config(ROOT / "config.example.toml")
    assert [c.category for c in config.channels] == ["partisan", "official", "commentator"]
    assert config.channels[1].id == 1234567890
    assert config.digest.timezone == "Europe/Kyiv"
    assert config.translation.backend == "google"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('[[channels]]\nid = "ab"', "channels[0].id: 'ab' is not a Telegram username"),
        ('[[channels]]\nid = "good_name"\ncategory = "Bad Label"', "channels[0].category"),
        ('[[channels]]\nid = "good_name"\nlanguages = ["russian"]', "channels[0].languages"),
        ("[alerts]\nthreshhold = 0.5", "alerts.threshhold: unknown field"),
        ("[alerts]\nthreshold = 1.5", "alerts.threshold"),
        ('[digest]\ntimezone = "Mars/Olympus"', "digest.timezone: 'Mars/Olympus' is not an IANA"),
        ('[translation]\nbackend = "libre"', "translation: backend 'libre' needs url"),
        ('[translation]\nbackend = "babelfish"', "translation.backend"),
        ('[matching]\nembedder = "word2vec"', "matching.embedder"),
        (
            '[alerts]\ndestinations = [{ type = "telegram", chat = -1001234567890 }]',
            "is the example value",
        ),
        ('[[channels]]\nid = "same_one"\n[[channels]]\nid = "Same_One"', "listed twice"),
        ("[storage\npath = 1", "not valid TOML"),
    ],
)
def test_errors_name_file_and_field(tmp_path, text, expected):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    assert expected in message
    assert "\n" not in message


def test_numeric_ids_are_stored_bare():
    config = parse_config({"channels": [{"id": -1001234567891}, {"id": 987654321}]})
    assert [c.id for c in config.channels] == [1234567891, 987654321]
    assert config.channel(1234567891) is config.channels[0]


def test_channel_lookup_by_username_ignores_case_and_prefixes():
    config = parse_config({"channels": [{"id": "https://t.me/Rus_Vol_Corps", "languages": ["ru"]}]})
    assert config.channels[0].id == "Rus_Vol_Corps"
    assert config.hints_for("rus_vol_corps") == ("ru",)
    assert config.hints_for(42) == ()


def test_check_config_exit_codes(tmp_path, capsys):
    good = write(tmp_path, '[[channels]]\nid = "partisans"\ncategory = "partisan"')
    with pytest.raises(SystemExit) as ok:
        main(["check-config", str(good)])
    assert ok.value.code == 0
    assert "channels: 1 (1 partisan)" in capsys.readouterr().out

    with pytest.raises(SystemExit) as bad:
        main(["check-config", str(tmp_path / "missing.toml")])
    assert bad.value.code == 2
    assert "missing.toml: no such file" in capsys.readouterr().err


def test_secrets_come_from_environment_only():
    secrets = Secrets.from_env({"CLAIMWATCH_API_ID": "123", "CLAIMWATCH_API_HASH": "abc"})
    assert secrets.require_api() == (123, "abc")
    assert "abc" not in repr(secrets)
    with pytest.raises(ConfigError, match="CLAIMWATCH_API_HASH is not set"):
        Secrets.from_env({"CLAIMWATCH_API_ID": "123"}).require_api()
    with pytest.raises(ConfigError, match="CLAIMWATCH_API_ID: must be the number"):
        Secrets.from_env({"CLAIMWATCH_API_ID": "12x"})


def config_error(tmp_path: Path, text: str) -> str:
    """The one-line message load_config gives for `text`, without the file name."""
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ") and "\n" not in message
    return message.removeprefix(f"{path}: ")


@pytest.mark.parametrize(
    "text",
    ['[storage]\npath = ""', '[storage]\npath = "  "', '[telegram]\nsession = ""'],
)
def test_empty_file_names_are_errors(tmp_path, text):
    # an empty SQLite path is a temporary database: everything stored would be lost
    assert config_error(tmp_path, text).endswith(": must not be empty")


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ("[alerts]\nthreshold = true", "alerts.threshold"),
        ("[[channels]]\nid = true", "channels[0].id"),
        ('[[channels]]\nid = "good_name"\nalert = "no"', "channels[0].alert"),
        ('[[channels]]\nid = "good_name"\nalert = 0', "channels[0].alert"),
        ("[alerts]\nanalysts = [true]", "alerts.analysts[0]"),
        ('[telegram]\nhistory_on_join = "100"', "telegram.history_on_join"),
        ("[matching]\ntop_k = 2.0", "matching.top_k"),
        ("[translation]\nmax_concurrency = 4.0", "translation.max_concurrency"),
        ('[dedup]\nwindow_hours = "48"', "dedup.window_hours"),
        ("[digest]\ntime = 800", "digest.time"),
        ('[digest]\ntime = "08:00+02:00"', "digest.time"),
    ],
)
def test_wrong_types_are_errors_not_coerced(tmp_path, text, where):
    assert config_error(tmp_path, text).startswith(f"{where}: ")


def test_documented_forms_still_load(tmp_path):
    config = load_config(
        write(
            tmp_path,
            '[[channels]]\nid = "@at_name"\n[[channels]]\nid = "t.me/link_name"\n'
            '[[channels]]\nid = "https://t.me/url_name"\n'
            "[alerts]\nthreshold = 1\nanalysts = [42]\n"
            'quiet_hours = { start = 23:00:00, end = "07:00" }\n'
            '[digest]\ntime = "08:30"\ntimezone = "Europe/Kyiv"\n',
        )
    )
    assert [c.id for c in config.channels] == ["at_name", "link_name", "url_name"]
    assert config.alerts.threshold == 1.0 and isinstance(config.alerts.threshold, float)
    assert config.alerts.analysts == (42,)
    assert (config.alerts.quiet_hours.start, config.alerts.quiet_hours.end) == (
        dt.time(23),
        dt.time(7),
    )
    assert config.digest.time == dt.time(8, 30)


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        (1234567890, 1234567890),
        (-1001234567891, 1234567891),
        (-1000000000042, 42),
        (2000000000000, 2000000000000),
        (2**63 - 1, 2**63 - 1),
    ],
)
def test_channel_ids_positive_or_bot_api_form(given, stored):
    assert parse_config({"channels": [{"id": given}]}).channels[0].id == stored


@pytest.mark.parametrize("given", [0, -123456, -1000000000000, -1002000000000000, 2**63])
def test_other_channel_ids_are_errors(given):
    # -123456 is a basic group, not a channel; 0 is what 2000000000000 used to become
    with pytest.raises(ConfigError) as caught:
        parse_config({"channels": [{"id": given}]})
    message = str(caught.value)
    assert message.startswith(f"config: channels[0].id: {given} is not a channel id")
    assert "-1001234567890" in message


@pytest.mark.parametrize("chat", ["0", '""', '"  "'])
def test_a_telegram_destination_without_a_chat_is_an_error(tmp_path, chat):
    text = f'[alerts]\ndestinations = [{{ type = "telegram", chat = {chat} }}]'
    assert config_error(tmp_path, text) == (
        "alerts.destinations[0]: a telegram destination needs chat (a chat id or @username)"
    )


@pytest.mark.parametrize(
    ("text", "where"),
    [
        ('[translation]\ntarget = "english"', "translation.target"),
        (
            '[[liveblogs]]\nurl = "https://x.example/live"\nlanguage = "English"',
            "liveblogs[0].language",
        ),
        ('[[channels]]\nid = "good_name"\nlanguages = ["rus"]', "channels[0].languages[0]"),
    ],
)
def test_languages_are_two_letter_codes(tmp_path, text, where):
    # detection yields two-letter codes: "english" or "rus" would never equal a post's language
    message = config_error(tmp_path, text)
    assert message.startswith(f"{where}: ") and "ISO 639-1 code (two lower-case letters" in message


def test_a_live_blog_listed_twice_is_an_error(tmp_path):
    blog = '[[liveblogs]]\nurl = "https://x.example/live"\n'
    assert (
        config_error(tmp_path, blog * 2) == "liveblogs[1]: 'https://x.example/live' is listed twice"
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[[channels]]\nid = 1.5", "channels[0].id: expected a channel id number or @username"),
        ("[[channels]]\nid = [1]", "channels[0].id: expected a channel id number or @username"),
        (
            '[alerts]\ndestinations = [{ type = "telegram", chat = 1.5 }]',
            "alerts.destinations[0].chat: expected a chat id number or @username",
        ),
        (
            '[alerts]\ndestinations = [{ type = "telegram", chat = true }]',
            "alerts.destinations[0].chat: expected a chat id number or @username",
        ),
    ],
)
def test_union_fields_give_one_plain_message(tmp_path, text, expected):
    assert config_error(tmp_path, text) == expected


def test_a_byte_order_mark_is_ignored(tmp_path):
    path = tmp_path / "config.toml"
    path.write_bytes(b'\xef\xbb\xbf[storage]\npath = "cw.db"\n')
    assert load_config(path).storage.path == "cw.db"
