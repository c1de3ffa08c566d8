"""Verified model downloads against a loopback HTTP server that serves the embedded model's file with Range and
ETag support (like Hugging Face: ``X-Linked-Etag`` carries the sha256): a full download, a connection cut
mid-file and resumed, a wrong hash refused with the partial file removed, a cancel kept for resuming, a full
disk, an unreachable server, and downloads turned off by policy opening no socket at all."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest

from docgen import cli, paths
from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DownloadError, PolicyError
from docgen.models import read_gguf
from docgen.models.download import RETRIES, download_model, partial_paths
from docgen.settings import Settings

from loopback_server import DATA, NAME, serve
from loopback_server import DATA_SHA as SHA

pytestmark = pytest.mark.slow  # about 25 s: each test moves the 98 MB model over loopback


@pytest.fixture
def server():
    with serve() as srv:
        yield srv


@pytest.fixture
def folder(tmp_path) -> Path:
    return tmp_path / "models"


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def test_download_is_verified_and_placed(server, folder):
    seen = []
    target = download_model(server.url, Settings(), folder=folder, on_progress=seen.append)
    assert target == folder / NAME
    assert hashlib.sha256(target.read_bytes()).hexdigest() == SHA
    assert read_gguf(target).architecture == "llama"
    assert leftovers(folder) == []
    assert seen and seen[-1].done == len(DATA) and seen[-1].total == len(DATA)
    assert seen[-1].bytes_per_second > 0 and "MB/s" in seen[-1].describe()
    assert server.requests == [("HEAD", None), ("GET", None)]


def test_a_cut_connection_resumes_with_a_range_request(server, folder):
    server.cut_after, server.cuts_left = 30_000_000, 1
    target = download_model(server.url, Settings(), folder=folder)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == SHA
    gets = [r for m, r in server.requests if m == "GET"]
    assert gets[0] is None and gets[1] == "bytes=30000000-"


def test_an_interrupted_download_resumes_next_time(server, folder):
    server.cut_after, server.cuts_left = 10_000_000, RETRIES + 1  # every attempt of the first run is cut
    with pytest.raises(DownloadError, match=r"failed after 3 reconnections.*next download resumes"):
        download_model(server.url, Settings(), folder=folder)
    part, state = partial_paths(folder / NAME)
    kept = part.stat().st_size
    assert kept == 10_000_000 * (RETRIES + 1) and state.exists() and not (folder / NAME).exists()
    server.requests.clear()
    target = download_model(server.url, Settings(), folder=folder)  # the line is good again
    assert hashlib.sha256(target.read_bytes()).hexdigest() == SHA
    assert ("GET", f"bytes={kept}-") in server.requests and ("GET", None) not in server.requests
    assert leftovers(folder) == []


def test_server_ignoring_the_range_restarts_cleanly(server, folder):
    server.cut_after, server.cuts_left, server.honour_range = 20_000_000, 1, False
    target = download_model(server.url, Settings(), folder=folder)
    assert hashlib.sha256(target.read_bytes()).hexdigest() == SHA  # not 20 MB spliced onto a full copy


def test_wrong_hash_is_refused_and_the_partial_file_removed(server, folder):
    server.linked_etag = "0" * 64  # the server (or a proxy) claims another file
    with pytest.raises(DownloadError, match=r"sha256 is [0-9a-f]{64}, expected 0{64}.*removed"):
        download_model(server.url, Settings(), folder=folder)
    assert list(folder.iterdir()) == []


def test_catalogue_hash_disagreeing_with_the_server_downloads_nothing(server, folder):
    with pytest.raises(DownloadError, match="the catalogue expects"):
        download_model(server.url, Settings(), folder=folder, sha256="1" * 64)
    assert [m for m, _ in server.requests] == ["HEAD"] and list(folder.iterdir()) == []


def test_catalogue_hash_alone_verifies(server, folder):
    server.linked_etag = None  # a plain web server: no sha256 from it
    target = download_model(server.url, Settings(), folder=folder, sha256=SHA)
    assert target.stat().st_size == len(DATA)
    server.linked_etag = None
    with pytest.raises(DownloadError, match="cannot verify it"):
        download_model(server.url, Settings(), folder=folder, file_name="other.gguf")


def test_cancel_keeps_the_partial_file_for_resuming(server, folder):
    cancel = CancelToken()

    def on_progress(p):
        if p.done > 5_000_000:
            cancel.cancel()

    with pytest.raises(Cancelled, match="next download of this model resumes"):
        download_model(server.url, Settings(), folder=folder, on_progress=on_progress, cancel=cancel)
    part, _ = partial_paths(folder / NAME)
    assert 5_000_000 < part.stat().st_size < len(DATA)
    assert download_model(server.url, Settings(), folder=folder).stat().st_size == len(DATA)


def test_full_disk_is_said_before_downloading(server, folder, monkeypatch):
    import shutil
    from collections import namedtuple

    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr(shutil, "disk_usage", lambda _p: usage(10**9, 10**9 - 10**6, 10**6))
    with pytest.raises(DownloadError, match=r"Not enough free disk space .* needs 0\.10 GB more, 0\.00 GB are free"):
        download_model(server.url, Settings(), folder=folder)
    assert [m for m, _ in server.requests] == ["HEAD"]


def test_unreachable_server_says_so(folder):
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DownloadError, match=r"Cannot reach 127\.0\.0\.1.*Check the network connection"):
        download_model(f"http://127.0.0.1:{port}/x.gguf", Settings(), folder=folder)


def test_an_html_page_saved_as_gguf_is_not_placed(server, folder, monkeypatch):
    page = b"<html><body>Please log in</body></html>" * 100
    server.linked_etag = hashlib.sha256(page).hexdigest()
    server.data = page
    with pytest.raises(DownloadError, match="not a usable GGUF model"):
        download_model(server.url, Settings(), folder=folder)
    assert list(folder.iterdir()) == []


def test_policy_off_opens_no_socket(capsys, monkeypatch):
    policy = paths.policy_file()
    policy.parent.mkdir(parents=True)
    policy.write_text("allow_downloads = false\n", encoding="utf-8")
    attempts = []

    def blocked(*args, **kwargs):
        attempts.append(args)
        raise AssertionError("a socket was opened")

    monkeypatch.setattr(socket.socket, "connect", blocked)
    monkeypatch.setattr(socket.socket, "connect_ex", blocked)
    monkeypatch.setattr(socket, "create_connection", blocked)
    assert cli.main(["models", "download", "qwen2.5-0.5b-instruct"]) == 2
    err = capsys.readouterr().err
    assert "Model downloads are turned off by your IT department's policy" in err
    with pytest.raises(PolicyError):
        download_model("https://example.invalid/x.gguf", Settings(allow_downloads=False))
    assert attempts == []
    cli.main(["doctor"])
    assert "model downloads off" in capsys.readouterr().out


def test_allow_downloads_is_a_policy_only_key():
    from docgen.errors import DocgenError
    from docgen.settings import load_settings

    paths.user_config_dir().mkdir(parents=True)
    paths.settings_file().write_text("allow_downloads = true\n", encoding="utf-8")
    with pytest.raises(DocgenError, match="can only be set by the machine policy"):
        load_settings()


def test_cli_download_of_an_address(server, capsys):
    assert cli.main(["models", "download", server.url, "--use"]) == 0
    out = capsys.readouterr().out
    assert "Downloaded and verified" in out and f"docgen now uses {NAME}" in out
    assert (paths.user_models_dir() / NAME).is_file()
