"""Data readers on broken and hostile files: each gives a clear DataError (file, row, column, how to fix) or
reads the data as a spreadsheet would; none raises anything else. Limits are set small through the
environment (docgen.limits)."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.errors import DataError
from docgen.sources import load_dataset


def write(tmp_path: Path, name: str, content: str | bytes) -> Path:
    p = tmp_path / name
    p.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return p


# --- JSON nesting --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "[" * 10_000 + "]" * 10_000,                                   # deeper than Python's recursion limit
    '[{"a": ' + '{"b": ' * 150 + "1" + "}" * 150 + "}]",            # deep but parseable
])
def test_deeply_nested_json_is_a_data_error_naming_the_spot(tmp_path, text):
    with pytest.raises(DataError, match=r"deep\.json: the JSON data is nested too deeply \(at line 1, column \d+\): "
                                        r"more than 100 levels; raise it with the environment variable "
                                        r"DOCGEN_LIMIT_NESTING_DEPTH"):
        load_dataset(write(tmp_path, "deep.json", text))


def test_nesting_bound_comes_from_the_environment(tmp_path, monkeypatch):
    path = write(tmp_path, "d.json", '[{"a": {"b": {"c": 1}}}]')
    assert load_dataset(path).rows[0]["a.b.c"] == 1
    monkeypatch.setenv("DOCGEN_LIMIT_NESTING_DEPTH", "3")
    with pytest.raises(DataError, match=r"\(at line 1, column 14\): more than 3 levels"):
        load_dataset(path)


# --- CSV cell size -------------------------------------------------------------------------------------------

def test_a_one_megabyte_cell_is_read(tmp_path):
    big = "word " * 200_000  # 1 MB, more than Python csv's default 128 KB field limit
    ds = load_dataset(write(tmp_path, "notes.csv", f'id,note\n1,"{big}"\n2,short\n'))
    assert len(ds.rows[0]["note"]) == len(big.strip())
    assert ds.rows[1]["note"] == "short"


def test_a_cell_over_the_limit_names_the_row_and_the_limit(tmp_path, monkeypatch):
    monkeypatch.setenv("DOCGEN_LIMIT_CELL_BYTES", "1K")
    text = "id,note\n1,fine\n2,\"" + "x" * 5000 + "\"\n"
    with pytest.raises(DataError, match=r"notes\.csv, row 3: a value in this row is longer than the limit of 1 KB; "
                                        "raise it with the environment variable DOCGEN_LIMIT_CELL_BYTES.*never "
                                        "closed"):
        load_dataset(write(tmp_path, "notes.csv", text))


# --- CSV row numbers -----------------------------------------------------------------------------------------

def test_rows_count_records_not_lines_after_quoted_line_breaks(tmp_path):
    text = 'ticket,message\nT1,"one\ntwo\nthree"\nT2,plain\nT3,"a\nb"\nT4,x,EXTRA\n'
    with pytest.raises(DataError, match=r"m\.csv, row 5: this row has 3 values but the header has 2 columns"):
        load_dataset(write(tmp_path, "m.csv", text))
    ds = load_dataset(write(tmp_path, "ok.csv", 'ticket,message\nT1,"one\ntwo\nthree"\nT2,plain\n\nT3,x\n'))
    assert ds.row_numbers == (2, 3, 5)  # the blank line is row 4, as a spreadsheet shows it


# --- damaged workbooks (found by tests/test_fuzz.py) -------------------------------------------------------------

def test_a_workbook_damaged_inside_a_sheet_is_a_data_error(tmp_path):
    openpyxl = pytest.importorskip("openpyxl")
    import io
    import zipfile

    wb = openpyxl.Workbook()
    wb.active.append(["name", "amount"])
    wb.active.append(["Ann", 12.5])
    buffer = io.BytesIO()
    wb.save(buffer)
    data = bytearray(buffer.getvalue())
    with zipfile.ZipFile(io.BytesIO(bytes(data))) as zf:
        info = zf.getinfo("xl/worksheets/sheet1.xml")
    data[info.header_offset + 30 + len(info.filename) + 2] ^= 0x5A  # corrupt the sheet's deflate stream
    path = write(tmp_path, "damaged.xlsx", bytes(data))
    with pytest.raises(DataError, match=r"damaged\.xlsx: cannot open the workbook: it is damaged"):
        load_dataset(path)
