"""docgen.sources: load_dataset on CSV/TSV files (small fixtures in tests/data/sources and the real files in
../shared/realdata), dispatch by extension, and the errors a user sees for unusable files."""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from pathlib import Path

import pytest

from docgen.errors import DataError
from docgen.sources import SUPPORTED_EXTENSIONS, load_dataset

DATA = Path(__file__).parent / "data" / "sources"


def write(tmp_path: Path, name: str, content: bytes | str) -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def types(dataset) -> dict[str, str]:
    return {c.name: c.type for c in dataset.columns}


# --- small fixtures ------------------------------------------------------------------------------------------

def test_cp1252_file_with_accents_and_euro_is_decoded_and_typed():
    ds = load_dataset(DATA / "cp1252_accents.csv")
    assert ds.encoding == "cp1252"
    assert ds.delimiter == ","
    assert [r["client"] for r in ds.rows] == ["Café Noël", "Résidence Éloïse", "Crème brûlée & Cie"]
    assert ds.rows[0]["ville"] == "Besançon"
    # "€1,234.50" (quoted because of the comma), "€99", "€12.5": one currency, so a number column
    assert types(ds)["montant"] == "number"
    assert [r["montant"] for r in ds.rows] == [1234.5, 99.0, 12.5]
    # 31/03/2024 and 15/04/2024 prove the column is day-first, so 01/04/2024 is the 1st of April
    assert [r["date"] for r in ds.rows] == [dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.date(2024, 4, 15)]
    assert ds.row_numbers == (2, 3, 4)


def test_semicolon_file_reads_decimal_commas_percentages_and_dotted_dates():
    ds = load_dataset(DATA / "semicolon_decimal_comma.csv")
    assert ds.delimiter == ";"
    assert types(ds) == {
        "Produit": "text", "Quantité": "integer", "Prix unitaire": "number", "Remise": "number", "Date": "date",
    }
    first = ds.rows[0]
    assert first["Quantité"] == 1200  # "1.200": thousands dot in a ;-separated file
    assert first["Prix unitaire"] == pytest.approx(0.45)  # "0,45"
    assert first["Remise"] == pytest.approx(0.05)  # "5%" is stored as Excel does, 0.05
    assert [r["Date"] for r in ds.rows] == [dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.date(2024, 4, 2)]


def test_bom_crlf_tab_file_strips_bom_and_reads_quotes():
    ds = load_dataset(DATA / "bom_crlf_tab.tsv")
    assert ds.delimiter == "\t"
    assert ds.encoding == "utf-8-sig"
    assert ds.column_names == ("rating", "date", "variation", "review")  # no "\ufeffrating"
    assert ds.rows[1]["review"] == 'Stopped working, "support" was no help'
    assert ds.rows[0]["date"] == dt.date(2018, 7, 31)  # "31-Jul-18"
    # surrounding spaces go, inner ones stay; an empty last cell of a CRLF line is empty, not "\r"
    assert [r["variation"] for r in ds.rows] == ["Charcoal Fabric", "Walnut Finish", "Black  Dot"]
    assert ds.rows[2]["review"] is None
    assert ds.row_numbers == (2, 3, 4)


def test_quoted_newlines_keep_the_text_and_number_rows_as_records():
    ds = load_dataset(DATA / "quoted_newlines.csv")
    assert ds.rows[0]["message"] == "First line\nsecond line\nthird line"
    assert ds.rows[2]["customer"] == "Carla, Jr."
    assert ds.rows[2]["message"] == 'Said "hi"\r\nthen left'
    # the first record spans lines 2-4, but rows count records as a spreadsheet shows them
    assert ds.row_numbers == (2, 3, 4)


def test_leading_zero_and_id_columns_stay_text():
    ds = load_dataset(DATA / "leading_zeros.csv")
    assert types(ds) == {
        "Order": "text", "Postal Code": "text", "Customer ID": "text", "Phone": "text", "Amount": "number",
    }
    assert [r["Order"] for r in ds.rows] == ["00123", "00456", "10789"]  # leading zeros in the data
    assert [r["Postal Code"] for r in ds.rows] == ["01752", "02108", "94103"]
    assert ds.rows[0]["Customer ID"] == "1001"  # named like an id: text even without zeros
    assert ds.rows[0]["Phone"] == "5551234"
    assert [r["Amount"] for r in ds.rows] == [12.5, 7.0, 1200.0]


def test_sha256_is_the_digest_of_the_file_bytes_and_path_is_kept():
    path = DATA / "leading_zeros.csv"
    ds = load_dataset(str(path))
    assert ds.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert ds.path == path
    assert ds.sheet is None


def test_extension_is_case_insensitive_and_txt_is_delimited_text(tmp_path):
    ds = load_dataset(write(tmp_path, "EXPORT.TXT", "name|amount\nAnn|3\nBob|4\n"))
    assert ds.delimiter == "|"
    assert [r["amount"] for r in ds.rows] == [3, 4]


