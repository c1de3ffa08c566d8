"""The baseline of bench/data.py: docgen's data path before the data layer (commit 3f5d893), kept verbatim
except for names: every CSV cell typed in Python into one dict per row, and aggregates added up in Python over
those dicts. Not used by docgen itself."""

from __future__ import annotations

import difflib
import hashlib
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from docgen.data.columns import POINT, COMMA, type_column
from docgen.errors import DataError, MissingValues
from docgen.model import AggregateSpec, Column, Dataset, Value
from docgen.sources.csvfile import decode, detect_delimiter, _records
from docgen.sources.table import _blank, _check_outside, position, to_text


def load_csv(path: Path) -> Dataset:
    """The old ``load_dataset`` for a CSV file: read all bytes, decode, type every cell in Python."""
    data = path.read_bytes()
    sha256 = hashlib.sha256(data).hexdigest()
    text, encoding = decode(path, data)
    delimiter = detect_delimiter(text)
    records = _records(path, text, delimiter)
    header_row, header = next(records)
    return build_dataset(path, header, header_row, records, sha256=sha256, kind="file",
                         prefer=COMMA if delimiter == ";" else POINT, encoding=encoding, delimiter=delimiter)


def build_dataset(
    path: Path,
    header: Sequence[Any],
    header_row: int | None,
    records: Iterable[tuple[int, Sequence[Any]]],
    *,
    sha256: str,
    kind: str,
    label: Any = position,
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



from collections.abc import Sequence
from typing import Any

from docgen.errors import DataError, MissingValues
from docgen.model import AggregateSpec, Dataset, Value


def _check_columns(spec: AggregateSpec, columns: Sequence[str], template_id: str) -> None:
    wanted = [c for c in (*spec.groups, *spec.sum, *spec.mean) if c]
    for name in wanted:
        if name not in columns:
            close = difflib.get_close_matches(name, list(columns), n=1)
            hint = f"; closest: '{close[0]}'" if close else ""
            raise MissingValues(
                f"Aggregate '{spec.name}' of template '{template_id}' uses column '{name}', which the data does "
                f"not have{hint}. Columns: {', '.join(columns)}.",
                [name],
            )


def _looks_numeric(value: Value) -> bool:
    try:
        float(str(value).replace(",", "").strip().lstrip("$€£"))
    except ValueError:
        return False
    return True


def _number(value: Value, dataset: Dataset, index: int, column: str,
            rows: Sequence[dict[str, Value]] | None = None) -> float | int | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        # The column was typed as text because some cell is not a number: point at that cell, not this one.
        culprit = index
        if rows is not None and _looks_numeric(value):
            culprit = next((i for i, r in enumerate(rows)
                            if r.get(column) not in (None, "") and not _looks_numeric(r.get(column))), index)
            value = rows[culprit].get(column)
        raise DataError(dataset.path, f"'{value}' is not a number, but the template sums this column. "
                        "Fix the cell (or empty it), or pick another data file.",
                        row=dataset.row_numbers[culprit] if culprit < len(dataset.row_numbers) else None,
                        column=column)
    return value


def compute(spec: AggregateSpec, dataset: Dataset, rows: Sequence[dict[str, Value]] | None = None,
            *, template_id: str = "") -> dict[str, Any] | list[dict[str, Any]]:
    """Compute one aggregate over ``rows`` (default: ``dataset.rows``; the pipeline passes rows extended with
    per-row section results, whose keys count as columns).

    Returns a dict (no ``group_by``) or a list of dicts (one per group, the group key under ``group_by``'s
    column name). Raises MissingValues for unknown columns, DataError for non-numeric summed cells.
    """
    rows = dataset.rows if rows is None else rows
    group = spec.groups[0] if spec.groups else None  # AggregateSpec now holds a tuple
    columns = list(dataset.column_names) + [k for k in (rows[0] if rows else {}) if k not in dataset.column_names]
    _check_columns(spec, columns, template_id)
    groups: dict[Any, list[int]] = {}
    for i, row in enumerate(rows):
        key = row.get(group) if group else None
        groups.setdefault(key, []).append(i)

    grand = 0.0
    if spec.sum:
        grand = sum(_number(r.get(spec.sum[0]), dataset, i, spec.sum[0], rows) or 0 for i, r in enumerate(rows))

    results = []
    for key, members in groups.items():
        out: dict[str, Any] = {group: key} if group else {}
        out["count"] = len(members)
        for col in spec.sum:
            out[col] = sum(_number(rows[i].get(col), dataset, i, col, rows) or 0 for i in members)
        for col in spec.mean:
            vals = [v for i in members if (v := _number(rows[i].get(col), dataset, i, col, rows)) is not None]
            out[f"mean_{col}"] = sum(vals) / len(vals) if vals else None
        if spec.sum:
            out["share"] = out[spec.sum[0]] / grand if grand else 0.0
        results.append(out)

    if not group:
        return results[0] if results else {"count": 0, **{c: 0 for c in spec.sum}}
    sort_key = (spec.sort[0] if spec.sort else None) or (spec.sum[0] if spec.sum else "count")
    results.sort(key=lambda r: (r.get(sort_key) is None, r.get(sort_key) or 0), reverse=not spec.ascending)
    if not spec.ascending:  # keep empty sort values last after reversing
        results.sort(key=lambda r: r.get(sort_key) is None)
    return results[: spec.limit] if spec.limit else results
