"""The data layer: typed tables in the engine, lazy rows, missing-value markers, the engine's typing agrees with
the Python rules, and the engine's sandbox holds against a template's SQL."""

from __future__ import annotations

import datetime as dt
import sys

import pytest

from docgen.data import DEFAULT_MISSING, Rows, Table
from docgen.data.columns import type_column
from docgen.data.ingest import WHITESPACE
from docgen.model import AggregateSpec, Column
from docgen.sources import load_dataset
from docgen.templates.aggregates import compute


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_rows_are_a_lazy_sequence_of_fresh_dicts(tmp_path):
    lines = "".join(f"{i},{'East' if i % 2 else 'West'},{i * 1.5}\n" for i in range(5000))
    data = load_dataset(write(tmp_path, "big.csv", "id,region,sales\n" + lines))
    assert isinstance(data.rows, Rows) and isinstance(data.table, Table)
    assert len(data.rows) == 5000 and data.row_numbers[0] == 2 and data.row_numbers[-1] == 5001
    assert data.rows[4999] == {"id": "4999", "region": "East", "sales": 4999 * 1.5}
    assert [r["id"] for r in data.rows[2047:2050]] == ["2047", "2048", "2049"]  # across a block boundary
    assert sum(1 for _ in data.rows) == 5000
    row = data.rows[3]
    row["region"] = "changed"
    assert data.rows[3]["region"] == "East"  # a copy: the table is unchanged
    with pytest.raises(IndexError):
        data.rows[5000]


def test_row_numbers_count_records_after_blank_lines_and_quoted_line_breaks(tmp_path):
    data = load_dataset(write(tmp_path, "q.csv", 'name,note\nAnn,"two\nlines"\n\nBob,x\n'))
    assert list(data.row_numbers) == [2, 4]  # the blank line is row 3; the quoted line break is no row
    assert data.rows[0]["note"] == "two\nlines"


@pytest.mark.parametrize("marker", DEFAULT_MISSING)
def test_default_markers_are_missing_values_and_do_not_make_a_column_text(tmp_path, marker):
    data = load_dataset(write(tmp_path, "h.csv", f"name,height\nAnn,172\nBob,{marker}\nCy, {marker} \n"))
    assert data.columns[1] == Column("height", "integer")
    assert [r["height"] for r in data.rows] == [172, None, None]


def test_markers_are_exact_and_configurable(tmp_path):
    path = write(tmp_path, "m.csv", "city,score\nn/a,1\n-,2\nLeeds,-\n")
    default = load_dataset(path)
    assert [r["city"] for r in default.rows] == ["n/a", "-", "Leeds"]  # case matters; "-" is not a default
    assert default.columns[1].type == "text"
    custom = load_dataset(path, missing=["-", "n/a"])
    assert [r["city"] for r in custom.rows] == [None, None, "Leeds"]
    assert custom.columns[1].type == "integer" and custom.rows[2]["score"] is None


def test_markers_apply_to_excel_and_json_cells_too(tmp_path):
    import openpyxl

    wb = openpyxl.Workbook()
    wb.active.append(["name", "age"])
    wb.active.append(["Ann", 41])
    wb.active.append(["Bob", "NA"])
    wb.save(tmp_path / "p.xlsx")
    xlsx = load_dataset(tmp_path / "p.xlsx")
    assert xlsx.columns[1].type == "integer" and xlsx.rows[1]["age"] is None
    js = load_dataset(write(tmp_path, "p.json", '[{"a": "null", "b": 1}, {"a": "x", "b": "N/A"}]'))
    assert js.rows[0]["a"] is None and js.columns[1].type == "integer"


