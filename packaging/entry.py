"""Entry point of the frozen app (PyInstaller): ``docgen`` with no arguments opens the desktop app, with
arguments it is the command line (``docgen --template ...``, ``docgen doctor``, ``docgen gui``...).

A windowed build (Windows ``docgen.exe``, the macOS .app) starts without a console: ``sys.stdout`` and
``sys.stderr`` are None. They are pointed at ``console.log`` in the user log folder before anything prints; on
Windows, a command started from a terminal first attaches to that terminal so its output is visible there.
"""

import sys


def _attach_parent_console() -> None:
    if sys.platform != "win32" or sys.stdout is not None or len(sys.argv) <= 1:
        return
    import ctypes

    if ctypes.windll.kernel32.AttachConsole(-1):  # ATTACH_PARENT_PROCESS
        sys.stdout = open("CONOUT$", "w", encoding="utf-8", errors="replace", buffering=1)  # noqa: SIM115
        sys.stderr = sys.stdout


_attach_parent_console()

from docgen.settings import ensure_std_streams  # noqa: E402

ensure_std_streams()

from docgen.cli import main  # noqa: E402

sys.exit(main())
