"""Start-up shows the window without importing llama_cpp or loading a model; window geometry is remembered."""

from __future__ import annotations

import json
import os
import subprocess
import sys

SCRIPT = r"""
import json, sys, time
t0 = time.perf_counter()
from docgen.gui.app import make_application
app = make_application()
from docgen.gui.main_window import MainWindow
window = MainWindow()
window.show()
app.processEvents()
shown = time.perf_counter() - t0
print(json.dumps({"seconds": shown, "llama_cpp": "llama_cpp" in sys.modules, "visible": window.isVisible(),
                  "model": window.model_label.text()}))
window.close()
"""


def test_startup_does_not_load_llama_cpp(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DOCGEN_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    assert result["visible"]
    assert result["llama_cpp"] is False
    assert "loads on first use" in result["model"] or "not found" in result["model"]
    print(f"start-up to a shown window: {result['seconds']:.2f} s")
    assert result["seconds"] < 10


def test_window_geometry_is_remembered(qtbot, make_window):
    window = make_window()
    window.resize(760, 560)  # the offscreen screen is 800 x 600
    window.splitter.setSizes([200, 560])
    window.close()
    from docgen.gui import window_state

    assert json.loads(window_state.state_file().read_text(encoding="utf-8"))["geometry"]
    again = make_window()
    assert (again.width(), again.height()) == (760, 560)
