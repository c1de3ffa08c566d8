"""Column typing shared by every reader: a column of raw cells becomes ``integer``, ``number``, ``date`` or
``text``, and every cell is converted to that type (:data:`docgen.model.Value`).

Rules, applied per column in this order (a column is typed as a whole, never cell by cell):

1. **Empty cells** (None, or a string of only whitespace) become ``None`` and do not vote. A column with no
   non-empty cell is ``text``.
2. **ID-like columns stay text**: when the header names an identifier (a word such as id, code, zip, postal,
   postcode, phone, fax, sku, ean, isbn, iban, account, uuid -- see :data:`ID_WORDS`; "Postal Code",
   "customerID", "order_id") or when any cell is a run of digits with a leading zero ("00123", "01752").
   Leading zeros therefore survive; numbers in such a column are written back without a ".0".
3. **Excel serial dates** are recognized only when the header names a date (a word such as date, dob,
   timestamp -- :data:`DATE_WORDS`) *and* every cell is a plain number between 3654 (1910-01-01) and 2958465
   (9999-12-31). An integer column with any other name never turns into dates.
4. **integer**: every cell is a whole number -> ``int``. **number**: every cell is a number and at least one has
   a fractional part or is a percentage -> ``float``. Accepted spellings: an optional sign or accounting
   parentheses "(1,234.50)" (negative), thousands separators, one currency symbol ($ EUR-sign GBP-sign YEN-sign)
   before or after the number (the symbol is dropped; a column mixing two different symbols stays text), a
   trailing ``%`` (the value is divided by 100, as Excel stores percentages; a column mixing percentages and
   plain numbers stays text), and exponents ("1.5E+06"). Two conventions are tried, the reader's preferred one
   first: *point* (decimal ".", thousands ",": "1,234.50") and *comma* (decimal ",", thousands "." or a space:
   "1.234,50"). The first convention under which every cell parses wins, so "1,234" reads as 1234 in a
   comma-separated file and as 1.234 in a semicolon-separated file (Excel writes ";"-separated CSV exactly in
   locales whose decimal symbol is ","). "nan"/"inf" are not numbers. Whole floats (Excel and JSON ``3.0``)
   count as whole numbers.
5. **date**: every cell is a date -> ``datetime.date``, or ``datetime.datetime`` when it has a time of day other
   than midnight. Accepted: native dates (Excel), ISO 8601 ("2024-03-31", "2024-03-31T14:30:00",
   "2024/03/31"), numeric day/month forms ("31/03/2024", "3/31/2024", "31.03.2024", "31-03-24", optionally
   followed by a time "14:30[:00] [AM|PM]"), and English month names ("31-Jul-18", "31 July 2018",
   "Jul 31, 2018"). For numeric day/month forms the order is decided per column by the data: a first number
   above 12 means day-first, a second number above 12 means month-first, "." as separator means day-first;
   a column where every cell is ambiguous (both numbers <= 12, e.g. only "01/02/2024") or that contradicts
   itself is **not** guessed and stays text (write such dates as ISO 2024-02-01 to have them read as dates).
   Two-digit years follow POSIX ``%y``: 69-99 -> 1969-1999, 00-68 -> 2000-2068.
6. Anything else is **text**: strings lose surrounding whitespace (inner spaces are kept); numbers are written
   as they read ("3", "2.5"); dates as ISO 8601.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from typing import Any

from docgen.model import ColumnType, Value

#: Header words that mark an identifier column (kept as text, leading zeros and all).
ID_WORDS = frozenset(
    "id ids uid uuid guid code codes zip zipcode postal postcode plz phone telephone tel mobile cell fax sku "
    "ean upc gtin isbn iban bic swift ssn account acct".split()
)
#: Header words that allow Excel serial numbers to be read as dates.
DATE_WORDS = frozenset("date dates dated dob birthdate birthday datetime timestamp".split())

CURRENCY_SYMBOLS = "$€£¥"
_EXCEL_EPOCH = dt.datetime(1899, 12, 30)
_SERIAL_MIN, _SERIAL_MAX = 3654, 2958465

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
_LEADING_ZERO = re.compile(r"0\d+")
_MINUS = "-\u2212"  # ASCII hyphen-minus and the Unicode minus sign

_POINT_BODY = re.compile(r"(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|\.\d+|\d+(?:\.\d*)?[eE][+-]?\d+")
_COMMA_BODY = re.compile(r"(?:\d{1,3}(?:\.\d{3})+|\d{1,3}(?:[ \u00a0\u202f]\d{3})+|\d+)(?:,\d+)?")
_PLAIN_NUMBER = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")

_ISO = re.compile(r"\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?")
_YMD_SLASH = re.compile(r"(\d{4})/(\d{1,2})/(\d{1,2})")
_TIME = r"(?:[ T]+(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp][Mm])?)?"
_NUMERIC_DATE = re.compile(r"(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})" + _TIME)
_DAY_MONTH_NAME = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?[\s-]+([A-Za-z]{3,9})\.?[\s,-]+(\d{4}|\d{2})" + _TIME)
_MONTH_NAME_DAY = re.compile(r"([A-Za-z]{3,9})\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})" + _TIME)
_MONTHS = ["january", "february", "march", "april", "may", "june", "july", "august", "september", "october",
           "november", "december"]

POINT, COMMA = "point", "comma"


def header_words(name: str) -> list[str]:
    """Lower-case words of a header: "customerID" -> ["customer", "id"], "Postal Code" -> ["postal", "code"]."""
    return [w.lower() for w in _WORD.findall(name)]


def is_id_name(name: str) -> bool:
    """True when the header names an identifier (rule 2 of the module docstring)."""
    return any(w in ID_WORDS for w in header_words(name))


def is_date_name(name: str) -> bool:
    """True when the header names a date, so Excel serial numbers may be read as dates (rule 3)."""
    return any(w in DATE_WORDS for w in header_words(name))


def type_column(name: str, cells: Sequence[Any], *, prefer: str = POINT) -> tuple[ColumnType, list[Value]]:
    """Decide the type of one column and convert its cells.

    ``cells`` holds raw values as a reader produced them: ``str``, ``int``, ``float``, ``datetime.date``,
    ``datetime.datetime`` or ``None`` (readers turn booleans, times and durations into strings first).
    ``prefer`` is the number convention tried first (:data:`POINT` or :data:`COMMA`).
    Returns ``(type, values)`` with ``len(values) == len(cells)``. Never raises for bad data: what does not fit
    a stricter type is text. Rules: module docstring.
    """
    norm = [_normalize(c) for c in cells]
    present = [c for c in norm if c is not None]
    if not present:
        return "text", [None] * len(norm)
    if is_id_name(name) or any(isinstance(c, str) and _LEADING_ZERO.fullmatch(c) for c in present):
        return "text", [None if c is None else to_text(c) for c in norm]
    if is_date_name(name):
        serials = _excel_serials(present)
        if serials is not None:
            return "date", _fill(norm, serials)
    order = (POINT, COMMA) if prefer == POINT else (COMMA, POINT)
    for convention in order:
        numbers = _numbers(present, convention)
        if numbers is not None:
            kind, values = numbers
            return kind, _fill(norm, values)
    dates = _dates(present)
    if dates is not None:
        return "date", _fill(norm, dates)
    return "text", [None if c is None else to_text(c) for c in norm]


def to_text(value: Any) -> str:
    """A cell as text: numbers as they read ("3", "2.5"), dates as ISO 8601 ("2024-03-01"; a datetime only with a
    time of day other than midnight: "2024-03-01 14:05:00", as rule 5 types it), strings stripped."""
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0) and value.tzinfo is None:  # an Excel date cell: a date, not midnight
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


class WrittenFloat(float):
    """A number read from a cell written in a person's form ("1,234.50", "$12", "12.5%", "7" in a column of
    decimals): it is the ``float`` for every comparison, computation and filter, and prints (``str()``, ``{{ }}``,
    an empty format spec) as :attr:`written`, the cell's text. ``repr()`` (and JSON) stay numeric."""

    written: str

    def __new__(cls, value: float, written: str) -> WrittenFloat:
        obj = super().__new__(cls, value)
        obj.written = written
        return obj

    def __str__(self) -> str:
        return self.written

    def __format__(self, spec: str) -> str:
        return self.written if not spec else float.__format__(float(self), spec)

    def __reduce__(self):  # noqa: ANN204 - pickle/copy keep the written form
        return (WrittenFloat, (float(self), self.written))


