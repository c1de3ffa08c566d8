"""Match Fields: data whose column names differ from the template's can be matched in the app (like Word's mail
merge), pre-filled by the closest name, remembered for the next file with the same header, and the documents
then read the mapped column under the template's name."""

from __future__ import annotations

import json
from pathlib import Path

import docx
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from docgen.gui import match_fields
from docgen.gui.match_fields import NOT_MATCHED, MatchFieldsDialog
from docgen.llm.fake import FakeGenerator
from docgen.paths import user_templates_dir

MANIFEST = """[template]
id = "reviews-gui"
name = "Reviews (GUI test)"

[data]
mode = "table"
required_columns = ["comment", "revenue"]

[[aggregates]]
name = "totals"
sum = ["revenue"]

[[sections]]
id = "summary"
title = "Summary"
format = "text"
prompt = "Summarise the comments."
"""

HEADER = "rating\tdate\tvariation\tverified_reviews\tRevenue_USD\n"
BODY = ("5\t31-Jul-18\tCharcoal Fabric\tLove my Echo!\t10\n"
        "4\t31-Jul-18\tWalnut Finish\tSound is great, setup took a minute.\t20\n"
        "1\t30-Jul-18\tBlack Dot\tStopped working after a week.\t30\n")


def package(root: Path) -> Path:
    pkg = root / "reviews-gui"
    pkg.mkdir(parents=True)
    d = docx.Document()
    d.add_paragraph("Total: {{ totals.revenue }}")
    d.add_paragraph("{% for r in rows %}[{{ r.comment }}] {% endfor %}")
    d.add_paragraph("{{ sections.summary }}")
    d.save(pkg / "template.docx")
    (pkg / "docgen.toml").write_text(MANIFEST, encoding="utf-8")
    return pkg


def reviews_file(folder: Path, name: str = "reviews.tsv") -> Path:
    path = folder / name
    path.write_text(HEADER + BODY, encoding="utf-8")
    return path


def open_window(make_window, wait_data, generator=None):
    package(user_templates_dir())
    window = make_window(generator)
    assert window.gallery.select("reviews-gui")
    wait_data(window)
    return window


def test_header_key_and_suggestions_follow_the_names():
    assert match_fields.header_key(["a", "b"]) == match_fields.header_key(("a", "b"))
    assert match_fields.header_key(["a", "b"]) != match_fields.header_key(["b", "a"])
    columns = ["rating", "verified_reviews", "Revenue_USD", "Comment "]
    # the same spelling but for case/spaces, then the closest name; nothing close -> None
    assert match_fields.suggest(["comment", "revenue", "postcode"], columns) == {
        "comment": "Comment ", "revenue": "Revenue_USD", "postcode": None}
    # a remembered choice wins over the names
    assert match_fields.suggest(["comment"], columns, {"comment": "verified_reviews"}) == {
        "comment": "verified_reviews"}


