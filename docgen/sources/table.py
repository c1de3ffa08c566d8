"""Raw header + records -> typed :class:`docgen.model.Dataset`, with the checks every reader shares.

Rules (the same for CSV, Excel and JSON):

- Header names lose surrounding whitespace (and a stray byte-order mark), so " Sales" is the column "Sales".
- Blank header cells at either end of the header are not columns (a table may start in column B); a blank
  header cell *between* named ones is an error naming its position, and so is a name used twice.
- A record with fewer cells than the header is padded with empty cells; a non-empty cell outside the header's
  columns is an error naming the row. Fully empty records are skipped.
- A file whose header has no records under it is an error.
- Columns are typed by :func:`docgen.sources.columns.type_column`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from docgen.errors import DataError
from docgen.model import Column, Dataset
from docgen.sources.columns import POINT, to_text, type_column


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
) -> Dataset:
    """Check the header and records of a table and type its columns.

    ``header`` is the raw header row (found at user-visible row ``header_row``, None for JSON); ``records`` yields
    ``(row_number, cells)`` with ``row_number`` as the user sees it. ``kind`` names the thing for messages
    ("CSV file", "sheet 'Sheet1'"); ``label`` names a 0-based column position ("column 3", "column C").
    ``prefer`` is the number convention tried first.

    Raises :class:`DataError` for blank or duplicate header names, a value outside the header's columns, and a
    header without records. Rules: module docstring.
    """
    names = ["" if _blank(h) else to_text(h).lstrip("\ufeff").strip() for h in header]
    named = [i for i, n in enumerate(names) if n]
    if not named:
        raise DataError(path, f"the {kind} has no header row. Put the column names in the first row.")
    lo, hi = named[0], named[-1] + 1
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
    columns_cells: list[list[Any]] = [[] for _ in range(width)]
    row_numbers: list[int] = []
    for row_number, cells in records:
        if all(_blank(c) for c in cells):
            continue
        _check_outside(path, cells, lo, hi, row_number, label, hint_extra_cells)
        padded = list(cells[lo:hi]) + [None] * (width - len(cells[lo:hi]))
        for i, cell in enumerate(padded):
            columns_cells[i].append(cell)
        row_numbers.append(row_number)
    if not row_numbers:
        raise DataError(
            path,
            f"the {kind} has a header row ({', '.join(names[lo:hi][:8])}{', ...' if width > 8 else ''}) but no "
            "data rows under it. Add at least one row of data.",
        )
    columns: list[Column] = []
    typed: list[list[Any]] = []
    for name, cells in zip(names[lo:hi], columns_cells, strict=True):
        ctype, values = type_column(name, cells, prefer=prefer)
        columns.append(Column(name, ctype))
        typed.append(values)
    column_names = [c.name for c in columns]
    rows = tuple(dict(zip(column_names, values, strict=True)) for values in zip(*typed, strict=True))
    return Dataset(
        path=path,
        columns=tuple(columns),
        rows=rows,
        row_numbers=tuple(row_numbers),
        sha256=sha256,
        sheet=sheet,
        encoding=encoding,
        delimiter=delimiter,
    )


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