class WrittenInt(int):
    """The :class:`WrittenFloat` of whole numbers ("1,234", "+5", "$12"): an ``int`` that prints as written."""

    written: str

    def __new__(cls, value: int, written: str) -> WrittenInt:
        obj = super().__new__(cls, value)
        obj.written = written
        return obj

    def __str__(self) -> str:
        return self.written

    def __format__(self, spec: str) -> str:
        return self.written if not spec else int.__format__(int(self), spec)

    def __reduce__(self):  # noqa: ANN204
        return (WrittenInt, (int(self), self.written))


def written(value: Value, text: str | None) -> Value:
    """``value`` (an int or float of a number column) carrying ``text``, its cell as written, when the two would
    print differently (``str(1234.5)`` is "1234.5" but the cell says "1,234.50"); else ``value`` itself."""
    if text is None or isinstance(value, bool) or str(value) == text:
        return value
    if isinstance(value, float):
        return WrittenFloat(value, text)
    if isinstance(value, int):
        return WrittenInt(value, text)
    return value


def excel_serial_to_date(serial: float) -> dt.date:
    """Excel's 1900 date system serial -> date (datetime when it has a time of day). Valid from 1900-03-01."""
    return _date_or_datetime(_EXCEL_EPOCH + dt.timedelta(seconds=round(serial * 86400)))


