from pathlib import Path

import pytest

from bot.cli import main
from bot.config import ConfigError, Secrets, load_config, parse_config

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
