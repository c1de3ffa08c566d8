"""OpenAI-compatible servers on loopback for the ``openai`` backend's tests.

- :func:`fault_server`: a tiny scripted server (no model) whose chat answers follow a list of *plays*: a normal
  streamed answer, ``429`` with ``Retry-After``, ``500``, a connection dropped mid-stream, a slow first byte, a
  422 refusal of a field. It records every request body and header.
- :func:`llama_server`: the real thing, ``python -m llama_cpp.server`` (llama-cpp-python's server extra) with the
  embedded model on a free port; started in a few seconds, stopped (terminated, then killed) on exit.
"""

from __future__ import annotations

import contextlib
import json
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx

from docgen.llm.discovery import embedded_model


@dataclass
class Play:
    """How the server answers one chat request. ``kind``: ``ok`` (stream ``text`` word by word, ``delay`` s
    between words), ``status`` (HTTP ``status`` with ``body`` and ``headers``), ``drop`` (stream ``cut`` words,
    then close the socket), ``slow`` (wait ``delay`` s before the first byte, then answer ok). ``logprobs``: top
    logprobs of the first token to send with an ok answer."""

    kind: str = "ok"
    text: str = "Hello from the test server."
    status: int = 200
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    cut: int = 2
    logprobs: list[dict[str, Any]] | None = None


class FaultServer(ThreadingHTTPServer):
    """``plays`` are used in order (the last one repeats); ``bodies``/``headers`` record each chat request;
    ``models`` is what GET /v1/models lists; ``closed`` counts streams the client closed early; ``fail_text``
    makes every request whose last message contains it fail with HTTP 500."""

    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.plays: list[Play] = [Play()]
        self.bodies: list[dict[str, Any]] = []
        self.headers_seen: list[dict[str, str]] = []
        self.models = ["test-model"]
        self.closed = 0
        self.props: dict[str, Any] | None = None  # what GET /props answers (llama-server), None: 404
        self.fail_text = ""  # a chat request whose last message contains this gets HTTP 500
        self.lock = threading.Lock()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"

    def next_play(self) -> Play:
        with self.lock:
            return self.plays.pop(0) if len(self.plays) > 1 else self.plays[0]


class _Handler(BaseHTTPRequestHandler):
    server: FaultServer
    protocol_version = "HTTP/1.1"

    def log_message(self, *args) -> None:  # quiet
        pass

    def _json(self, status: int, data: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self) -> None:  # noqa: N802
        if self.path.split("?")[0] == "/props" and self.server.props is not None:
            self._json(200, self.server.props)
        elif self.path.split("?")[0].rstrip("/") == "/v1/models":
            self._json(200, {"object": "list", "data": [{"id": m, "object": "model"} for m in self.server.models]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.path.split("?")[0] != "/v1/chat/completions":
            self._json(404, {"error": {"message": "not found"}})
            return
        with self.server.lock:
            self.server.bodies.append(body)
            self.server.headers_seen.append(dict(self.headers))
        last = str((body.get("messages") or [{}])[-1].get("content", ""))
        play = Play("status", status=500) if self.server.fail_text and self.server.fail_text in last else \
            self.server.next_play()
        if play.kind == "status":
            self._json(play.status, json.loads(play.body) if play.body else {"error": {"message": "scripted"}},
                       play.headers)
            return
        if play.kind == "slow":
            time.sleep(play.delay)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        words = play.text.split(" ")
        try:
            for i, word in enumerate(words):
                if play.kind == "drop" and i == play.cut:
                    self.wfile.flush()
                    self.connection.shutdown(socket.SHUT_RDWR)
                    return
                choice: dict[str, Any] = {"index": 0, "delta": {"content": word if i == 0 else " " + word},
                                          "finish_reason": None}
                if i == 0 and play.logprobs is not None:
                    choice["logprobs"] = {"content": [{"token": word, "logprob": play.logprobs[0]["logprob"],
                                                       "top_logprobs": play.logprobs}]}
                self._chunk({"id": "x", "model": self.server.models[0], "system_fingerprint": "fp_test",
                             "choices": [choice]})
                if play.kind == "ok" and play.delay:
                    time.sleep(play.delay)
            self._chunk({"id": "x", "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}],
                         "usage": {"prompt_tokens": 11, "completion_tokens": len(words)}})
            self._raw(b"data: [DONE]\n\n")
            self._raw(b"")
        except (BrokenPipeError, ConnectionResetError):
            with self.server.lock:
                self.server.closed += 1

    def _chunk(self, data: dict[str, Any]) -> None:
        self._raw(b"data: " + json.dumps(data).encode() + b"\n\n")

    def _raw(self, data: bytes) -> None:
        self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")
        self.wfile.flush()


@contextlib.contextmanager
def fault_server() -> Iterator[FaultServer]:
    """A running :class:`FaultServer` on 127.0.0.1 (a free port), shut down on exit."""
    srv = FaultServer()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class LlamaServer:
    """A running llama-cpp-python server: ``url`` (with /v1), ``process``, ``port``."""

    url: str
    port: int
    process: subprocess.Popen

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def start_llama_server(port: int | None = None, log: Path | None = None) -> LlamaServer:
    """Start ``python -m llama_cpp.server`` with the embedded model (n_ctx 4096, 2 threads, concurrent requests
    not interrupted) and wait until GET /v1/models answers (at most 60 s)."""
    port = port or free_port()
    out = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - closed with the process
    proc = subprocess.Popen(
        [sys.executable, "-m", "llama_cpp.server", "--model", str(embedded_model()), "--host", "127.0.0.1",
         "--port", str(port), "--n_ctx", "4096", "--n_threads", "2", "--n_threads_batch", "2",
         "--interrupt_requests", "False"], stdout=out, stderr=subprocess.STDOUT)
    server = LlamaServer(f"http://127.0.0.1:{port}/v1", port, proc)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}")
        try:
            if httpx.get(server.url + "/models", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    server.stop()
    raise RuntimeError("llama_cpp.server did not start within 60 s")


@contextlib.contextmanager
def llama_server(port: int | None = None) -> Iterator[LlamaServer]:
    """:func:`start_llama_server`, stopped on exit."""
    server = start_llama_server(port)
    try:
        yield server
    finally:
        server.stop()
