"""A LibreTranslate-compatible server on loopback, scriptable per test.

It answers `POST /translate` like LibreTranslate (fields in the query string, a form or a
JSON body; reply `{"translatedText": ...}`), records every request, counts how many are
in progress at once, and plays canned `Reply`s queued with `script` before falling back
to its translate function (upper-casing by default, easy to check in assertions).
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

HANG_LIMIT_S = 30.0  # a hung reply gives up by itself, so a broken test cannot wedge the run


@dataclass(frozen=True, slots=True)
class Seen:
    """One request as the server received it."""

    q: str
    source: str | None
    target: str | None
    api_key: str | None


@dataclass(frozen=True, slots=True)
class Reply:
    """A canned answer. `body` None means the translate function's JSON answer; a dict
    is sent as JSON, a str or bytes as it is. `hang` blocks until the server stops."""

    status: int = 200
    body: dict[str, Any] | str | bytes | None = None
    content_type: str = "application/json"
    delay_s: float = 0.0
    hang: bool = False


def shout(request: Seen) -> str:
    return request.q.upper()


class LibreTranslateServer:
    """Start with `with LibreTranslateServer() as server:`; `server.url` ends with '/'."""

    def __init__(self, translate: Callable[[Seen], str] = shout) -> None:
        self.translate = translate
        self.requests: list[Seen] = []
        self.active = 0
        self.max_active = 0
        self._replies: deque[Reply] = deque()
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,))
        host, port = self._httpd.server_address[:2]
        self.url = f"http://{host}:{port}/"

    def script(self, *replies: Reply) -> None:
        """Answer the next requests with these replies, in order."""
        with self._lock:
            self._replies.extend(replies)

    def start(self) -> LibreTranslateServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # frees hung handlers
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join()

    def __enter__(self) -> LibreTranslateServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _answer(self, seen: Seen) -> tuple[int, str, bytes]:
        with self._lock:
            self.requests.append(seen)
            self.active += 1
            self.max_active = max(self.max_active, self.active)
            reply = self._replies.popleft() if self._replies else Reply()
        try:
            if reply.hang:
                self._stopping.wait(HANG_LIMIT_S)
                return 503, "text/plain", b"stopped"
            time.sleep(reply.delay_s)
            return reply.status, reply.content_type, self._body(reply, seen)
        finally:
            with self._lock:
                self.active -= 1

    def _body(self, reply: Reply, seen: Seen) -> bytes:
        body = reply.body
        if body is None:
            body = {"translatedText": self.translate(seen)}
        if isinstance(body, dict):
            return json.dumps(body).encode()
        return body.encode() if isinstance(body, str) else body


def _handler_for(server: LibreTranslateServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            url = urlsplit(self.path)
            if url.path.rstrip("/") != "/translate":
                self._send(404, "text/plain", b"not found")
                return
            fields = _fields(url.query, self._read_body(), self.headers.get("Content-Type", ""))
            seen = Seen(
                q=fields.get("q", ""),
                source=fields.get("source"),
                target=fields.get("target"),
                api_key=fields.get("api_key"),
            )
            self._send(*server._answer(seen))

        def _read_body(self) -> bytes:
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _send(self, status: int, content_type: str, body: bytes) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            """Keep test output clean."""

    return Handler


def _fields(query: str, body: bytes, content_type: str) -> dict[str, str]:
    fields = {key: values[0] for key, values in parse_qs(query).items()}
    if content_type.startswith("application/json") and body:
        fields.update({key: str(value) for key, value in json.loads(body).items()})
    elif body:
        fields.update({key: values[0] for key, values in parse_qs(body.decode()).items()})
    return fields
