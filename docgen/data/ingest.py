"""Raw text records -> a typed :class:`~docgen.data.table.Table`, streamed into the engine in chunks.

Readers whose cells are all text (CSV) append records with :meth:`RawTable.append`; :meth:`RawTable.finish`
types every column by docgen's rules (:mod:`docgen.data.columns`, unchanged) without ever holding a column
as Python objects:

1. every cell is trimmed (Python's ``str.strip`` whitespace) and a missing-value marker becomes missing;
2. the first :data:`SAMPLE` present values of a column are typed by :func:`~docgen.data.columns.type_column`.
   If the sample is text, the column is text (a value that is neither a number nor a date in the sample is one in
   the whole column too);
3. otherwise the whole column is checked in the engine against the plain forms whose value the engine reads
   exactly as the rules do -- whole numbers without a leading zero (``-12``, ``0``, ``340``), decimals with a
   point (``12.5``, ``.5``; only where the point is the preferred decimal mark) and ISO dates
   (``2024-03-31``) -- and cast there;
4. a column that is not all in such forms (currency, percentages, thousands separators, decimal commas, other
   date forms, Excel serial dates) is typed exactly by the rules over its *distinct* values, and the engine maps
   each value to its typed form.

The result is the same as running the rules over every cell, at the cost of one scan per numeric column.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from docgen.data.clean import DIRTY_SQL, clean_text
from docgen.data.engine import connect, engine_error, literal, lock
from docgen.data.table import Table
from docgen.model import Column, ColumnType
from docgen.data.columns import POINT, type_column

#: Present values per column typed in Python to predict the column's type.
SAMPLE = 1000
#: Characters Python's ``str.strip()`` removes: every code point whose ``isspace()`` is true (tests check the
#: list against the running Python).
WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
              "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")

_INT = r"[+-][0-9]{1,18}|0|[1-9][0-9]{0,17}"
_DECIMAL = r"[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)"
_LEADING_ZERO = r"0[0-9]+"
_ISO_DATE = r"[0-9]{4}-[0-9]{2}-[0-9]{2}"
#: Cell texts a number prints as by itself (Python's ``str``), whose written form need not be kept.
_PLAIN_INT = r"-?(0|[1-9][0-9]*)"
_PLAIN_DECIMAL = r"-?(0|[1-9][0-9]*)\.[0-9]*[1-9]"
#: Joins a record's values for the row-level screens: neither whitespace nor a character that is cleaned.
_SEP = "\x7f"


class RawTable:
    """Text records of ``width`` columns, appended in chunks, typed once at the end (module docstring).

    ``missing``: the cell texts (after trimming) that mean "no value"; the empty text always does.
    """

    def __init__(self, width: int, missing: Sequence[str], *, _create: bool = True, _locked: bool = True) -> None:
        self.width = width
        self.count = 0
        self._con = connect(locked=_locked)
        if _create:
            cols = ", ".join(f"r{i} VARCHAR" for i in range(width))
            self._con.execute(f"CREATE TABLE raw (__i BIGINT, __row BIGINT{', ' + cols if cols else ''})")
        markers = ", ".join(literal(m) for m in sorted({"", *missing}))
        # trim() with a character list is slow, so it runs only on the few values that start or end with
        # whitespace (a regex test is cheap); values are normalized once, as they are inserted.
        edge = literal(f"^[{WHITESPACE}]|[{WHITESPACE}]$")
        self._edge = edge
        self._index, self._row = "__i", "__row"
        self._con.execute(f"CREATE MACRO strip(x) AS CASE WHEN regexp_matches(x, {edge}) "
                          f"THEN trim(x, {literal(WHITESPACE)}) ELSE x END")
        self._markers = markers
        self._marker_set = {"", *missing}
        self._dirty_free = False  # True once a screen found no character that needs cleaning anywhere

    @classmethod
    def read_csv(cls, path: Path, *, delimiter: str, width: int, records: int, missing: Sequence[str]
                 ) -> RawTable | None:
        """Let the engine's own CSV reader read a simple file: UTF-8, header on line 1, ``records`` records on
        the lines after it (so no blank lines and no line breaks inside values), every record with exactly
        ``width`` values, ``"`` as the quote (doubled inside quotes). Row numbers are then the line numbers.
        Returns None when the engine's reading does not match those conditions (the caller reads the file
        record by record instead, with its exact messages)."""
        raw = cls(width, missing, _create=False, _locked=False)
        con = raw._con
        columns = "{" + ", ".join(f"{literal(f'r{k}')}: 'VARCHAR'" for k in range(width)) + "}"
        nulls = "[" + ", ".join(literal(m) for m in sorted({"", *missing})) + "]"
        try:
            # Exact markers become NULL in the reader itself; values with whitespace at an edge (rare) are
            # trimmed and checked against the markers afterwards, column by column. Rows stay in file order,
            # so rowid is the position and rowid + 2 the line number.
            con.execute(
                f"CREATE TABLE raw AS SELECT * FROM read_csv({literal(str(path))}, delim={literal(delimiter)}, "
                f"quote='\"', escape='\"', header=false, skip=1, columns={columns}, auto_detect=false, "
                f"strict_mode=true, null_padding=false, encoding='utf-8', nullstr={nulls}, allow_quoted_nulls=true)")
            all_null = " AND ".join(f"r{k} IS NULL" for k in range(width))
            # One regular expression per record (not per cell: 13x fewer calls on a 13-column file) screens
            # for both rare cases, whitespace at a value's edge and characters a document cannot hold; only a
            # file where it finds something has its columns checked one by one (exact).
            count, blank, suspect = con.execute(
                f"SELECT count(*), count(*) FILTER (WHERE {all_null}), "
                f"coalesce(bool_or(regexp_matches({raw._joined()}, {literal(_screen_pattern())})), false) "
                "FROM raw").fetchone()
            raw._dirty_free = not suspect
            edges = con.execute("SELECT " + ", ".join(
                f"coalesce(bool_or(regexp_matches(r{k}, {raw._edge})), false)" for k in range(width))
                + " FROM raw").fetchone() if suspect else (False,) * width
            for k, edge in enumerate(edges):
                if edge:
                    con.execute(f"ALTER TABLE raw ALTER COLUMN r{k} SET DATA TYPE VARCHAR USING "
                                f"CASE WHEN strip(r{k}) IN ({raw._markers}) THEN NULL ELSE strip(r{k}) END")
            if any(edges):  # cells of only spaces are missing now: a row of them is a blank row
                blank = con.execute(f"SELECT count(*) FILTER (WHERE {all_null}) FROM raw").fetchone()[0]
        except engine_error():
            con.close()
            return None
        lock(con)
        if count != records or blank:
            con.close()
            return None
        raw.count = count
        raw._index, raw._row = "rowid", "rowid + 2"
        return raw

    def _joined(self) -> str:
        """SQL for one record's values joined by :data:`_SEP` (missing values left out), for row-level screens."""
        return f"concat_ws({literal(_SEP)}, " + ", ".join(f"r{k}" for k in range(self.width)) + ")" \
            if self.width else "''"

    def head(self, n: int) -> list[tuple[str | None, ...]]:
        """The first ``n`` records as stored (trimmed, missing values None)."""
        cols = ", ".join(f"r{k}" for k in range(self.width))
        return self._con.execute(f"SELECT {cols} FROM raw WHERE {self._index} < ? ORDER BY {self._index}",
                                 [n]).fetchall()

    def append(self, row_numbers: Sequence[int], columns: Sequence[Sequence[str | None]]) -> None:
        """Add records: ``columns[k][j]`` is column k of the j-th record, ``row_numbers[j]`` its row number."""
        import numpy as np

        n = len(row_numbers)
        if not n:
            return
        chunk: dict[str, Any] = {"__i": np.arange(self.count, self.count + n, dtype=np.int64),
                                 "__row": np.asarray(row_numbers, dtype=np.int64)}
        for k, values in enumerate(columns):
            chunk[f"r{k}"] = np.array(values, dtype=object)
        self._con.register("chunk", chunk)
        names = ", ".join(["__i", "__row", *(f"r{k}" for k in range(self.width))])
        self._con.execute(f"INSERT INTO raw ({names}) {self._normalized('chunk')}")
        self._con.unregister("chunk")
        self.count += n

    def _normalized(self, source: str) -> str:
        """SELECT __i, __row and every column r0.. of ``source`` trimmed, with markers as NULL (once each)."""
        inner = ", ".join(["__i", "__row", *(f"strip(CAST(r{k} AS VARCHAR)) AS s{k}" for k in range(self.width))])
        outer = ", ".join(["__i", "__row", *(f"CASE WHEN s{k} IN ({self._markers}) THEN NULL ELSE s{k} END AS r{k}"
                                              for k in range(self.width))])
        return f"SELECT {outer} FROM (SELECT {inner} FROM {source}) AS stripped"

    def has_values(self, k: int) -> bool:
        """True when column ``k`` holds at least one value that is not missing."""
        return self._con.execute(f"SELECT count(r{k}) FROM raw").fetchone()[0] > 0

    def finish(self, names: Sequence[str], keep: Sequence[int], *, prefer: str = POINT) -> Table:
        """Type columns ``keep`` (raw positions) named ``names`` and return the table (module docstring)."""
        con = self._con
        cleaned = self._clean(names, keep)
        kinds: list[tuple[ColumnType, str]] = []  # (docgen type, "" while still to be typed)
        checks: list[tuple[int, str, ColumnType, str]] = []
        head = con.execute(
            "SELECT " + ", ".join(f"r{k}" for k in keep) + f" FROM raw WHERE {self._index} < {SAMPLE * 4}").fetchall() \
            if keep else []
        for pos, (name, k) in enumerate(zip(names, keep, strict=True)):
            sample = [r[pos] for r in head if r[pos] is not None][:SAMPLE]
            if len(sample) < 50:  # mostly empty at the top: look further down
                sample = [r[0] for r in con.execute(
                    f"SELECT r{k} AS v FROM raw WHERE v IS NOT NULL ORDER BY {self._index} LIMIT {SAMPLE}").fetchall()]
            guess, _ = type_column(name, sample, prefer=prefer)
            if guess == "text":
                kinds.append(("text", f"r{k}"))
                continue
            fast = _fast_form(guess, sample, prefer)
            if fast is not None:
                checks.append((pos, f"r{k}", guess, fast))
            kinds.append((guess, ""))
        numeric = [(pos, k) for pos, (_name, k) in enumerate(zip(names, keep, strict=True))
                   if kinds[pos][0] in ("integer", "number") and not kinds[pos][1]]
        # one scan for all numeric columns: their plain-form checks and whether their written form is kept
        tests = [f"coalesce(bool_and({_test(form, raw)}) FILTER (WHERE {raw} IS NOT NULL), true)"
                 for _pos, raw, _guess, form in checks]
        tests += [f"coalesce(bool_or({_written_test(k, kinds[pos][0])}), false)" for pos, k in numeric]
        found = con.execute(f"SELECT {', '.join(tests)} FROM raw").fetchone() if tests else ()
        passed, needs_written = found[:len(checks)], found[len(checks):]
        keep_written = {pos for (pos, _k), needed in zip(numeric, needs_written, strict=True) if needed}
        fast_ok = {pos: (form if ok else None) for (pos, _raw, _g, form), ok in zip(checks, passed, strict=True)}
        datetime_columns: list[str] = []
        written: dict[str, str] = {}
        # Typed in place, one column at a time, so the table is never held twice.
        for k in range(self.width):
            if k not in keep:
                con.execute(f"ALTER TABLE raw DROP COLUMN r{k}")
        for pos, (name, k) in enumerate(zip(names, keep, strict=True)):
            ctype, expr = kinds[pos]
            if pos in keep_written:
                self._keep_written(k, pos, ctype)
                written[name] = f"__w{pos}"
            if not expr:
                form = fast_ok.get(pos)
                if form is not None:
                    sql_type = {"int": "BIGINT", "decimal": "DOUBLE", "iso": "DATE"}[form]
                    con.execute(f"ALTER TABLE raw ALTER COLUMN r{k} SET DATA TYPE {sql_type} "
                                f"USING CAST(r{k} AS {sql_type})")
                else:
                    ctype = self._map_distinct(name, k, prefer)
                    if ctype == "date":
                        datetime_columns.append(name)
                kinds[pos] = (ctype, "typed")
            con.execute(f"ALTER TABLE raw RENAME COLUMN r{k} TO __c{pos}")
        con.execute("ALTER TABLE raw RENAME TO t")
        columns = [Column(name, ctype) for name, (ctype, _e) in zip(names, kinds, strict=True)]
        table = Table(con, columns, self.count, [f"__c{pos}" for pos in range(len(kinds))],
                      datetime_columns=datetime_columns, index=self._index, row=self._row, written=written)
        table.cleaned = cleaned
        return table

    def _keep_written(self, k: int, pos: int, ctype: ColumnType) -> None:
        """Keep the text of number column ``k`` as column ``__w{pos}`` where the number would not print the same
        by itself ("1,234.50", "2.50", "$5", "7" among decimals; :func:`_written_test`). Called only for a
        column where some cell needs it; values in the plain form Python prints (``-12``, ``3.25``) are left
        out."""
        self._con.execute(f"ALTER TABLE raw ADD COLUMN __w{pos} VARCHAR")
        self._con.execute(f"UPDATE raw SET __w{pos} = r{k} WHERE {_written_test(k, ctype)}")

    def _clean(self, names: Sequence[str], keep: Sequence[int]) -> list[tuple[int, str, tuple[str, ...]]]:
        """Clean the values of columns ``keep`` that hold characters a document cannot (:mod:`.clean`), in place,
        before they are typed; returns (row number, column name, what was done) for each value changed."""
        import numpy as np

        con = self._con
        out: list[tuple[int, str, tuple[str, ...]]] = []
        pattern = literal(DIRTY_SQL)
        if not keep or self._dirty_free:
            return out
        if not con.execute(f"SELECT coalesce(bool_or(regexp_matches({self._joined()}, {pattern})), false) "
                           "FROM raw").fetchone()[0]:
            return out
        dirty = con.execute("SELECT " + ", ".join(f"coalesce(bool_or(regexp_matches(r{k}, {pattern})), false)"
                                                  for k in keep) + " FROM raw").fetchone()
        for name, k, any_dirty in zip(names, keep, dirty, strict=True):
            if not any_dirty:
                continue
            found = con.execute(f"SELECT {self._row} AS r, r{k} FROM raw WHERE regexp_matches(r{k}, {pattern}) "
                                f"ORDER BY {self._index}").fetchall()
            if not found:
                continue
            fixed: dict[str, tuple[str | None, tuple[str, ...]]] = {}
            for row, value in found:
                if value not in fixed:
                    text, done = clean_text(value)
                    text = text.strip(WHITESPACE)
                    fixed[value] = (None if text in self._marker_set else text, done)
                done = fixed[value][1]
                if done:
                    out.append((row, name, done))
            fixed = {key: fix for key, fix in fixed.items() if fix[1]}
            if not fixed:
                continue
            keys = list(fixed)
            con.register("fixes", {"k": np.array(keys, dtype=object),
                                   "v": np.array([fixed[x][0] for x in keys], dtype=object)})
            con.execute("CREATE TABLE m AS SELECT CAST(k AS VARCHAR) AS k, CAST(v AS VARCHAR) AS v FROM fixes")
            con.unregister("fixes")
            con.execute(f"UPDATE raw SET r{k} = m.v FROM m WHERE raw.r{k} = m.k")
            con.execute("DROP TABLE m")
        return out

    def _map_distinct(self, name: str, k: int, prefer: str) -> ColumnType:
        """Type column ``k`` in place by the rules over its distinct values; returns its docgen type."""
        import numpy as np

        con = self._con
        distinct = [r[0] for r in con.execute(f"SELECT DISTINCT r{k} AS v FROM raw WHERE v IS NOT NULL")
                    .fetchall()]
        ctype, values = type_column(name, distinct, prefer=prefer)
        if ctype == "text":
            return "text"
        if ctype == "integer":
            big = max((abs(v) for v in values), default=0)
            sql_type = "BIGINT" if big < 2**63 else "HUGEINT" if big < 2**127 else "DOUBLE"
            typed = np.array([str(v) for v in values], dtype=object)
        elif ctype == "number":
            sql_type, typed = "DOUBLE", np.array(values, dtype=np.float64)
        else:
            sql_type = "TIMESTAMP"
            typed = np.array([(v if isinstance(v, dt.datetime) else dt.datetime.combine(v, dt.time(0)))
                              .isoformat(sep=" ") for v in values], dtype=object)
        con.register("mapping", {"k": np.array(distinct, dtype=object), "v": typed})
        con.execute(f"CREATE TABLE m AS SELECT CAST(k AS VARCHAR) AS k, CAST(v AS {sql_type}) AS v FROM mapping")
        con.unregister("mapping")
        con.execute(f"ALTER TABLE raw ADD COLUMN typed {sql_type}")
        con.execute(f"UPDATE raw SET typed = m.v FROM m WHERE raw.r{k} = m.k")
        con.execute(f"ALTER TABLE raw DROP COLUMN r{k}")
        con.execute(f"ALTER TABLE raw RENAME COLUMN typed TO r{k}")
        con.execute("DROP TABLE m")
        return ctype


