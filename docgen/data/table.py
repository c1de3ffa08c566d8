"""docgen's table type: typed columns held by the engine, rows materialized only when asked for.

A :class:`Table` keeps its columns inside the engine (:mod:`.engine`), under internal names ``__c0``, ``__c1``...
(so two columns whose names differ only in case stay apart), with ``__i`` (0-based position) and ``__row``
(the row number a user sees in the file). Python sees:

- :attr:`Table.rows`: a read-only sequence of ``dict`` (column name -> value), fetched in blocks of
  :data:`BLOCK` rows; ``len(rows)``, ``rows[i]``, ``rows[a:b]`` and iteration never build all rows at once.
  A dict is a fresh copy each time: changing it changes nothing in the table.
- :attr:`Table.row_numbers`: the same for the row numbers.

Values come back as docgen's :data:`docgen.model.Value`: ``int``, ``float``, ``str``, ``datetime.date``
(``datetime.datetime`` when the time of day is not midnight) or ``None`` for a missing value.
"""

from __future__ import annotations

import datetime as dt
import threading
import weakref
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from docgen.data.columns import written as with_written
from docgen.data.engine import connect, quote
from docgen.model import Column, ColumnType, Value

#: Rows fetched from the engine at a time when iterating or reading by index.
BLOCK = 2048

_SQL_TYPES: dict[str, str] = {"integer": "HUGEINT", "number": "DOUBLE", "date": "TIMESTAMP", "text": "VARCHAR"}


