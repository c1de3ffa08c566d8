"""Raw header + records -> typed :class:`docgen.model.Dataset`, with the checks every reader shares.

Rules (the same for CSV, Excel and JSON):

- Header names lose surrounding whitespace (and a stray byte-order mark), so " Sales" is the column "Sales".
- Blank header cells at either end of the header are not columns (a table may start in column B); a blank
  header cell *between* named ones is an error naming its position, and so is a name used twice.
  Exception: when only the *first* header cell is blank and the cells under it hold values (R's ``write.csv``,
  pandas' ``to_csv``: the row names), that column is kept and named :data:`ROW_NAMES` (``row_name``).
- A missing-value marker (after trimming: the empty text and :data:`docgen.data.DEFAULT_MISSING`, i.e.
  ``NA``, ``N/A``, ``null``, ``NaN``; or the caller's list) is a missing value: ``None``, not text.
- A record with fewer cells than the header is padded with empty cells; a non-empty cell outside the header's
  columns is an error naming the row. Fully empty records are skipped.
- A file whose header has no records under it is an error.
- Columns are typed by :func:`docgen.sources.columns.type_column`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from docgen.data import DEFAULT_MISSING, RawTable, Table, from_columns
from docgen.data.clean import clean_text, is_dirty
from docgen.errors import DataError
from docgen.model import Column, Dataset
from docgen.data.columns import POINT, to_text, type_column

#: Name given to a first column whose header cell is empty but whose cells hold values (the row names that R's
#: ``write.csv`` and pandas' ``to_csv`` write); ``row_name_2``... if the file already has that name.
ROW_NAMES = "row_name"
#: Records loaded into the engine at a time by the streaming (CSV) path.
CHUNK = 32768
#: Cleaned values named one by one in a dataset's notes (:func:`cleaning_notes`); the rest are counted.
CLEANED_SHOWN = 5


def _blank(cell: Any) -> bool:
    return cell is None or (isinstance(cell, str) and not cell.strip())


def position(index: int) -> str:
    """Human name of a 0-based column position in a CSV/JSON file: ``column 3``."""
    return f"column {index + 1}"


def build_dataset(
    path: Path,
    header: Sequence[Any],
    header_row: int | None,
    records: Iterable[tuple[int, Sequence[Any]]],
    *,
    sha256: str,
    kind: str,
    label: Callable[[int], str] = position,
    hint_extra_cells: str = "",
    prefer: str = POINT,
    sheet: str | None = None,
    encoding: str | None = None,
    delimiter: str | None = None,
    missing: Sequence[str] = DEFAULT_MISSING,
    text_cells: bool = False,
) -> Dataset:
    """Check the header and records of a table, type its columns and load them into the table engine.

    ``header`` is the raw header row (found at user-visible row ``header_row``, None for JSON); ``records`` yields
    ``(row_number, cells)`` with ``row_number`` as the user sees it. ``kind`` names the thing for messages
    ("CSV file", "sheet 'Sheet1'"); ``label`` names a 0-based column position ("column 3", "column C").
    ``prefer`` is the number convention tried first; ``missing`` the cell texts that mean "no value"
    (:data:`DEFAULT_MISSING`). ``text_cells=True`` (CSV: every cell is a ``str`` and blank records are already
    left out) streams the records into the engine in chunks (:class:`docgen.data.ingest.RawTable`) instead of
    holding them as Python lists.

    Raises :class:`DataError` for blank or duplicate header names, a value outside the header's columns, and a
    header without records. Rules: module docstring.
    """
    names = ["" if _blank(h) else clean_text(to_text(h))[0].lstrip("\ufeff").strip() for h in header]
    named = [i for i, n in enumerate(names) if n]
    if not named:
        raise DataError(path, f"the {kind} has no header row. Put the column names in the first row.")
    lo, hi = named[0], named[-1] + 1
    row_names = lo == 1  # R's write.csv and pandas' to_csv leave the header of their row names empty
    if row_names:
        lo = 0
        names[0] = next(n for n in (ROW_NAMES, *(f"{ROW_NAMES}_{i}" for i in range(2, 99))) if n not in names)
    seen: dict[str, int] = {}
    for i in range(lo, hi):
        name = names[i]
        if not name:
            raise DataError(
                path,
                f"{label(i)} of the header has no name. Type a column name into that header cell "
                "(or delete the column).",
                row=header_row,
            )
        if name in seen:
            raise DataError(
                path,
                f"the header names '{name}' twice ({label(seen[name])} and {label(i)}). Column names must be "
                "unique: rename one of them.",
                row=header_row,
                column=name,
            )
        seen[name] = i
    width = hi - lo
    header_names = names[lo:hi]

    def no_rows() -> DataError:
        return DataError(
            path,
            f"the {kind} has a header row ({', '.join(header_names[:8])}{', ...' if width > 8 else ''}) but no "
            "data rows under it. Add at least one row of data.",
        )

    if text_cells:
        return _stream(path, header_names, lo, hi, records, no_rows, sha256=sha256, label=label,
                       hint=hint_extra_cells, prefer=prefer, missing=missing, row_names=row_names,
                       sheet=sheet, encoding=encoding, delimiter=delimiter)
    markers = {"", *missing}
    columns_cells: list[list[Any]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    cleaned: list[tuple[int, str, tuple[str, ...]]] = []
    for row_number, cells in records:
        if all(_blank(c) for c in cells):
            continue
        _check_outside(path, cells, lo, hi, row_number, label, hint_extra_cells)
        padded = list(cells[lo:hi]) + [None] * (width - len(cells[lo:hi]))
        for i, cell in enumerate(padded):
            if isinstance(cell, str) and is_dirty(cell):
                cell, done = clean_text(cell)
                if done:
                    cleaned.append((row_number, header_names[i], done))
            if isinstance(cell, str) and cell.strip() in markers:
                cell = None
            columns_cells[i].append(cell)
        row_numbers.append(row_number)
    if not row_numbers:
        raise no_rows()
    if row_names and all(c is None for c in columns_cells[0]):  # only a table starting in column B
        header_names, columns_cells = header_names[1:], columns_cells[1:]
    columns: list[Column] = []
    data: dict[str, list[Any]] = {}
    written: dict[str, list[str | None]] = {}
    for name, cells in zip(header_names, columns_cells, strict=True):
        ctype, values = type_column(name, cells, prefer=prefer)
        columns.append(Column(name, ctype))
        data[name] = values
        if ctype in ("integer", "number"):
            written[name] = [_written(cell, value) for cell, value in zip(cells, values, strict=True)]
    table = from_columns(columns, data, row_numbers, written)
    table.cleaned = cleaned
    return dataset_of(path, table, sha256=sha256, sheet=sheet, encoding=encoding, delimiter=delimiter)


def _written(cell: Any, value: Any) -> str | None:
    """The text a number cell prints as (its written form, "1,234.50"; "7" for a whole number in a column of
    decimals), or None when the number prints the same by itself."""
    if value is None or isinstance(cell, float):
        return None
    text = cell.strip() if isinstance(cell, str) else str(cell)
    return None if text == str(value) else text


def dataset_of(path: Path, table: Table, **kw: Any) -> Dataset:
    """The Dataset over an engine table (rows and row numbers are its lazy sequences); its ``notes`` tell about
    the values cleaned on reading (``table.cleaned``, :func:`cleaning_notes`)."""
    return Dataset(path=path, columns=table.columns, rows=table.rows, row_numbers=table.row_numbers, table=table,
                   notes=tuple(cleaning_notes(path, table.cleaned)), **kw)


def cleaning_notes(path: Path, cleaned: Sequence[tuple[int, str, tuple[str, ...]]]) -> list[str]:
    """One note per value cleaned on reading (:mod:`docgen.data.clean`), naming file, row and column, for the
    first :data:`CLEANED_SHOWN` of them, then one counting the rest. ``cleaned`` holds ``(row number, column,
    what was done)`` in file order. Empty when nothing was cleaned."""
    ordered = sorted(cleaned, key=lambda c: c[0])
    notes = [f"{path.name}, row {row}, column '{column}': the value held characters a Word document cannot show "
             f"({'; '.join(done)})." for row, column, done in ordered[:CLEANED_SHOWN]]
    rest = ordered[CLEANED_SHOWN:]
    if rest:
        rows = sorted({row for row, _c, _d in rest})
        notes.append(f"{path.name}: {len(rest)} more value(s) cleaned the same way, in row(s) "
                     f"{', '.join(map(str, rows[:10]))}{', ...' if len(rows) > 10 else ''}.")
    if notes:
        notes[-1] += " The documents use the cleaned values; correct the file if a value should read differently."
    return notes


def _stream(path: Path, names: list[str], lo: int, hi: int, records: Iterable[tuple[int, Sequence[Any]]],
            no_rows: Callable[[], DataError], *, sha256: str, label: Callable[[int], str], hint: str, prefer: str,
            missing: Sequence[str], row_names: bool, **kw: Any) -> Dataset:
    """The ``text_cells`` path of :func:`build_dataset`: records in chunks of :data:`CHUNK` into the engine."""
    width = hi - lo
    raw = RawTable(width, missing)
    chunk: list[Sequence[str]] = []
    numbers: list[int] = []
    for row_number, cells in records:
        if len(cells) != hi or lo:
            if len(cells) > hi or lo:
                _check_outside(path, cells, lo, hi, row_number, label, hint)
            cells = list(cells[lo:hi]) + [""] * (width - len(cells[lo:hi]))
        chunk.append(cells)
        numbers.append(row_number)
        if len(chunk) >= CHUNK:
            raw.append(numbers, list(zip(*chunk, strict=True)))
            chunk, numbers = [], []
    raw.append(numbers, list(zip(*chunk, strict=True)) if chunk else [])
    if not raw.count:
        raise no_rows()
    keep = list(range(width))
    if row_names and not raw.has_values(0):
        keep, names = keep[1:], names[1:]
    return dataset_of(path, raw.finish(names, keep, prefer=prefer), sha256=sha256, **kw)


def _check_outside(
    path: Path, cells: Sequence[Any], lo: int, hi: int, row_number: int, label: Callable[[int], str], hint: str
) -> None:
    """Raise when a record has a value in a column the header does not name."""
    for i in range(min(lo, len(cells))):
        if not _blank(cells[i]):
            raise DataError(
                path,
                f"{label(i)} holds {_show(cells[i])} but has no header name. Name the column in the header row or "
                "delete the value.",
                row=row_number,
            )
    extra = [i for i in range(hi, len(cells)) if not _blank(cells[i])]
    if extra:
        last = extra[-1]
        raise DataError(
            path,
            f"this row has {last + 1 - lo} values but the header has {hi - lo} columns ({label(last)} holds "
            f"{_show(cells[last])}). {hint}".rstrip(),
            row=row_number,
        )


def _show(cell: Any) -> str:
    text = to_text(cell)
    return repr(text if len(text) <= 40 else text[:37] + "...")
