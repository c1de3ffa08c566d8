"""The desktop app without a screen or without the libraries Qt's display plugin needs: docgen says so in its
own words (``docgen gui`` exit 2, ``docgen doctor`` a warning naming the packages) instead of Qt aborting."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from docgen import doctor, qtplatform

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11/Wayland rules")


def run_gui(tmp_path: Path, **env: str) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    base.update(env, DOCGEN_HOME=str(tmp_path / "home"))
    return subprocess.run([sys.executable, "-m", "docgen", "gui", "--no-restore"], env=base, capture_output=True,
                          text=True, timeout=120)


def test_gui_without_a_display_says_so_instead_of_aborting(tmp_path):
    proc = run_gui(tmp_path)
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert proc.stderr.startswith("docgen: error: the desktop app needs a screen, and there is none here: DISPLAY "
                                  "is not set"), proc.stderr
    assert "batch mode" in proc.stderr and "platform plugin could be initialized" not in proc.stderr


def test_gui_with_a_display_that_does_not_answer(tmp_path):
    proc = run_gui(tmp_path, DISPLAY=":87")
    assert proc.returncode == 2, (proc.returncode, proc.stderr)
    assert "nothing answers at DISPLAY=:87" in proc.stderr


@pytest.mark.parametrize(("soname", "package"), [
    ("libxcb-icccm.so.4", "libxcb-icccm4"), ("libxcb-keysyms.so.1", "libxcb-keysyms1"),
    ("libxkbcommon-x11.so.0", "libxkbcommon-x11-0"), ("libxcb-cursor.so.0", "libxcb-cursor0"),
    ("libEGL.so.1", "libegl1"), ("libdbus-1.so.3", "libdbus-1-3"), ("libglib-2.0.so.0", "libglib2.0-0"),
])
def test_library_names_map_to_debian_packages(soname, package):
    assert qtplatform.debian_package(soname) == package


@pytest.fixture
def plugin_missing_a_library(tmp_path) -> Path:
    """A real shared library (built with the C compiler) that links against one that is then removed: what
    libqxcb.so looks like on a machine without libxcb-icccm4."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        pytest.skip("no C compiler to build a plugin with a missing library")
    (tmp_path / "dep.c").write_text("int docgen_dep(void) { return 1; }\n")
    (tmp_path / "plugin.c").write_text("int docgen_dep(void);\nint plugin(void) { return docgen_dep(); }\n")
    subprocess.run([cc, "-shared", "-fPIC", "-o", tmp_path / "libdocgenmissing.so.3", "-Wl,-soname,libdocgenmissing.so.3",
                    tmp_path / "dep.c"], check=True, capture_output=True)
    (tmp_path / "libdocgenmissing.so").symlink_to("libdocgenmissing.so.3")
    subprocess.run([cc, "-shared", "-fPIC", "-o", tmp_path / "libqxcb.so", tmp_path / "plugin.c",
                    f"-L{tmp_path}", "-ldocgenmissing"], check=True, capture_output=True)
    (tmp_path / "libdocgenmissing.so.3").unlink()
    (tmp_path / "libdocgenmissing.so").unlink()
    return tmp_path / "libqxcb.so"


def test_missing_plugin_libraries_are_named_with_their_packages(plugin_missing_a_library, monkeypatch, capsys):
    monkeypatch.setattr(qtplatform, "platform_plugin", lambda name: plugin_missing_a_library)
    monkeypatch.setattr(qtplatform, "_display_reachable", lambda plugin, env: True)
    assert qtplatform.missing_libraries(plugin_missing_a_library) == ["libdocgenmissing.so.3"]
    problem = qtplatform.window_problem({"DISPLAY": ":0"})
    assert problem is not None and "libdocgenmissing3" in problem.packages
    assert ("Qt's 'xcb' display plugin needs system libraries that are not installed: libdocgenmissing.so.3 "
            "(libdocgenmissing3)") in problem.message
    assert "sudo apt install libdocgenmissing3" in problem.message
    # doctor tries the plugin and warns (batch mode still works), naming the package
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.setenv("DISPLAY", ":0")
    check = doctor.check_desktop()
    assert check.status == doctor.WARN and "libdocgenmissing3" in check.detail


def test_without_ldd_the_loader_still_names_the_first_missing_library(plugin_missing_a_library, monkeypatch):
    monkeypatch.setattr(qtplatform.shutil, "which", lambda name: None)
    assert qtplatform.missing_libraries(plugin_missing_a_library) == ["libdocgenmissing.so.3"]


def test_headless_platforms_and_a_working_display_need_nothing(monkeypatch):
    assert qtplatform.window_problem({"QT_QPA_PLATFORM": "offscreen"}) is None
    assert qtplatform.window_problem({}, platform="win32") is None
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        return
    server = subprocess.Popen([xvfb, ":86", "-nolisten", "tcp"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            if Path("/tmp/.X11-unix/X86").exists():
                break
            time.sleep(0.1)
        problem = qtplatform.window_problem({"DISPLAY": ":86"})
        assert problem is None or problem.missing, problem  # the display answers
    finally:
        server.terminate()
        server.wait(timeout=10)
