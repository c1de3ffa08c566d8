"""Declared aggregates (``[[aggregates]]`` in docgen.toml): totals and group tables computed from the data,
so that neither the template author's Jinja nor the model has to add up thousands of rows.

Rules: ``sum``/``mean`` skip empty cells (None); a non-numeric cell in a summed column is a
:class:`~docgen.errors.DataError` naming the row and column. Every result row also carries ``count`` (rows in
the group) and ``share`` (the group's part of the grand total of the first ``sum`` column, a ratio 0..1, for
the ``percent`` filter). Groups are sorted by ``sort`` (default: first ``sum`` column, else ``count``),
descending unless ``ascending = true``, then cut to ``limit`` (0 = all).
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from typing import Any

from docgen.errors import DataError, MissingValues
from docgen.model import AggregateSpec, Dataset, Value


def _check_columns(spec: AggregateSpec, columns: Sequence[str], template_id: str) -> None:
    wanted = [c for c in (spec.group_by, *spec.sum, *spec.mean) if c]
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
    columns = list(dataset.column_names) + [k for k in (rows[0] if rows else {}) if k not in dataset.column_names]
    _check_columns(spec, columns, template_id)
    groups: dict[Any, list[int]] = {}
    for i, row in enumerate(rows):
        key = row.get(spec.group_by) if spec.group_by else None
        groups.setdefault(key, []).append(i)

    grand = 0.0
    if spec.sum:
        grand = sum(_number(r.get(spec.sum[0]), dataset, i, spec.sum[0], rows) or 0 for i, r in enumerate(rows))

    results = []
    for key, members in groups.items():
        out: dict[str, Any] = {spec.group_by: key} if spec.group_by else {}
        out["count"] = len(members)
        for col in spec.sum:
            out[col] = sum(_number(rows[i].get(col), dataset, i, col, rows) or 0 for i in members)
        for col in spec.mean:
            vals = [v for i in members if (v := _number(rows[i].get(col), dataset, i, col, rows)) is not None]
            out[f"mean_{col}"] = sum(vals) / len(vals) if vals else None
        if spec.sum:
            out["share"] = out[spec.sum[0]] / grand if grand else 0.0
        results.append(out)

    if not spec.group_by:
        return results[0] if results else {"count": 0, **{c: 0 for c in spec.sum}}
    sort_key = spec.sort or (spec.sum[0] if spec.sum else "count")
    results.sort(key=lambda r: (r.get(sort_key) is None, r.get(sort_key) or 0), reverse=not spec.ascending)
    if not spec.ascending:  # keep empty sort values last after reversing
        results.sort(key=lambda r: r.get(sort_key) is None)
    return results[: spec.limit] if spec.limit else results