def _normalize(cell: Any) -> Any:
    if cell is None:
        return None
    if isinstance(cell, str):
        cell = cell.strip()
        return cell or None
    return cell


def _fill(norm: list[Any], values: list[Value]) -> list[Value]:
    it = iter(values)
    return [None if c is None else next(it) for c in norm]


def _date_or_datetime(value: dt.datetime) -> dt.date:
    if value.time() == dt.time(0) and value.tzinfo is None:
        return value.date()
    return value


def _excel_serials(present: list[Any]) -> list[Value] | None:
    out: list[Value] = []
    for c in present:
        if isinstance(c, str) and _PLAIN_NUMBER.fullmatch(c):
            c = float(c)
        if isinstance(c, bool) or not isinstance(c, int | float) or not _SERIAL_MIN <= c <= _SERIAL_MAX:
            return None
        out.append(excel_serial_to_date(c))
    return out


# --- numbers -------------------------------------------------------------------------------------------------

def parse_number(text: str, convention: str = POINT) -> tuple[int | float, bool, str, bool] | None:
    """Parse one number as written by a person: ``(value, whole, currency, percent)`` or None.

    ``whole`` is True when no fractional part, exponent or percent sign was written (the value is an int).
    ``currency`` is the symbol found ("" if none). Percentages are divided by 100. Rules: module docstring.
    """
    s = text.strip()
    negative = False
    if len(s) > 2 and s[0] == "(" and s[-1] == ")":
        negative, s = True, s[1:-1].strip()
    currency = ""
    percent = False
    for _ in range(2):  # sign and currency in either order: "-$5", "$-5"
        if s and s[0] in "+" + _MINUS:
            if s[0] != "+":
                if negative:
                    return None
                negative = True
            s = s[1:].lstrip()
        if s and not currency and s[0] in CURRENCY_SYMBOLS:
            currency, s = s[0], s[1:].lstrip()
    if s and not currency and s[-1] in CURRENCY_SYMBOLS:
        currency, s = s[-1], s[:-1].rstrip()
    if s.endswith("%"):
        percent, s = True, s[:-1].rstrip()
    if percent and currency or not s:
        return None
    if convention == POINT:
        if not _POINT_BODY.fullmatch(s):
            return None
        plain = s.replace(",", "")
    else:
        if not _COMMA_BODY.fullmatch(s):
            return None
        plain = re.sub(r"[. \u00a0\u202f]", "", s).replace(",", ".")
    whole = not percent and "." not in plain and "e" not in plain.lower()
    value: int | float = int(plain) if whole else float(plain)
    if percent:
        value = value / 100
    if negative:
        value = -value
    return value, whole, currency, percent


