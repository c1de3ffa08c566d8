"""docgen.sources.excel: workbooks made with openpyxl here, and the real 'Financial Sample.xlsx'."""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import openpyxl
import pytest

from docgen.errors import DataError
from docgen.sources import load_dataset


def make_workbook(path: Path, sheets: dict[str, dict[str, object]]) -> Path:
    """Write a workbook: {sheet title: {cell ref: value}} (sheets in order, the first replaces the default)."""
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, cells in sheets.items():
        ws = wb.create_sheet(title)
        for ref, value in cells.items():
            ws[ref] = value
    wb.save(path)
    return path


@pytest.fixture
def orders(tmp_path) -> Path:
    """A two-sheet workbook; on the first sheet the header sits on row 3, in columns B-E."""
    return make_workbook(
        tmp_path / "orders.xlsx",
        {
            "Orders": {
                "B3": "Order ID", "C3": " Sales ", "D3": "Order Date", "E3": "Shipped",
                "B4": 1, "C4": 10.5, "D4": dt.datetime(2024, 3, 31), "E4": True,
                # row 5 left empty on purpose
                "B6": 2, "C6": 20, "D6": dt.datetime(2024, 4, 1, 9, 30), "E6": False,
                "B7": 3, "C7": None, "D7": dt.datetime(2024, 4, 2), "E7": True,
            },
            "Regions": {"A1": "Region", "B1": "Target", "A2": "East", "B2": 100, "A3": "West", "B3": 200},
        },
    )


def test_first_sheet_header_row_and_excel_row_numbers(orders):
    ds = load_dataset(orders)
    assert ds.sheet == "Orders"
    assert ds.column_names == ("Order ID", "Sales", "Order Date", "Shipped")  # " Sales " stripped
    assert ds.row_numbers == (4, 6, 7)  # Excel's numbers; the empty row 5 is skipped
    assert [r["Order ID"] for r in ds.rows] == ["1", "2", "3"]  # an id column: text
    assert [r["Sales"] for r in ds.rows] == [10.5, 20.0, None]
    assert [c.type for c in ds.columns] == ["text", "number", "date", "text"]
    assert [r["Order Date"] for r in ds.rows] == [
        dt.date(2024, 3, 31), dt.datetime(2024, 4, 1, 9, 30), dt.date(2024, 4, 2),
    ]
    assert type(ds.rows[0]["Order Date"]) is dt.date
    assert [r["Shipped"] for r in ds.rows] == ["TRUE", "FALSE", "TRUE"]
    assert ds.encoding is None and ds.delimiter is None


def test_named_sheet_exact_or_ignoring_case(orders):
    assert load_dataset(orders, sheet="Regions").rows == ({"Region": "East", "Target": 100},
                                                          {"Region": "West", "Target": 200})
    assert load_dataset(orders, sheet=" regions ").sheet == "Regions"


def test_unknown_sheet_lists_the_sheets(orders):
    with pytest.raises(DataError) as info:
        load_dataset(orders, sheet="Summary")
    message = str(info.value)
    assert "no sheet named 'Summary'" in message
    assert "'Orders', 'Regions'" in message


def test_empty_sheet(tmp_path):
    path = make_workbook(tmp_path / "blank.xlsx", {"Empty": {}, "Data": {"A1": "x", "A2": 1}})
    with pytest.raises(DataError, match="sheet 'Empty' is empty"):
        load_dataset(path)


def test_header_only_sheet(tmp_path):
    path = make_workbook(tmp_path / "head.xlsx", {"S": {"A1": "Region", "B1": "Sales"}})
    with pytest.raises(DataError, match="no data rows"):
        load_dataset(path)


def test_title_above_the_table_is_explained(tmp_path):
    path = make_workbook(
        tmp_path / "titled.xlsx",
        {"Report": {"A1": "Sales report 2024", "A3": "Region", "B3": "Sales", "A4": "East", "B4": 5}},
    )
    with pytest.raises(DataError) as info:
        load_dataset(path)
    err = info.value
    assert err.row == 3
    assert "column B" in str(err)
    assert "title above the table" in str(err)


def test_blank_header_cell_inside_the_table_names_its_letter(tmp_path):
    path = make_workbook(tmp_path / "gap.xlsx", {"S": {"A1": "Region", "C1": "Sales", "A2": "East", "C2": 1}})
    with pytest.raises(DataError, match="column B of the header has no name"):
        load_dataset(path)


def test_serial_numbers_are_dates_only_under_a_date_header(tmp_path):
    path = make_workbook(
        tmp_path / "serials.xlsx",
        {"S": {"A1": "Invoice Date", "B1": "Units", "A2": 45382, "B2": 45382, "A3": 45383, "B3": 45000}},
    )
    ds = load_dataset(path)
    assert [r["Invoice Date"] for r in ds.rows] == [dt.date(2024, 3, 31), dt.date(2024, 4, 1)]
    assert [r["Units"] for r in ds.rows] == [45382, 45000]


def test_xlsx_that_is_not_a_zip(tmp_path):
    path = tmp_path / "renamed.xlsx"
    path.write_text("region,sales\nEast,1\n", encoding="utf-8")
    with pytest.raises(DataError) as info:
        load_dataset(path)
    message = str(info.value)
    assert "renamed.xlsx" in message
    assert "not an Excel workbook" in message
    assert "rename it to .csv" in message


def test_zip_that_is_not_a_workbook(tmp_path):
    path = tmp_path / "archive.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("readme.txt", "hello")
    with pytest.raises(DataError, match="cannot open the workbook"):
        load_dataset(path)


def test_real_financial_sample(realdata):
    ds = load_dataset(realdata / "tabular" / "Financial Sample.xlsx")
    assert ds.sheet == "Sheet1"
    assert len(ds.rows) == 700
    assert ds.row_numbers[0] == 2 and ds.row_numbers[-1] == 701
    assert "Sales" in ds.column_names and " Sales" not in ds.column_names
    types = {c.name: c.type for c in ds.columns}
    assert types["Date"] == "date"
    assert all(types[n] in ("integer", "number") for n in
               ("Units Sold", "Manufacturing Price", "Sale Price", "Gross Sales", "Discounts", "Sales", "COGS",
                "Profit", "Month Number"))
    assert types["Segment"] == "text" and types["Month Name"] == "text"
    assert types["Year"] == "integer"  # stored as text "2014" in the workbook
    first = ds.rows[0]
    assert first["Segment"] == "Government" and first["Country"] == "Canada"
    assert first["Date"] == dt.date(2014, 1, 1)
    assert first["Sales"] == pytest.approx(32370.0)
    assert first["Year"] == 2014
    assert {r["Date"].year for r in ds.rows} == {2013, 2014}


def test_real_financial_sample_pivot_sheet_starts_at_row_2(realdata):
    ds = load_dataset(realdata / "tabular" / "Financial Sample.xlsx", sheet="Suggestion3")
    assert ds.column_names[0] == "Row Labels"
    assert ds.row_numbers[0] == 3
    assert ds.rows[0]["Row Labels"] == "Government"


def test_real_financial_sample_unknown_sheet(realdata):
    with pytest.raises(DataError) as info:
        load_dataset(realdata / "tabular" / "Financial Sample.xlsx", sheet="Data")
    assert "'Sheet1', 'Sales by Country and Product'" in str(info.value)