class Table:
    """Typed columns in the engine (module docstring). Build one with :func:`docgen.data.from_columns` or
    :meth:`from_rows`; the ingest helpers of :mod:`docgen.data.ingest` build them from raw records.

    ``columns``: the user-visible columns in order, each with its docgen type. ``aliases``: extra names that
    read another column (a template's spelling of a column name, ``--map``); they appear in every row dict.
    """

    def __init__(self, con: Any, columns: Sequence[Column], length: int, internal: Sequence[str],
                 datetime_columns: Sequence[str] = (), *, index: str = "__i", row: str = "__row",
                 written: Mapping[str, str] | None = None) -> None:
        self._con = con
        self._index = index  # SQL for the 0-based position (a column, or rowid for a table in file order)
        self._row = row  # SQL for the user-visible row number
        self._lock = threading.RLock()
        self.columns: tuple[Column, ...] = tuple(columns)
        self._internal = dict(zip((c.name for c in columns), internal, strict=True))
        self._datetime = set(datetime_columns)  # TIMESTAMP columns: midnight values come back as dates
        # number columns -> the engine column holding each cell's text where it was written in a person's form
        # ("1,234.50"; NULL where the number prints the same); rows give those values as WrittenFloat/WrittenInt
        self._written = dict(written or {})
        self.aliases: dict[str, str] = {}
        self._computed: dict[str, str] = {}
        self._computed_order: list[str] = []
        self.length = length
        #: Values cleaned on reading (:mod:`docgen.data.clean`): (row number, column name, what was done).
        self.cleaned: list[tuple[int, str, tuple[str, ...]]] = []
        self._block: tuple[int, list[dict[str, Value]]] | None = None
        self._numbers: tuple[int, list[int]] | None = None
        weakref.finalize(self, con.close)

    # --- building ---------------------------------------------------------------------------------------

    @classmethod
    def from_rows(cls, columns: Sequence[Column], rows: Sequence[Mapping[str, Value]],
                  row_numbers: Sequence[int] | None = None) -> Table:
        """A table of ``rows`` (dicts, already typed as ``columns`` say; missing keys are missing values).
        Keys that are not in ``columns`` become extra text/number columns typed from their values (per-row
        section results such as ``sentiment``). ``row_numbers`` default to 2, 3, ... (a header on row 1)."""
        names = [c.name for c in columns]
        extra: list[str] = []
        for row in rows:
            for key in row:
                if key not in names and key not in extra:
                    extra.append(key)
        cols = list(columns) + [Column(k, _guess_type([r.get(k) for r in rows])) for k in extra]
        data = {c.name: [_plain(r.get(c.name)) for r in rows] for c in cols}
        numbers = list(row_numbers) if row_numbers is not None else list(range(2, len(rows) + 2))
        return from_columns(cols, data, numbers)

    # --- reading ----------------------------------------------------------------------------------------

    @property
    def column_names(self) -> tuple[str, ...]:
        """Column names in file order (without aliases)."""
        return tuple(c.name for c in self.columns)

    @property
    def computed(self) -> dict[str, str]:
        """The computed columns added by :meth:`add_computed`: name -> SQL expression, in the order added (they
        are also the last entries of ``columns``)."""
        return {name: self._computed[name] for name in self._computed_order}

    def __len__(self) -> int:
        return self.length

    @property
    def rows(self) -> Rows:
        """The rows as a lazy read-only sequence of dicts."""
        return Rows(self)

    @property
    def row_numbers(self) -> RowNumbers:
        """The row numbers a user sees, as a lazy read-only sequence of ints."""
        return RowNumbers(self)

    def internal(self, name: str) -> str | None:
        """The engine's name for column (or alias) ``name``, or None when there is no such column."""
        name = self.aliases.get(name, name)
        return self._internal.get(name)

    def column_type(self, name: str) -> ColumnType | None:
        """The docgen type of column (or alias) ``name``, or None."""
        name = self.aliases.get(name, name)
        return next((c.type for c in self.columns if c.name == name), None)

    def add_alias(self, alias: str, column: str) -> None:
        """Make ``alias`` read column ``column`` (in row dicts and in aggregates). Raises KeyError for an unknown
        column."""
        if column not in self._internal:
            raise KeyError(column)
        with self._lock:
            self.aliases[alias] = column
            self._block = None

    def fetch(self, start: int, stop: int) -> list[dict[str, Value]]:
        """Rows ``start`` (inclusive) to ``stop`` (exclusive) as dicts, in file order."""
        start, stop = max(0, start), min(stop, self.length)
        if start >= stop:
            return []
        names = self.column_names
        marked = [(i, n) for i, n in enumerate(names) if n in self._written]
        select = ", ".join([*(self._internal[n] for n in names), *(self._written[n] for _i, n in marked)])
        with self._lock:
            tuples = self._con.execute(
                f"SELECT {select} FROM t WHERE {self._index} >= ? AND {self._index} < ? ORDER BY {self._index}",
                [start, stop]).fetchall()
        out = []
        aliases = list(self.aliases.items())
        fix = [i for i, n in enumerate(names) if n in self._datetime]
        width = len(names)
        for values in tuples:
            row = dict(zip(names, values[:width], strict=True))
            for extra, (i, name) in enumerate(marked, start=width):
                if values[extra] is not None and values[i] is not None:
                    row[name] = with_written(values[i], values[extra])
            for i in fix:
                v = values[i]
                if isinstance(v, dt.datetime) and v.time() == dt.time(0):
                    row[names[i]] = v.date()
            for alias, column in aliases:
                row.setdefault(alias, row[column])
            out.append(row)
        return out

    def row(self, index: int) -> dict[str, Value]:
        """Row ``index`` (0-based) as a fresh dict. Raises IndexError."""
        if not 0 <= index < self.length:
            raise IndexError(index)
        with self._lock:
            block = self._block
            if block is None or not block[0] <= index < block[0] + len(block[1]):
                first = index - index % BLOCK
                block = (first, self.fetch(first, first + BLOCK))
                self._block = block
            return dict(block[1][index - block[0]])

    def row_number(self, index: int) -> int:
        """The user-visible row number of row ``index``. Raises IndexError."""
        if not 0 <= index < self.length:
            raise IndexError(index)
        with self._lock:
            cached = self._numbers
            if cached is None or not cached[0] <= index < cached[0] + len(cached[1]):
                first = index - index % (BLOCK * 8)
                numbers = [r[0] for r in self._con.execute(
                    f"SELECT {self._row} FROM t WHERE {self._index} >= ? AND {self._index} < ? "
                    f"ORDER BY {self._index}", [first, first + BLOCK * 8]
                ).fetchall()]
                cached = (first, numbers)
                self._numbers = cached
            return cached[1][index - cached[0]]

    def query(self, sql: str, params: Sequence[Any] = ()) -> tuple[list[str], list[tuple[Any, ...]]]:
        """Run ``sql`` (over table ``t`` with the internal column names, or view ``data`` once
        :meth:`data_view` made it) and return (column names, value tuples). Engine errors propagate."""
        with self._lock:
            cursor = self._con.execute(sql, list(params))
            names = [d[0] for d in cursor.description]
            return names, cursor.fetchall()

    def execute(self, sql: str) -> None:
        """Run a statement that returns nothing (views for aggregates)."""
        with self._lock:
            self._con.execute(sql)

    def data_view(self) -> str:
        """(Re)create the view ``data``: ``__i``, ``__row`` and every column and alias under its user-visible name,
        which is what user SQL (``where``, computed columns, ``sql`` aggregates) reads. Returns "data".

        Raises ValueError naming them when two names differ only in case (SQL cannot tell them apart)."""
        seen: dict[str, str] = {}
        for name in [*self.column_names, *self._sql_aliases()]:
            other = seen.setdefault(name.casefold(), name)
            if other != name:
                raise ValueError(f"the columns '{other}' and '{name}' differ only in upper/lower case, which SQL "
                                 "cannot tell apart; rename one of them in the data file")
        self.execute(f"CREATE OR REPLACE VIEW data AS SELECT {self._index} AS __i, {self._row} AS __row, "
                     f"{self.select_list()} FROM t")
        return "data"

    def add_computed(self, name: str, expression: str) -> None:
        """Add column ``name`` computed by the SQL ``expression`` over the other columns (``tip / total_bill``,
        ``year("Order Date")``), evaluated in the engine for every row. Its type follows the result: whole
        numbers -> integer, other numbers -> number, dates/timestamps -> date, the rest (true/false too) ->
        text. Re-adding the same name with the same expression does nothing.

        Raises ValueError for a name that is already a column, and the engine's error for a bad expression."""
        if self._computed.get(name) == expression:
            return
        if name in self._internal or name in self.aliases:
            raise ValueError(f"'{name}' is already a column of the data")
        self.data_view()
        internal = f"__c{len(self._internal)}"
        with self._lock:
            self._con.execute(f"CREATE OR REPLACE TEMP TABLE __probe AS SELECT ({expression}) AS v FROM data LIMIT 0")
            sql_type = self._con.execute("SELECT data_type FROM information_schema.columns "
                                         "WHERE table_name = '__probe'").fetchone()[0].upper()
            self._con.execute("DROP TABLE __probe")
            ctype, cast = _result_type(sql_type)
            own = [c[0] for c in self._con.execute("SELECT column_name FROM information_schema.columns "
                                                   "WHERE table_name = 't' ORDER BY ordinal_position").fetchall()]
            keep = ", ".join(quote(c) for c in own)
            # the same scan order, so positions (and rowid) stay those of the file
            self._con.execute(f"CREATE TABLE t2 AS SELECT {keep}, CAST(({expression}) AS {cast}) AS {internal} "
                              f"FROM (SELECT *, {self.select_list()} FROM t) AS src")
            self._con.execute("DROP VIEW data")
            self._con.execute("DROP TABLE t")
            self._con.execute("ALTER TABLE t2 RENAME TO t")
            self._internal[name] = internal
            self._computed[name] = expression
            self._computed_order.append(name)
            self.columns = (*self.columns, Column(name, ctype))
            if ctype == "date":
                self._datetime.add(name)
            self._block = None

    def select_list(self) -> str:
        """``c0 AS "Sales", ...`` for every column and alias: the user-visible names over table ``t``."""
        parts = [f"{self._internal[c.name]} AS {quote(c.name)}" for c in self.columns]
        parts += [f"{self._internal[col]} AS {quote(alias)}" for alias, col in self._sql_aliases().items()]
        return ", ".join(parts)

    def _sql_aliases(self) -> dict[str, str]:
        """Aliases SQL needs as names of their own: not those differing from their column only in case (SQL
        identifiers ignore case, so ``region`` already reads ``Region``)."""
        return {a: c for a, c in self.aliases.items()
                if a not in self._internal and a.casefold() != c.casefold()}


