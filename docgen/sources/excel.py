"""Excel workbooks (.xlsx, .xlsm) -> :class:`docgen.model.Dataset`, read with openpyxl
(``read_only=True, data_only=True``: formulas give the value Excel last saved, never the formula text).

- Sheet: the first worksheet in tab order (chart sheets are skipped), or the one named by ``sheet`` (exact name,
  else the only name equal ignoring case and surrounding spaces).
- Header: the first row with any value (pivot-table sheets often start at row 2 or further down); blank header
  cells left and right of the table are not columns (a table may start in column B).
- Cells: dates stay dates (``datetime.date``, or ``datetime.datetime`` when the time is not midnight),
  TRUE/FALSE become the text "TRUE"/"FALSE", times of day become "HH:MM:SS"; error values such as "#DIV/0!"
  are text (and so make their column text). Fully empty rows are skipped.
- Row numbers are Excel's row numbers; positions in messages are column letters.
"""

from __future__ import annotations

import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from docgen import limits
from docgen.data import DEFAULT_MISSING
from docgen.errors import DataError
from docgen.model import Dataset
from docgen.sources.table import build_dataset


def _letter(index: int) -> str:
    """0-based column index -> Excel letters: 0 -> A, 26 -> AA."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _label(index: int) -> str:
    return f"column {_letter(index)}"


def read_excel(path: Path, data: bytes, sha256: str, *, sheet: str | None = None,
               missing: Sequence[str] = DEFAULT_MISSING) -> Dataset:
    """Read one sheet of the workbook whose bytes are ``data``.

    Returns a Dataset with ``sheet`` set to the sheet's name.
    Raises :class:`DataError` when the file is not an .xlsx/.xlsm (not a zip: an old .xls, a renamed CSV, a
    password-protected workbook), openpyxl cannot open or read it (a damaged file: any error openpyxl, zlib or the
    XML parser raise becomes this DataError), a part passes the bounds of :mod:`docgen.limits`, the sheet does
    not exist (the message lists the
    sheets) or is a chart sheet, the sheet is empty, or for the checks of
    :func:`docgen.sources.table.build_dataset`.
    """
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise DataError(
            path,
            "this is not an Excel workbook (.xlsx files are zip archives; this one is not). If it is an old .xls "
            "workbook or a password-protected one, open it in Excel and save it as 'Excel Workbook (.xlsx)' "
            "without a password; if it is really a CSV file, rename it to .csv.",
        )
    with zipfile.ZipFile(io.BytesIO(data)) as zf:  # bounds before openpyxl inflates anything (docgen.limits)
        limits.check_zip(zf, "the workbook", lambda message: DataError(path, message))
    import openpyxl  # lazy: keeps `docgen --help` fast
    from openpyxl.utils.exceptions import InvalidFileException

    with warnings.catch_warnings():
        # openpyxl warns about workbook features it does not read (data validation, conditional formatting,
        # default styles); they do not change cell values.
        warnings.filterwarnings("ignore", category=UserWarning, module=r"openpyxl(\.|$)")
        try:
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (InvalidFileException, zipfile.BadZipFile, KeyError, ValueError, OSError) as exc:
            raise _damaged(path, exc) from None
        except Exception as exc:  # noqa: BLE001 - openpyxl on a damaged file: zlib, XML parser, EOF errors...
            raise _damaged(path, exc) from None
        try:
            return _read_sheet(path, workbook, sheet, sha256, missing)
        except DataError:
            raise
        except Exception as exc:  # noqa: BLE001 - sheets are inflated lazily: damage shows while reading rows
            raise _damaged(path, exc) from None
        finally:
            workbook.close()


def _damaged(path: Path, exc: BaseException) -> DataError:
    return DataError(
        path,
        f"cannot open the workbook: it is damaged or not a real .xlsx ({type(exc).__name__}: {exc}). Open it in "
        "Excel and save it again as 'Excel Workbook (.xlsx)'.",
    )


def _read_sheet(path: Path, workbook: Any, sheet: str | None, sha256: str, missing: Sequence[str]) -> Dataset:
    """The chosen sheet of an open workbook as a Dataset (DataError for an empty or missing sheet)."""
    worksheet = _pick_sheet(path, workbook, sheet)
    title = worksheet.title
    worksheet.reset_dimensions()  # do not trust the stored size: some writers get it wrong
    rows = _rows(worksheet)
    first = next(rows, None)
    if first is None:
        raise DataError(path, f"sheet '{title}' is empty. Pick the sheet that holds the table.")
    header_row, header = first
    return build_dataset(
        path,
        header,
        header_row,
        rows,
        sha256=sha256,
        kind=f"sheet '{title}'",
        label=_label,
        hint_extra_cells="If the header is not the first filled row (a title above the table?), delete "
        "the rows above the header; otherwise delete the stray values or give their column a name.",
        sheet=title,
        missing=missing,
    )


def _pick_sheet(path: Path, workbook: Any, sheet: str | None) -> Any:
    from openpyxl.chartsheet import Chartsheet

    names = workbook.sheetnames
    listing = ", ".join(f"'{n}'" for n in names)
    if sheet is None:
        for candidate in workbook:
            if not isinstance(candidate, Chartsheet):
                return candidate
        raise DataError(path, f"the workbook has no worksheet with cells (sheets: {listing}).")
    if sheet in names:
        chosen = workbook[sheet]
    else:
        loose = [n for n in names if n.strip().casefold() == sheet.strip().casefold()]
        if len(loose) != 1:
            raise DataError(path, f"the workbook has no sheet named '{sheet}'. Its sheets are: {listing}.")
        chosen = workbook[loose[0]]
    if isinstance(chosen, Chartsheet):
        raise DataError(path, f"sheet '{chosen.title}' is a chart sheet and holds no cells. Sheets: {listing}.")
    return chosen


def _rows(worksheet: Any) -> Iterator[tuple[int, list[Any]]]:
    """(Excel row number, cell values) for each row holding any value."""
    for cells in worksheet.iter_rows():
        values = [_cell(c.value) for c in cells]
        if all(v is None or (isinstance(v, str) and not v.strip()) for v in values):
            continue
        row = next(c.row for c in cells if getattr(c, "row", None) is not None)
        yield row, values


def _cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, dt.time):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return str(value)
    return value
