"""Entry point of the desktop app: ``docgen`` (no arguments) and ``docgen gui [--template ID] [DATA_FILE]``."""

from __future__ import annotations

import argparse
import logging
import sys
import time
from collections.abc import Sequence

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon
from PySide6.QtWidgets import QApplication

from docgen import __version__, paths
from docgen.settings import Settings, ensure_std_streams, load_settings_for_app, setup_logging

log = logging.getLogger(__name__)


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """``docgen gui`` options."""
    parser = argparse.ArgumentParser(prog="docgen gui", description="Open the docgen desktop app.")
    parser.add_argument("--template", help="template id or package path to choose at start")
    parser.add_argument("data", nargs="?", help="data file to open at start")
    parser.add_argument("--no-restore", action="store_true", help="do not offer to restore unsaved work")
    # Hidden: open the window, print how long it took, quit (the frozen-app test and IT's install checks).
    parser.add_argument("--smoke-test", action="store_true", help=argparse.SUPPRESS)
    return parser.parse_args(list(argv))


def make_application(argv: Sequence[str] = ()) -> QApplication:
    """The QApplication (created once), with docgen's name, icon and high-DPI rounding policy."""
    app = QApplication.instance()
    if app is None:
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(["docgen", *argv])
    app.setApplicationName("docgen")
    app.setApplicationDisplayName("docgen")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("docgen")
    icon = paths.resources_dir() / "docgen.png"
    if icon.is_file():
        app.setWindowIcon(QIcon(str(icon)))
    return app  # type: ignore[return-value]


def load_settings_for_gui() -> tuple[Settings, str]:
    """Settings, or safe ones plus the problem to show: a broken settings.toml gives the defaults with the
    machine policy still applied; a broken policy.toml gives every setting locked to its default
    (:func:`docgen.settings.load_settings_for_app`) - never an unlocked app."""
    return load_settings_for_app()


def run(argv: Sequence[str]) -> int:
    """Open the main window and run the event loop; returns the exit code."""
    started = time.perf_counter()
    ensure_std_streams()  # a windowed build has no console: sys.stdout/stderr are None
    args = parse_args(argv)
    from docgen.gui import responsive

    responsive.prepare()  # before llama.cpp loads: its waiting threads sleep instead of spinning
    app = make_application()
    settings, problem = load_settings_for_gui()
    setup_logging(settings.log_level)
    from docgen.gui.main_window import MainWindow

    window = MainWindow(settings, settings_problem=problem)
    if args.template:
        from pathlib import Path

        if not window.gallery.select(args.template):
            window.open_template(Path(args.template))
    if args.data:
        from pathlib import Path

        window.load_data(Path(args.data))
    window.show()
    log.info("Window shown %.2f s after start-up", time.perf_counter() - started)
    if problem:
        log.warning("%s", problem)
    if args.smoke_test:
        def smoke_done() -> None:
            print(f"docgen gui smoke test: window shown={window.isVisible()} "
                  f"after {time.perf_counter() - started:.2f} s", flush=True)
            window.close()
            app.quit()

        QTimer.singleShot(200, smoke_done)
        return app.exec()
    if not args.no_restore and not args.data:
        QTimer.singleShot(0, window.offer_restore)
    from docgen.gui import interrupt

    sigint = interrupt.install(app, window)  # Ctrl+C in the terminal closes the window (docgen.gui.interrupt)
    code = app.exec()
    return 130 if sigint["interrupted"] else code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run(sys.argv[1:]))
