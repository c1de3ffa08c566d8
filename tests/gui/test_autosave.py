"""In-progress work (fields, edited sections) is autosaved and offered back in the next session."""

from __future__ import annotations

from docgen.gui import autosave
from docgen.llm.fake import FakeGenerator


def test_work_is_autosaved_and_restored(qtbot, make_window, prepare, wait_idle, answered, wait_data):
    window = make_window(FakeGenerator("Generated text."))
    prepare(window, "service-reply")
    window.data_panel.table.selectRow(3)
    window.fields_form.inputs["signer"].setText("Ann Smith")
    window.start_generate()
    wait_idle(window)
    body = window.sections_view.panels["body"]
    body.editor.setPlainText("My own letter text.")  # a user edit (not programmatic): locks the section
    assert window.draft.sections["body"].edited and body.locked

    def saved_draft():
        state = autosave.load()
        drafts = state.get("drafts", []) if state else []
        return next((d for d in drafts if d["template_id"] == "service-reply"), None)

    qtbot.waitUntil(lambda: saved_draft() is not None
                    and saved_draft()["sections"]["body"]["text"] == "My own letter text.", timeout=5000)
    saved = saved_draft()
    assert saved["values"]["signer"] == "Ann Smith" and saved["row"] == 3

    # A crash: the window is gone without a clean close. The next session offers the work back.
    second = make_window(FakeGenerator())
    assert second.offer_restore()
    assert answered.questions and "unsaved work" in answered.questions[-1]
    wait_data(second)
    assert second.template.id == "service-reply"
    assert second.fields_form.values()["signer"] == "Ann Smith"
    assert second.current_row() == 3
    restored = second.sections_view.panels["body"]
    assert restored.text() == "My own letter text." and restored.locked and second.draft.sections["body"].edited
    assert restored.status.text() == "Restored from your unsaved work"


def test_declining_restore_forgets_the_work(qtbot, make_window, prepare, answered):
    autosave.save({"current": "sales-report", "drafts": [
        {"template_id": "sales-report", "sections": {"summary": {"text": "x"}}, "values": {}}]})
    answered.answer = False
    window = make_window()
    assert not window.offer_restore()
    assert autosave.load() is None


def test_nothing_to_restore_asks_nothing(qtbot, make_window, answered):
    window = make_window()
    assert not window.offer_restore()
    assert answered.questions == []


def test_unreadable_autosave_is_ignored(qtbot, make_window, answered):
    autosave.autosave_file().parent.mkdir(parents=True, exist_ok=True)
    autosave.autosave_file().write_text("{not json", encoding="utf-8")
    window = make_window()
    assert not window.offer_restore()