class Rows(Sequence):
    """A table's rows as a lazy read-only sequence of dicts (module docstring). Jinja can loop over it, slice
    it, take its length and filter it (``selectattr``) like a list."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, index):  # noqa: ANN001 - int or slice, as list
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self._table))
            if step == 1:
                return self._table.fetch(start, stop)
            return [self._table.row(i) for i in range(start, stop, step)]
        if index < 0:
            index += len(self._table)
        return self._table.row(index)

    def __iter__(self) -> Iterator[dict[str, Value]]:
        for start in range(0, len(self._table), BLOCK):
            yield from self._table.fetch(start, start + BLOCK)

    def __add__(self, other):  # noqa: ANN001 - list + list, as in Jinja templates
        return list(self) + list(other)

    def __eq__(self, other: object) -> bool:
        """Equal to any sequence holding the same rows (as a list would be); cheap for the same table."""
        if isinstance(other, Rows) and other._table is self._table:
            return True
        if isinstance(other, Sequence) and not isinstance(other, str):
            return len(other) == len(self) and all(a == b for a, b in zip(self, other, strict=False))
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    @property
    def table(self) -> Table:
        """The table these rows come from."""
        return self._table

    def __repr__(self) -> str:
        return f"<{len(self)} rows>"


class RowNumbers(Sequence):
    """A table's user-visible row numbers as a lazy read-only sequence of ints."""

    def __init__(self, table: Table) -> None:
        self._table = table

    def __len__(self) -> int:
        return len(self._table)

    def __getitem__(self, index):  # noqa: ANN001 - int or slice, as tuple
        if isinstance(index, slice):
            return tuple(self._table.row_number(i) for i in range(*index.indices(len(self._table))))
        if index < 0:
            index += len(self._table)
        return self._table.row_number(index)

    def __iter__(self) -> Iterator[int]:
        for i in range(len(self._table)):
            yield self._table.row_number(i)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Sequence) and not isinstance(other, str):
            return tuple(self) == tuple(other)
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]