COLUMNS = {
    "integers": ["1", "-2", "+3", "0", "40"],
    "leading zero": ["1", "0123", "5"],
    "decimals": ["1.5", "2", "-.25", "3.0"],
    "exponent": ["1.5", "2e3"],
    "currency": ["$1,234.50", "$2.00"],
    "percent": ["12%", "7.5%"],
    "not a number": ["1.5", "5."],
    "nan text": ["1", "nan"],
    "iso dates": ["2024-03-31", "2023-12-01"],
    "bad iso date": ["2024-02-30", "2024-03-01"],
    "day first": ["31/03/2024", "01/04/2024"],
    "ambiguous": ["01/02/2024", "03/04/2024"],
    "datetimes": ["2024-03-31T14:30:00", "2024-03-31"],
    "order date": ["45000", "45001"],
    "huge": ["123456789012345678901234567890", "1"],
    "mixed": ["1", "East"],
    "unicode digits": ["\u0663", "4"],
}


@pytest.mark.parametrize("name", COLUMNS)
@pytest.mark.parametrize("delimiter", [",", ";"])
def test_engine_typing_agrees_with_the_python_rules(tmp_path, name, delimiter):
    """The engine's fast paths and the distinct-value path give what the rules give cell by cell, with the
    sample (first 1000 values) plain and the odd value far below it."""
    values = COLUMNS[name]
    cells = [values[0]] * 1500 + values[1:]
    text = f"{name}{delimiter}k\n" + "".join(f'"{c}"{delimiter}1\n' for c in cells)
    data = load_dataset(write(tmp_path, "c.csv", text))
    prefer = "comma" if delimiter == ";" else "point"
    expected_type, expected = type_column(name, cells, prefer=prefer)
    assert data.columns[0].type == expected_type
    assert [r[name] for r in data.rows] == expected


def test_whitespace_list_is_what_python_strips():
    everything = "".join(chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace())
    assert set(WHITESPACE) == set(everything)


@pytest.fixture
def sales(tmp_path):
    return load_dataset(write(tmp_path, "sales.csv", (
        "region,product,day,year,revenue,cost\n"
        "West,A,Thu,2022,100,60\nEast,B,Fri,2022,50,20\nWest,C,Sat,2023,30.5,10\nSouth,D,Sun,2023,,5\n"
        "East,B,Thu,2023,20,8\nWest,A,Sun,2023,70,30\n")))


def test_group_by_two_columns_with_change_and_running_total(sales):
    spec = AggregateSpec("by", group_by=("region", "year"), sum=("revenue",), change=("revenue",),
                         running=("revenue",))
    out = compute(spec, sales)
    west = [r for r in out if r["region"] == "West"]
    assert [(r["year"], r["revenue"]) for r in west] == [(2022, 100), (2023, 100.5)]
    assert west[0]["change_revenue"] is None and west[1]["change_revenue"] == pytest.approx(0.5)
    assert west[1]["growth_revenue"] == pytest.approx(0.005)
    assert west[1]["running_revenue"] == pytest.approx(200.5)
    east = [r for r in out if r["region"] == "East"]
    assert east[1]["growth_revenue"] == pytest.approx(20 / 50 - 1)


def test_statistics_where_and_computed_column(sales):
    spec = AggregateSpec("m", group_by="region", sum=("margin",), mean=("revenue",), median=("revenue",),
                         min=("revenue",), max=("day",), count_distinct=("product",), where="year = 2023",
                         computed=(("margin", "revenue - cost"),))
    out = {r["region"]: r for r in compute(spec, sales)}
    assert set(out) == {"West", "South", "East"}
    assert out["West"]["margin"] == pytest.approx(20.5 + 40)
    assert out["West"]["median_revenue"] == pytest.approx(50.25)
    assert out["West"]["min_revenue"] == pytest.approx(30.5) and out["West"]["max_day"] == "Sun"
    assert out["West"]["distinct_product"] == 2
    assert out["South"]["mean_revenue"] is None and out["South"]["margin"] == 0  # no revenue: nothing to add
    assert sales.rows[0]["margin"] == 40  # the computed column is a column of the rows too


def test_explicit_order_and_top_n_with_others(sales):
    days = compute(AggregateSpec("d", group_by="day", sum=("revenue",), order={"day": ("Thu", "Fri", "Sat", "Sun")}),
                   sales)
    assert [d["day"] for d in days] == ["Thu", "Fri", "Sat", "Sun"]
    top = compute(AggregateSpec("t", group_by="product", sum=("revenue",), limit=2, others="Other products"),
                  sales)
    assert [(r["product"], r["revenue"], r["count"]) for r in top] == [
        ("A", 170, 2), ("B", 70, 2), ("Other products", 30.5, 2)]
    assert sum(r["share"] for r in top) == pytest.approx(1.0)


