"""Ctrl+C in the terminal closes the desktop app (it used to be ignored until the window got an event)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = [pytest.mark.skipif(sys.platform == "win32", reason="SIGINT from a terminal is a POSIX thing"),
              pytest.mark.slow]


def test_sigint_closes_the_idle_window_and_exits_130(tmp_path):
    home = tmp_path / "home"
    env = {**os.environ, "DOCGEN_HOME": str(home), "QT_QPA_PLATFORM": "offscreen"}
    proc = subprocess.Popen([sys.executable, "-m", "docgen", "gui", "--no-restore"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    log = home / "log" / "docgen.log"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (log.is_file() and "Window shown" in log.read_text("utf-8")):
            assert proc.poll() is None, proc.communicate()
            time.sleep(0.2)
        assert log.is_file(), "the window never showed"
        time.sleep(0.5)
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
    assert code == 130, err.decode()
    assert b"Traceback" not in err