def test_dialog_prefills_by_closest_name_and_its_choice_is_used_and_remembered(
        qtbot, make_window, wait_data, tmp_path, answered):
    window = open_window(make_window, wait_data)
    window.load_data(reviews_file(tmp_path))
    wait_data(window)
    assert "'comment' (no similar column)" in window.data_problem
    assert not window.generate_action.isEnabled()
    button = window.match_fields.button
    assert button.isVisibleTo(window) and button.text() == "&Match Fields…"

    qtbot.mouseClick(button, Qt.MouseButton.LeftButton)
    dialog = window.match_fields.dialog
    assert isinstance(dialog, MatchFieldsDialog) and dialog.isVisible() and dialog.windowTitle() == "Match Fields"
    # pre-filled: 'revenue' by the closest name; 'comment' has no similar name, so it waits for the user
    assert dialog.combos["revenue"].currentData() == "Revenue_USD"
    assert dialog.combos["comment"].currentText() == NOT_MATCHED
    assert "Not matched" in dialog.hints["comment"].text()
    combo = dialog.combos["comment"]
    assert dialog.focusWidget() is combo  # keyboard: starts at the first column still to match
    combo.setCurrentIndex(combo.findData("verified_reviews"))
    assert dialog.hints["comment"].text() == "e.g. Love my Echo!"  # a first value shows what the column holds
    qtbot.keyClick(dialog, Qt.Key.Key_Return)  # Enter = Use these columns
    qtbot.waitUntil(lambda: window.match_fields.dialog is None, timeout=5000)
    wait_data(window)
    assert window.data_problem == ""
    assert window.dataset.rows[0]["comment"] == "Love my Echo!"
    assert window.dataset.column_names[3] == "verified_reviews"  # the file's own names stay
    assert window.generate_action.isEnabled()
    assert window.match_fields.note.text() == "Matched: comment ← verified_reviews, revenue ← Revenue_USD"

    stored = json.loads(match_fields.store_file().read_text(encoding="utf-8"))
    entry = stored[match_fields.header_key(window.dataset.column_names)]
    assert entry["map"] == {"comment": "verified_reviews", "revenue": "Revenue_USD"}

    # another file with the same header: matched without asking; the dialog opens with the remembered choice
    other = tmp_path / "more"
    other.mkdir()
    window.load_data(reviews_file(other, "july.tsv"))
    wait_data(window)
    assert window.data_problem == "" and window.dataset.path.name == "july.tsv"
    assert window.dataset.rows[2]["comment"] == "Stopped working after a week."
    dialog = window.match_fields.open()
    assert dialog.combos["comment"].currentData() == "verified_reviews"
    qtbot.keyClick(dialog, Qt.Key.Key_Escape)  # Esc = Cancel: nothing changes
    assert dialog.result() == QDialog.DialogCode.Rejected
    assert window.data_problem == ""

    # a file with another header is not matched by that choice
    changed = tmp_path / "changed.tsv"
    changed.write_text(HEADER.replace("rating", "stars") + BODY, encoding="utf-8")
    window.load_data(changed)
    wait_data(window)
    assert "'comment' (no similar column)" in window.data_problem


def test_a_run_with_the_mapping_writes_the_mapped_column(qtbot, make_window, wait_data, wait_idle, tmp_path,
                                                         answered):
    window = open_window(make_window, wait_data, FakeGenerator("Customers like the sound."))
    data = reviews_file(tmp_path)
    window.load_data(data)
    wait_data(window)
    dialog = window.match_fields.open()
    dialog.combos["comment"].setCurrentIndex(dialog.combos["comment"].findData("verified_reviews"))
    dialog.accept()
    wait_data(window)
    assert window.data_problem == ""
    window.start_generate()
    wait_idle(window)
    assert answered.errors == [] and window.draft.has_text(), (answered.errors, window.last_error)
    out = tmp_path / "reviews.docx"
    window.start_export(out, confirmed=True)
    wait_idle(window)
    text = "\n".join(p.text for p in docx.Document(str(out)).paragraphs)
    assert "[Love my Echo!] [Sound is great, setup took a minute.] [Stopped working after a week.]" in text
    assert "Total: 60" in text and "Customers like the sound." in text
    assert "None" not in text


def test_remapping_prepared_data_reads_it_again_with_the_new_choice(qtbot, make_window, wait_data, tmp_path,
                                                                   answered):
    window = open_window(make_window, wait_data)
    data = reviews_file(tmp_path)
    match_fields.remember(("rating", "date", "variation", "verified_reviews", "Revenue_USD"),
                          {"comment": "verified_reviews", "revenue": "Revenue_USD"})
    window.load_data(data)
    wait_data(window)
    assert window.data_problem == "" and window.dataset.rows[0]["comment"] == "Love my Echo!"
    dialog = window.match_fields.open()
    dialog.combos["comment"].setCurrentIndex(dialog.combos["comment"].findData("variation"))
    dialog.accept()
    wait_data(window)
    assert window.data_problem == "" and window.dataset.rows[0]["comment"] == "Charcoal Fabric"
