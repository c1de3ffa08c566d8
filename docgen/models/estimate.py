"""How much memory a model needs and how fast it will write on this machine, before loading it.

RAM (:func:`ram_bytes`): the weights (the file, memory-mapped) + llama.cpp's KV cache for ``n_ctx`` tokens
(:meth:`ModelInfo.kv_bytes_per_token`, F16) + compute buffers, taken as max(64 MB, 10 % of the file). Checked
against the measured resident memory of llama-cpp-python with n_ctx 2048, 4096 and 8192 on the 2-core
development PC: SmolLM2-135M Q4_1 (98 MB file) is over-estimated by ~40 MB, Gemma 3 270M Q4_K_M (253 MB) is
within 2 MB. The Python process itself (about 50 MB) comes on top.

Speed (:func:`speed_estimate`), best evidence first:

1. measured: the last ``docgen eval`` of this file on this machine (:mod:`docgen.models.evals`);
2. scaled: generating one token reads every weight once, so on one machine tokens/s falls with file size;
   scaled from the largest model measured here (closest in regime: tiny models are bound by overheads, not
   memory);
3. bound: the machine's memory bandwidth (:func:`memory_bandwidth`, a numpy copy) / file size. An upper
   bound: llama.cpp reaches roughly half of it on CPUs (published 3-4B Q4_K_M figures of 6-11 tokens/s on
   4-8 core laptops), so the estimate shown is half the bound.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from docgen import paths
from docgen.models.gguf_info import ModelInfo

MB = 1_000_000
COMPUTE_MIN_BYTES = 64 * MB
COMPUTE_SHARE = 0.10
#: Share of the memory-bandwidth bound llama.cpp reaches when generating on a CPU (see the module docstring).
BANDWIDTH_EFFICIENCY = 0.5


def ram_bytes(info: ModelInfo, n_ctx: int) -> int:
    """Estimated bytes of memory the model takes with a context window of ``n_ctx`` tokens (rule above)."""
    return ram_bytes_for(info.size, info.kv_bytes_per_token(), n_ctx)


def ram_bytes_for(file_bytes: int, kv_bytes_per_token: int, n_ctx: int) -> int:
    """The same rule from a file size and the KV cache bytes per token (a catalogue entry, before download)."""
    return int(file_bytes + kv_bytes_per_token * n_ctx + max(COMPUTE_MIN_BYTES, COMPUTE_SHARE * file_bytes))


@dataclass(frozen=True)
class SpeedEstimate:
    """Generation speed in tokens/s and how it was obtained: ``measured``, ``scaled`` or ``bound``
    (``basis`` says from what, in words a user can check)."""

    tokens_per_second: float
    how: str
    basis: str

    def describe(self) -> str:
        """``12.3 tokens/s (measured ...)`` / ``about 4 tokens/s (estimated ...)``."""
        if self.how == "measured":
            return f"{self.tokens_per_second:.1f} tokens/s ({self.basis})"
        return f"about {self.tokens_per_second:.0f} tokens/s ({self.basis})" if self.tokens_per_second >= 10 else \
            f"about {self.tokens_per_second:.1f} tokens/s ({self.basis})"


def speed_estimate(info: ModelInfo, measurements: Iterable[tuple[str, int, float]],
                   bandwidth: float | None = None) -> SpeedEstimate | None:
    """Tokens/s generating with this model here, from ``measurements`` = (file name, file size in bytes,
    measured generation tokens/s) of models evaluated on this machine, else from ``bandwidth`` (bytes/s).
    None when there is neither."""
    rows = [(n, s, t) for n, s, t in measurements if s > 0 and t > 0]
    for name, size, tps in rows:
        if name == info.path.name and size == info.size:
            return SpeedEstimate(tps, "measured", "measured here by docgen eval")
    if rows:
        name, size, tps = max(rows, key=lambda r: r[1])
        return SpeedEstimate(tps * size / info.size, "scaled", f"estimated from {name} measured here")
    if bandwidth:
        return SpeedEstimate(bandwidth * BANDWIDTH_EFFICIENCY / info.size, "bound",
                             "estimated from this PC's memory speed")
    return None


def memory_bandwidth(*, refresh: bool = False) -> float | None:
    """This machine's memory copy bandwidth in bytes/s (best of 3 copies of a 128 MB numpy array, read and
    written), measured once and kept for 30 days in the user cache folder (``bandwidth.json``). None when
    numpy is missing or the measurement fails."""
    cache = paths.user_cache_dir() / "bandwidth.json"
    if not refresh:
        try:
            data = json.loads(cache.read_text(encoding="utf-8"))
            if time.time() - float(data["measured_at"]) < 30 * 86400:
                return float(data["bytes_per_second"])
        except (OSError, ValueError, KeyError, TypeError):
            pass
    try:
        import numpy as np

        src = np.ones(128 * MB // 8)
        dst = np.empty_like(src)
        best = float("inf")
        for _ in range(3):
            start = time.perf_counter()
            np.copyto(dst, src)
            best = min(best, time.perf_counter() - start)
        del src, dst
    except (ImportError, MemoryError):
        return None
    value = 2 * 128 * MB / best  # each byte read once and written once
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        Path(cache).write_text(json.dumps({"bytes_per_second": value, "measured_at": time.time()}), encoding="utf-8")
    except OSError:
        pass
    return value


def total_memory() -> int | None:
    """This machine's physical memory in bytes (psutil), None when it cannot be read."""
    try:
        import psutil

        return int(psutil.virtual_memory().total)
    except (ImportError, OSError):
        return None


def human_bytes(n: float) -> str:
    """``98.4 MB`` / ``4.92 GB`` (decimal units, as disk sizes are sold and shown by Windows Explorer)."""
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:.1f} MB"


def human_parameters(n: int) -> str:
    """``135M`` / ``7.6B``."""
    if n >= 1e9:
        return f"{n / 1e9:.1f}B"
    return f"{n / 1e6:.0f}M" if n >= 1e7 else f"{n / 1e6:.1f}M"


__all__ = ["SpeedEstimate", "human_bytes", "human_parameters", "memory_bandwidth", "ram_bytes", "ram_bytes_for",
           "speed_estimate", "total_memory"]
