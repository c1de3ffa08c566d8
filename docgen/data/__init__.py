"""docgen's data layer: typed tables held by a table engine, missing values, and aggregates computed in it.

Public API (everything else is internal; no module above this package imports the engine):

- :class:`Table`, :class:`Rows`, :class:`RowNumbers` (:mod:`.table`): typed columns in the engine, rows
  materialized lazily as dicts; :func:`from_columns` builds one from Python values, :meth:`Table.from_rows`
  from dicts;
- :class:`RawTable` (:mod:`.ingest`): text records streamed in and typed by the rules of :mod:`.columns`;
- :data:`DEFAULT_MISSING`: the cell texts that mean "no value" unless a template says otherwise;
- :mod:`.columns`: the typing rules (numbers, dates, identifiers, empties) every reader shares.

The engine is DuckDB (:mod:`.engine`, which says why and how it is sandboxed).
"""

from __future__ import annotations

from docgen.data.ingest import RawTable
from docgen.data.table import BLOCK, RowNumbers, Rows, Table, from_columns

#: Cell texts (after trimming surrounding whitespace) read as a missing value, besides the empty text: R's ``NA``
#: and the usual spellings of "not available" and "not a number". Compared exactly (case matters: ``na`` and
#: ``n/a`` stay text). A template replaces the list with ``[data] missing_values``.
DEFAULT_MISSING: tuple[str, ...] = ("NA", "N/A", "null", "NaN")

__all__ = ["BLOCK", "DEFAULT_MISSING", "RawTable", "RowNumbers", "Rows", "Table", "from_columns"]
