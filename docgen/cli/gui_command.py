"""``docgen`` with no arguments, or ``docgen gui``: the desktop app."""

from __future__ import annotations

import sys
from collections.abc import Sequence

from docgen.cli.common import EXIT_USAGE


def gui_command(argv: Sequence[str]) -> int:
    """Open the desktop app."""
    try:
        from docgen.gui.app import run
    except ImportError as exc:
        print(f"docgen: error: the desktop app is not available ({exc}). Install PySide6-Essentials.",
              file=sys.stderr)
        return EXIT_USAGE
    return run(list(argv))
