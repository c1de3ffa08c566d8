"""One run at a time: starts a :class:`~docgen.gui.workers.RunThread`, routes its signals to the controller that
asked for it, shows progress in the status bar, measures how long a cancel took, and runs what was queued to
follow the run (:meth:`Runs.after`, e.g. writing the document once the export check said yes)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any, Protocol

from PySide6.QtCore import QCoreApplication, QObject, Signal
from PySide6.QtWidgets import QLabel, QProgressBar, QStatusBar

from docgen.gui.workers import ModelSession, RunThread, Task
from docgen.model import ProgressEvent

log = logging.getLogger(__name__)


class RunClient(Protocol):
    """What a controller implements to receive its run's signals (all on the GUI thread)."""

    def on_progress(self, kind: str, event: ProgressEvent) -> None: ...
    def on_succeeded(self, kind: str, result: Any) -> None: ...
    def on_failed(self, kind: str, message: str) -> None: ...
    def on_cancelled(self, kind: str) -> None: ...


class Runs(QObject):
    """The app's run slot. ``busy_changed(bool)`` fires when a run starts and after it ended."""

    busy_changed = Signal(bool)
    model_loading = Signal()
    model_ready = Signal(str)

    def __init__(self, session: ModelSession, status: QStatusBar, parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.status = status
        self.thread: RunThread | None = None
        self.kind = ""
        self.client: RunClient | None = None
        self.last_cancel_latency: float | None = None
        self._cancel_requested_at: float | None = None
        self._after: list[Callable[[], None]] = []
        self.speed_label = QLabel()
        self.speed_label.setAccessibleName("Speed")
        self.progress = QProgressBar()
        self.progress.setAccessibleName("Progress")
        self.progress.setTextVisible(True)
        self.progress.setRange(0, 1)
        self.progress.setValue(0)
        self.progress.setFormat("")
        self.progress.hide()

    @property
    def busy(self) -> bool:
        """True while a run is active."""
        return self.thread is not None

    def start(self, kind: str, task: Task, status: str, client: RunClient) -> RunThread:
        """Run ``task`` on a worker thread; ``client`` gets its signals. Only one run at a time (callers check
        :attr:`busy`)."""
        assert self.thread is None, f"a {self.kind} run is active"
        thread = RunThread(self.session, task, kind=kind, parent=self)
        thread.progress.connect(lambda e: client.on_progress(kind, e))
        thread.model_loading.connect(self.model_loading)
        thread.model_ready.connect(self.model_ready)
        thread.succeeded.connect(lambda r: client.on_succeeded(kind, r))
        thread.failed.connect(lambda m: client.on_failed(kind, m))
        thread.cancelled.connect(lambda: client.on_cancelled(kind))
        thread.finished.connect(lambda: self._finished(thread))
        self.thread, self.kind, self.client = thread, kind, client
        self._cancel_requested_at = None
        self.speed_label.setText("")
        self.progress.setRange(0, 0)
        self.progress.setFormat("")
        self.progress.show()
        self.status.showMessage(status)
        self.busy_changed.emit(True)
        thread.start()
        return thread

    def after(self, callback: Callable[[], None]) -> None:
        """Call ``callback`` once the current run has ended (at once when idle)."""
        if self.thread is None:
            callback()
        else:
            self._after.append(callback)

    def cancel(self) -> None:
        """Stop the running task (Esc, Cancel buttons). Returns at once; the thread ends within ~0.5 s."""
        if self.thread is None:
            return
        if self._cancel_requested_at is None:
            self._cancel_requested_at = time.perf_counter()
        self._after.clear()
        self.thread.cancel()
        self.status.showMessage("Cancelling…")

    def set_progress(self, value: int, maximum: int, fmt: str) -> None:
        """Show ``value`` of ``maximum`` in the status bar (``fmt`` as QProgressBar's, e.g. "%v / %m rows")."""
        self.progress.setRange(0, max(maximum, 1))
        self.progress.setValue(value)
        self.progress.setFormat(fmt)

    def set_speed(self, tokens_per_second: float) -> None:
        """Show the generation speed."""
        if tokens_per_second:
            self.speed_label.setText(f"{tokens_per_second:.1f} tokens/s")

    def _finished(self, thread: RunThread) -> None:
        if self.thread is not thread:
            return
        if self._cancel_requested_at is not None:
            self.last_cancel_latency = time.perf_counter() - self._cancel_requested_at
            log.info("Cancel took %.3f s", self.last_cancel_latency)
        self.thread, self.client = None, None
        self.progress.setRange(0, 1)
        self.progress.setFormat("")
        self.progress.hide()
        thread.deleteLater()
        self.busy_changed.emit(False)
        after, self._after = self._after, []
        for callback in after:
            callback()

    def stop_and_wait(self) -> None:
        """Cancel and wait for the thread (closing the window): the CancelToken reaches llama.cpp's abort
        callback, so this takes well under a second."""
        thread = self.thread
        if thread is None:
            return
        self.cancel()
        thread.wait()
        QCoreApplication.sendPostedEvents()  # deliver the run's last signals (cancelled, finished) now
        QCoreApplication.processEvents()
        if self.thread is thread:
            self._finished(thread)
