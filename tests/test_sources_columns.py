"""docgen.sources.columns: the typing rules every reader shares (numbers, dates, ids, empties)."""

from __future__ import annotations

import datetime as dt

import pytest

from docgen.sources.columns import COMMA, is_id_name, parse_number, type_column


def test_empty_and_blank_cells_become_none_and_do_not_vote():
    assert type_column("units", ["3", "", None, "  ", "4"]) == ("integer", [3, None, None, None, 4])


def test_all_empty_column_is_text():
    assert type_column("note", [None, "", " "]) == ("text", [None, None, None])


def test_integer_number_and_text():
    assert type_column("qty", ["1", "-2", "+3"]) == ("integer", [1, -2, 3])
    assert type_column("price", ["1", "2.5"]) == ("number", [1.0, 2.5])
    assert type_column("price", ["1", "2.5", "n/a"]) == ("text", ["1", "2.5", "n/a"])


def test_thousands_separators_currency_and_accounting_negatives():
    kind, values = type_column("revenue", ["$1,234.50", "(1,000.00)", "$-5", "12 $"])
    assert kind == "number"
    assert values == [1234.5, -1000.0, -5.0, 12.0]
    assert type_column("units", ["1,234", "12,345,678"]) == ("integer", [1234, 12345678])


def test_two_different_currencies_in_one_column_stay_text():
    assert type_column("amount", ["$5", "€5"]) == ("text", ["$5", "€5"])


def test_percentages_are_fractions_and_must_not_mix_with_plain_numbers():
    kind, values = type_column("discount", ["5%", "12.5 %", "0%"])
    assert kind == "number"
    assert values == pytest.approx([0.05, 0.125, 0.0])
    assert type_column("discount", ["5%", "0.2"])[0] == "text"


def test_nan_and_inf_are_not_numbers():
    assert type_column("x", ["1", "nan"])[0] == "text"
    assert type_column("x", ["inf"])[0] == "text"
    assert type_column("x", [1.0, float("nan")])[0] == "text"


def test_decimal_comma_convention_is_chosen_per_column():
    # comma-separated files prefer the decimal point: "1,234" is one thousand two hundred thirty-four...
    assert type_column("n", ["1,234"]) == ("integer", [1234])
    # ...semicolon files prefer the decimal comma: "1,234" is one point two three four
    assert type_column("n", ["1,234"], prefer=COMMA) == ("number", [1.234])
    # when the preferred convention does not fit every cell, the other is used
    assert type_column("n", ["12,5", "3,75"]) == ("number", [12.5, 3.75])
    assert type_column("n", ["1.5", "2"], prefer=COMMA) == ("number", [1.5, 2.0])
    assert type_column("n", ["1.234.567,89", "1 234,5"], prefer=COMMA) == ("number", [1234567.89, 1234.5])


def test_exponents_are_numbers():
    assert type_column("x", ["1.5E+06", "2e-3"]) == ("number", [1.5e6, 0.002])


def test_native_numbers_from_excel_and_json():
    assert type_column("units", [3, 4.0, None]) == ("integer", [3, 4, None])
    assert type_column("price", [3, 4.5]) == ("number", [3.0, 4.5])


def test_leading_zeros_keep_a_column_text():
    assert type_column("order", ["00123", "456"]) == ("text", ["00123", "456"])
    # but "0.5" and "0" are ordinary numbers
    assert type_column("ratio", ["0.5", "0"]) == ("number", [0.5, 0.0])


@pytest.mark.parametrize(
    "name", ["id", "ID", "customer_id", "customerID", "Postal Code", "zip", "ZIP", "Phone", "SKU", "Order Id"]
)
def test_id_like_names(name):
    assert is_id_name(name)
    assert type_column(name, ["1001", 1002, 1003.0]) == ("text", ["1001", "1002", "1003"])


