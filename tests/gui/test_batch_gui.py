"""Batch of rows from the GUI: every row written with a per-row status, the report beside them; cancel."""

from __future__ import annotations

import json
import time

from PySide6.QtCore import Qt

from docgen.batch import REPORT_NAME
from docgen.gui.batch_tab import HELD
from docgen.llm.fake import FakeGenerator


def test_batch_of_rows(qtbot, make_window, prepare, wait_idle, tmp_path, answered):
    gen = FakeGenerator(lambda m: "We are sorry. " + m[-1].content[-40:], fail_on="4-7")
    window = make_window(gen)
    prepare(window, "service-reply")
    assert window.batch_panel.run_button.isEnabled()
    out = tmp_path / "letters"
    window.batch_panel.out_edit.setText(str(out))
    window.batch_panel.run_button.click()
    wait_idle(window)
    rows = len(window.dataset.rows)
    report = json.loads((out / REPORT_NAME).read_text(encoding="utf-8"))
    model = window.batch_panel.model
    assert model.rowCount() == rows
    written = [i for i in model.items if i.status in ("Written", HELD)]
    held = [i for i in model.items if i.status == HELD]
    assert len(written) == report["written"]
    assert len(written) - len(held) == len(list(out.glob("*.docx")))
    assert len(held) == len(list((out / "held back").glob("*.docx")))
    failed = [i for i in model.items if i.status == "Failed"]
    assert len(failed) == report["failed"]
    assert [i.label for i in failed] == ["4-7"]  # one bad row is reported; the others are written
    assert "scripted failure" in failed[0].detail
    assert window.batch_panel.progress.value() == rows
    assert "Open the output folder" in window.batch_panel.result.text()
    assert answered.errors == []


def test_batch_cancel(qtbot, make_window, prepare, wait_idle, tmp_path):
    window = make_window(FakeGenerator(prompt_delay=10))
    prepare(window, "service-reply")
    window.batch_panel.out_edit.setText(str(tmp_path / "letters"))
    window.start_batch()
    qtbot.waitUntil(lambda: window.batch_panel.model.items[0].status == "Writing…", timeout=5000)
    thread = window.thread
    start = time.perf_counter()
    window.batch_panel.cancel_button.click()
    assert thread.wait(2000)
    assert time.perf_counter() - start < 0.5
    wait_idle(window)
    assert window.batch_panel.model.counts().get("Not written (cancelled)") == len(window.dataset.rows)
    assert window.batch_panel.result.text().startswith("Cancelled")


def test_batch_is_off_for_table_templates(qtbot, make_window, prepare):
    window = make_window()
    prepare(window, "sales-report")
    assert not window.batch_panel.run_button.isEnabled()
    assert "one document from the whole table" in window.batch_panel.intro.text()


def test_batch_tab_follows_template_and_data(qtbot, make_window, prepare, tmp_path, wait_data):
    window = make_window()
    prepare(window, "service-reply")
    panel = window.batch_panel
    rows = len(window.dataset.rows)
    assert panel.model.rowCount() == rows  # one waiting line per record before any run
    assert panel.progress.maximum() == rows and panel.progress.text() == f"0 of {rows} documents"
    assert panel.model.headerData(1, Qt.Orientation.Horizontal) == "ticket_id"  # the output name's key
    assert panel.model.items[0].label == str(window.dataset.rows[0]["ticket_id"])
    assert panel.out_edit.text() == str(tmp_path / "out" / "service-reply")
    panel.out_edit.setText(str(tmp_path / "mine"))

    three = tmp_path / "three.csv"
    three.write_text("ticket_id,customer,product,gender,comment\nT-1,Ann,Player,Female,Broken\n"
                     "T-2,Bob,Player,Male,Late\nT-3,Cy,Phone,Male,Noisy\n", encoding="utf-8")
    window.load_data(three)
    wait_data(window)
    assert window.data_problem == "", window.data_problem
    assert [i.label for i in panel.model.items] == ["T-1", "T-2", "T-3"]  # ids, not the gender column
    assert panel.progress.text() == "0 of 3 documents"

    prepare(window, "sales-report")  # a table template: no batch, and its own folder
    assert not panel.run_button.isEnabled() and panel.model.rowCount() == 0
    assert panel.out_edit.text() == str(tmp_path / "out" / "sales-report")
    window.gallery.select("service-reply")
    wait_data(window)
    assert panel.out_edit.text() == str(tmp_path / "mine")  # the folder typed for this template came back
    assert panel.model.rowCount() == 3


def test_documents_with_warnings_are_held_back(qtbot, make_window, prepare, wait_idle, tmp_path, answered,
                                               wait_data):
    def letter(messages):
        return "We will call you at [phone number]." if "T-2" in messages[-1].content else "We are sorry."

    window = make_window(FakeGenerator(letter))
    data = tmp_path / "three.csv"
    data.write_text("ticket_id,customer,product,comment\nT-1,Ann,Player,Broken\nT-2,Bob,Player,Late\n"
                    "T-3,Cy,Phone,Noisy\n", encoding="utf-8")
    prepare(window, "service-reply", data)
    out = tmp_path / "letters"
    window.batch_panel.out_edit.setText(str(out))
    assert window.batch_panel.hold_check.isChecked()
    window.start_batch()
    wait_idle(window)
    model = window.batch_panel.model
    held = [i for i in model.items if i.status == HELD]
    assert [i.label for i in held] == ["T-2"]
    assert "placeholder" in held[0].warnings[0].lower() or "[phone number]" in held[0].warnings[0]
    assert model.data(model.index(1, 3)).startswith("1:")  # the warnings column
    assert sorted(p.name for p in out.glob("*.docx")) == ["reply-T-1.docx", "reply-T-3.docx"]
    assert (out / "held back" / "reply-T-2.docx").is_file()
    assert "1 held back" in window.batch_panel.result.text()
    window.batch_panel.table.selectRow(1)
    window.batch_panel.release_button.click()
    assert (out / "reply-T-2.docx").is_file() and not (out / "held back" / "reply-T-2.docx").exists()
    assert model.items[1].status == "Written"
