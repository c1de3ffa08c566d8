"""The machine's CPU counts, for thread and sequence defaults.

llama.cpp computes on physical cores: two logical CPUs of one core (SMT, hyper-threading) share its vector
units, so a decode given one thread per logical CPU runs no faster and often slower (llama.cpp's own default,
``cpu_get_num_math``, is the physical core count too). psutil tells physical from logical cores on Linux,
macOS and Windows; where it cannot (it returns None on some virtual machines and BSDs), the logical count is
used.
"""

from __future__ import annotations

import os


def logical_cpus() -> int:
    """Logical CPUs the OS reports (``os.cpu_count()``), at least 1."""
    return os.cpu_count() or 1


def sleep_waiting_threads() -> None:
    """``OMP_WAIT_POLICY=PASSIVE`` unless the environment already sets it: llama.cpp's OpenMP threads sleep
    while they wait for work instead of spinning. Call it before llama.cpp is loaded (OpenMP reads the variable
    once, when the library loads); the CLI and the desktop app do, at start-up.

    Measured by ``bench/run.py --only omp`` (child processes, interleaved, 2 cores, issue #8's notes): with
    other programs busy on the cores (load 5-8), PASSIVE gave 5.8x the decode and 1.6x the prompt-reading
    tokens/s (medians of 2; 2.4x / 1.7x in a single earlier run) of spinning threads, which fight the other
    programs for the cores; on an idle machine one single run gave PASSIVE 0.80x the decode. A user's PC is
    rarely idle, so PASSIVE is the default; ``OMP_WAIT_POLICY=ACTIVE`` in the environment restores spinning."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def physical_cores() -> int:
    """Physical CPU cores (``psutil.cpu_count(logical=False)``), else :func:`logical_cpus`; at least 1."""
    try:
        import psutil
    except ImportError:  # pragma: no cover - psutil is a dependency
        return logical_cpus()
    try:
        cores = psutil.cpu_count(logical=False)
    except (OSError, RuntimeError):  # pragma: no cover - unreadable /proc or sysfs
        cores = None
    return cores or logical_cpus()


__all__ = ["logical_cpus", "physical_cores", "sleep_waiting_threads"]
