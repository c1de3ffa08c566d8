"""Declared aggregates (``[[aggregates]]`` in docgen.toml): totals and group tables computed from the data,
so that neither the template author's Jinja nor the model has to add up thousands of rows.

The computing is done in the table engine by :mod:`docgen.data.aggregate` (its docstring states every rule:
``where``, several group columns, sum/mean/median/min/max/count distinct, share, period change, running totals,
explicit order, top N and "others", SQL); this module picks the table to compute over and turns problems into
docgen errors naming the template, the aggregate, the file, and the row and column when there is one.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from docgen.data import Rows, Table
from docgen.data.aggregate import AggregateError, compute as compute_in_engine
from docgen.errors import DataError, MissingValues, TemplateError
from docgen.model import AggregateSpec, Dataset, Value

REFERENCE = "docs/template-language.md"


def table_for(dataset: Dataset, rows: Sequence[dict[str, Value]] | None = None) -> Table:
    """The engine table an aggregate reads: the dataset's own (when ``rows`` is None, the dataset's rows, or
    copies of them with no keys added), else a table of ``rows`` (rows extended with per-row section results,
    or the single row of a rows-mode document)."""
    own = dataset.table
    if rows is None or rows is dataset.rows or (isinstance(rows, Rows) and rows.table is own):
        if own is not None:
            return own
        rows = dataset.rows
    elif own is not None and len(rows) == len(own):
        known = set(own.column_names) | set(own.aliases)
        if not rows or set(rows[0]) <= known:
            return own
    numbers = dataset.row_numbers if len(dataset.row_numbers) == len(rows) else None
    return Table.from_rows(dataset.columns, list(rows), numbers)


def compute(spec: AggregateSpec, dataset: Dataset, rows: Sequence[dict[str, Value]] | None = None,
            *, template_id: str = "") -> dict[str, Any] | list[dict[str, Any]]:
    """Compute one aggregate over ``rows`` (default: the dataset's rows; the pipeline passes rows extended with
    per-row section results, whose keys count as columns).

    Returns a dict (no ``group_by``, no ``sql``) or a list of dicts (one per group, the group values under their
    column names). Raises MissingValues for unknown columns (with the closest one), DataError naming the row and
    column of a text cell in a summed column, TemplateError for an SQL error in ``where``, computed columns or
    ``sql``.
    """
    table = table_for(dataset, rows)
    try:
        return compute_in_engine(spec, table)
    except AggregateError as exc:
        where = f"Aggregate '{spec.name}'" + (f" of template '{template_id}'" if template_id else "")
        if exc.missing:
            raise MissingValues(f"{where} {exc.message}.", list(exc.missing)) from None
        if exc.row is not None:
            raise DataError(dataset.path, exc.message, row=exc.row, column=exc.column) from None
        raise TemplateError(f"{where}: {exc.message}. Fix it in docgen.toml (see 'Aggregates' in {REFERENCE}).") \
            from None