def test_delimiter_is_found_when_text_contains_other_candidates(tmp_path):
    # commas inside review text must not win over the tab that separates the columns
    content = "id\treview\tstars\n1\tGood, cheap, fast\t5\n2\tSlow; broke, sadly\t1\n3\tok\t3\n"
    ds = load_dataset(write(tmp_path, "reviews.tsv", content))
    assert ds.delimiter == "\t"
    assert ds.rows[1]["review"] == "Slow; broke, sadly"
    assert [r["stars"] for r in ds.rows] == [5, 1, 3]


def test_single_column_file(tmp_path):
    ds = load_dataset(write(tmp_path, "names.csv", "name\nAnn\nBob\n"))
    assert ds.column_names == ("name",)
    assert [r["name"] for r in ds.rows] == ["Ann", "Bob"]


def test_blank_lines_are_skipped_and_short_rows_padded(tmp_path):
    ds = load_dataset(write(tmp_path, "gaps.csv", "a,b,c\n1,2,3\n\n4,5\n,,\n7,8,9\n"))
    assert ds.row_numbers == (2, 4, 6)
    assert ds.rows[1] == {"a": 4, "b": 5, "c": None}
    assert types(ds)["c"] == "integer"


def test_utf8_without_bom_and_non_latin_text(tmp_path):
    ds = load_dataset(write(tmp_path, "cities.csv", "city,note\nKraków,zażółć\n東京,日本語\n"))
    assert ds.encoding == "utf-8"
    assert [r["city"] for r in ds.rows] == ["Kraków", "東京"]


def test_utf16_with_bom_from_excel_unicode_text(tmp_path):
    path = write(tmp_path, "unicode.txt", "Name\tAmount\r\nJosé\t12,5\r\n".encode("utf-16"))
    ds = load_dataset(path)
    assert ds.column_names == ("Name", "Amount")
    assert ds.rows[0]["Name"] == "José"
    assert ds.rows[0]["Amount"] == 12.5  # "12,5" cannot be 12-thousand-5: decimal comma


# --- real files ----------------------------------------------------------------------------------------------

def test_real_sample_superstore(realdata):
    ds = load_dataset(realdata / "tabular" / "SampleSuperstore.csv")
    assert len(ds.rows) == 9994
    assert ds.row_numbers[0] == 2 and ds.row_numbers[-1] == 9995
    assert types(ds) == {
        "Ship Mode": "text", "Segment": "text", "Country": "text", "City": "text", "State": "text",
        "Postal Code": "text", "Region": "text", "Category": "text", "Sub-Category": "text",
        "Sales": "number", "Quantity": "integer", "Discount": "number", "Profit": "number",
    }
    assert ds.rows[0]["City"] == "Henderson"
    assert ds.rows[0]["Postal Code"] == "42420"
    assert ds.rows[0]["Sales"] == pytest.approx(261.96)
    assert sum(r["Sales"] for r in ds.rows) == pytest.approx(2_297_200.86, abs=0.01)
    assert sum(r["Profit"] for r in ds.rows) == pytest.approx(286_397.02, abs=0.01)
    assert min(r["Profit"] for r in ds.rows) < 0
    # The file itself lost the leading zero of New England codes ("5408" for Vermont's 05408); docgen keeps
    # the code as written, as text, and does not turn it into the number 5408.
    codes = [r["Postal Code"] for r in ds.rows]
    assert all(isinstance(c, str) for c in codes)
    assert "5408" in codes


def test_real_amazon_alexa_tsv(realdata):
    ds = load_dataset(realdata / "text" / "amazon_alexa.tsv")
    assert ds.delimiter == "\t"
    assert ds.column_names == ("rating", "date", "variation", "verified_reviews", "feedback")
    assert len(ds.rows) == 3150
    assert types(ds)["date"] == "date"
    assert types(ds)["rating"] == "integer"
    assert ds.rows[0]["date"] == dt.date(2018, 7, 31)
    assert min(r["date"] for r in ds.rows) == dt.date(2018, 5, 16)
    assert Counter(r["rating"] for r in ds.rows) == {5: 2286, 4: 455, 3: 152, 2: 96, 1: 161}
    assert sum(r["verified_reviews"] is None for r in ds.rows) == 79
    assert ds.row_numbers[-1] == 3151


@pytest.mark.parametrize("name", ["amazon_cells_labelled.csv", "yelp_labelled.csv"])
def test_real_labelled_sentences(realdata, name):
    ds = load_dataset(realdata / "text" / name)
    assert ds.column_names == ("Review", "Output")
    assert types(ds) == {"Review": "text", "Output": "integer"}
    assert len(ds.rows) == 1000
    assert Counter(r["Output"] for r in ds.rows) == {0: 500, 1: 500}
    assert all(isinstance(r["Review"], str) and r["Review"] for r in ds.rows)


def test_real_amazon_cells_quoted_review_keeps_its_comma(realdata):
    ds = load_dataset(realdata / "text" / "amazon_cells_labelled.csv")
    assert ds.rows[1] == {"Review": "Good case, Excellent value.", "Output": 1}
    assert ds.row_numbers[1] == 3


