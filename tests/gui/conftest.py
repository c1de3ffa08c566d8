"""GUI fixtures: a main window with an injected generator, answered dialogs, and run helpers."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

pytest.importorskip("PySide6")
pytest.importorskip("pytestqt")

from docgen.gui import dialogs  # noqa: E402
from docgen.gui.main_window import MainWindow  # noqa: E402
from docgen.llm.fake import FakeGenerator  # noqa: E402
from docgen.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = ROOT / "templates"


class Dialogs:
    """Records every dialog the window opens and answers it without blocking."""

    def __init__(self) -> None:
        self.errors: list[tuple[str, str]] = []
        self.questions: list[str] = []
        self.answer = True
        self.save_path: Path | None = None
        self.open_path: Path | None = None


@pytest.fixture
def answered(monkeypatch) -> Dialogs:
    """Replace the window's dialogs by recorders (errors are collected, questions answered ``answer``)."""
    record = Dialogs()
    monkeypatch.setattr(dialogs, "show_error", lambda _p, title, message: record.errors.append((title, message)))

    def ask(_parent, _title, question):
        record.questions.append(question)
        return record.answer

    monkeypatch.setattr(dialogs, "ask", ask)
    monkeypatch.setattr(dialogs, "save_file", lambda *_a: record.save_path)
    monkeypatch.setattr(dialogs, "open_file", lambda *_a: record.open_path)
    monkeypatch.setattr(dialogs, "open_folder", lambda *_a: record.open_path)
    return record


@pytest.fixture
def make_window(qtbot, answered, tmp_path) -> Callable[..., MainWindow]:
    """``make_window(generator)`` -> a shown MainWindow whose model is ``generator`` (a FakeGenerator by default).

    The factory counts its calls in ``window.factory_calls`` (the model must load once, lazily)."""
    windows: list[MainWindow] = []

    def make(generator=None, *, settings: Settings | None = None, factory=None) -> MainWindow:
        calls: list[int] = []
        gen = generator if generator is not None else FakeGenerator()

        def default_factory(_settings):
            calls.append(1)
            return gen

        window = MainWindow(settings or Settings(output_dir=str(tmp_path / "out")),
                            generator_factory=factory or default_factory)
        window.factory_calls = calls
        qtbot.addWidget(window)
        window.show()
        qtbot.waitExposed(window)
        window.windowHandle().requestActivate()  # shortcuts (Ctrl+G, Esc...) need the active window
        qtbot.waitUntil(window.isActiveWindow, timeout=2000)
        windows.append(window)
        return window

    yield make
    for window in windows:  # never leave a running thread behind
        if window.thread is not None:
            window.thread.cancel()
            window.thread.wait(5000)
        if window.data.loader is not None:
            window.data.loader.wait(5000)
        if window.preview.thread is not None:
            window.preview.thread.wait(180_000)


@pytest.fixture
def wait_idle(qtbot) -> Callable[..., None]:
    """``wait_idle(window)``: wait until the window's run (if any) has finished and its signals were delivered."""

    def wait(window: MainWindow, timeout: int = 60_000) -> None:
        qtbot.waitUntil(lambda: window.thread is None, timeout=timeout)

    return wait


@pytest.fixture
def wait_data(qtbot) -> Callable[..., None]:
    """``wait_data(window)``: wait until the data file being read on the worker is read (or failed)."""

    def wait(window: MainWindow, timeout: int = 30_000) -> None:
        qtbot.waitUntil(lambda: not window.data.loading, timeout=timeout)

    return wait


@pytest.fixture
def prepare(wait_data) -> Callable[..., None]:
    """``prepare(window, template_id, data=None)``: choose the template in the gallery and load ``data``
    (default: the template's sample, through the "Use sample data" button), waiting until it is read."""

    def prep(window: MainWindow, template_id: str, data: Path | None = None) -> None:
        assert window.gallery.select(template_id), template_id
        assert window.template is not None and window.template.id == template_id
        wait_data(window)
        if data is None:
            window.data_panel.sample_button.click()
        else:
            window.load_data(data)
        wait_data(window)
        assert window.dataset is not None, window.data_problem

    return prep
