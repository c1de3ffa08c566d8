"""Ctrl+C in the terminal that started the desktop app closes it, the way the window's close button does.

Qt's event loop runs in C++, so Python only runs a signal handler when Qt hands control back to Python: without
help, SIGINT waits until the next mouse move, or forever in an idle window. :func:`install` keeps a 200 ms timer
running (its empty slot gives Python the chance) and makes SIGINT close the window - so running work is
cancelled and edited sections are saved, as on any close - and, if the window is still open after that (a
"Stop and close?" question was answered No, or a dialog is open), a second Ctrl+C quits at once. The run's exit
code is then 130, as for a cancelled batch.
"""

from __future__ import annotations

import signal
from typing import Any

from PySide6.QtCore import QTimer

#: how often Python gets control to run a pending signal handler (ms); well under a person's reaction time
WAKE_MS = 200


def install(app: Any, window: Any) -> dict[str, bool]:
    """Route SIGINT to ``window.close()`` (second time: ``app.exit(130)``). Returns the state dict whose
    ``"interrupted"`` tells the caller that the app was closed by Ctrl+C. Does nothing off the main thread."""
    state = {"interrupted": False}

    def close_from_signal() -> None:
        if state["interrupted"] and window.isVisible():
            app.exit(130)
            return
        state["interrupted"] = True
        window.close()

    try:
        signal.signal(signal.SIGINT, lambda *_: QTimer.singleShot(0, close_from_signal))
    except ValueError:  # not the main thread (tests embedding the window)
        return state
    wake = QTimer(app)
    wake.setObjectName("docgen-sigint-wake")
    wake.timeout.connect(lambda: None)
    wake.start(WAKE_MS)
    return state
