"""The core review flow through the real window, with the scripted fake model: choose a template, load data,
fill fields, generate (streaming), edit a section, regenerate another, export, preview, read back."""

from __future__ import annotations


import docx
from PySide6.QtCore import Qt

from docgen.llm.fake import FakeGenerator
from docgen.render import read_back


def _script(messages):
    last = messages[-1].content
    if "summarise these results" in last.lower():  # the summary section's instruction
        return "Sales were strong this period."
    return "The **West** leads.\n\n- Technology grows\n- Tables lose money\n- Phones sell well"


def test_generate_edit_regenerate_export(qtbot, make_window, answered, tmp_path, prepare, wait_idle):
    gen = FakeGenerator(_script, delay=0.002)
    window = make_window(gen)
    assert window.factory_calls == []  # the model is not opened at start-up
    prepare(window, "sales-report")
    assert window.data_panel.model.rowCount() == 9994
    company = window.fields_form.inputs["company"]
    company.clear()
    qtbot.keyClicks(company, "Acme Ltd")

    streamed: list[str] = []
    window.sections_view.panels["summary"].editor.textChanged.connect(
        lambda: streamed.append(window.sections_view.panels["summary"].text()))
    qtbot.keyClick(window, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert window.thread is not None
    wait_idle(window)
    assert answered.errors == []
    assert window.factory_calls == [1]
    panels = window.sections_view.panels
    assert panels["summary"].text() == "Sales were strong this period."
    assert "Technology grows" in panels["commentary"].text()
    assert len(streamed) > 3  # it arrived word by word, not at once
    assert "Acme Ltd" in gen.calls[0][0].content + gen.calls[0][1].content

    # Edit the summary by hand: it becomes locked and survives regeneration of the commentary.
    summary = panels["summary"]
    summary.editor.setFocus()
    summary.editor.moveCursor(summary.editor.textCursor().MoveOperation.End)
    qtbot.keyClicks(summary.editor, " Edited by Ann.")
    assert window.draft.sections["summary"].edited and summary.locked
    assert not summary.regenerate_button.isEnabled()
    before = len(gen.calls)
    panels["commentary"].regenerate_button.click()
    wait_idle(window)
    assert len(gen.calls) == before + 1  # only the commentary was generated
    assert summary.text() == "Sales were strong this period. Edited by Ann."
    assert window.draft.sections["commentary"].seed not in (None, 42)

    # Generate again: the locked (edited) summary is kept, the commentary is rewritten.
    window.start_generate()
    wait_idle(window)
    assert summary.text() == "Sales were strong this period. Edited by Ann."
    assert window.factory_calls == [1]  # model kept for the session

    out = tmp_path / "report.docx"
    answered.save_path = out
    qtbot.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier)
    wait_idle(window)
    assert answered.errors == []
    assert out.is_file()
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "Edited by Ann." in text
    assert "Acme Ltd" in text or "Acme Ltd" in read_back(out).text
    blocks = read_back(out)
    assert any(getattr(b, "kind", None) == "bullet" and "Technology grows" in b.text for b in blocks)
    assert "Edited by Ann." in window.preview.text()
    assert window.tabs.currentWidget() is window.preview


def test_rows_template_generates_selected_row(qtbot, make_window, answered, tmp_path, prepare, wait_idle):
    # the row's values end the prompt ("Ticket <id>. The customer wrote: ..."); echoing it would be cleaned away
    window = make_window(FakeGenerator(
        lambda m: f"Reply about ticket {m[-1].content.rsplit('Ticket ', 1)[1].split('. ')[0]}: we are sorry."))
    prepare(window, "service-reply")
    window.data_panel.table.selectRow(2)
    ticket = window.dataset.rows[2]["ticket_id"]
    window.start_generate()
    wait_idle(window)
    assert str(ticket) in window.sections_view.panels["body"].text()
    answered.save_path = tmp_path / "letter.docx"
    assert window.suggested_name() == f"reply-{ticket}.docx"
    window.export_dialog()
    wait_idle(window)
    assert answered.errors == []
    assert "Reply about" in read_back(tmp_path / "letter.docx").text


def test_per_row_sections_are_not_rerun_on_export(qtbot, make_window, answered, tmp_path, prepare, wait_idle):
    gen = FakeGenerator()
    gen.cache_identity = "scripted fake of this test"  # a fake is cached only when asked (docgen.cache)
    window = make_window(gen)
    prepare(window, "sentiment-report")
    window.start_generate()
    wait_idle(window)
    rows = len(window.dataset.rows)
    first = len(gen.calls)
    assert rows + 1 <= first <= rows + 3  # one call per row, then up to 3 candidates of the summary
    assert window.sections_view.panels["sentiment"].text().count("\n") >= rows - 1
    answered.save_path = tmp_path / "sentiment.docx"
    window.export_dialog()
    wait_idle(window)
    assert answered.errors == []
    assert len(gen.calls) == first  # classifications came from the section cache
    assert (tmp_path / "sentiment.docx").is_file()
