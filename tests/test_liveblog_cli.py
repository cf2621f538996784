"""`claimwatch liveblog parse` on a file and on a URL served from loopback."""

import json
import threading
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from bot.cli import main

PAGES = Path(__file__).parent / "pages"


def parse(capsys, source: str) -> tuple[int, list[dict], str]:
    with pytest.raises(SystemExit) as done:
        main(["liveblog", "parse", source])
    out = capsys.readouterr()
    return done.value.code, [json.loads(line) for line in out.out.splitlines()], out.err


def test_file_gives_updates_then_claims(capsys):
    code, lines, _ = parse(capsys, str(PAGES / "bryansk_liveblog.html"))
    assert code == 0
    kinds = [line["kind"] for line in lines]
    assert kinds == sorted(kinds, key=["update", "claim"].index)
    updates = [line for line in lines if line["kind"] == "update"]
    assert updates and all(u["published"] and u["text"] for u in updates)
    assert all({"id", "published", "headline", "text", "url"} <= u.keys() for u in updates)
    claims = [line for line in lines if line["kind"] == "claim"]
    assert any(c["hedged"] for c in claims) and any(c["walked_back"] for c in claims)


def test_url_is_fetched_and_parsed(capsys):
    handler = partial(SimpleHTTPRequestHandler, directory=str(PAGES))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    with ThreadingHTTPServer(("127.0.0.1", 0), handler) as server:
        threading.Thread(target=server.serve_forever, daemon=True).start()
        url = f"http://127.0.0.1:{server.server_address[1]}"
        code, from_url, _ = parse(capsys, f"{url}/bryansk_liveblog.html")
        missing_code, _, err = parse(capsys, f"{url}/missing.html")
        server.shutdown()
    _, from_file, _ = parse(capsys, str(PAGES / "bryansk_liveblog.html"))
    assert code == 0
    assert [u["text"] for u in from_url] == [u["text"] for u in from_file]
    assert missing_code == 1 and "404" in err


def test_spam_only_page_yields_nothing(capsys):
    assert parse(capsys, str(PAGES / "spam_only.html"))[:2] == (0, [])
