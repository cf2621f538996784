"""Telegram Desktop export parsing, on exports written by the tests themselves."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from monitors.export import ExportError, read_export, read_exports
from monitors.models import ForwardOrigin

CHANNEL = 1700000099


def message(id: int, text: Any = "", **extra: Any) -> dict[str, Any]:
    """A plain channel message as Telegram Desktop writes it (2024-03-14 09:00:00 UTC + id s)."""
    unix = 1710406800 + id
    stamp = datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    head = {"id": id, "type": "message", "date": stamp, "date_unixtime": str(unix)}
    return {**head, "from": "Test channel", "from_id": f"channel{CHANNEL}", "text": text, **extra}


def chat(*messages: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "name": "Test channel",
        "type": "public_channel",
        "id": CHANNEL,
        "messages": list(messages),
        **extra,
    }


def write(tmp_path: Path, data: Any) -> Path:
    folder = tmp_path / "ChatExport_2024-03-14"
    folder.mkdir(exist_ok=True)
    (folder / "result.json").write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return folder


def posts(tmp_path: Path, *messages: dict[str, Any]):
    return read_export(write(tmp_path, chat(*messages))).posts


def test_folder_and_result_json_give_the_same_export(tmp_path):
    folder = write(tmp_path, chat(message(1, "Привет")))
    by_folder, by_file = read_export(folder), read_export(folder / "result.json")
    assert by_folder == by_file
    assert (by_folder.channel_id, by_folder.name, by_folder.kind) == (
        CHANNEL,
        "Test channel",
        "public_channel",
    )
    assert by_folder.username is None


def test_plain_string_message(tmp_path):
    [post] = posts(tmp_path, message(5, "⚡️ Брянск: сирены"))
    assert post.key == (CHANNEL, 5)
    assert post.text == "⚡️ Брянск: сирены"
    assert post.date == datetime(2024, 3, 14, 9, 0, 5, tzinfo=UTC)
    assert post.channel_title == "Test channel"
    assert (post.edit_date, post.forward, post.media, post.reply_to) == (None, None, (), None)


def test_entity_list_keeps_visible_text(tmp_path):
    text = [
        "Губернатор: ",
        {"type": "bold", "text": "обстрел"},
        " в ",
        {"type": "text_link", "text": "селе", "href": "https://example.org/x"},
        " ",
        {"type": "hashtag", "text": "#Брянск"},
        " ",
        {"type": "mention", "text": "@somechannel"},
    ]
    [post] = posts(tmp_path, message(1, text))
    assert post.text == "Губернатор: обстрел в селе #Брянск @somechannel"


def test_text_entities_used_when_text_is_absent(tmp_path):
    msg = message(1)
    del msg["text"]
    msg["text_entities"] = [{"type": "plain", "text": "a "}, {"type": "link", "text": "t.me/x"}]
    assert posts(tmp_path, msg)[0].text == "a t.me/x"


def test_service_and_unsupported_messages_are_skipped(tmp_path):
    service = {
        "id": 1,
        "type": "service",
        "date": "2024-03-14T09:00:00",
        "date_unixtime": "1710406800",
        "actor": "Test channel",
        "action": "pin_message",
        "message_id": 2,
        "text": "",
    }
    unsupported = {"id": 3, "type": "unsupported"}  # Desktop writes no date for these.
    got = posts(tmp_path, service, message(2, "x"), unsupported)
    assert [p.message_id for p in got] == [2]


def test_lone_surrogates_in_names_are_replaced(tmp_path):
    # JSON may escape half an emoji ("\\ud83d"); SQLite refuses to store it.
    data = chat(message(1, "x", forwarded_from="Партизаны \ud83d"), name="Канал \ud83d")
    folder = write(tmp_path, None)
    (folder / "result.json").write_text(json.dumps(data), encoding="utf-8")
    (post,) = read_export(folder).posts
    assert post.channel_title == "Канал \ufffd" and post.forward.name == "Партизаны \ufffd"


def test_forward_from_channel_and_from_user(tmp_path):
    by_channel = message(1, "x", forwarded_from="Партизаны", forwarded_from_id="channel1700000001")
    by_user = message(2, "y", forwarded_from="Иван", forwarded_from_id="user42")
    name_only = message(3, "z", forwarded_from="Скрытый автор")
    got = [p.forward for p in posts(tmp_path, by_channel, by_user, name_only)]
    assert got == [
        ForwardOrigin(channel_id=1700000001, name="Партизаны"),
        ForwardOrigin(channel_id=None, name="Иван"),
        ForwardOrigin(channel_id=None, name="Скрытый автор"),
    ]


def test_edit_date_prefers_unixtime(tmp_path):
    # A Desktop "edited" is local time of the exporting machine; the unixtime is the truth.
    msg = message(1, "x", edited="2024-03-14T13:30:00", edited_unixtime="1710419400")
    naive = message(2, "y", edited="2024-03-14T12:30:00")
    got = [p.edit_date for p in posts(tmp_path, msg, naive)]
    assert got == [datetime(2024, 3, 14, 12, 30, tzinfo=UTC)] * 2


def test_date_without_unixtime_is_read_as_utc(tmp_path):
    msg = message(1, "x")
    del msg["date_unixtime"]
    assert posts(tmp_path, msg)[0].date == datetime(2024, 3, 14, 9, 0, 1, tzinfo=UTC)


def test_media_kinds_and_photo_without_text(tmp_path):
    got = posts(
        tmp_path,
        message(1, "", photo="photos/photo_1.jpg", width=1280, height=720),
        message(2, "видео", file="v.mp4", media_type="video_file", mime_type="video/mp4"),
        message(3, "", file="files/report.pdf", mime_type="application/pdf"),
        message(4, "", poll={"question": "?", "answers": []}),
    )
    assert [(p.text, p.media) for p in got] == [
        ("", ("photo",)),
        ("видео", ("video_file",)),
        ("", ("document",)),
        ("", ("poll",)),
    ]


def test_reply_to(tmp_path):
    assert posts(tmp_path, message(7, "x", reply_to_message_id=3))[0].reply_to == 3


def test_missing_text_is_empty(tmp_path):
    msg = message(1)
    del msg["text"]
    assert posts(tmp_path, msg)[0].text == ""


def test_empty_export(tmp_path):
    assert posts(tmp_path) == []


def test_huge_text(tmp_path):
    big = "Брянск " * 80_000  # about 1 MB of UTF-8
    assert posts(tmp_path, message(1, [big, {"type": "bold", "text": "!"}]))[0].text == big + "!"


def test_bot_api_style_id_is_made_bare(tmp_path):
    export = read_export(write(tmp_path, chat(message(1, "x"), id=-1001700000099)))
    assert export.channel_id == CHANNEL == export.posts[0].channel_id


def test_account_export_yields_channels_and_skips_personal_chats(tmp_path):
    data = {
        "personal_information": {"first_name": "A"},
        "chats": {
            "about": "...",
            "list": [
                chat(message(1, "a")),
                {"name": "Мама", "type": "personal_chat", "id": 42, "messages": [message(1, "b")]},
            ],
        },
        "left_chats": {"list": [chat(message(9, "c"), id=1700000098, type="private_supergroup")]},
    }
    exports = read_exports(write(tmp_path, data))
    assert [(e.channel_id, [p.text for p in e.posts]) for e in exports] == [
        (CHANNEL, ["a"]),
        (1700000098, ["c"]),
    ]
    with pytest.raises(ExportError, match="holds 2 channels"):
        read_export(tmp_path / "ChatExport_2024-03-14")


def error_for(tmp_path: Path, data: Any) -> str:
    with pytest.raises(ExportError) as caught:
        read_exports(write(tmp_path, data))
    return str(caught.value)


def test_broken_json_names_file_and_position(tmp_path):
    folder = write(tmp_path, None)
    (folder / "result.json").write_text('{"name": "x",\n "messages": [}', encoding="utf-8")
    with pytest.raises(ExportError, match=r"result\.json: broken JSON at line 2 column 15"):
        read_exports(folder)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ([1, 2], "top level is a JSON list"),
        ({"name": "x"}, 'neither "messages"'),
        ({"chats": []}, '"chats" is not an object'),
        (chat(id="abc"), "chat \"id\" is 'abc'"),
        (chat(type="personal_chat"), "'personal_chat' is not a channel"),
        (
            chat(message(1), {"type": "message", "date": "2024-03-14T09:00"}),
            "message #1: no integer",
        ),
        (chat({"id": 4, "type": "message", "text": "x"}), 'message 4: no "date"'),
        (chat(message(3, date_unixtime="soon")), "message 3: \"date_unixtime\" is 'soon'"),
        (chat(message(3, 17)), 'message 3: "text" is a JSON int'),
        (chat(message(3, ["a", {"type": "bold"}, 5])), "message 3: text entity 5"),
        (chat(message(3, reply_to_message_id="2")), "reply_to_message_id"),
        # SQLite stores 64-bit integers: a larger id must fail the file, not the insert
        (chat(id=2**64), 'chat "id" is 18446744073709551616, out of range'),
        (chat(id=-(10**30)), 'chat "id" is 0, out of range'),
        (chat({**message(3), "id": 2**63}), 'message 9223372036854775808: "id" is'),
        (chat(message(3, reply_to_message_id=-1)), '"reply_to_message_id" is -1, out of'),
        (chat(message(3, forwarded_from_id="channel" + "9" * 19)), '"forwarded_from_id"'),
    ],
)
def test_malformed_exports_raise_one_line_errors(tmp_path, data, expected):
    text = error_for(tmp_path, data)
    assert expected in text
    assert "result.json" in text and "\n" not in text


def test_error_late_in_file_returns_nothing(tmp_path):
    # Validation covers the whole file before returning, so callers never store half of it.
    data = chat(*(message(i, "ok") for i in range(1, 500)), {"id": 500, "type": "message"})
    assert "message 500" in error_for(tmp_path, data)


def test_missing_path(tmp_path):
    with pytest.raises(ExportError, match="no such file"):
        read_exports(tmp_path / "nowhere")


def test_export_error_is_a_value_error():
    assert issubclass(ExportError, ValueError)


DEMO = Path(__file__).parent.parent / "bot" / "demo_data"


def demo_table() -> list[list[str]]:
    """Rows of the expected-outcome table in the demo README (channel, message, expect, claim)."""
    lines = (DEMO / "README.md").read_text(encoding="utf-8").splitlines()
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in lines]
    return [row[:4] for row in rows if len(row) == 6 and row[0].isdigit()]


def test_demo_exports_parse_and_match_the_readme_table():
    folders = sorted((DEMO / "exports").iterdir())
    posts = [post for folder in folders for post in read_export(folder).posts]
    claims = {c["id"]: c for c in map(json.loads, (DEMO / "claims.jsonl").read_text().splitlines())}
    rows = demo_table()
    assert {(int(r[0]), int(r[1])) for r in rows} == {p.key for p in posts}
    assert {r[3] for r in rows if r[2] == "alert"} == set(claims)
    by_key = {p.key: p for p in posts}
    for claim_id, claim in claims.items():
        first = min(by_key[int(r[0]), int(r[1])].date for r in rows if r[3] == claim_id)
        assert first < datetime.fromisoformat(claim["published"]), claim_id
