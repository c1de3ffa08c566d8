"""The References tab: the template's reference files, files added by the dialog or a drop, search, and the
next run reading the added files (as --refs)."""

from __future__ import annotations

import warnings
from pathlib import Path

from PySide6.QtCore import QMimeData, QPoint, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from docgen.llm.fake import FakeGenerator
from docgen.llm.prompt import SOURCES_HEADER

GIFT = """# Gift service

## Gift wrapping

Every order can be gift wrapped for free: tick "gift wrap" at checkout and we add a card with your message.
"""


def gift_data(tmp_path: Path) -> Path:
    data = tmp_path / "tickets.csv"
    data.write_text('ticket_id,rating,comment\nG-1,1.0,"Can you gift wrap my order with a card?"\n', encoding="utf-8")
    return data


def names(pane) -> list[str]:
    return [pane.table.item(r, 0).text() for r in range(pane.table.rowCount())]


def row_of(pane, name: str) -> dict[str, str]:
    r = names(pane).index(name)
    return {pane.table.horizontalHeaderItem(c).text(): pane.table.item(r, c).text()
            for c in range(pane.table.columnCount())}


def wait_pane(qtbot, pane) -> None:
    qtbot.waitUntil(lambda: not pane.busy and not pane._pending, timeout=30_000)


def test_the_template_references_are_listed_with_passages_and_state(qtbot, make_window, prepare):
    window = make_window()
    prepare(window, "service-reply")
    pane = window.references
    wait_pane(qtbot, pane)
    assert {"Returns policy.docx", "Warranty terms.docx", "Shipping.md"} <= set(names(pane))
    warranty = row_of(pane, "Warranty terms.docx")
    assert warranty["From"] == "template" and warranty["State"] == "indexed" and int(warranty["Passages"]) > 0
    assert not pane.remove_button.isEnabled()  # the template's files are not the tab's to remove
    assert window.tabs.tabText(window.tabs.indexOf(pane.widget)) == "R&eferences"


def test_add_by_dialog_search_and_the_next_run_reads_it(qtbot, make_window, answered, prepare, wait_idle, tmp_path):
    (tmp_path / "Gift service.md").write_text(GIFT, encoding="utf-8")
    fake = FakeGenerator("We are glad to help with your order.")
    window = make_window(fake)
    prepare(window, "service-reply", gift_data(tmp_path))
    pane = window.references
    wait_pane(qtbot, pane)
    answered.open_path = tmp_path / "Gift service.md"
    window.tabs.setCurrentWidget(pane.widget)
    pane.add_button.click()
    wait_pane(qtbot, pane)
    gift = row_of(pane, "Gift service.md")
    assert gift["From"] == "added" and gift["State"] == "indexed" and gift["Passages"] == "1"

    qtbot.keyClicks(pane.search_box, "gift wrapping with a card")
    qtbot.keyClick(pane.search_box, Qt.Key.Key_Return)
    wait_pane(qtbot, pane)
    first = pane.results.item(0).text()
    assert first.startswith("1. Gift service.md, Gift wrapping") and "gift wrapped for free" in first

    window.start_generate()
    wait_idle(window)
    prompts = [m[-1].content for m in fake.calls if SOURCES_HEADER in m[-1].content]
    assert prompts and "Gift service.md, Gift wrapping" in prompts[-1]
    assert "gift wrapped for free" in prompts[-1]
    body = window.sections_view.panels["body"]
    assert body.text()

    # Remove takes it out of the list and of the next run
    pane.table.selectRow(names(pane).index("Gift service.md"))
    assert pane.remove_button.isEnabled()
    qtbot.keyClick(pane.table, Qt.Key.Key_Delete)
    assert "Gift service.md" not in names(pane) and pane.run_files() == ()
    assert window.run_options().references == ()


def test_a_dropped_file_is_added_and_a_dropped_unsupported_file_is_refused(qtbot, make_window, prepare, tmp_path):
    (tmp_path / "Gift service.md").write_text(GIFT, encoding="utf-8")
    (tmp_path / "photo.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    window = make_window()
    prepare(window, "sales-report")  # a template without references of its own
    pane = window.references
    wait_pane(qtbot, pane)
    assert names(pane) == [] and "uses no reference documents" in pane.intro.text()
    window.tabs.setCurrentWidget(pane.widget)

    def drop(*paths: Path) -> None:
        mime = QMimeData()
        mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
        with warnings.catch_warnings():  # PySide6 flags QDragEnterEvent's only constructor as deprecated
            warnings.simplefilter("ignore", DeprecationWarning)
            enter = QDragEnterEvent(QPoint(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                                    Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(pane.widget, enter)
        assert enter.isAccepted()
        event = QDropEvent(QPointF(20, 20), Qt.DropAction.CopyAction, mime, Qt.MouseButton.NoButton,
                           Qt.KeyboardModifier.NoModifier)
        QApplication.sendEvent(pane.widget, event)

    drop(tmp_path / "photo.png")
    assert names(pane) == [] and "Not added: photo.png" in pane.status.text()
    drop(tmp_path / "Gift service.md")
    wait_pane(qtbot, pane)
    assert names(pane) == ["Gift service.md"] and row_of(pane, "Gift service.md")["State"] == "indexed"
    assert window.run_options().references == ((tmp_path / "Gift service.md").resolve(),)
    pane.search_box.setText("Do you gift wrap?")
    pane.search()
    wait_pane(qtbot, pane)
    assert pane.hits and pane.hits[0].passage.section == "Gift wrapping"


def test_rebuild_reads_every_file_again_off_the_gui_thread(qtbot, make_window, prepare):
    window = make_window()
    prepare(window, "service-reply")
    pane = window.references
    wait_pane(qtbot, pane)
    pane.rebuild()
    # the call returned at once: the files are read on the worker, with the progress bar showing
    assert pane.busy and pane.thread.isRunning() and not pane.rebuild_button.isEnabled()
    assert pane.progress.isVisibleTo(pane.widget)
    wait_pane(qtbot, pane)
    assert not pane.progress.isVisibleTo(pane.widget) and "Read 3 file(s) again." in pane.status.text()
    assert all(row_of(pane, n)["State"] == "indexed" for n in names(pane))
