"""Checking that a dataset has the columns a template requires (``[data] required_columns``)."""

from __future__ import annotations

import difflib
from collections.abc import Sequence

from docgen.errors import MissingValues
from docgen.model import Dataset


def _loose(name: str) -> str:
    """Case- and whitespace-insensitive form: "Postal  Code " and "postal code" compare equal."""
    return " ".join(name.split()).casefold()


def closest_column(name: str, columns: Sequence[str]) -> str | None:
    """The existing column most like ``name`` (difflib ratio >= 0.6, compared case-insensitively), or None."""
    lowered = {c.casefold(): c for c in reversed(columns)}
    match = difflib.get_close_matches(name.casefold(), list(lowered), n=1, cutoff=0.6)
    return lowered[match[0]] if match else None


def require_columns(dataset: Dataset, required: Sequence[str], *, template_id: str) -> None:
    """Check that ``dataset`` has every column in ``required``.

    Matching: an exact name matches. Otherwise a column whose name differs only in case or whitespace
    ("Revenue" for "revenue", "Postal  Code" for "Postal Code") is accepted when it is the only such column, and
    **each row dict of** ``dataset.rows`` **gets the required spelling as an extra key** with the same value
    (``dataset.columns`` keeps the file's names), so templates can use the name they declare.

    Raises :class:`docgen.errors.MissingValues` (``names`` = the missing required names) naming each missing
    column, the template, and the closest existing column (:func:`closest_column`), e.g.
    "sample.csv has no column 'revenue' (required by template 'sales-report'); closest: 'Revenue_USD'.
    Rename the column or pick another template."
    """
    names = dataset.column_names
    present = set(names)
    missing: list[tuple[str, str]] = []
    aliases: dict[str, str] = {}
    for want in required:
        if want in present:
            continue
        loose = [c for c in names if _loose(c) == _loose(want)]
        if len(loose) == 1:
            aliases[want] = loose[0]
            continue
        if loose:
            note = "several columns differ from it only in case or spaces: " + ", ".join(f"'{c}'" for c in loose)
        else:
            close = closest_column(want, names)
            note = f"closest: '{close}'" if close else "no similar column"
        missing.append((want, note))
    if missing:
        file = dataset.path.name
        if len(missing) == 1:
            want, note = missing[0]
            message = f"{file} has no column '{want}' (required by template '{template_id}'); {note}."
        else:
            listed = "; ".join(f"'{want}' ({note})" for want, note in missing)
            message = f"{file} lacks {len(missing)} columns required by template '{template_id}': {listed}."
        shown = ", ".join(f"'{c}'" for c in names[:12]) + (", ..." if len(names) > 12 else "")
        message += f" Rename the column{'s' if len(missing) > 1 else ''} or pick another template. " \
                   f"Columns in the file: {shown}."
        raise MissingValues(message, [want for want, _ in missing])
    for want, have in aliases.items():
        for row in dataset.rows:
            row[want] = row[have]
