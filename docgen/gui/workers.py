"""Running the pipeline off the GUI thread.

- :class:`ModelSession` holds the generator for the whole app session. It is created lazily, on the worker
  thread, the first time a run needs it (never at start-up), and kept until the settings change.
- :class:`RunThread` is a QThread that runs one task (``generate`` one document, export, or a batch) with a
  :class:`~docgen.cancel.CancelToken`, and turns the pipeline's ``on_event(ProgressEvent)`` callbacks into Qt
  signals (delivered queued to the GUI thread).
- The session's generator sits behind the section cache (:mod:`docgen.cache`, the same one batch mode uses):
  exporting a document reviewed a minute ago does not classify every row again, and writing a section again
  with the same seed and unchanged inputs returns its text at once.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QThread, Signal

from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DocgenError
from docgen.cache import from_settings
from docgen.llm.base import Generator
from docgen.model import ProgressEvent
from docgen.settings import Settings

log = logging.getLogger(__name__)

GeneratorFactory = Callable[[Settings], Generator]
#: A unit of work: ``task(generator, on_event, cancel) -> result``.
Task = Callable[[Generator, Callable[[ProgressEvent], None], CancelToken], Any]


def default_factory(settings: Settings) -> Generator:
    """Open the generator the settings describe (llama.cpp by default). Imports llama_cpp only when called."""
    from docgen.llm import open_configured

    return open_configured(settings)  # llamacpp, or the inference server of Settings -> Server (#10)


class ModelSession:
    """The session's generator: opened on first :meth:`get` (on the worker thread), kept for later runs."""

    def __init__(self, settings: Settings, factory: GeneratorFactory | None = None) -> None:
        self.settings = settings
        self.factory = factory or default_factory
        self._generator: Generator | None = None
        self._lock = threading.Lock()
        self.load_seconds = 0.0

    @property
    def loaded(self) -> bool:
        """True once the model is open."""
        return self._generator is not None

    @property
    def name(self) -> str:
        """The loaded model's name, or '' before it is loaded."""
        return self._generator.name if self._generator is not None else ""

    def get(self) -> Generator:
        """The generator, opening it now if needed. Raises ModelError subclasses (shown to the user)."""
        with self._lock:
            if self._generator is None:
                start = time.perf_counter()
                self._generator = from_settings(self.factory(self.settings), self.settings)
                self.load_seconds = time.perf_counter() - start
                log.info("Model %s loaded in %.2f s", self._generator.name, self.load_seconds)
            return self._generator

    def reset(self, settings: Settings | None = None) -> None:
        """Forget the generator (new settings); the next run opens it again. Call only while no run is active."""
        with self._lock:
            if settings is not None:
                self.settings = settings
            generator, self._generator = self._generator, None
        if generator is not None:
            generator.close()


class RunThread(QThread):
    """Runs one task on its own thread.

    Signals (queued to the GUI thread): ``progress(ProgressEvent)``, ``model_loading()``, ``model_ready(str)``,
    ``succeeded(object)`` with the task's result, ``failed(str)`` with ``str(DocgenError)`` (the CLI's words),
    ``cancelled()``. Exactly one of succeeded/failed/cancelled is emitted, then the thread finishes.
    """

    progress = Signal(object)
    model_loading = Signal()
    model_ready = Signal(str)
    succeeded = Signal(object)
    failed = Signal(str)
    cancelled = Signal()

    def __init__(self, session: ModelSession, task: Task, *, kind: str = "generate", parent=None) -> None:
        super().__init__(parent)
        self.session = session
        self.task = task
        self.kind = kind
        self.token = CancelToken()
        self.setObjectName(f"docgen-{kind}")

    def cancel(self) -> None:
        """Ask the task to stop (returns at once; the thread finishes within a fraction of a second)."""
        self.token.cancel()

    def run(self) -> None:  # noqa: D102 - QThread entry point, runs on the worker thread
        from docgen.gui.responsive import lower_this_thread

        lower_this_thread()  # the GUI thread wins a core while the model runs (docgen.gui.responsive)
        try:
            if not self.session.loaded:
                self.model_loading.emit()
            generator = self.session.get()
            self.model_ready.emit(generator.name)
            self.token.raise_if_cancelled()
            result = self.task(generator, self.progress.emit, self.token)
        except Cancelled:
            self.cancelled.emit()
        except DocgenError as exc:
            self.failed.emit(str(exc))
        except Exception as exc:  # noqa: BLE001 - a bug must show a message, not kill the app
            log.exception("Unexpected error in %s", self.kind)
            self.failed.emit(f"Unexpected error ({type(exc).__name__}): {exc}")
        else:
            self.succeeded.emit(result)