def _result_type(sql_type: str) -> tuple[ColumnType, str]:
    """An engine type name -> (docgen type, the type the column is stored as)."""
    if sql_type in ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "UTINYINT", "USMALLINT", "UINTEGER", "UBIGINT"):
        return "integer", "BIGINT"
    if sql_type in ("HUGEINT", "UHUGEINT"):
        return "integer", "HUGEINT"
    if sql_type in ("FLOAT", "DOUBLE", "REAL") or sql_type.startswith("DECIMAL"):
        return "number", "DOUBLE"
    if sql_type == "DATE" or sql_type.startswith("TIMESTAMP"):
        return "date", "TIMESTAMP"
    return "text", "VARCHAR"


def _plain(value: Any) -> Any:
    """A value the engine can store: dicts/lists (JSON section results) become their JSON text."""
    if isinstance(value, Mapping | list | tuple):
        import json

        return json.dumps(value, ensure_ascii=False, default=str)
    return value


def _guess_type(values: Sequence[Any]) -> ColumnType:
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return "integer"
    if present and all(isinstance(v, int | float) and not isinstance(v, bool) for v in present):
        return "number"
    if present and all(isinstance(v, dt.date) for v in present):
        return "date"
    return "text"


def from_columns(columns: Sequence[Column], data: Mapping[str, Sequence[Any]], row_numbers: Sequence[int],
                 written: Mapping[str, Sequence[str | None]] | None = None) -> Table:
    """A table from typed Python values, one sequence per column (``data[name][i]`` is row i's value), all of the
    same length as ``row_numbers``. Values must fit their column's type (``int`` for integer, ``int``/``float``
    for number, ``date``/``datetime`` for date, ``str`` for text) or be None. ``written[name][i]`` (number
    columns) is the cell's text where it was written in a person's form ("1,234.50"), else None: rows then give
    that value as a :class:`~docgen.data.columns.WrittenFloat`/``WrittenInt`` printing as written."""
    import numpy as np

    con = connect()
    internal = [f"__c{i}" for i in range(len(columns))]
    sql_types = [_sql_type(col.type, data[col.name]) for col in columns]
    marks = {col.name: f"__w{i}" for i, col in enumerate(columns)
             if written and col.type in ("integer", "number") and any(w is not None for w in written.get(col.name, ()))}
    ddl = ", ".join([*(f"{c} {t}" for c, t in zip(internal, sql_types, strict=True)),
                     *(f"{w} VARCHAR" for w in marks.values())])
    con.execute(f"CREATE TABLE t (__i BIGINT, __row BIGINT{', ' + ddl if ddl else ''})")
    n = len(row_numbers)
    for start in range(0, n, 65536):
        stop = min(n, start + 65536)
        chunk: dict[str, Any] = {"__i": np.arange(start, stop, dtype=np.int64),
                                 "__row": np.asarray(row_numbers[start:stop], dtype=np.int64)}
        for c, col in zip(internal, columns, strict=True):
            values = data[col.name][start:stop]
            chunk[c] = _array(values, col.type)
        for name, w in marks.items():
            chunk[w] = np.array(list(written[name][start:stop]), dtype=object)  # type: ignore[index]
        con.register("chunk", chunk)
        cols = ", ".join(["__i", "__row", *internal, *marks.values()])
        casts = ", ".join(["__i", "__row", *(f"CAST({c} AS {t})" for c, t in zip(internal, sql_types, strict=True)),
                           *(f"CAST({w} AS VARCHAR)" for w in marks.values())])
        con.execute(f"INSERT INTO t ({cols}) SELECT {casts} FROM chunk")
        con.unregister("chunk")
    dates = [col.name for col in columns if col.type == "date"]
    return Table(con, columns, n, internal, datetime_columns=dates, written=marks)


def _sql_type(ctype: ColumnType, values: Sequence[Any]) -> str:
    """The engine type for a column: BIGINT for integers that fit 64 bits, HUGEINT for larger ones (up to
    about 1.7e38), DOUBLE beyond that (the value is then rounded to 15-17 significant digits)."""
    if ctype != "integer":
        return _SQL_TYPES[ctype]
    big = max((abs(v) for v in values if v is not None), default=0)
    return "BIGINT" if big < 2**63 else "HUGEINT" if big < 2**127 else "DOUBLE"


def _array(values: Sequence[Any], ctype: ColumnType) -> Any:
    import numpy as np

    if ctype == "text":
        return np.array([None if v is None else str(v) for v in values], dtype=object)
    if ctype == "date":
        return np.array([None if v is None else (v if isinstance(v, dt.datetime) else
                                                 dt.datetime.combine(v, dt.time(0))).isoformat(sep=" ")
                         for v in values], dtype=object)
    if ctype == "integer":
        return np.array([None if v is None else str(int(v)) for v in values], dtype=object)
    return np.array([None if v is None else float(v) for v in values], dtype=object)
