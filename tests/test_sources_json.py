"""docgen.sources.jsonfile: accepted shapes, flattening, and errors with JSON's line and column."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from docgen.errors import DataError
from docgen.sources import load_dataset

DATA = Path(__file__).parent / "data" / "sources"


def write(tmp_path: Path, text: str | bytes, name: str = "data.json") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode("utf-8") if isinstance(text, str) else text)
    return path


def test_list_of_records_with_nested_objects_flattened():
    ds = load_dataset(DATA / "records.json")
    assert ds.column_names == ("id", "customer.name", "customer.city", "total", "paid", "date", "note")
    assert ds.row_numbers == (1, 2, 3)
    assert [r["customer.name"] for r in ds.rows] == ["Ann", "Bob", "Zoé"]
    assert ds.rows[2]["customer.city"] is None  # key absent in that record
    assert [r["total"] for r in ds.rows] == [12.5, 7.0, None]
    assert [r["paid"] for r in ds.rows] == ["true", "false", "true"]
    assert ds.rows[0]["date"] == dt.date(2024, 3, 31)
    assert ds.rows[2]["note"] == "late"


def test_object_holding_one_list_of_records():
    ds = load_dataset(DATA / "wrapped.json")
    assert ds.rows == ({"region": "East", "units": 3}, {"region": "West", "units": 5})


def test_single_object_is_one_record(tmp_path):
    ds = load_dataset(write(tmp_path, '{"customer": "Ann", "zip": "01752", "amount": "1,200.50"}'))
    assert ds.rows == ({"customer": "Ann", "zip": "01752", "amount": 1200.5},)
    assert ds.row_numbers == (1,)


def test_json_with_bom(tmp_path):
    ds = load_dataset(write(tmp_path, b"\xef\xbb\xbf" + b'[{"a": 1}]'))
    assert ds.rows == ({"a": 1},)


def test_invalid_json_gives_line_and_column(tmp_path):
    path = write(tmp_path, '[\n  {"a": 1},\n  {"a": 2,}\n]\n', "broken.json")
    with pytest.raises(DataError) as info:
        load_dataset(path)
    message = str(info.value)
    assert "broken.json" in message
    assert "invalid JSON at line 3, column 11" in message


def test_nan_is_rejected(tmp_path):
    with pytest.raises(DataError, match="NaN is not valid JSON"):
        load_dataset(write(tmp_path, '[{"a": NaN}]'))


def test_list_inside_a_record_names_record_and_key(tmp_path):
    path = write(tmp_path, '[{"id": 1, "meta": {"tags": "a"}}, {"id": 2, "meta": {"tags": ["a", "b"]}}]')
    with pytest.raises(DataError) as info:
        load_dataset(path)
    err = info.value
    assert err.row == 2
    assert err.column == "meta.tags"
    assert "is a list" in str(err)


def test_record_that_is_not_an_object(tmp_path):
    with pytest.raises(DataError, match="record 2 is a number, not an object") as info:
        load_dataset(write(tmp_path, '[{"a": 1}, 5]'))
    assert info.value.row == 2


def test_top_level_scalar(tmp_path):
    with pytest.raises(DataError, match="holds a string"):
        load_dataset(write(tmp_path, '"hello"'))


@pytest.mark.parametrize("text", ["[]", '{"records": []}'])
def test_no_records(tmp_path, text):
    with pytest.raises(DataError, match="no records"):
        load_dataset(write(tmp_path, text))


def test_two_lists_of_records_are_ambiguous(tmp_path):
    with pytest.raises(DataError, match="several lists of records \\('orders', 'refunds'\\)"):
        load_dataset(write(tmp_path, '{"orders": [{"a": 1}], "refunds": [{"b": 2}]}'))


def test_dotted_key_clashing_with_nested_object(tmp_path):
    with pytest.raises(DataError, match="'a.b' occurs twice"):
        load_dataset(write(tmp_path, '[{"a.b": 1, "a": {"b": 2}}]'))


def test_not_utf8(tmp_path):
    with pytest.raises(DataError, match="not UTF-8"):
        load_dataset(write(tmp_path, '[{"ville": "Besançon"}]'.encode("cp1252")))
