"""Aggregates computed in the engine: one SQL query per ``[[aggregates]]`` table (docs/template-language.md,
"Aggregates", is the user documentation of every rule here).

The query reads the view ``data`` (the table's columns under their own names, :meth:`Table.data_view`):

1. ``where`` (an SQL condition, e.g. ``Region <> 'Central' AND Sales > 0``) keeps matching rows;
2. rows are grouped by ``group_by`` (one or more columns; a missing value is a group of its own) and each group
   gets ``count`` (rows), the sums (``<col>``; missing values count as nothing, a group with none sums to 0),
   ``mean_``, ``median_``, ``min_``, ``max_`` (missing values left out; None if none is left) and
   ``distinct_<col>`` (distinct present values), and ``share``: its part of the first summed column's total
   over the kept rows (0..1; 0 when that total is 0);
3. ``change_<key>`` / ``growth_<key>``: the difference to, and the ratio minus one of, the previous group along
   ``period`` (default: the last group_by column) within the same values of the other group columns, in period
   order; None for the first period (and growth None when the previous value is 0 or missing);
   ``running_<key>``: the running total along the period the same way;
4. sorting: by ``sort`` (result keys), descending unless ``ascending``; by default the groups in their order
   (``order`` lists, else ascending) when ``order``, ``change`` or ``running`` is given, else by the first sum,
   else by ``count``, descending. Missing sort values go last; ties keep the order in which the groups first
   appear in the file;
5. ``limit`` keeps the first N groups; with ``others = "Other"`` the rest are aggregated into one more row whose
   group value is that label (one group column only).

``sql`` aggregates run the author's single SELECT over ``data`` as it is (at most :data:`MAX_SQL_ROWS` rows).
All SQL runs on the sandboxed connection of :mod:`.engine` and is interrupted after :data:`SQL_SECONDS` seconds.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from docgen.data.engine import engine_error, literal, quote
from docgen.data.table import Table
from docgen.model import AggregateSpec

#: Most rows an ``sql`` aggregate may return (a table in a Word document, not an export).
MAX_SQL_ROWS = 10_000
#: Seconds any one aggregate query may run before it is interrupted.
SQL_SECONDS = 60.0

#: Result-key prefix for each statistic.
PREFIXES = {"mean": "mean_", "median": "median_", "min": "min_", "max": "max_", "count_distinct": "distinct_"}
_SQL_FUNCTIONS = {"mean": "avg", "median": "median", "min": "min", "max": "max"}


class AggregateError(Exception):
    """An aggregate cannot be computed: ``message`` says why in the user's terms (the caller adds the template,
    aggregate and file); ``column``/``row`` point at the culprit when known."""

    def __init__(self, message: str, *, column: str | None = None, row: int | None = None,
                 missing: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.message = message
        self.column = column
        self.row = row
        self.missing = tuple(missing)


def result_keys(spec: AggregateSpec) -> list[str]:
    """The keys of each result row of ``spec`` (group columns, count, statistics, share, change, running)."""
    keys = [*spec.groups, "count", *spec.sum]
    for stat, prefix in PREFIXES.items():
        keys += [prefix + c for c in getattr(spec, stat)]
    if spec.sum:
        keys.append("share")
    for key in spec.change:
        keys += [f"change_{key}", f"growth_{key}"]
    keys += [f"running_{key}" for key in spec.running]
    return keys


def compute(spec: AggregateSpec, table: Table) -> dict[str, Any] | list[dict[str, Any]]:
    """Compute ``spec`` over ``table`` (rules: module docstring). Returns a dict without ``group_by`` (and for
    neither ``sql``), else a list of dicts.

    Raises AggregateError for an unknown column (``missing`` holds it), a text cell in a column that is summed
    or averaged (``row``/``column`` point at it), an SQL error in ``where``/``sql`` (the engine's message), an
    ``sql`` that is not one SELECT or returns too many rows, and a query running too long.
    """
    for name, expression in spec.computed:
        try:
            table.add_computed(name, expression)
        except ValueError as exc:
            raise AggregateError(f"computed column '{name}': {exc}", column=name) from None
        except engine_error() as exc:
            raise AggregateError(f"computed column '{name}' = {expression!r} cannot be computed: "
                                 f"{_engine_message(exc)}", column=name) from None
    try:
        table.data_view()
    except ValueError as exc:
        raise AggregateError(str(exc)) from None
    if spec.sql:
        return _run_sql(spec, table)
    _check_columns(spec, table)
    query = build_query(spec, table)
    names, rows = _timed(table, query)
    out = [_row(names, r) for r in rows]
    if not spec.groups:
        return out[0] if out else {"count": 0, **{c: 0 for c in spec.sum}}
    return out


def build_query(spec: AggregateSpec, table: Table) -> str:
    """The SQL of a (non-``sql``) aggregate over the view ``data`` (module docstring)."""
    where = f" WHERE ({spec.where})" if spec.where else ""
    keys = [quote(g) for g in spec.groups]
    named_keys = [f"{k} AS {k}" for k in keys]  # the template's spelling, also where SQL matched another case
    stats = ["count(*) AS \"count\""]
    stats += [f"coalesce(sum({quote(c)}), 0) AS {quote(c)}" for c in spec.sum]
    for stat, prefix in PREFIXES.items():
        for c in getattr(spec, stat):
            fn = f"count(DISTINCT {quote(c)})" if stat == "count_distinct" else f"{_SQL_FUNCTIONS[stat]}({quote(c)})"
            stats.append(f"{fn} AS {quote(prefix + c)}")
    share = ""
    if spec.sum:
        first = quote(spec.sum[0])
        share = f", coalesce({first} / NULLIF(sum({first}) OVER (), 0), 0.0) AS \"share\""
    grouped = (f"SELECT {', '.join([*named_keys, *stats, 'min(__i) AS __first'])} FROM data{where}"
               + (f" GROUP BY {', '.join(keys)}" if keys else ""))
    windows = []
    if spec.groups and (spec.change or spec.running):
        period = spec.period or spec.groups[-1]
        partition = [quote(g) for g in spec.groups if g != period]
        over = (f"(PARTITION BY {', '.join(partition)} " if partition else "(") + \
            f"ORDER BY {_order_key(spec, period)} ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)"
        lag_over = (f"(PARTITION BY {', '.join(partition)} " if partition else "(") + \
            f"ORDER BY {_order_key(spec, period)})"
        for key in spec.change:
            value = quote(key)
            windows.append(f"{value} - lag({value}) OVER {lag_over} AS {quote('change_' + key)}")
            windows.append(f"{value} / NULLIF(lag({value}) OVER {lag_over}, 0) - 1 AS {quote('growth_' + key)}")
        for key in spec.running:
            windows.append(f"sum({quote(key)}) OVER {over} AS {quote('running_' + key)}")
    inner = f"SELECT *{share}{''.join(', ' + w for w in windows)} FROM ({grouped}) AS g"
    if not spec.groups:
        return f"SELECT * EXCLUDE (__first) FROM ({inner}) AS s"
    order = _sort(spec)
    ranked = f"SELECT *, row_number() OVER (ORDER BY {order}) AS __rank FROM ({inner}) AS s"
    if spec.limit and spec.others:
        return _with_others(spec, ranked, where)
    limit = f" WHERE __rank <= {int(spec.limit)}" if spec.limit else ""
    return f"SELECT * EXCLUDE (__first, __rank) FROM ({ranked}) AS r{limit} ORDER BY __rank"


def _with_others(spec: AggregateSpec, ranked: str, where: str) -> str:
    """Top ``limit`` groups plus one row aggregating the others under the label ``others``."""
    group = quote(spec.groups[0])
    stats = ["count(*) AS \"count\""]
    stats += [f"coalesce(sum({quote(c)}), 0) AS {quote(c)}" for c in spec.sum]
    for stat, prefix in PREFIXES.items():
        for c in getattr(spec, stat):
            fn = f"count(DISTINCT {quote(c)})" if stat == "count_distinct" else f"{_SQL_FUNCTIONS[stat]}({quote(c)})"
            stats.append(f"{fn} AS {quote(prefix + c)}")
    kept = (f"NOT EXISTS (SELECT 1 FROM ranked AS k WHERE k.__rank <= {int(spec.limit)} "
            f"AND k.{group} IS NOT DISTINCT FROM d.{group})")
    rest = (f"SELECT {literal(spec.others)} AS {group}, {', '.join(stats)} FROM data AS d"
            f"{where}{' AND' if where else ' WHERE'} {kept} HAVING count(*) > 0")
    columns = result_keys(spec)
    top_cols = ", ".join(quote(c) for c in columns)
    rest_cols = ", ".join(quote(c) if c != "share" else "NULL AS \"share\"" for c in columns)
    share = ""
    if spec.sum:
        first = quote(spec.sum[0])
        share = f", coalesce({first} / NULLIF(sum({first}) OVER (), 0), 0.0) AS \"share\""
    union = (f"SELECT {top_cols}, __rank FROM ranked WHERE __rank <= {int(spec.limit)} "
             f"UNION ALL SELECT {rest_cols}, {int(spec.limit) + 1} AS __rank FROM ({rest}) AS o")
    final_cols = ", ".join(quote(c) for c in columns if c != "share")
    return (f"WITH ranked AS ({ranked}) SELECT {final_cols}{share} FROM ({union}) AS u ORDER BY __rank")


def _order_key(spec: AggregateSpec, column: str) -> str:
    """ORDER BY terms for one group column: its explicit ``order`` list first (unlisted values after), then
    its own value ascending."""
    values = spec.order.get(column)
    if not values:
        return f"{quote(column)} ASC NULLS LAST"
    cases = " ".join(f"WHEN {literal(v)} THEN {i}" for i, v in enumerate(values))
    return f"CASE {quote(column)} {cases} ELSE {len(values)} END, {quote(column)} ASC NULLS LAST"


def _sort(spec: AggregateSpec) -> str:
    direction = "ASC" if spec.ascending else "DESC"
    if spec.sort:
        terms = [f"{quote(k)} {direction} NULLS LAST" for k in spec.sort]
    elif spec.order or spec.change or spec.running:
        terms = [_order_key(spec, g) for g in spec.groups]
    else:
        terms = [f"{quote(spec.sum[0] if spec.sum else 'count')} {direction} NULLS LAST"]
    return ", ".join([*terms, "__first"])


def _check_columns(spec: AggregateSpec, table: Table) -> None:
    """Unknown columns and text in numeric statistics, with the culprit row (module docstring)."""
    import difflib

    names = [*table.column_names, *table.aliases]
    wanted = [*spec.groups, *spec.sum, *spec.mean, *spec.median, *spec.min, *spec.max, *spec.count_distinct]
    if spec.period and spec.period not in spec.groups:
        raise AggregateError(f"period '{spec.period}' must be one of its group_by columns "
                             f"({', '.join(spec.groups) or 'none'})", column=spec.period)
    for name in wanted:
        if table.internal(name) is None:
            close = difflib.get_close_matches(name, names, n=1)
            hint = f"; closest: '{close[0]}'" if close else ""
            raise AggregateError(f"uses column '{name}', which the data does not have{hint}. "
                                 f"Columns: {', '.join(names)}", column=name, missing=[name])
    keys = set(result_keys(spec))
    for key in (*spec.change, *spec.running, *(spec.sort or ())):
        if key not in keys:
            raise AggregateError(f"'{key}' is not one of its result keys ({', '.join(sorted(keys))})", column=key)
    for name in (*spec.sum, *spec.mean, *spec.median):
        if table.column_type(name) != "text":
            continue
        names_, rows = table.query(
            f"SELECT __row, {quote(name)} FROM data WHERE {quote(name)} IS NOT NULL "
            f"AND TRY_CAST({quote(name)} AS DOUBLE) IS NULL ORDER BY __i LIMIT 1")
        if rows:
            row, value = rows[0]
            raise AggregateError(f"'{value}' is not a number, but the template sums this column. Fix the cell "
                                 "(or empty it), or pick another data file.", column=name, row=row)
        raise AggregateError(f"column '{name}' holds text, not numbers; the template sums it", column=name)


def _run_sql(spec: AggregateSpec, table: Table) -> list[dict[str, Any]]:
    import duckdb

    try:
        statements = table._con.extract_statements(spec.sql)
    except engine_error() as exc:
        raise AggregateError(f"its sql is not valid SQL: {_engine_message(exc)}") from None
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise AggregateError("its sql must be one SELECT statement over the table data (no other statements)")
    query = statements[0].query.strip().rstrip(";")
    names, rows = _timed(table, f"SELECT * FROM ({query}) AS q LIMIT {MAX_SQL_ROWS + 1}")
    if len(rows) > MAX_SQL_ROWS:
        raise AggregateError(f"its sql returns more than {MAX_SQL_ROWS:,} rows; aggregate or LIMIT it")
    return [_row(names, r) for r in rows]


def _timed(table: Table, query: str) -> tuple[list[str], list[tuple[Any, ...]]]:
    timer = threading.Timer(SQL_SECONDS, table._con.interrupt)
    timer.start()
    try:
        return table.query(query)
    except engine_error() as exc:
        if "interrupt" in str(exc).lower():
            raise AggregateError(f"the query ran longer than {SQL_SECONDS:.0f} seconds and was stopped") from None
        raise AggregateError(_engine_message(exc)) from None
    finally:
        timer.cancel()


def _engine_message(exc: BaseException) -> str:
    text = str(exc).strip()
    for prefix in ("Binder Error: ", "Parser Error: ", "Conversion Error: ", "Catalog Error: "):
        text = text.replace(prefix, "")
    return text.splitlines()[0] if text else type(exc).__name__


def _row(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in zip(names, values, strict=True):
        if name.startswith("__"):
            continue
        if isinstance(value, dt.datetime) and value.time() == dt.time(0) and value.tzinfo is None:
            value = value.date()
        elif type(value).__name__ == "Decimal":
            value = float(value)
        out[name] = value
    return out


def rows_table(columns: Sequence[Any], rows: Sequence[Mapping[str, Any]], row_numbers: Sequence[int]) -> Table:
    """An engine table of Python ``rows`` (per-row section results added to a file's rows)."""
    return Table.from_rows(columns, rows, row_numbers)