def _fast_form(guess: ColumnType, sample: Sequence[str], prefer: str) -> str | None:
    """Which plain form the whole column is checked against, or None when it needs the exact rules."""
    if guess == "integer":
        return "int"
    if guess == "number" and prefer == POINT:
        return "decimal"
    if guess == "date" and sample and all(len(v) == 10 for v in sample):
        return "iso"
    return None


def _written_test(k: int, ctype: ColumnType) -> str:
    """SQL: the cell of raw column ``k`` (a number column of type ``ctype``) does not print the same as the
    number by itself, so its written text is kept."""
    plain = _PLAIN_INT if ctype == "integer" else _PLAIN_DECIMAL
    return (f"(r{k} IS NOT NULL AND NOT (regexp_full_match(r{k}, {literal(plain)}) AND length(r{k}) <= 16 "
            f"AND NOT regexp_matches(r{k}, '^-?0\\.000')))")


def _screen_pattern() -> str:
    """A regular expression over a record's values joined by :data:`_SEP` that matches whenever some value
    starts or ends with whitespace or holds a character :mod:`.clean` removes (it may also match when neither
    is so, e.g. a value holding the separator: then the columns are checked one by one)."""
    ws = "".join(f"\\x{{{ord(c):x}}}" for c in WHITESPACE)
    sep = f"\\x{{{ord(_SEP):x}}}"
    return f"^[{ws}]|[{ws}]$|{sep}[{ws}]|[{ws}]{sep}|{DIRTY_SQL}"


def _test(form: str, value: str) -> str:
    if form == "int":
        return f"regexp_full_match({value}, {literal(_INT)})"
    if form == "decimal":
        return (f"(regexp_full_match({value}, {literal(_DECIMAL)}) "
                f"AND NOT regexp_full_match({value}, {literal(_LEADING_ZERO)}))")
    return f"(regexp_full_match({value}, {literal(_ISO_DATE)}) AND TRY_CAST({value} AS DATE) IS NOT NULL)"
