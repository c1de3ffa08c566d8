"""The entry point, opening template packages from disk, and dropping files on the window."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from docgen.gui.app import parse_args
from docgen.templates.catalog import resolve


RUN = r"""
import sys
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication
from docgen.gui.app import make_application, run
app = make_application()
shown = []
def close_all():
    for w in QApplication.topLevelWidgets():
        if w.isVisible() and type(w).__name__ == "MainWindow":
            shown.append(w.template.id if w.template else None)
            w.close()
    app.quit()
QTimer.singleShot(300, close_all)
code = run(sys.argv[1:])
print(code, shown, "llama_cpp" in sys.modules)
"""


def test_run_shows_the_window_and_returns_the_exit_code(tmp_path):
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "DOCGEN_HOME": str(tmp_path / "home")}
    proc = subprocess.run([sys.executable, "-c", RUN, "--no-restore", "--template", "service-reply"],
                          capture_output=True, text=True, env=env, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "0 ['service-reply'] False"


def test_parse_args():
    args = parse_args(["--template", "sales-report", "data.csv"])
    assert (args.template, args.data, args.no_restore) == ("sales-report", "data.csv", False)


def test_open_template_package_from_disk(qtbot, make_window, tmp_path, answered):
    package = tmp_path / "my-letter"
    shutil.copytree(resolve("service-reply").root, package)
    manifest = package / "docgen.toml"
    manifest.write_text(manifest.read_text(encoding="utf-8").replace('id = "service-reply"', 'id = "my-letter"', 1),
                        encoding="utf-8")
    window = make_window()
    answered.open_path = manifest
    window.open_template_action.trigger()
    assert window.template is not None and window.template.id == "my-letter"
    assert window.gallery.model.row_of("my-letter") >= 0
    assert answered.errors == []
    again = make_window()  # the next session: the template opened from disk is still in the gallery
    assert again.gallery.model.row_of("my-letter") >= 0
    shutil.rmtree(package)  # moved away: skipped, no error
    assert make_window().gallery.model.row_of("my-letter") == -1 and answered.errors == []


def test_broken_template_package_shows_the_manifest_error(qtbot, make_window, tmp_path, answered):
    package = tmp_path / "broken"
    package.mkdir()
    (package / "docgen.toml").write_text('[template]\nid = "broken"\nname = "Broken"\nnmae = 1\n', encoding="utf-8")
    window = make_window()
    assert not window.open_template(package)
    assert answered.errors and "docgen.toml" in answered.errors[-1][1]


def test_drop_a_data_file(qtbot, make_window, wait_data):
    window = make_window()
    window.gallery.select("service-reply")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(resolve("service-reply").sample_data))])
    event = QDropEvent(QPoint(10, 10).toPointF(), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                       Qt.KeyboardModifier.NoModifier)
    window.dropEvent(event)
    wait_data(window)
    assert window.dataset is not None and window.dataset.path.name == "sample.csv"


def test_workbook_sheet_picker(qtbot, make_window, tmp_path, wait_data, answered):
    import openpyxl

    book = openpyxl.Workbook()
    notes = book.active
    notes.title = "Notes"
    notes.append(["note"])
    notes.append(["exported from the help desk"])
    tickets = book.create_sheet("Tickets")
    tickets.append(["ticket_id", "comment"])
    tickets.append(["T-1", "Broken on arrival"])
    path = tmp_path / "desk.xlsx"
    book.save(path)
    window = make_window()
    window.gallery.select("service-reply")
    window.load_data(path)
    wait_data(window)
    combo = window.data.sheet_combo
    assert combo.isVisibleTo(window) and [combo.itemText(i) for i in range(combo.count())] == ["Notes", "Tickets"]
    assert window.dataset.sheet == "Notes" and "ticket_id" in window.data_problem  # the first sheet, wrong columns
    combo.setCurrentIndex(1)
    combo.activated.emit(1)
    wait_data(window)
    assert window.dataset.sheet == "Tickets" and window.data_problem == ""
    assert window.generate_action.isEnabled()
    assert window.draft.sheet == "Tickets"  # remembered with the draft
