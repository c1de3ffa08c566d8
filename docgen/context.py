"""The context stage: the Jinja context one document is written from (fields, data, aggregates).

The same context feeds the prompts, the output name and template.docx. Its names:

- the fields' values (``--set`` / GUI form, else a same-named data column in rows mode, else the manifest
  default; :func:`field_values`);
- ``rows`` (table mode: every record) or ``row`` and ``row_number`` (rows mode: this record);
- ``columns``, ``template`` (id, name, version), ``today``, ``record_count``;
- after :func:`add_aggregates`, every declared aggregate by its name.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping
from typing import Any

from docgen.errors import MissingValues, TemplateError
from docgen.llm.prompt import render_text
from docgen.model import DocumentJob, TemplateSpec
from docgen.templates.aggregates import compute as compute_aggregate


def coerce_field(template: TemplateSpec, name: str, value: Any) -> Any:
    """Convert a typed-in value (``--set`` text, GUI form) to the field's type.

    Raises TemplateError naming the field and the expected form when the value does not fit.
    """
    spec = next((f for f in template.fields if f.name == name), None)
    if spec is None or value is None or not isinstance(value, str):
        return value
    text = value.strip()
    try:
        if spec.type == "number":
            number = float(text.replace(",", ""))
            return int(number) if number.is_integer() and "." not in text else number
        if spec.type == "date":
            return dt.date.fromisoformat(text)
    except ValueError:
        form = "a number such as 1250.5" if spec.type == "number" else "a date as YYYY-MM-DD"
        raise TemplateError(f"Field '{name}' ({spec.label}) must be {form}; got '{value}'.") from None
    if spec.type == "choice" and text not in spec.choices:
        raise TemplateError(f"Field '{name}' ({spec.label}) must be one of {', '.join(spec.choices)}; got '{value}'.")
    return text


def field_values(job: DocumentJob) -> dict[str, Any]:
    """The fields' values for this document, by the precedence in the module docstring.

    Raises MissingValues listing every required field without a value; TemplateError for unknown names.
    """
    template = job.template
    known = {f.name for f in template.fields}
    unknown = sorted(set(job.values) - known)
    if unknown:
        raise TemplateError(
            f"Template '{template.id}' has no field {', '.join(repr(u) for u in unknown)}. "
            f"Its fields: {', '.join(sorted(known)) or 'none'}."
        )
    row = job.dataset.rows[job.row_index] if job.row_index is not None else {}
    out: dict[str, Any] = {}
    missing = []
    for spec in template.fields:
        value = job.values.get(spec.name)
        if value in (None, "") and spec.name in row:
            value = row[spec.name]
        if value in (None, ""):
            value = spec.default
        value = coerce_field(template, spec.name, value)
        if spec.required and value in (None, ""):
            missing.append(spec.name)
        out[spec.name] = value
    if missing:
        raise MissingValues(
            f"Template '{template.id}' needs a value for {', '.join(missing)} ({job.record}). "
            f"Give it with --set {missing[0]}=VALUE or fill it in the form.",
            missing,
        )
    return out


#: Table mode: up to this many rows, ``rows`` is a plain list of dicts (what prompts, grounding and tags have
#: always had); a larger table stays the data layer's lazy sequence (:class:`docgen.data.Rows`: ``len``, loops,
#: slices and filters work, nothing is held), so a million rows are never a million dicts.
LIST_ROWS = 50_000


def base_context(job: DocumentJob) -> dict[str, Any]:
    """The Jinja context shared by prompts, the output name and template.docx, before per-row sections and
    aggregates. Raises what :func:`field_values` raises."""
    template = job.template
    ctx: dict[str, Any] = {
        "template": {"id": template.id, "name": template.name, "version": template.version},
        "columns": list(job.dataset.column_names),
        "today": dt.date.today(),
        "record_count": len(job.dataset.rows),
    }
    if job.row_index is not None:
        ctx["row"] = dict(job.dataset.rows[job.row_index])
        ctx["row_number"] = job.dataset.row_numbers[job.row_index]
    else:
        rows = job.dataset.rows
        per_row = any(s.per_row for s in template.sections)  # their results are stored into the row dicts
        ctx["rows"] = [dict(r) for r in rows] if per_row or len(rows) <= LIST_ROWS else rows
    ctx.update(field_values(job))
    return ctx


def add_aggregates(job: DocumentJob, context: MutableMapping[str, Any]) -> None:
    """Compute the template's declared aggregates over the context's rows (``rows``, or the one ``row``; after
    per-row sections, so aggregates can count their results) and add each to ``context`` by name, in place.
    Raises DataError/MissingValues from :mod:`docgen.templates.aggregates`."""
    rows = context.get("rows") or [context.get("row", {})]
    for agg in job.template.aggregates:
        context[agg.name] = compute_aggregate(agg, job.dataset, rows, template_id=job.template.id)


def output_name(job: DocumentJob, context: Mapping[str, Any]) -> str:
    """The manifest's ``output_name`` rendered for this document (not yet sanitized). Raises MissingValues."""
    return render_text(job.template.output_name, context, what="[data] output_name", record=job.record)


__all__ = ["coerce_field", "field_values", "base_context", "add_aggregates", "output_name"]