# --- errors --------------------------------------------------------------------------------------------------

def test_missing_file_says_so_and_suggests_checking_the_path(tmp_path):
    with pytest.raises(DataError, match="not found") as info:
        load_dataset(tmp_path / "sales-2024.csv")
    assert "sales-2024.csv" in str(info.value)
    assert "Check" in str(info.value)


def test_folder_instead_of_file(tmp_path):
    folder = tmp_path / "data.csv"
    folder.mkdir()
    with pytest.raises(DataError, match="folder"):
        load_dataset(folder)


def test_empty_file(tmp_path):
    with pytest.raises(DataError, match=r"empty \(0 bytes\)") as info:
        load_dataset(write(tmp_path, "empty.csv", b""))
    assert "empty.csv" in str(info.value)


def test_only_blank_lines(tmp_path):
    with pytest.raises(DataError, match="blank lines"):
        load_dataset(write(tmp_path, "blank.csv", "\r\n\r\n  \r\n"))


def test_header_only_file_names_the_columns(tmp_path):
    with pytest.raises(DataError, match="no data rows") as info:
        load_dataset(write(tmp_path, "header.csv", "date,region,revenue\r\n"))
    assert "date, region, revenue" in str(info.value)


def test_row_with_more_values_than_header_is_named(tmp_path):
    path = write(tmp_path, "extra.csv", "name,amount\nAnn,3\nBob,1,234\nCid,4\n")
    with pytest.raises(DataError) as info:
        load_dataset(path)
    err = info.value
    assert err.row == 3
    message = str(err)
    assert "extra.csv, row 3" in message
    assert "3 values but the header has 2 columns" in message
    assert "quotes" in message  # the likely fix: an unquoted comma


def test_trailing_empty_cells_beyond_header_are_ignored(tmp_path):
    # Excel's CSV export pads rows with empty cells when something was once typed further right
    ds = load_dataset(write(tmp_path, "pad.csv", "name;amount\nAnn;3;;\nBob;4;;\n"))
    assert ds.rows == ({"name": "Ann", "amount": 3}, {"name": "Bob", "amount": 4})


def test_duplicate_header_names_name_both_positions(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset(write(tmp_path, "dup.csv", "region,sales, sales\nEast,1,2\n"))
    message = str(info.value)
    assert info.value.column == "sales"
    assert "column 2 and column 3" in message
    assert "row 1" in message
    assert "rename" in message


def test_blank_header_name_between_named_columns(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset(write(tmp_path, "blank-header.csv", "region,,sales\nEast,x,2\n"))
    assert "column 2 of the header has no name" in str(info.value)
    assert info.value.row == 1


def test_value_under_blank_leading_header_is_the_row_names_column(tmp_path):
    # pandas' to_csv writes the index under an empty header cell, R's write.csv its row names ("" header)
    data = load_dataset(write(tmp_path, "pandas.csv", ",region,sales\n0,East,2\n1,West,3\n"))
    assert data.column_names == ("row_name", "region", "sales")
    assert data.rows[1] == {"row_name": 1, "region": "West", "sales": 3}
    r = load_dataset(write(tmp_path, "r.csv", '"","height","name"\n"1",172,"Ann"\n"2",NA,"Bob"\n'))
    assert r.column_names == ("row_name", "height", "name")
    assert [c.type for c in r.columns] == ["integer", "integer", "text"]  # NA is missing, not text
    assert r.rows[1]["height"] is None


def test_unknown_extension_lists_supported_ones(tmp_path):
    with pytest.raises(DataError) as info:
        load_dataset(write(tmp_path, "report.pdf", b"%PDF-1.4"))
    message = str(info.value)
    assert ".pdf" in message
    for ext in SUPPORTED_EXTENSIONS:
        assert ext in message


def test_old_xls_is_told_to_save_as_xlsx(tmp_path):
    with pytest.raises(DataError, match=r"save it as an Excel Workbook \(\.xlsx\)"):
        load_dataset(write(tmp_path, "old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100))


def test_binary_file_with_csv_extension_reports_encoding(tmp_path):
    path = write(tmp_path, "photo.csv", bytes(range(256)) * 8)
    with pytest.raises(DataError, match="encoding could not be recognized") as info:
        load_dataset(path)
    assert "CSV UTF-8" in str(info.value)


def test_stray_quote_in_tab_file_is_reported_instead_of_swallowing_rows(tmp_path):
    content = 'id\ttext\n1\tfine\n2\t"starts a quote but never ends\n3\tnext record\n4\tlast\n'
    with pytest.raises(DataError, match="stray quote") as info:
        load_dataset(write(tmp_path, "notes.tsv", content))
    assert info.value.row == 3


def test_sheet_on_a_csv_is_an_error(tmp_path):
    with pytest.raises(DataError, match="only Excel workbooks have sheets"):
        load_dataset(DATA / "leading_zeros.csv", sheet="Sheet1")
