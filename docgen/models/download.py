"""Verified, resumable model downloads into the user's models folder, with httpx.

:func:`download_model` does, in order:

1. refuse when the machine policy says ``allow_downloads = false`` (before any connection is opened);
2. ask the server what the file is (HEAD, redirects followed): its size (``X-Linked-Size`` or
   ``Content-Length``) and sha256. Hugging Face answers a ``/resolve/`` address of a Git LFS file with a redirect
   carrying ``X-Linked-Etag`` (the file's sha256) and ``X-Linked-Size``, as ``huggingface_hub`` reads them;
3. check the free disk space for what is left to fetch;
4. GET with ``Range: bytes=N-`` when a partial file of an earlier attempt is there (``If-Range`` with the
   server's ETag, so a file changed on the server restarts from zero instead of being spliced); a connection cut
   mid-file is resumed the same way, up to :data:`RETRIES` times;
5. stream the body as it arrives, hashing as it goes, reporting :class:`DownloadProgress` (bytes, speed, time left)
   and checking the :class:`~docgen.cancel.CancelToken` between chunks (a cancelled download keeps its partial
   file, so the next attempt resumes);
6. verify the sha256 against the catalogue's (pinned with its revision) or else the server's; a mismatch
   deletes the partial file and raises :class:`~docgen.errors.DownloadError`; no hash from either is refused
   unless the caller passes one;
7. check that the file is a GGUF model (a login page saved as ``.gguf`` is not), fsync, and rename it into
   place (``os.replace`` in the same folder: the models folder never shows a half file under the real name).

The partial file is ``.<name>.part`` beside the target, with ``.<name>.part.json`` recording the address and
the expected hash, so a partial file is only resumed for the same file. Proxies: httpx honours ``HTTPS_PROXY``,
``HTTP_PROXY``, ``ALL_PROXY`` and ``NO_PROXY`` (``trust_env``). Certificates: the operating system's store
through ``truststore`` (what a company's TLS-inspecting proxy is trusted by), else certifi's.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from docgen import paths
from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DocgenError, DownloadError, PolicyError
from docgen.settings import Settings

log = logging.getLogger(__name__)

CHUNK = 1 << 20
#: Reconnections after a connection is cut mid-file before giving up (the partial file is kept).
RETRIES = 3
#: Free space kept on the disk beyond the file itself.
DISK_MARGIN = 50_000_000
_SHA = re.compile(r"^[0-9a-f]{64}$")


@dataclass(frozen=True)
class DownloadProgress:
    """Where a download is: ``done`` bytes of ``total`` (None when the server does not say), the speed over the
    last few seconds in bytes/s, and the estimated seconds left (None until a speed is known)."""

    done: int
    total: int | None
    bytes_per_second: float
    seconds_left: float | None

    def describe(self) -> str:
        """``412.0 MB of 986.0 MB, 11.2 MB/s, 51 s left``."""
        from docgen.models.estimate import human_bytes

        total = f" of {human_bytes(self.total)}" if self.total else ""
        left = f", {_duration(self.seconds_left)} left" if self.seconds_left is not None else ""
        return f"{human_bytes(self.done)}{total}, {self.bytes_per_second / 1e6:.1f} MB/s{left}"


ProgressCallback = Callable[[DownloadProgress], None]


def _duration(seconds: float) -> str:
    seconds = max(0, int(seconds))
    if seconds >= 3600:
        return f"{seconds // 3600} h {seconds % 3600 // 60:02d} min"
    if seconds >= 60:
        return f"{seconds // 60} min {seconds % 60:02d} s"
    return f"{seconds} s"


def ssl_context() -> Any:
    """The operating system's certificate store (truststore), or True (httpx's certifi bundle) without it."""
    try:
        import ssl

        import truststore

        return truststore.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    except ImportError:  # pragma: no cover - truststore is a dependency
        return True


def make_client(timeout: float = 30.0) -> Any:
    """An httpx client for downloads: proxies from the environment, the system's certificates, redirects."""
    import httpx

    return httpx.Client(timeout=httpx.Timeout(timeout, connect=15.0), follow_redirects=True, trust_env=True,
                        verify=ssl_context(), headers={"User-Agent": "docgen-model-download"})


def check_allowed(settings: Settings) -> None:
    """Raise PolicyError when the machine policy forbids downloads (``allow_downloads = false``)."""
    if not settings.allow_downloads:
        raise PolicyError(f"Model downloads are turned off by your IT department's policy ({paths.policy_file()}). "
                          "Ask IT for the model, or add a file you already have with 'docgen models add FILE'.")


def _etag_sha256(value: str | None) -> str:
    """The sha256 in an ETag header (``"<64 hex>"``, possibly ``W/``), or ""."""
    if not value:
        return ""
    value = value.strip()
    value = value.removeprefix("W/").strip('"').lower()
    return value if _SHA.match(value) else ""


