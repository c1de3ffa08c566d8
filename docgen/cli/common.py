"""What every ``docgen`` subcommand shares: exit codes and the one way an error reaches the terminal.

Exit codes (DESIGN.md section 6): 0 all documents written; 1 some documents failed (the report lists them);
2 usage, template, data or model error before any work; 130 cancelled (Ctrl+C).
"""

from __future__ import annotations

import sys

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130


def error(message: object) -> None:
    """Print ``docgen: error: <message>`` on stderr (the form every subcommand uses)."""
    print(f"docgen: error: {message}", file=sys.stderr)


__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "EXIT_CANCELLED", "error"]
