"""``docgen`` with no arguments, or ``docgen gui``: the desktop app."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from docgen.cli.common import EXIT_USAGE


def gui_command(argv: Sequence[str]) -> int:
    """Open the desktop app. Exit 2 with docgen's own message (no display, a display server that does not
    answer, Qt's platform plugin missing system libraries: :mod:`docgen.qtplatform`) instead of Qt's abort."""
    from docgen.qtplatform import window_problem

    problem = window_problem()
    if problem is not None and "--help" not in argv and "-h" not in argv:
        print(f"docgen: error: {problem.message}", file=sys.stderr)
        return EXIT_USAGE
    try:
        from docgen.gui.app import run
    except ImportError as exc:
        print(f"docgen: error: the desktop app is not available ({exc}). Install PySide6-Essentials.",
              file=sys.stderr)
        return EXIT_USAGE
    return run(list(argv))