@pytest.mark.parametrize("name", ["Paid", "Valid", "Month Number", "Year", "Sales", "Decoder"])
def test_names_that_are_not_ids(name):
    assert not is_id_name(name)


def test_iso_dates_and_datetimes():
    kind, values = type_column("when", ["2024-03-31", "2024-04-01T14:30:00", "2024-04-02 00:00"])
    assert kind == "date"
    assert values == [dt.date(2024, 3, 31), dt.datetime(2024, 4, 1, 14, 30), dt.date(2024, 4, 2)]
    assert type(values[2]) is dt.date  # midnight is a plain date


def test_day_first_is_decided_by_the_data():
    kind, values = type_column("when", ["01/04/2024", "31/03/2024"])
    assert kind == "date"
    assert values == [dt.date(2024, 4, 1), dt.date(2024, 3, 31)]


def test_month_first_is_decided_by_the_data():
    kind, values = type_column("when", ["4/1/2024", "3/31/2024", "12/5/2024 2:30 PM"])
    assert kind == "date"
    assert values == [dt.date(2024, 4, 1), dt.date(2024, 3, 31), dt.datetime(2024, 12, 5, 14, 30)]


def test_ambiguous_or_contradictory_numeric_dates_stay_text():
    # 01/02/2024 could be 1 February or 2 January: not guessed
    assert type_column("when", ["01/02/2024", "03/04/2024"]) == ("text", ["01/02/2024", "03/04/2024"])
    # 31/03 says day-first, 3/31 says month-first
    assert type_column("when", ["31/03/2024", "3/31/2024"])[0] == "text"


def test_dots_mean_day_first_even_when_ambiguous():
    assert type_column("Datum", ["01.02.2024"]) == ("date", [dt.date(2024, 2, 1)])


def test_impossible_dates_stay_text():
    assert type_column("when", ["31/02/2024", "15/01/2024"])[0] == "text"


def test_month_name_forms_and_two_digit_years():
    kind, values = type_column("date", ["31-Jul-18", "1 August 2018", "Sep 3, 2018", "5-jan-70"])
    assert kind == "date"
    assert values == [dt.date(2018, 7, 31), dt.date(2018, 8, 1), dt.date(2018, 9, 3), dt.date(1970, 1, 5)]


def test_native_dates_and_datetimes():
    kind, values = type_column("when", [dt.datetime(2024, 3, 31), dt.datetime(2024, 3, 31, 9, 15), dt.date(2024, 1, 1)])
    assert kind == "date"
    assert values == [dt.date(2024, 3, 31), dt.datetime(2024, 3, 31, 9, 15), dt.date(2024, 1, 1)]
    assert type(values[0]) is dt.date


def test_excel_serials_become_dates_only_under_a_date_header():
    assert type_column("Order Date", [45382, "45383", 45383.5]) == (
        "date", [dt.date(2024, 3, 31), dt.date(2024, 4, 1), dt.datetime(2024, 4, 1, 12, 0)]
    )
    # the same numbers under another name are integers
    assert type_column("Units", [45382, 45383]) == ("integer", [45382, 45383])
    # a "Date" column of years or day numbers is not a column of serials
    assert type_column("Date", [2018, 2019]) == ("integer", [2018, 2019])


def test_mixed_native_dates_and_words_become_iso_text():
    assert type_column("when", [dt.date(2024, 3, 31), "soon"]) == ("text", ["2024-03-31", "soon"])


def test_text_cells_are_stripped_and_numbers_in_text_columns_read_naturally():
    assert type_column("label", ["  a  b ", 3, 2.5, 4.0]) == ("text", ["a  b", "3", "2.5", "4"])


def test_parse_number_reports_currency_and_percent():
    assert parse_number("€1.234,50", COMMA) == (1234.5, False, "€", False)
    assert parse_number("-7%") == (-0.07, False, "", True)
    assert parse_number("$5%") is None
    assert parse_number("1,23") is None  # not a thousands group under the point convention
    assert parse_number("--5") is None
