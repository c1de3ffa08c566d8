"""Data readers: a user's CSV / TSV / TXT, Excel or JSON file -> typed :class:`docgen.model.Dataset`.

Public API: :func:`load_dataset`, :func:`prepare_dataset` (``--map``, required columns, computed columns),
:func:`require_columns`, :func:`map_columns`, :data:`SUPPORTED_EXTENSIONS`.
Modules: :mod:`.csvfile`, :mod:`.excel`, :mod:`.jsonfile` (one reader each), :mod:`.table` (header and record
checks shared by all readers), :mod:`.columns` (value typing rules), :mod:`.required` (template column checks).
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from pathlib import Path

from docgen.data import DEFAULT_MISSING
from docgen.errors import DataError
from docgen.model import Dataset
from docgen.sources.required import map_columns, prepare_dataset, require_columns

#: File extension (lower case) -> reader.
SUPPORTED_EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".txt": "csv",
    ".xlsx": "excel",
    ".xlsm": "excel",
    ".json": "json",
}
_SAVE_AS_XLSX = {".xls", ".xlsb", ".ods", ".numbers"}

_EMPTY = "the file is empty (0 bytes). Save the data into it again, or pick another file."

__all__ = ["SUPPORTED_EXTENSIONS", "load_dataset", "map_columns", "prepare_dataset", "require_columns"]


def load_dataset(path: str | Path, *, sheet: str | None = None, missing: Sequence[str] | None = None) -> Dataset:
    """Read a data file into a typed :class:`Dataset`, choosing the reader by extension (case-insensitive):
    .csv .tsv .txt -> :mod:`docgen.sources.csvfile`; .xlsx .xlsm -> :mod:`docgen.sources.excel`;
    .json -> :mod:`docgen.sources.jsonfile`.

    ``sheet`` names the worksheet of a workbook (default: the first); it is an error for other files.
    ``missing``: the cell texts read as missing values besides the empty text (default
    :data:`docgen.data.DEFAULT_MISSING`: NA, N/A, null, NaN; a template's ``[data] missing_values``).
    The Dataset's ``path`` is ``Path(path)`` as given, ``sha256`` the hex digest of the file's bytes;
    ``rows[i]`` maps column name -> typed value and ``row_numbers[i]`` is the row a user sees for it
    (spreadsheet row / line where the CSV record starts, header = row 1; JSON record index from 1).
    Column types follow :mod:`docgen.data.columns`.

    Raises :class:`docgen.errors.DataError` (its message says what, where and how to fix) for: a missing file,
    a folder, an unreadable file, an unknown extension (the message lists the supported ones), an empty
    (0-byte) file, ``sheet`` on a non-workbook, and every error of the readers (encoding, malformed JSON,
    not-a-zip .xlsx, unknown sheet, blank or duplicate header names, extra values in a row, no data rows).
    """
    p = Path(path)
    if not p.exists():
        raise DataError(
            p, f"file not found (looked for {p.absolute()}). Check the folder and the file name, including its "
            "extension."
        )
    if p.is_dir():
        raise DataError(p, "this is a folder, not a file. Give the path of the data file inside it.")
    ext = p.suffix.lower()
    reader = SUPPORTED_EXTENSIONS.get(ext)
    if reader is None:
        supported = ", ".join(SUPPORTED_EXTENSIONS)
        advice = (
            "Open it in its program and save it as an Excel Workbook (.xlsx) or CSV."
            if ext in _SAVE_AS_XLSX
            else "Save or export the data in one of those formats (or rename the file if it already is one)."
        )
        raise DataError(p, f"docgen cannot read {ext or 'files without an extension'} files; it reads "
                           f"{supported}. {advice}")
    if sheet is not None and reader != "excel":
        raise DataError(p, f"a sheet ('{sheet}') was asked for, but only Excel workbooks have sheets. Leave the "
                           "sheet out for this file.")
    try:
        if reader == "csv":  # one streaming pass; the engine's CSV reader reads the file itself
            from docgen.sources.csvfile import read_csv, scan_file

            scan = scan_file(p)
            if not scan.size:
                raise DataError(p, _EMPTY)
            return read_csv(p, scan, scan.sha256, missing=DEFAULT_MISSING if missing is None else tuple(missing))
        data = p.read_bytes()
    except OSError as exc:
        raise DataError(p, f"cannot read the file ({exc.strerror or exc}). Close it in other programs and check "
                           "that you may read it.") from None
    if not data:
        raise DataError(p, _EMPTY)
    sha256 = hashlib.sha256(data).hexdigest()
    markers = DEFAULT_MISSING if missing is None else tuple(missing)
    if reader == "excel":
        from docgen.sources.excel import read_excel

        return read_excel(p, data, sha256, sheet=sheet, missing=markers)
    from docgen.sources.jsonfile import read_json

    return read_json(p, data, sha256, missing=markers)