def _host(url: str) -> str:
    import httpx

    try:
        return httpx.URL(url).host or url
    except Exception:  # noqa: BLE001 - only for a message
        return url


def _network_error(url: str, exc: Exception) -> DownloadError:
    proxy = next((os.environ[k] for k in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy") if os.environ.get(k)),
                 "")
    via = f" through the proxy {proxy}" if proxy else " (no proxy set; behind a company proxy set HTTPS_PROXY)"
    return DownloadError(f"Cannot reach {_host(url)}{via}: {exc}. Check the network connection, or download the "
                         "file in a browser and add it with 'docgen models add FILE'.")


@dataclass(frozen=True)
class RemoteFile:
    """What the server says about a file before the download: size in bytes (None if unknown), the sha256 it
    reports (X-Linked-Etag or a sha256 ETag, "" if none) and the ETag to resume against."""

    size: int | None
    sha256: str
    etag: str


def probe(client: Any, url: str) -> RemoteFile:
    """HEAD ``url`` (redirects followed) and read size, sha256 and ETag from every response of the chain (the
    Hugging Face redirect carries ``X-Linked-*``, the CDN's answer ``Content-Length``/``ETag``)."""
    import httpx

    try:
        response = client.head(url)
    except httpx.HTTPError as exc:
        raise _network_error(url, exc) from exc
    if response.status_code >= 400:
        raise DownloadError(f"{url}: the server answered {response.status_code} {response.reason_phrase}. "
                            + ("The file may need a login or licence acceptance in a browser first."
                               if response.status_code in (401, 403) else "Check the address."))
    size: int | None = None
    sha = ""
    for r in (*response.history, response):
        sha = sha or _etag_sha256(r.headers.get("X-Linked-Etag"))
        linked = r.headers.get("X-Linked-Size")
        if linked and linked.isdigit():
            size = int(linked)
    if size is None and response.headers.get("Content-Length", "").isdigit():
        size = int(response.headers["Content-Length"])
    etag = response.headers.get("ETag", "")
    sha = sha or _etag_sha256(etag)
    return RemoteFile(size, sha, etag)


def partial_paths(target: Path) -> tuple[Path, Path]:
    """(partial file, its state file) for ``target``."""
    return target.with_name(f".{target.name}.part"), target.with_name(f".{target.name}.part.json")


def download_model(url: str, settings: Settings, *, file_name: str | None = None, sha256: str = "",
                   size: int | None = None, folder: Path | None = None, on_progress: ProgressCallback | None = None,
                   cancel: CancelToken | None = None, client: Any = None) -> Path:
    """Download the GGUF at ``url`` into ``folder`` (default: the user's models folder) as ``file_name`` (default:
    the address's last part), verified (steps in the module docstring). Returns the placed file.

    ``sha256``: the expected hash (the catalogue's); empty means "the server's". ``size``: the expected size in
    bytes when the server does not report one (for the disk-space check).
    Raises PolicyError (downloads off: no connection is opened), DownloadError (network, disk space, HTTP
    error, hash mismatch, not a GGUF file), Cancelled (the partial file is kept for resuming).
    """
    check_allowed(settings)
    folder = Path(folder) if folder is not None else paths.user_models_dir()
    name = file_name or url.rstrip("/").rsplit("/", 1)[-1].split("?")[0]
    if not name.endswith(".gguf") or "/" in name or "\\" in name or name.startswith("."):
        raise DownloadError(f"'{name}' is not a .gguf file name; docgen downloads GGUF model files only.")
    target = folder / name
    if target.exists():
        raise DownloadError(f"{target} already exists. Remove it first ('docgen models remove {name}') to download "
                            "it again.")
    if sha256 and not _SHA.match(sha256.lower()):
        raise DownloadError(f"'{sha256}' is not a sha256 (64 hex digits).")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"Cannot create the models folder {folder}: {exc.strerror or exc}.") from exc
    own_client = client is None
    client = client or make_client()
    try:
        return _download(client, url, target, sha256.lower(), size, on_progress, cancel)
    finally:
        if own_client:
            client.close()


