"""Cooperative cancellation flowing *down* the layers (GUI/CLI -> batch -> pipeline -> llm)."""

from __future__ import annotations

import threading

from docgen.errors import Cancelled


class CancelToken:
    """A thread-safe flag set by the caller (Cancel button, Ctrl+C) and polled by the work.

    The llama.cpp backend also polls it from llama.cpp's abort callback, so cancellation interrupts prompt
    processing too, not only token sampling.
    """

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        """Ask the work to stop as soon as it can. Safe to call from any thread, any number of times."""
        self._event.set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self._event.is_set()

    def raise_if_cancelled(self) -> None:
        """Raise :class:`docgen.errors.Cancelled` if :meth:`cancel` was called."""
        if self._event.is_set():
            raise Cancelled()
