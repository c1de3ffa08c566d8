"""The table engine underneath docgen's data layer: DuckDB, in process, in memory, sandboxed.

Only this package imports ``duckdb``; everything above it sees :class:`docgen.data.Table` and plain Python values.
Why DuckDB (measured in ``bench/engines.py``, see the data layer's notes): it reads and aggregates 1M rows well
inside the targets, keeps its data compressed and column by column, computes medians, distinct counts and window
functions (running totals, period change) in one query, and -- decisive for templates that bring their own SQL --
it can be locked down: every connection here runs with

- ``enable_external_access = false``: SQL cannot read or write files, attach databases or load extensions;
- ``python_enable_replacements = false``: SQL cannot reach Python variables by name (only tables registered
  explicitly);
- ``lock_configuration = true``: SQL cannot switch either of them back on;
- ``threads`` = at most 2 (docgen shares an office PC with the model).
"""

from __future__ import annotations

import os
from typing import Any

#: Most threads the engine uses (the model and the GUI need the rest of an ordinary PC).
MAX_THREADS = 2


def connect(*, locked: bool = True) -> Any:
    """A new sandboxed in-memory DuckDB connection (rules: module docstring). ``locked=False`` leaves file access
    on so docgen itself can read a data file into it; call :func:`lock` before any template SQL runs. Raises
    ImportError if DuckDB is not installed (it is a dependency of docgen)."""
    import duckdb

    threads = max(1, min(MAX_THREADS, os.cpu_count() or 1))
    con = duckdb.connect(":memory:", config={"threads": threads, "python_enable_replacements": False})
    con.execute("SET enable_progress_bar = false")  # DuckDB would draw one on the terminal for long queries
    if locked:
        lock(con)
    return con


def lock(con: Any) -> None:
    """Switch file access off and lock the configuration of ``con`` (module docstring)."""
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def quote(name: str) -> str:
    """``name`` as a quoted SQL identifier: ``Sub-Category`` -> ``"Sub-Category"`` (inner quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def literal(value: Any) -> str:
    """A Python str/int/float/None as an SQL literal (strings single-quoted, inner quotes doubled)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def engine_error() -> tuple[type[BaseException], ...]:
    """The exception classes DuckDB raises for a bad query (to be turned into docgen errors by the caller)."""
    import duckdb

    return (duckdb.Error,)
