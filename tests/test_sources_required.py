"""docgen.sources.require_columns: required columns, closest-match hints, and case-only differences."""

from __future__ import annotations

from pathlib import Path

import pytest

from docgen.errors import MissingValues, TemplateError
from docgen.model import Column, Dataset
from docgen.sources import require_columns


def dataset(*names: str) -> Dataset:
    return Dataset(
        path=Path("data") / "sample.csv",
        columns=tuple(Column(n, "text") for n in names),
        rows=({n: f"{n}-1" for n in names}, {n: f"{n}-2" for n in names}),
        row_numbers=(2, 3),
    )


def test_all_present_passes_and_changes_nothing():
    ds = dataset("date", "region", "revenue")
    require_columns(ds, ["date", "revenue"], template_id="sales-report")
    assert set(ds.rows[0]) == {"date", "region", "revenue"}


def test_missing_column_names_the_closest_one():
    ds = dataset("date", "region", "Revenue_USD")
    with pytest.raises(MissingValues) as info:
        require_columns(ds, ["date", "revenue"], template_id="sales-report")
    err = info.value
    assert isinstance(err, TemplateError)
    assert err.names == ("revenue",)
    assert str(err).startswith(
        "sample.csv has no column 'revenue' (required by template 'sales-report'); closest: 'Revenue_USD'. "
        "Rename the column, map a column of the file to it (--map revenue=COLUMN), or pick another template."
    )
    assert "'date', 'region', 'Revenue_USD'" in str(err)


def test_several_missing_columns_are_all_listed():
    ds = dataset("Order Date", "Region")
    with pytest.raises(MissingValues) as info:
        require_columns(ds, ["order_date", "units", "region"], template_id="t")
    message = str(info.value)
    assert info.value.names == ("order_date", "units")
    assert "lacks 2 columns required by template 't'" in message
    assert "'order_date' (closest: 'Order Date')" in message
    assert "'units' (no similar column)" in message


def test_case_and_whitespace_differences_are_accepted_and_rows_aliased():
    ds = dataset("Revenue", "Postal  Code")
    require_columns(ds, ["revenue", "postal code"], template_id="t")
    assert ds.rows[0]["revenue"] == "Revenue-1"
    assert ds.rows[1]["postal code"] == "Postal  Code-2"
    assert ds.rows[0]["Revenue"] == "Revenue-1"  # the file's own name still works
    assert ds.column_names == ("Revenue", "Postal  Code")


def test_two_columns_differing_only_in_case_are_not_guessed():
    ds = dataset("Sales", "SALES")
    with pytest.raises(MissingValues, match="several columns differ from it only in case or spaces: 'Sales', 'SALES'"):
        require_columns(ds, ["sales"], template_id="t")
