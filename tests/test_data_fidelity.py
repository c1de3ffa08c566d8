"""Data fidelity from file to document: a number prints as it was written in its cell while it still computes as a
number, an Excel date cell in a text column prints as the date (never with 00:00:00), and a value cleaned on
reading (control characters, terminal codes, a broken character) is reported naming file, row and column.

Documents are written through the command line with the scripted fake backend and read back.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import docx
import openpyxl

from docgen.cli import main
from docgen.render import read_back
from docgen.sources import load_dataset

TABLE = """[template]
id = "amounts"
name = "Amounts"

[data]
mode = "table"

[[aggregates]]
name = "totals"
sum = ["amount"]
"""

ROWS = """[template]
id = "letters"
name = "Letters"

[data]
mode = "rows"
output_name = "{{ row.name }}.docx"
"""


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out = capsys.readouterr()
    return code, out.out, out.err


def package(tmp_path: Path, manifest: str, *paragraphs: str) -> Path:
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    document = docx.Document()
    for text in paragraphs:
        document.add_paragraph(text)
    document.save(pkg / "template.docx")
    (pkg / "docgen.toml").write_text(manifest, encoding="utf-8")
    return pkg


def write(capsys, pkg: Path, data: Path, out: Path) -> str:
    code, _out, err = run(capsys, "--template", str(pkg), "--data", str(data), "--out", str(out), "--backend",
                          "fake")
    assert code == 0, err
    return err


def only_docx(out: Path) -> str:
    (path,) = out.glob("*.docx")
    return read_back(path).text


def test_numbers_print_as_written_and_still_compute(tmp_path, capsys):
    pkg = package(tmp_path, TABLE,
                  "{% for r in rows %}{{ r.name }}={{ r.amount }};{% endfor %}",
                  "Double first: {{ rows[0].amount * 2 }}. Big: {{ rows|selectattr('amount', 'ge', 1000)|list|length }}.",
                  "Total: {{ totals.amount|number(2) }}. Formatted: {{ rows[1].amount|money }}.")
    data = tmp_path / "amounts.csv"
    data.write_text('name,amount\nA,"1,234.50"\nB,7\nC,2.25\nD,"$1,000"\n', encoding="utf-8")
    write(capsys, pkg, data, tmp_path / "out")
    text = only_docx(tmp_path / "out")
    assert "A=1,234.50;B=7;C=2.25;D=$1,000;" in text  # not 1234.5 / 7.0 / 1000.0
    assert "Double first: 2469.0." in text and "Big: 2." in text
    assert "Total: 2,243.75. Formatted: $7.00." in text


def test_written_form_in_a_semicolon_file_and_in_a_workbook(tmp_path):
    data = tmp_path / "eu.csv"
    data.write_text('name;amount;share\nA;1.234,50;12,5%\nB;3;50%\n', encoding="utf-8")
    rows = list(load_dataset(data).rows)
    assert [str(r["amount"]) for r in rows] == ["1.234,50", "3"]
    assert [str(r["share"]) for r in rows] == ["12,5%", "50%"]
    assert rows[0]["amount"] == 1234.5 and rows[0]["share"] == 0.125
    book = tmp_path / "b.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "amount"])
    ws.append(["A", "1,234.50"])  # a number typed as text in Excel
    ws.append(["B", 7])  # a native whole number among decimals
    ws.append(["C", 2.5])
    wb.save(book)
    rows = list(load_dataset(book).rows)
    assert [str(r["amount"]) for r in rows] == ["1,234.50", "7", "2.5"]
    assert sum(r["amount"] for r in rows) == 1244.0


def test_written_form_stays_out_of_json_and_plain_numbers_are_plain(tmp_path):
    data = tmp_path / "n.csv"
    data.write_text('x,y\n"1,000",1.5\n2,2.25\n', encoding="utf-8")
    rows = list(load_dataset(data).rows)
    assert json.dumps(rows) == '[{"x": 1000, "y": 1.5}, {"x": 2, "y": 2.25}]'
    assert type(rows[1]["x"]) is int and type(rows[0]["y"]) is float  # nothing to keep: plain values


def test_excel_date_in_a_text_column_prints_as_the_date(tmp_path, capsys):
    pkg = package(tmp_path, ROWS, "Due: {{ row.due }}.")
    book = tmp_path / "due.xlsx"
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["name", "due"])
    ws.append(["Ann", dt.datetime(2024, 3, 1)])  # Excel stores a date cell as a datetime at midnight
    ws.append(["Bob", "on request"])  # makes the column text
    ws.append(["Cy", dt.datetime(2024, 3, 1, 14, 5)])
    wb.save(book)
    write(capsys, pkg, book, tmp_path / "out")
    assert "Due: 2024-03-01." in read_back(tmp_path / "out" / "Ann.docx").text
    assert "00:00" not in read_back(tmp_path / "out" / "Ann.docx").text
    assert "Due: on request." in read_back(tmp_path / "out" / "Bob.docx").text
    assert "Due: 2024-03-01 14:05:00." in read_back(tmp_path / "out" / "Cy.docx").text


def test_values_cleaned_on_reading_are_reported_with_file_row_and_column(tmp_path, capsys):
    pkg = package(tmp_path, ROWS, "Note: {{ row.note }}|")
    data = tmp_path / "notes.csv"
    data.write_bytes(b'name,note\nAnn,plain\nBob,"\x1b[1mbold\x1b[0m"\nCy,"a\x01b"\n')
    out = tmp_path / "out"
    err = write(capsys, pkg, data, out)
    assert "Note: bold|" in read_back(out / "Bob.docx").text
    assert "Note: ab|" in read_back(out / "Cy.docx").text
    assert ("docgen: note: notes.csv, row 3, column 'note': the value held characters a Word document cannot show "
            "(terminal colour/control codes removed).") in err
    assert "notes.csv, row 4, column 'note': the value held characters a Word document cannot show (control " \
           "characters removed)." in err
    assert "row 2" not in err
    notes = json.loads((out / "docgen-report.json").read_text(encoding="utf-8"))["notes"]
    assert len(notes) == 2 and all("notes.csv, row" in n for n in notes)


def test_a_lone_surrogate_in_json_becomes_a_replacement_character_with_a_note(tmp_path, capsys):
    pkg = package(tmp_path, ROWS, "Note: {{ row.note }}|")
    data = tmp_path / "notes.json"
    data.write_text('[{"name": "Ann", "note": "x\\ud800y"}, {"name": "Bob", "note": "fine"}]', encoding="utf-8")
    out = tmp_path / "out"
    err = write(capsys, pkg, data, out)  # the engine cannot hold a lone surrogate: it used to end the run
    assert "Note: x\ufffdy|" in read_back(out / "Ann.docx").text
    assert "notes.json, row 1, column 'note'" in err and "replaced by \ufffd" in err


def test_many_cleaned_values_are_counted_not_listed(tmp_path):
    data = tmp_path / "many.csv"
    data.write_bytes(b"name,note\n" + b"".join(b"r%d,a\x02b\n" % i for i in range(12)))
    notes = load_dataset(data).notes
    assert len(notes) == 6
    assert notes[0].startswith("many.csv, row 2, column 'note'")
    assert notes[-1].startswith("many.csv: 7 more value(s) cleaned the same way, in row(s) 7, 8, 9")
