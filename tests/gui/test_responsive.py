"""The desktop app gives the GUI thread the upper hand over the model's threads (docgen.gui.responsive);
the effect on timer lateness is measured by bench/gui_timer_stall.py."""

from __future__ import annotations

import os
import sys
import threading

import pytest

from docgen.gui import responsive


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread nice is Linux's")
def test_a_generation_thread_runs_below_the_gui_thread():
    main_nice = os.getpriority(os.PRIO_PROCESS, threading.get_native_id())
    seen = {}

    def work():
        responsive.lower_this_thread()
        tid = threading.get_native_id()
        seen["worker"] = os.getpriority(os.PRIO_PROCESS, tid)
        child = threading.Thread(target=lambda: seen.update(child=os.getpriority(os.PRIO_PROCESS,
                                                                                 threading.get_native_id())))
        child.start()
        child.join()

    t = threading.Thread(target=work)
    t.start()
    t.join()
    assert seen["worker"] == min(19, main_nice + responsive.NICE_STEPS)
    assert seen["child"] == seen["worker"]  # threads llama.cpp starts from it inherit the lower priority
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) == main_nice  # the GUI thread is untouched


def test_waiting_openmp_threads_sleep_unless_the_user_chose(monkeypatch):
    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    responsive.prepare()
    assert os.environ["OMP_WAIT_POLICY"] == "PASSIVE"
    monkeypatch.setenv("OMP_WAIT_POLICY", "ACTIVE")
    responsive.prepare()
    assert os.environ["OMP_WAIT_POLICY"] == "ACTIVE"
