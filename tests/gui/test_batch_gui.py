"""Batch of rows from the GUI: every row written with a per-row status, the report beside them; cancel."""

from __future__ import annotations

import json
import time

from docgen.batch import REPORT_NAME
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
    written = [i for i in model.items if i.status == "Written"]
    assert len(written) == report["written"] == len(list(out.glob("*.docx")))
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
