"""An HTTP server on 127.0.0.1 for reference tests: serves what a test puts in
``files`` with ETag and Last-Modified (or without), honours If-Match, and has
a redirect and a lying Content-Length to misbehave with."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import pytest

__all__ = ["HttpSource", "http_source"]


class HttpSource:
    def __init__(self) -> None:
        # path -> (bytes, etag or None)
        self.files: dict[str, tuple[bytes, str | None]] = {}
        self.requests: list[tuple[str, str]] = []
        self.url = ""

    def put(self, path: str, data: bytes, etag: str | None = "auto") -> str:
        if etag == "auto":
            import hashlib

            etag = hashlib.md5(data).hexdigest()
        self.files[path] = (data, etag)
        return f"{self.url}/{path}"


def _handler(source: HttpSource):
    class Handler(http.server.BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:
            pass

        def _serve(self, body: bool) -> None:
            source.requests.append((self.command, self.path))
            path = self.path.lstrip("/")
            if path.startswith("redirect/"):
                self.send_response(302)
                self.send_header("Location", f"/{path[len('redirect/'):]}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            lie = path.startswith("badlength/")
            if lie:
                path = path[len("badlength/") :]
            if path not in source.files:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            data, etag = source.files[path]
            wanted = self.headers.get("If-Match")
            if wanted and etag and wanted.strip('"') != etag:
                self.send_response(412)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Length", str(len(data) + (10 if lie else 0)))
            if etag:
                self.send_header("ETag", f'"{etag}"')
            self.send_header("Last-Modified", "Tue, 14 Nov 2023 22:13:20 GMT")
            self.end_headers()
            if body:
                self.wfile.write(data)

        def do_HEAD(self) -> None:  # noqa: N802 - http.server's naming
            self._serve(False)

        def do_GET(self) -> None:  # noqa: N802
            self._serve(True)

    return Handler


@pytest.fixture
def http_source() -> Iterator[HttpSource]:
    source = HttpSource()
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _handler(source))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    assert host == "127.0.0.1"
    source.url = f"http://{host}:{port}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield source
    finally:
        server.shutdown()
        server.server_close()
