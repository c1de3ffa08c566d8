"""``docgen templates check``: what a template needs and what is wrong with it, before any model runs.

For a package: the manifest (validated), the tags of template.docx per part, the values they name that
nothing will provide, sections declared but never placed, and the sample data against the required columns.
For a bare .docx: the tags and problems only (foreign tag syntax, no tags at all, syntax errors, unsafe
constructs).
"""

from __future__ import annotations

from pathlib import Path

from docgen.errors import DocgenError, MissingValues, TemplateError
from docgen.model import TemplateSpec
from docgen.pipeline import DocumentJob, rehearse
from docgen.render import chart_problems, inspect_template
from docgen.sources import load_dataset, prepare_dataset
from docgen.templates.catalog import load_package
from docgen.templates.manifest import WORD_SUFFIXES

#: Names the pipeline always puts in the document's context (see :func:`docgen.pipeline.base_context`).
BUILTIN_NAMES = {"template", "columns", "today", "record_count", "sections", "rows", "row", "row_number", "sources",
                 "fact_sheet", "insights"}


def unknown_names(spec: TemplateSpec, variables: tuple[str, ...] | list[str]) -> list[str]:
    """Top-level names template.docx reads that no field, aggregate or built-in value provides."""
    known = BUILTIN_NAMES | {f.name for f in spec.fields} | {a.name for a in spec.aggregates}
    return sorted(set(variables) - known)


def preflight(spec: TemplateSpec) -> None:
    """Refuse a template whose .docx cannot work, before any model time is spent.

    Raises TemplateError listing every problem :func:`docgen.render.inspect_template` finds (syntax errors
    with part and paragraph, foreign tag syntax, no tags, unsafe constructs), or MissingValues naming tags
    that read values nothing provides (with the closest known name).
    """
    inspection = inspect_template(spec.docx)
    problems = list(inspection.problems) + chart_problems(spec.docx, spec.charts)
    if problems:
        raise TemplateError(f"Template '{spec.id}' ({spec.docx}) cannot be used: " + " ".join(problems))
    unknown = unknown_names(spec, inspection.variables)
    if unknown:
        import difflib

        known = sorted(BUILTIN_NAMES | {f.name for f in spec.fields} | {a.name for a in spec.aggregates})
        hints = []
        for name in unknown:
            close = difflib.get_close_matches(name, known, n=1)
            hints.append(f"'{name}'" + (f" (did you mean '{close[0]}'?)" if close else ""))
        raise MissingValues(
            f"{spec.docx}: the tag(s) {', '.join(hints)} name values that no field, aggregate or built-in "
            f"provides. Known names: {', '.join(known)}. Fix the tag in Word or declare a field in docgen.toml.",
            unknown,
        )


def check_template(path: Path) -> tuple[list[str], list[str]]:
    """Inspect a package folder (or a bare .docx). Returns (report lines, problems).

    Raises ManifestError/TemplateError when the package cannot be loaded at all.
    """
    path = Path(path)
    if path.suffix.lower() in WORD_SUFFIXES and path.is_file():
        inspection = inspect_template(path)
        lines = [f"Word file: {path}", *_tag_lines(inspection)]
        lines.append(f"Values it uses: {', '.join(sorted(inspection.variables)) or 'none'}")
        return lines, list(inspection.problems)

    spec = load_package(path)
    inspection = inspect_template(spec.docx)
    problems = list(inspection.problems) + chart_problems(spec.docx, spec.charts)
    lines = [
        f"Template: {spec.id} {spec.version} ({spec.name}), mode '{spec.mode}'",
        f"Manifest: {spec.manifest_path}",
        "Fields: " + (", ".join(f"{f.name} ({f.type}{', required' if f.required else ''})" for f in spec.fields)
                      or "none"),
        "Sections: " + (", ".join(f"{s.id} ({s.format}{', per row' if s.per_row else ''})" for s in spec.sections)
                        or "none"),
        "Aggregates: " + (", ".join(a.name for a in spec.aggregates) or "none"),
        *(["Charts: " + ", ".join(f"{c.name or 'number ' + str(c.index)} <- {c.data}" for c in spec.charts)]
          if spec.charts else []),
        *_tag_lines(inspection),
    ]
    unknown = unknown_names(spec, inspection.variables)
    if unknown:
        problems.append(
            f"template.docx uses {', '.join(unknown)}, which no field, aggregate or built-in value provides "
            f"(built-ins: {', '.join(sorted(BUILTIN_NAMES))}). Declare a field or aggregate, or fix the tag."
        )
    if spec.mode == "table" and "row" in inspection.variables:
        problems.append("template.docx uses 'row', but the template's mode is 'table' (use 'rows' for mail merge).")
    tag_text = " ".join(t for tags in inspection.tags.values() for t in tags)
    for section in spec.sections:
        if not section.per_row and f"sections.{section.id}" not in tag_text:
            problems.append(f"section '{section.id}' is never placed in template.docx; add "
                            f"{{{{p sections.{section.id} }}}} where it should go (or it is generated for nothing).")
    if spec.sample_data is None:
        problems.append("the package has no sample data (sample.csv/.xlsx/.json); preview and checks need one.")
    else:
        try:
            dataset = load_dataset(spec.sample_data, missing=spec.missing_values)
            prepare_dataset(dataset, template_id=spec.id, required=spec.required_columns, computed=spec.computed)
            lines.append(f"Sample data: {spec.sample_data.name}, {len(dataset.rows)} rows, "
                         f"columns {', '.join(dataset.column_names)}")
        except DocgenError as exc:
            problems.append(f"sample data: {exc}")
        else:
            if not problems:  # a rehearsal render with placeholder sections finds tags the data cannot fill
                job = DocumentJob(spec, dataset, row_index=0 if spec.mode == "rows" else None)
                try:
                    lines.append(f"Rehearsal with the sample data: would write {rehearse(job)}")
                except DocgenError as exc:
                    problems.append(f"rehearsal with the sample data: {exc}")
    return lines, problems


def _tag_lines(inspection) -> list[str]:
    out = []
    for part, tags in inspection.tags.items():
        if tags:
            out.append(f"Tags in {part}: " + "  ".join(tags))
    return out or ["Tags: none"]