def test_sql_aggregate_and_its_sandbox(sales, tmp_path):
    out = compute(AggregateSpec("q", sql="SELECT region, sum(revenue) AS total FROM data GROUP BY region "
                                         "ORDER BY total DESC NULLS LAST"), sales)
    assert out[0] == {"region": "West", "total": 200.5}
    secret = write(tmp_path, "secret.csv", "a\n1\n")
    from docgen.errors import TemplateError

    for sql in (f"SELECT * FROM read_csv('{secret}')", "DROP TABLE t", "SELECT 1; SELECT 2",
                "SELECT * FROM glob('/etc/*')", "COPY (SELECT 1) TO '/tmp/x.csv'"):
        with pytest.raises(TemplateError, match="Aggregate 'q'"):
            compute(AggregateSpec("q", sql=sql), sales, template_id="t")
    assert len(sales.rows) == 6  # the table is still there


def test_bad_where_names_the_aggregate_and_the_reference(sales):
    from docgen.errors import TemplateError

    with pytest.raises(TemplateError, match=r"Aggregate 'w' of template 't'.*revenu.*template-language\.md"):
        compute(AggregateSpec("w", group_by="region", sum=("revenue",), where="revenu > 1"), sales, template_id="t")


def test_aliases_from_required_columns_work_in_rows_and_aggregates(tmp_path):
    from docgen.sources import require_columns

    data = load_dataset(write(tmp_path, "a.csv", "Region,Revenue\nWest,1\nEast,2\n"))
    require_columns(data, ["region", "revenue"], template_id="t")
    assert data.rows[0] == {"Region": "West", "Revenue": 1, "region": "West", "revenue": 1}
    assert compute(AggregateSpec("t", group_by="region", sum=("revenue",)), data)[0] == {
        "region": "East", "count": 1, "revenue": 2, "share": pytest.approx(2 / 3)}


def test_rows_extended_by_per_row_results_are_aggregated_from_those_rows(sales):
    rows = [{**r, "sentiment": "positive" if (r["revenue"] or 0) > 40 else "negative"} for r in sales.rows]
    out = compute(AggregateSpec("s", group_by="sentiment"), sales, rows)
    assert {r["sentiment"]: r["count"] for r in out} == {"positive": 3, "negative": 3}


def test_dates_come_back_as_dates_and_datetimes(tmp_path):
    data = load_dataset(write(tmp_path, "d.csv", "when,n\n31/03/2024,1\n01/04/2024 14:30,2\n"))
    assert data.rows[0]["when"] == dt.date(2024, 3, 31)
    assert data.rows[1]["when"] == dt.datetime(2024, 4, 1, 14, 30)
    first = compute(AggregateSpec("f", min=("when",)), data)
    assert first["min_when"] == dt.date(2024, 3, 31)


def test_engine_reader_and_record_by_record_reader_agree_on_real_files(realdata, monkeypatch):
    """The fast path (the engine reads the CSV itself) gives the same columns, rows and row numbers as reading
    record by record, on the real Superstore and Alexa files."""
    from docgen.sources import csvfile

    for path in (realdata / "tabular" / "SampleSuperstore.csv", realdata / "text" / "amazon_alexa.tsv"):
        calls = []
        real = csvfile._read_natively
        monkeypatch.setattr(csvfile, "_read_natively", lambda *a, **k: calls.append(1) or real(*a, **k))
        fast = load_dataset(path)
        monkeypatch.setattr(csvfile, "_read_natively", lambda *a, **k: None)
        slow = load_dataset(path)
        assert calls and fast.table is not None
        assert fast.columns == slow.columns and fast.encoding == slow.encoding
        assert list(fast.row_numbers) == list(slow.row_numbers)
        assert list(fast.rows) == list(slow.rows)


