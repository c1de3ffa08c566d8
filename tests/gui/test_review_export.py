"""Never lose work, never export a problem unasked: drafts per template, marks with Remove / Keep, the export
gate, New seed for Generate, Save As in the output folder, quit with unexported work."""

from __future__ import annotations

import docx

from docgen.llm.fake import FakeGenerator
from docgen.model import GenerationParams, Mark, SectionResult
from docgen.render import read_back

SUMMARY = "Sales were strong. The West sold $5 million more than planned. Margins held."


def _script(messages):
    last = messages[-1].content.lower()
    if "summarise these results" in last:
        return SUMMARY
    return "The **West** leads.\n\n- Technology grows\n- Phones sell well"


def _mark(text: str, sentence: str, claim: str) -> Mark:
    start = text.index(sentence)
    return Mark("unsupported", sentence, start, start + len(sentence), claim, f"'{claim}' is not in the data",
                evidence="Total sales are $2,297,200.86")


def test_switching_template_and_back_keeps_the_edit(qtbot, make_window, prepare, wait_idle, wait_data, answered):
    window = make_window(FakeGenerator(_script))
    prepare(window, "sales-report")
    window.fields_form.inputs["company"].setText("Acme Ltd")
    window.start_generate()
    wait_idle(window)
    summary = window.sections_view.panels["summary"]
    summary.editor.setPlainText("My own summary.")
    prepare(window, "service-reply")  # another template, other data
    assert window.sections_view.panels["body"].text() == ""
    assert window.gallery.select("sales-report")
    wait_data(window)
    assert window.dataset.path.parent.name == "sales-report"  # its own data came back with it
    assert window.sections_view.panels["summary"].text() == "My own summary."
    assert window.sections_view.panels["summary"].locked
    assert "Technology grows" in window.sections_view.panels["commentary"].text()
    assert window.fields_form.values()["company"] == "Acme Ltd"
    assert answered.questions == []  # nothing to ask: the work is kept


def test_marks_inline_with_remove_and_keep(qtbot, make_window, prepare, answered):
    window = make_window()
    prepare(window, "sales-report")
    other = "Profit was $9 billion."
    text = SUMMARY + " " + other
    window.draft.finish(SectionResult("summary", text, params=GenerationParams(seed=3), marks=(
        _mark(text, "The West sold $5 million more than planned.", "$5 million"), _mark(text, other, "$9 billion"))))
    window.review.show_draft()
    panel = window.sections_view.panels["summary"]
    assert len(panel.mark_rows) == 2
    assert "'$5 million' is not in the data" in panel.mark_rows[0].label.text()
    assert "Total sales are $2,297,200.86" in panel.mark_rows[0].label.text()  # the evidence
    highlighted = [s.cursor.selectedText() for s in panel.editor.extraSelections()]
    assert highlighted == ["The West sold $5 million more than planned.", other]  # inline
    panel.mark_rows[0].remove_button.click()
    assert panel.text() == "Sales were strong. Margins held. Profit was $9 billion."
    assert window.draft.sections["summary"].locked and len(panel.mark_rows) == 1
    # the rows listed before are gone from the screen at once, not only when Qt deletes them later (a grab
    # showed the old row's button under the new one)
    from docgen.gui.sections import MarkRow
    shown = [r for r in panel.findChildren(MarkRow) if r.isVisibleTo(panel)]
    assert shown == panel.mark_rows
    panel.mark_rows[0].keep_button.click()
    assert panel.mark_rows == [] and not panel.marks_box.isVisibleTo(panel)
    assert window.draft.problems()[0].section_id == "commentary"  # still empty; summary is fine now
    assert panel.undo_button.isVisibleTo(panel)
    panel.undo_button.click()
    assert "The West sold $5 million" in panel.text()
    assert len(panel.mark_rows) == 1  # the removed sentence's mark is back; the kept one stays kept


def test_export_gate_asks_and_names_the_sections(qtbot, make_window, prepare, wait_idle, answered, tmp_path):
    gen = FakeGenerator(_script)
    window = make_window(gen)
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    text = window.sections_view.panels["summary"].text()
    assert text == SUMMARY
    window.draft.sections["commentary"].state = "cancelled"  # a run stopped mid-way, its text unfinished
    window.review.show_draft()
    answered.answer = False
    answered.save_path = tmp_path / "report.docx"
    window.export_dialog()
    wait_idle(window)
    question = answered.questions[-1]
    assert question.startswith("2 sections have problems: export anyway?")
    assert "Executive summary: 1 marked sentence ('$5 million' is not in the data)" in question
    assert "Commentary: was cancelled before it was finished" in question
    assert not (tmp_path / "report.docx").exists()  # No: nothing written
    assert window.tabs.currentWidget() is window.review.widget

    answered.answer = True
    window.export_dialog()
    wait_idle(window)
    assert (tmp_path / "report.docx").is_file()
    assert "$5 million" in read_back(tmp_path / "report.docx").text
    assert not window.draft.unexported


def test_export_checks_text_typed_by_the_user(qtbot, make_window, prepare, wait_idle, answered, tmp_path):
    window = make_window(FakeGenerator("Revenue grew in every region."))
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    assert window.draft.problems() == []
    window.sections_view.panels["summary"].editor.setPlainText("Revenue reached $7 billion.")  # not in the data
    answered.answer = False
    out = tmp_path / "typed.docx"
    window.start_export(out)
    wait_idle(window)
    assert not out.exists()
    assert "'$7 billion' is not in the data" in answered.questions[-1]
    assert len(window.sections_view.panels["summary"].mark_rows) == 1  # now marked in the review
    answered.answer = True
    window.start_export(out)
    wait_idle(window)
    assert out.is_file() and "$7 billion" in "\n".join(p.text for p in docx.Document(str(out)).paragraphs)


def test_generate_honours_new_seed(qtbot, make_window, prepare, wait_idle):
    window = make_window(FakeGenerator("Text."))
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    sections = window.draft.sections
    assert sections["summary"].seed == window.settings.seed  # first time: the settings' seed, repeatable
    window.sections_view.panels["commentary"].new_seed.setChecked(False)
    window.start_generate()
    wait_idle(window)
    assert sections["summary"].seed != window.settings.seed  # New seed ticked: a new one
    assert sections["commentary"].seed == window.settings.seed  # unticked: the same seed again


def test_save_as_opens_in_the_configured_output_folder(qtbot, make_window, prepare, wait_idle, monkeypatch,
                                                       tmp_path):
    from docgen.gui import dialogs

    window = make_window(FakeGenerator("Text."))
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    asked = []
    monkeypatch.setattr(dialogs, "save_file", lambda _p, _t, suggested: asked.append(suggested))
    window.export_dialog()
    out = tmp_path / "out"
    assert asked and asked[0].parent == out and out.is_dir()  # created, so the dialog does not fall back


def test_quit_asks_when_work_was_not_exported(qtbot, make_window, prepare, wait_idle, answered, tmp_path):
    window = make_window(FakeGenerator("Text."))
    prepare(window, "sales-report")
    window.start_generate()
    wait_idle(window)
    answered.answer = False
    assert not window.close()
    assert "never exported" in answered.questions[-1]
    answered.answer = True
    answered.save_path = tmp_path / "r.docx"
    window.export_dialog()
    wait_idle(window)
    asked = len(answered.questions)
    assert window.close()
    assert len(answered.questions) == asked  # exported: nothing to ask
