"""The desktop app reads and prepares data as the command line does: the template's missing-value markers and
computed columns, the same messages for missing columns; the data preview shows a missing value as a grey
"missing" hint (never "None") and a number as it was written in the file."""

from __future__ import annotations

from pathlib import Path

import docx
from PySide6.QtCore import Qt

from docgen.cli import main
from docgen.gui.data_preview import MISSING_HINT
from docgen.paths import user_templates_dir

MANIFEST = """[template]
id = "tips-gui"
name = "Tips (GUI test)"

[data]
mode = "table"
required_columns = ["tip", "total_bill"]
missing_values = ["-"]
computed = { tip_pct = "tip / total_bill" }

[[aggregates]]
name = "totals"
sum = ["tip"]
"""


def package(root: Path) -> Path:
    pkg = root / "tips-gui"
    pkg.mkdir(parents=True)
    d = docx.Document()
    d.add_paragraph("Tips: {{ totals.tip }}")
    d.save(pkg / "template.docx")
    (pkg / "docgen.toml").write_text(MANIFEST, encoding="utf-8")
    return pkg


def window_with_template(make_window, tmp_path: Path):
    package(user_templates_dir())  # the user's own templates folder (each test has its own DOCGEN_HOME)
    window = make_window()
    assert window.gallery.select("tips-gui")
    return window


def cell(window, row: int, column: str, role=Qt.ItemDataRole.DisplayRole):
    model = window.data_panel.model
    col = [c.name for c in window.dataset.columns].index(column)
    return model.data(model.index(row, col), role)


def test_template_markers_and_computed_columns_apply_in_the_app(qtbot, make_window, tmp_path, wait_data):
    data = tmp_path / "tips.csv"
    data.write_text('Total_Bill,tip,day\n"1,016.50",2.5,Thu\n20,-,Fri\n10,1,NA\n', encoding="utf-8")
    window = window_with_template(make_window, tmp_path)
    wait_data(window)
    window.load_data(data)
    wait_data(window)
    assert window.dataset is not None and window.data_problem == "", window.data_problem
    ds = window.dataset
    assert ds.column_names == ("Total_Bill", "tip", "day")
    assert [c.type for c in ds.columns][1] == "number"  # "-" is missing, so the column is numbers
    rows = list(ds.rows)
    assert rows[1]["tip"] is None and rows[0]["total_bill"] == 1016.5  # "Total_Bill" read as "total_bill"
    assert abs(rows[0]["tip_pct"] - 2.5 / 1016.5) < 1e-12  # the computed column, as the command line adds it
    # the preview: a missing value is a grey italic "missing" hint, never "None"; numbers as written
    assert cell(window, 1, "tip") == MISSING_HINT
    assert cell(window, 1, "tip", Qt.ItemDataRole.ForegroundRole).color().name() == "#808080"
    assert cell(window, 1, "tip", Qt.ItemDataRole.FontRole).italic()
    assert "nothing" in cell(window, 1, "tip", Qt.ItemDataRole.ToolTipRole)
    assert cell(window, 2, "day") == "NA"  # the template's markers replace the defaults: NA is text here
    assert cell(window, 0, "Total_Bill") == "1,016.50"
    assert cell(window, 0, "tip") == "2.5"
    texts = [cell(window, r, c.name) for r in range(len(rows)) for c in ds.columns]
    assert all("None" not in str(t) for t in texts)


def test_a_missing_column_gives_the_command_line_message(qtbot, make_window, tmp_path, wait_data, capsys):
    data = tmp_path / "bills.csv"
    data.write_text("total_bill,tips\n20,2\n", encoding="utf-8")
    window = window_with_template(make_window, tmp_path)
    wait_data(window)
    window.load_data(data)
    wait_data(window)
    shown = window.data_panel.problem.text()
    assert "bills.csv has no column 'tip' (required by template 'tips-gui'); closest: 'tips'." in shown
    code = main(["--template", "tips-gui", "--data", str(data), "--out",
                 str(tmp_path / "cli"), "--backend", "fake"])
    err = capsys.readouterr().err
    assert code == 2 and shown in err  # word for word what the command line says
    assert not window.generate_action.isEnabled()


def test_a_bad_computed_column_is_shown_inline(qtbot, make_window, tmp_path, wait_data):
    data = tmp_path / "texts.csv"
    data.write_text("total_bill,tip\nlots,some\n", encoding="utf-8")  # text columns: tip / total_bill fails
    window = window_with_template(make_window, tmp_path)
    wait_data(window)
    window.load_data(data)
    wait_data(window)
    assert "the computed column 'tip_pct'" in window.data_panel.problem.text()
    assert not window.generate_action.isEnabled()


def test_computed_columns_show_in_the_preview_marked_as_computed(qtbot, make_window, tmp_path, wait_data):
    data = tmp_path / "tips.csv"
    data.write_text("total_bill,tip\n20,2.5\n10,1\n", encoding="utf-8")
    window = window_with_template(make_window, tmp_path)
    wait_data(window)
    window.load_data(data)
    wait_data(window)
    assert window.data_problem == ""
    model = window.data_panel.model
    assert model.columnCount() == 3  # total_bill, tip, then the template's tip_pct
    header = model.headerData(2, Qt.Orientation.Horizontal)
    assert header == "tip_pct\nnumber · computed"
    assert "tip / total_bill" in model.headerData(2, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole)
    assert model.headerData(0, Qt.Orientation.Horizontal) == "total_bill\nwhole number"
    assert cell(window, 0, "tip") == "2.5"
    assert model.data(model.index(0, 2)) == "0.125" and model.data(model.index(1, 2)) == "0.1"
    assert window.data_panel.table.horizontalHeader().sectionSize(2) >= 60
