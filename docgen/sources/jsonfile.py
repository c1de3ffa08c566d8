"""JSON files -> :class:`docgen.model.Dataset`.

Accepted shapes (RFC 8259 JSON, UTF-8 with or without BOM):

- a list of objects, one record each: ``[{"region": "East", "sales": 10}, ...]``;
- an object with exactly one key whose value is a list of objects -- the records -- such as
  ``{"records": [...], "generated": "2024-04-01"}`` (the other keys are metadata and are ignored);
- any other object: a single record.

Columns are the keys in the order they first appear; a record without a key has an empty cell there. Nested
objects are flattened with dotted names at any depth (``{"customer": {"name": "Ann"}}`` -> column
"customer.name"). Lists inside a record are rejected (the message names the record and key): docgen reads flat
tables. ``true``/``false`` become the text "true"/"false", ``null`` an empty cell; strings are typed like CSV
cells (so "2024-03-31" is a date and "00123" keeps its zeros). Row numbers are 1-based record indexes.
"""

from __future__ import annotations

import json
from pathlib import Path
from collections.abc import Sequence
from typing import Any

from docgen import limits
from docgen.data import DEFAULT_MISSING
from docgen.errors import DataError
from docgen.model import Dataset
from docgen.sources.table import build_dataset


def read_json(path: Path, data: bytes, sha256: str, *, missing: Sequence[str] = DEFAULT_MISSING) -> Dataset:
    """Read a JSON file whose bytes are ``data`` (not empty).

    Raises :class:`DataError` for text that is not UTF-8, invalid JSON (with json's line and column), NaN or
    Infinity, a shape other than those above, a list inside a record, a flattened name clashing with a key, and
    the checks of :func:`docgen.sources.table.build_dataset` (e.g. an empty list: no records).
    """
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DataError(
            path, f"the file is not UTF-8 text (byte {exc.start}). JSON must be UTF-8: save it again as UTF-8."
        ) from None

    def reject_constant(name: str) -> Any:
        raise DataError(path, f"{name} is not valid JSON. Write null for a missing number.")

    try:
        document = json.loads(text, parse_constant=reject_constant)
    except json.JSONDecodeError as exc:
        raise DataError(
            path,
            f"invalid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}. Fix the file there (a JSON "
            "validator shows the spot), or export it again.",
        ) from None
    except RecursionError:
        raise _too_deep(path, _deep_spot(text)) from None
    _check_depth(path, document, text)
    records = _records(path, document)
    flat = [_flatten(path, index, record) for index, record in enumerate(records, start=1)]
    names: dict[str, None] = {}
    for record in flat:
        names.update(dict.fromkeys(record))
    header = list(names)
    if not header:
        raise DataError(path, "the records have no keys, so there are no columns. Add data to the records.")
    rows = ((index, [record.get(n) for n in header]) for index, record in enumerate(flat, start=1))
    return build_dataset(path, header, None, rows, sha256=sha256, kind="JSON file", label=_key_label,
                         missing=missing)


def _too_deep(path: Path, where: str) -> DataError:
    return DataError(
        path,
        f"the JSON data is nested too deeply{where}: more than {limits.describe('nesting_depth')}. docgen reads "
        "flat tables (a record may hold objects a few levels deep); export the data as a list of records.",
    )


def _deep_spot(text: str) -> str:
    """" (at line L, column C)": where the nesting first goes past the bound, found without recursion."""
    bound = limits.current().nesting_depth
    depth, line, col = 0, 1, 0
    in_string = escaped = False
    for ch in text:
        col += 1
        if ch == "\n":
            line, col = line + 1, 0
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            if depth > bound:
                return f" (at line {line}, column {col})"
        elif ch in "]}":
            depth -= 1
    return ""


def _check_depth(path: Path, document: Any, text: str) -> None:
    """Raise DataError when objects/lists nest deeper than the bound (iterative: any depth is safe)."""
    bound = limits.current().nesting_depth
    stack: list[tuple[Any, int]] = [(document, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict | list):
            if depth > bound:
                raise _too_deep(path, _deep_spot(text))
            children = value.values() if isinstance(value, dict) else value
            stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))


def _key_label(index: int) -> str:
    return f"key number {index + 1} (counting keys in order of first appearance)"


def _records(path: Path, document: Any) -> list[Any]:
    if isinstance(document, dict):
        lists = [k for k, v in document.items() if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)]
        if len(lists) > 1:
            keys = ", ".join(f"'{k}'" for k in lists)
            raise DataError(
                path,
                f"the JSON object holds several lists of records ({keys}); docgen reads one table per file. "
                "Keep one list, or split the file.",
            )
        if lists:
            return document[lists[0]]
        if len(document) == 1 and next(iter(document.values())) == []:
            raise DataError(path, f"the list '{next(iter(document))}' is empty: there are no records. Add at least "
                                  "one object.")
        return [document]
    if isinstance(document, list):
        if not document:
            raise DataError(path, "the JSON list is empty: there are no records. Add at least one object.")
        for index, item in enumerate(document, start=1):
            if not isinstance(item, dict):
                raise DataError(
                    path,
                    f"record {index} is {_kind(item)}, not an object. Write each record as "
                    '{"column": value, ...}.',
                    row=index,
                )
        return document
    raise DataError(
        path,
        f"the JSON file holds {_kind(document)}. docgen reads a list of objects ([{{...}}, {{...}}]) or one object.",
    )


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {bool: "true/false", int: "a number", float: "a number", str: "a string", list: "a list",
            dict: "an object"}.get(type(value), type(value).__name__)


def _flatten(path: Path, index: int, record: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            items: list[tuple[str, Any]] = list(_flatten(path, index, value, prefix=name + ".").items())
        elif isinstance(value, list):
            raise DataError(
                path,
                f"the value of '{name}' is a list; docgen reads flat tables. Put the list's items in their own "
                "records (or columns), or join them into one string.",
                row=index,
                column=name,
            )
        else:
            if isinstance(value, bool):
                value = "true" if value else "false"
            items = [(name, value)]
        for flat_name, flat_value in items:
            if flat_name in out:
                raise DataError(
                    path,
                    f"the column name '{flat_name}' occurs twice in this record (a key with a dot clashes with a "
                    "nested object). Rename one of them.",
                    row=index,
                    column=flat_name,
                )
            out[flat_name] = flat_value
    return out
