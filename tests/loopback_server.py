"""A loopback HTTP server serving the embedded model's GGUF with Range and ETag support, like Hugging Face
(``X-Linked-Etag`` carries the sha256), with knobs to cut the connection mid-file, lie about the hash or ignore
Range. Used by the download tests and the Models dialog test."""

from __future__ import annotations

import contextlib
import hashlib
import re
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from docgen.llm.discovery import embedded_model

DATA = embedded_model().read_bytes()
DATA_SHA = hashlib.sha256(DATA).hexdigest()
NAME = "served-model.gguf"


class Server(ThreadingHTTPServer):
    """``cut_after`` bytes then the connection drops, on ``cuts_left`` GET responses; ``linked_etag`` is the
    sha256 announced (None: none); ``honour_range`` False answers every GET with the whole file; ``data``
    is what is served; ``requests`` logs (method, Range header)."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.requests: list[tuple[str, str | None]] = []
        self.cut_after: int | None = None
        self.cuts_left = 0
        self.linked_etag: str | None = DATA_SHA
        self.honour_range = True
        self.data = DATA

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/models/{NAME}"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args) -> None:  # quiet
        pass

    def _headers(self, status: int, length: int, extra: dict[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(length))
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("ETag", f'"{hashlib.sha1(self.server.data).hexdigest()}"')  # opaque, as CDNs send
        if self.server.linked_etag:
            self.send_header("X-Linked-Etag", f'"{self.server.linked_etag}"')
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()

    def do_HEAD(self) -> None:  # noqa: N802
        self.server.requests.append(("HEAD", None))
        self._headers(200, len(self.server.data))

    def do_GET(self) -> None:  # noqa: N802
        data = self.server.data
        rng = self.headers.get("Range")
        self.server.requests.append(("GET", rng))
        start = 0
        match = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if match and self.server.honour_range:
            start = int(match.group(1))
            if start >= len(data):
                self._headers(416, 0, {"Content-Range": f"bytes */{len(data)}"})
                return
            self._headers(206, len(data) - start, {"Content-Range": f"bytes {start}-{len(data) - 1}/{len(data)}"})
        else:
            self._headers(200, len(data))
        body = memoryview(data)[start:]
        if self.server.cut_after is not None and self.server.cuts_left > 0:
            self.server.cuts_left -= 1
            self.wfile.write(body[: self.server.cut_after])
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)  # the line drops mid-file
            return
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


@contextlib.contextmanager
def serve() -> Iterator[Server]:
    """A running :class:`Server` on 127.0.0.1 (a free port), shut down on exit."""
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()
