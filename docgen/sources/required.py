"""Checking that a dataset has the columns a template requires (``[data] required_columns``)."""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence

from docgen.errors import MissingValues, TemplateError
from docgen.model import Dataset


def loose_name(name: str) -> str:
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
    **each row of** ``dataset.rows`` **gets the required spelling as an extra key** with the same value (an alias
    of the engine table, :meth:`docgen.data.Table.add_alias`; ``dataset.columns`` keeps the file's names), so
    templates and aggregates can use the name they declare.

    Raises :class:`docgen.errors.MissingValues` (``names`` = the missing required names) naming each missing
    column, the template, and the closest existing column (:func:`closest_column`), e.g.
    "sample.csv has no column 'revenue' (required by template 'sales-report'); closest: 'Revenue_USD'.
    Rename the column, map a column of the file to it (--map revenue=COLUMN), or pick another template."
    """
    names = dataset.column_names
    present = set(names) | set(dataset.table.aliases if dataset.table is not None else ())
    missing: list[tuple[str, str]] = []
    aliases: dict[str, str] = {}
    for want in required:
        if want in present:
            continue
        loose = [c for c in names if loose_name(c) == loose_name(want)]
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
        example = missing[0][0]
        message += f" Rename the column{'s' if len(missing) > 1 else ''}, map a column of the file to it " \
                   f"(--map {example}=COLUMN), or pick another template. " \
                   f"Columns in the file: {shown}."
        raise MissingValues(message, [want for want, _ in missing])
    for want, have in aliases.items():
        if dataset.table is not None:
            dataset.table.add_alias(want, have)
        else:
            for row in dataset.rows:
                row[want] = row[have]


def map_columns(dataset: Dataset, mapping: Mapping[str, str], *, template_id: str) -> None:
    """Apply ``--map template_column=data_column`` (and the desktop app's Match Fields): each template column name
    becomes another name of the data column, in every row and in aggregates, like Word's mail-merge Match
    Fields. The file's own column names stay as they are.

    Raises MissingValues naming the data column that does not exist (with the closest one and the columns of
    the file).
    """
    names = dataset.column_names
    for want, have in mapping.items():
        if have not in names:
            close = closest_column(have, names)
            note = f"; closest: '{close}'" if close else ""
            raise MissingValues(
                f"--map {want}={have}: {dataset.path.name} has no column '{have}'{note}. Columns in the file: "
                f"{', '.join(repr(c) for c in names[:12])}{', ...' if len(names) > 12 else ''}.", [have])
        if want == have:
            continue
        if dataset.table is not None:
            dataset.table.add_alias(want, have)
        else:
            for row in dataset.rows:
                row[want] = row[have]


def prepare_dataset(dataset: Dataset, *, template_id: str, required: Sequence[str] = (),
                    computed: Sequence[tuple[str, str]] = (), mapping: Mapping[str, str] | None = None) -> None:
    """Make ``dataset`` ready for a template, in place: ``mapping`` (:func:`map_columns`), then the required
    columns (:func:`require_columns`), then the template's ``[data] computed`` columns (name, SQL expression),
    which every row then carries and aggregates can use.

    Raises MissingValues (unmapped or missing columns) or TemplateError (a computed column that cannot be
    computed, naming it and the reason).
    """
    if mapping:
        map_columns(dataset, mapping, template_id=template_id)
    require_columns(dataset, required, template_id=template_id)
    if not computed:
        return
    from docgen.data import Table
    from docgen.data.engine import engine_error

    table = dataset.table
    if table is None:
        raise TemplateError(f"Template '{template_id}' declares computed columns, which need data read from a file.")
    assert isinstance(table, Table)
    for name, expression in computed:
        try:
            table.add_computed(name, expression)
        except (ValueError, *engine_error()) as exc:
            message = str(exc).splitlines()[0]
            raise TemplateError(f"Template '{template_id}': the computed column '{name}' = {expression!r} cannot be "
                                f"computed over {dataset.path.name}: {message}. Fix it under [data] computed in "
                                "docgen.toml (see docs/template-language.md).") from None