_ODD_RECORDS = {  # one odd record per file (the screen is for the whole file): what it must read as
    "first column, leading": ("{s}lead,1.25,middle,7", {"name": "lead"}),
    "first column, trailing": ("tail{s},2.5,x,8", {"name": "tail"}),
    "a marker with whitespace round it": ("m,3.75,{s}NA{s},9", {"note": None}),
    "a number with a leading space": ("z,4.5,y,{s}10", {"n": 10}),
    "last column, trailing": ("d,5.5,w,11{s}", {"n": 11}),
    "middle column, both": ("e,{s}6.5{s},v,12", {"price": 6.5}),
    "the separator inside a value": ("f,7.5,keep \x7f{s}inner,13", {"note": "keep \x7f{s}inner"}),
    "a control character": ("g,8.5,bell\x07here,14", {"note": "bellhere"}),
}


@pytest.mark.parametrize("case", list(_ODD_RECORDS))
@pytest.mark.parametrize("space", ["\u00a0", "\u3000", " ", "\t"])
def test_fast_path_screen_finds_edge_whitespace_and_characters_to_clean_in_any_column(tmp_path, monkeypatch, space,
                                                                                      case):
    """The engine's reader screens each record once for whitespace at a value's edge and for characters that
    are cleaned: wherever one odd value is (first, middle or last column), the fast path gives what reading
    record by record gives; a value holding the screen's own separator (DEL) next to a space is read as it is."""
    from docgen.sources import csvfile

    line, want = _ODD_RECORDS[case]
    bulk = "".join(f"r{i},{i}.5,plain {i},{i}\n" for i in range(300))
    path = write(tmp_path, "odd.csv", "name,price,note,n\n" + bulk + line.format(s=space) + "\n")
    calls = []
    real = csvfile._read_natively
    monkeypatch.setattr(csvfile, "_read_natively", lambda *a, **k: calls.append(r := real(*a, **k)) or r)
    fast = load_dataset(path)
    assert calls and calls[0] is not None  # the engine's reader took the file
    monkeypatch.setattr(csvfile, "_read_natively", lambda *a, **k: None)
    slow = load_dataset(path)
    assert fast.columns == slow.columns and list(fast.rows) == list(slow.rows) and fast.notes == slow.notes
    last = fast.rows[300]
    assert {k: last[k] for k in want} == {k: (v.format(s=space) if isinstance(v, str) else v)
                                          for k, v in want.items()}
    assert [c.type for c in fast.columns] == ["text", "number", "text", "integer"]


def test_plain_files_skip_the_column_by_column_checks(tmp_path, monkeypatch):
    """A file with no edge whitespace and nothing to clean is screened once per record, and no column is
    scanned for either (the cost the screen saves on a million rows)."""
    from docgen.data import ingest

    path = write(tmp_path, "plain.csv", "a,b\n" + "".join(f"x{i},{i}\n" for i in range(100)))
    seen: list[str] = []
    real = ingest.RawTable._clean

    def spy(self, names, keep):
        seen.append(f"dirty_free={self._dirty_free}")
        return real(self, names, keep)

    monkeypatch.setattr(ingest.RawTable, "_clean", spy)
    data = load_dataset(path)
    assert seen == ["dirty_free=True"] and len(data.rows) == 100


@pytest.mark.parametrize("chunk", [1, 2, 3, 7, 1 << 22])
def test_streaming_scan_counts_line_ends_as_the_whole_file_does(tmp_path, monkeypatch, chunk):
    """CSV files are scanned in chunks (never held whole in memory on the fast path): a CRLF split between two
    chunks still counts once, and every figure equals the one from the file's bytes at once."""
    import hashlib

    from docgen.sources import csvfile

    data = "\ufeffa,b\r\n1,2\r\n3,\"x\ry\"\n4,5\r\n".encode()
    path = tmp_path / "ends.csv"
    path.write_bytes(data)
    monkeypatch.setattr(csvfile, "_CHUNK", chunk)
    assert csvfile.scan_file(path) == csvfile._scan_bytes(data, hashlib.sha256(data).hexdigest())
    assert csvfile.scan_file(path).crlf == 3
