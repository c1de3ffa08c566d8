"""Keep the window responsive while the local model runs on the same CPU cores.

llama.cpp decodes with as many threads as there are cores, and its OpenMP threads *spin* while they wait for the
next piece of work. The GUI thread then competes for a core with threads that never yield; on a loaded machine
(other programs, a second docgen) a 50 ms timer was seen firing more than 200 ms late. Two measures, applied by
the desktop app:

- :func:`prepare` (at start-up, before llama.cpp is loaded): ``OMP_WAIT_POLICY=PASSIVE`` unless the user set it,
  so waiting OpenMP threads sleep instead of spinning (:func:`docgen.cpu.sleep_waiting_threads`; the CLI sets
  it too: it is faster on a busy machine);
- :func:`lower_this_thread` (first thing on each generation thread): that thread, and the llama.cpp threads it
  starts, run at a lower scheduling priority than the GUI thread (Linux/macOS: nice +5 on the thread; Windows:
  THREAD_PRIORITY_BELOW_NORMAL), so the GUI thread wins a core whenever it has work. An idle machine gives the
  model the same cores as before.

The effect is measured by ``bench/gui_timer_stall.py`` (timer lateness and tokens/s, before and after).
"""

from __future__ import annotations

import logging
import os
import sys
import threading

from docgen.cpu import sleep_waiting_threads

log = logging.getLogger(__name__)

#: how much lower than the GUI thread generation threads run (nice steps; 0 = normal, 19 = lowest)
NICE_STEPS = 5


def prepare() -> None:
    """Make llama.cpp's waiting OpenMP threads sleep (``OMP_WAIT_POLICY=PASSIVE``) unless the environment already
    says otherwise. Must run before llama.cpp is first loaded: OpenMP reads it once."""
    sleep_waiting_threads()


def lower_this_thread() -> None:
    """Lower the calling thread's scheduling priority (module docstring). Never raises: a system that refuses
    keeps the normal priority."""
    try:
        if sys.platform == "win32":  # pragma: no cover - Windows only
            import ctypes

            kernel32 = ctypes.windll.kernel32
            kernel32.SetThreadPriority(kernel32.GetCurrentThread(), -1)  # THREAD_PRIORITY_BELOW_NORMAL
            return
        tid = threading.get_native_id()
        current = os.getpriority(os.PRIO_PROCESS, tid)  # on Linux a thread id names that one thread
        os.setpriority(os.PRIO_PROCESS, tid, min(19, current + NICE_STEPS))
    except (AttributeError, OSError) as exc:
        log.debug("Could not lower the generation thread's priority: %s", exc)