def _numbers(present: list[Any], convention: str) -> tuple[ColumnType, list[Value]] | None:
    values: list[int | float] = []
    all_whole = True
    currencies: set[str] = set()
    percents: set[bool] = set()
    for c in present:
        if isinstance(c, bool) or isinstance(c, dt.date):
            return None
        if isinstance(c, int):
            values.append(c)
            percents.add(False)
        elif isinstance(c, float):
            if c != c or c in (float("inf"), float("-inf")):
                return None
            values.append(c)
            all_whole = all_whole and c.is_integer()
            percents.add(False)
        else:
            parsed = parse_number(str(c), convention)
            if parsed is None:
                return None
            value, whole, currency, percent = parsed
            values.append(value)
            all_whole = all_whole and whole
            if currency:
                currencies.add(currency)
            percents.add(percent)
        if len(currencies) > 1 or len(percents) > 1:
            return None
    if all_whole:
        return "integer", [int(v) for v in values]
    return "number", [float(v) for v in values]


# --- dates ---------------------------------------------------------------------------------------------------

def _month(name: str) -> int | None:
    low = name.lower()
    for i, full in enumerate(_MONTHS, start=1):
        if len(low) >= 3 and full.startswith(low):
            return i
    return None


def _year(text: str) -> int:
    y = int(text)
    if len(text) == 2:
        y += 1900 if y >= 69 else 2000
    return y


def _time(groups: Sequence[str | None]) -> dt.time | None:
    hour, minute, second, ampm = groups
    if hour is None:
        return dt.time(0)
    h, m, s = int(hour), int(minute or 0), int(second or 0)
    if ampm:
        if not 1 <= h <= 12:
            return None
        h = h % 12 + (12 if ampm.lower() == "pm" else 0)
    try:
        return dt.time(h, m, s)
    except ValueError:
        return None


def _make(year: int, month: int, day: int, time: dt.time | None) -> dt.date | None:
    if time is None:
        return None
    try:
        return _date_or_datetime(dt.datetime.combine(dt.date(year, month, day), time))
    except ValueError:
        return None


def _dates(present: list[Any]) -> list[Value] | None:
    """All cells as dates, or None. Numeric day/month forms are resolved per column (module docstring)."""
    out: list[Any] = []
    pending: list[tuple[int, re.Match[str]]] = []  # numeric d/m forms, resolved once the order is known
    day_first = month_first = False
    for c in present:
        if isinstance(c, dt.datetime):
            out.append(_date_or_datetime(c))
            continue
        if isinstance(c, dt.date):
            out.append(c)
            continue
        if not isinstance(c, str):
            return None
        if _ISO.fullmatch(c):
            try:
                out.append(_date_or_datetime(dt.datetime.fromisoformat(c)))
            except ValueError:
                return None
            continue
        m = _NUMERIC_DATE.fullmatch(c)
        if m:
            first, second = int(m.group(1)), int(m.group(3))
            day_first |= first > 12 or m.group(2) == "."
            month_first |= second > 12
            pending.append((len(out), m))
            out.append(None)
            continue
        m = _YMD_SLASH.fullmatch(c)
        if m:
            value = _make(int(m.group(1)), int(m.group(2)), int(m.group(3)), dt.time(0))
        elif m := _DAY_MONTH_NAME.fullmatch(c):
            month = _month(m.group(2))
            value = month and _make(_year(m.group(3)), month, int(m.group(1)), _time(m.groups()[3:7]))
        elif m := _MONTH_NAME_DAY.fullmatch(c):
            month = _month(m.group(1))
            value = month and _make(int(m.group(3)), month, int(m.group(2)), _time(m.groups()[3:7]))
        else:
            return None
        if not value:
            return None
        out.append(value)
    if pending:
        if day_first == month_first:  # never told, or told both: do not guess
            return None
        for index, m in pending:
            a, b = int(m.group(1)), int(m.group(3))
            day, month = (a, b) if day_first else (b, a)
            value = _make(_year(m.group(4)), month, day, _time(m.groups()[4:8]))
            if value is None:
                return None
            out[index] = value
    return out