def _download(client: Any, url: str, target: Path, expected: str, size: int | None,
              on_progress: ProgressCallback | None, cancel: CancelToken | None) -> Path:
    import httpx

    remote = probe(client, url)
    if expected and remote.sha256 and remote.sha256 != expected:
        raise DownloadError(f"{url}: the server reports sha256 {remote.sha256}, the catalogue expects {expected}. The "
                            "file on the server changed; docgen did not download it. Update docgen's catalogue or "
                            "choose another model.")
    expected = expected or remote.sha256
    if not expected:
        raise DownloadError(f"{url}: neither the catalogue nor the server gives the file's sha256, so docgen cannot "
                            "verify it. Pass the publisher's sha256 with --sha256.")
    total = remote.size or size
    part, state_file = partial_paths(target)
    state = {"url": url, "sha256": expected}
    if part.exists() and _read_state(state_file) != state:
        part.unlink()  # a partial file of another file or address: never splice
    start = part.stat().st_size if part.exists() else 0
    if total is not None:
        free = shutil.disk_usage(target.parent).free
        if free < total - start + DISK_MARGIN:
            raise DownloadError(f"Not enough free disk space in {target.parent} for {target.name}: it needs "
                                f"{(total - start) / 1e9:.2f} GB more, {free / 1e9:.2f} GB are free. Free some space "
                                "or choose a smaller model.")
    state_file.write_text(json.dumps(state), encoding="utf-8")
    digest = hashlib.sha256()
    if start:
        with part.open("rb") as fh:
            while block := fh.read(CHUNK):
                digest.update(block)
    meter = _Meter(total, start, on_progress)
    attempts = 0
    while True:
        headers = {"Range": f"bytes={start}-"} if start else {}
        if start and remote.etag and not remote.etag.startswith("W/"):
            headers["If-Range"] = remote.etag
        try:
            with client.stream("GET", url, headers=headers) as response:
                if response.status_code == 416 and total is not None and start >= total:
                    break  # the partial file is already complete
                if response.status_code >= 400:
                    raise DownloadError(f"{url}: the server answered {response.status_code} "
                                        f"{response.reason_phrase} while downloading.")
                if start and response.status_code != 206:  # the server ignored the range or the file changed
                    start, digest = 0, hashlib.sha256()
                    meter.restart()
                with part.open("ab" if start else "wb") as out:
                    for block in response.iter_bytes():
                        if cancel is not None and cancel.cancelled:
                            raise Cancelled(f"Download cancelled; {start / 1e6:.0f} MB kept in {part.name} so the "
                                            "next download of this model resumes.")
                        out.write(block)
                        digest.update(block)
                        start += len(block)
                        meter.add(len(block))
            if total is None or start >= total:
                break
            raise httpx.RemoteProtocolError(f"the connection closed after {start} of {total} bytes")
        except (httpx.TransportError, httpx.StreamError) as exc:
            attempts += 1
            if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)) and start == 0 and attempts == 1:
                raise _network_error(url, exc) from exc
            if attempts > RETRIES:
                raise DownloadError(f"Downloading {target.name} failed after {RETRIES} reconnections ({exc}); "
                                    f"{start / 1e6:.0f} MB are kept and the next download resumes from there.") from exc
            log.warning("Download of %s interrupted at %d bytes (%s); resuming", url, start, exc)
            time.sleep(min(2.0, 0.2 * attempts))
    if total is not None and start != total:
        _discard(part, state_file)
        raise DownloadError(f"{target.name}: received {start} bytes, the server announced {total}; the partial file "
                            "was removed. Try again.")
    got = digest.hexdigest()
    if got != expected:
        _discard(part, state_file)
        raise DownloadError(f"{target.name}: the downloaded file's sha256 is {got}, expected {expected}. It is "
                            "damaged or not the published file, so it was removed. Try again; if it happens again, "
                            "the server or a proxy is changing the file.")
    _place(part, state_file, target)
    return target


def _place(part: Path, state_file: Path, target: Path) -> None:
    from docgen.models.gguf_info import read_gguf

    try:
        read_gguf(part)
    except DocgenError as exc:
        _discard(part, state_file)
        raise DownloadError(f"{target.name} was downloaded but is not a usable GGUF model ({exc}); it was removed.") \
            from exc
    with part.open("rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(part, target)
    state_file.unlink(missing_ok=True)


def _discard(part: Path, state_file: Path) -> None:
    part.unlink(missing_ok=True)
    state_file.unlink(missing_ok=True)


def _read_state(path: Path) -> dict[str, str] | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


class _Meter:
    """Speed over a sliding window of about 5 s and time left; reports at most 10 times a second."""

    def __init__(self, total: int | None, start: int, on_progress: ProgressCallback | None) -> None:
        self.total, self.done, self.on_progress = total, start, on_progress
        self.samples: list[tuple[float, int]] = [(time.monotonic(), start)]
        self.last_report = 0.0

    def restart(self) -> None:
        self.done = 0
        self.samples = [(time.monotonic(), 0)]

    def add(self, n: int) -> None:
        self.done += n
        now = time.monotonic()
        self.samples.append((now, self.done))
        while len(self.samples) > 2 and now - self.samples[0][0] > 5.0:
            self.samples.pop(0)
        final = self.total is not None and self.done >= self.total
        if self.on_progress is None or (now - self.last_report < 0.1 and not final):
            return
        self.last_report = now
        t0, d0 = self.samples[0]
        speed = (self.done - d0) / (now - t0) if now > t0 else 0.0
        left = (self.total - self.done) / speed if self.total is not None and speed > 0 else None
        self.on_progress(DownloadProgress(self.done, self.total, speed, left))


__all__ = ["DownloadProgress", "RemoteFile", "check_allowed", "download_model", "make_client", "partial_paths",
           "probe", "ssl_context"]
