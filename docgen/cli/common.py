"""What every ``docgen`` subcommand shares: exit codes and the one way an error reaches the terminal.

Exit codes (DESIGN.md section 6): 0 all documents written; 1 some documents failed (the report lists them);
2 usage, template, data or model error before any work; 130 cancelled (Ctrl+C).
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable

EXIT_OK, EXIT_SOME_FAILED, EXIT_USAGE, EXIT_CANCELLED = 0, 1, 2, 130
#: The reader of docgen's output went away (``| head``): 128 + SIGPIPE, what the shell shows for such a pipe.
EXIT_BROKEN_PIPE = 141


def error(message: object) -> None:
    """Print ``docgen: error: <message>`` on stderr (the form every subcommand uses)."""
    print(f"docgen: error: {message}", file=sys.stderr)


__all__ = ["EXIT_OK", "EXIT_SOME_FAILED", "EXIT_USAGE", "EXIT_CANCELLED", "EXIT_BROKEN_PIPE", "error", "guarded"]


def guarded(run: Callable[[], int]) -> int:
    """Run a subcommand; turn whatever escapes it into a message and an exit code (see :func:`docgen.cli.main`)."""
    from docgen.errors import DocgenError

    try:
        return run()
    except BrokenPipeError:
        _silence_stdout()
        return EXIT_BROKEN_PIPE
    except KeyboardInterrupt:
        print("docgen: cancelled.", file=sys.stderr)
        return EXIT_CANCELLED
    except DocgenError as exc:
        error(exc)
        return EXIT_USAGE
    except OSError as exc:
        if os.environ.get("DOCGEN_DEBUG"):
            raise
        from docgen.files import os_problem

        where = f" ({exc.filename})" if exc.filename else ""
        error(f"{os_problem(exc)}{where}. Check the file or folder named, the free disk space and your permissions, "
              "then run again.")
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the last guard: a bug must not print a traceback at a user
        if os.environ.get("DOCGEN_DEBUG"):
            raise
        log_path = _log_exception()
        error(f"internal error ({type(exc).__name__}: {exc}). This is a bug in docgen, not in your files; the "
              f"details are in {log_path}. Please report it with that file.")
        return EXIT_USAGE


def _silence_stdout() -> None:
    """After EPIPE: point stdout at the null device so Python's final flush does not fail again (Python docs,
    "Note on SIGPIPE")."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _log_exception() -> object:
    try:
        from docgen.settings import setup_logging

        log_path = setup_logging()
    except Exception:  # noqa: BLE001 - logging must not hide the original problem
        log_path = "docgen.log"
    logging.getLogger("docgen.cli").exception("Unexpected error")
    return log_path
