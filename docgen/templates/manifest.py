"""Parsing and validating ``docgen.toml``, the manifest of a template package.

Users learn the manifest from docs/template-language.md (every key of :data:`MANIFEST_SCHEMA` is documented
there; tests/test_docs.py keeps the two in step: add a key here, document it there).

Validation has three steps, each error a :class:`~docgen.errors.ManifestError` naming the file, the key and
the line:

1. TOML syntax (tomllib's own line and column);
2. shape and types against :data:`MANIFEST_SCHEMA` (JSON Schema, checked with the ``jsonschema`` library);
3. meaning: unique ids, choices for ``choice`` fields/sections, Jinja syntax of prompts and ``output_name``,
   and the files the manifest refers to.

Line numbers: tomllib does not report where a key was, so :func:`locate` finds it in the text by walking the
table headers (``[data]``, the n-th ``[[sections]]``) and the ``key =`` lines beneath them.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2
import jsonschema

from docgen.errors import ManifestError
from docgen.jinja import make_environment
from docgen.model import AggregateSpec, ChartSpec, FieldSpec, InsightSpec, ReferencesSpec, SectionSpec, TemplateSpec

MANIFEST_NAME = "docgen.toml"
#: Where users read about the manifest (shipped with docgen: :func:`docgen.paths.docs_dir`).
REFERENCE_DOC = "docs/template-language.md"
DOCX_NAME = "template.docx"
#: The Word file of a package, in the order looked for: a .docx, else a Word template or macro-enabled file
#: (opened as a document, macros dropped; the output is always a plain .docx).
DOCX_NAMES = (DOCX_NAME, "template.dotx", "template.docm", "template.dotm")
WORD_SUFFIXES = tuple(Path(n).suffix for n in DOCX_NAMES)
SAMPLE_SUFFIXES = (".csv", ".tsv", ".xlsx", ".json")

_IDENT = r"^[A-Za-z_][A-Za-z0-9_]*$"
_STR = {"type": "string"}
_STRS = {"type": "array", "items": {"type": "string"}}
_STR_OR_STRS = {"oneOf": [_STR, {**_STRS, "minItems": 1}]}
_VALUES = {"type": "array", "items": {"type": ["string", "number"]}}
#: Aggregate keys that make no sense together with ``sql`` (an SQL aggregate says everything in its SELECT).
_NOT_WITH_SQL = ("group_by", "where", "sum", "mean", "median", "min", "max", "count_distinct", "sort", "ascending",
                 "order", "limit", "others", "change", "running", "period")

#: JSON Schema of docgen.toml. Unknown keys are errors (a typo must not be silently ignored).
MANIFEST_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["template"],
    "properties": {
        "template": {
            "type": "object",
            "additionalProperties": False,
            "required": ["id", "name"],
            "properties": {
                "id": {"type": "string", "pattern": r"^[a-z0-9][a-z0-9._-]*$"},
                "name": _STR,
                "description": _STR,
                "version": _STR,
                "language": _STR,
            },
        },
        "data": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "mode": {"enum": ["table", "rows"]},
                "required_columns": _STRS,
                "output_name": _STR,
                "sample": _STR,
                "max_context_rows": {"type": "integer", "minimum": 0, "maximum": 10000},
                "missing_values": _STRS,
                "computed": {"type": "object", "propertyNames": {"pattern": _IDENT},
                             "additionalProperties": {"type": "string"}},
            },
        },
        "prompt": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"system": _STR, "context": _STR},
        },
        "fields": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": _IDENT},
                    "label": _STR,
                    "type": {"enum": ["text", "number", "date", "choice"]},
                    "required": {"type": "boolean"},
                    "default": {"type": ["string", "number", "boolean"]},
                    "choices": _STRS,
                    "help": _STR,
                },
            },
        },
        "sections": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "prompt"],
                "properties": {
                    "id": {"type": "string", "pattern": _IDENT},
                    "title": _STR,
                    "format": {"enum": ["markdown", "text", "choice", "json"]},
                    "prompt": _STR,
                    "max_tokens": {"type": "integer", "minimum": 1, "maximum": 8192},
                    "temperature": {"type": "number", "minimum": 0, "maximum": 2},
                    "choices": _STRS,
                    "choice_bias": {"type": "object",
                                    "additionalProperties": {"type": "number", "minimum": -10, "maximum": 10}},
                    "schema": {"type": "object"},
                    "per_row": {"type": "boolean"},
                    "min_words": {"type": "integer", "minimum": 1, "maximum": 10000},
                    "fallback": {"enum": ["facts"]},
                    "insights": _STRS,
                },
            },
        },
        "facts": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"money": _STRS},
        },
        "insights": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["id", "kind"],
                "properties": {
                    "id": {"type": "string", "pattern": _IDENT},
                    "kind": {"enum": ["largest", "smallest", "top", "bottom", "share", "rank", "counts",
                                      "difference", "change", "trend"]},
                    "of": _STR,
                    "value": _STR,
                    "n": {"type": "integer", "minimum": 1, "maximum": 50},
                    "between": {"type": "array", "items": {"type": ["string", "number"]}, "minItems": 2,
                                "maxItems": 2},
                    "date": _STR,
                    "by": {"enum": ["year", "quarter", "month"]},
                    "label": _STR,
                },
            },
        },
        "references": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "folder": _STR,
                "sections": _STRS,
                "query": _STR,
                "passages": {"type": "integer", "minimum": 1, "maximum": 20},
                "max_tokens": {"type": "integer", "minimum": 50, "maximum": 32768},
                "citations": {"enum": ["footnotes", "list", "none"]},
                "unsupported": {"enum": ["mark", "remove"]},
            },
        },
        "checks": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "on_unsupported": {"enum": ["mark", "drop", "fail"]},
                "candidates": {"type": "integer", "minimum": 1, "maximum": 8},
            },
        },
        "aggregates": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "pattern": _IDENT},
                    "group_by": _STR_OR_STRS,
                    "where": _STR,
                    "sum": _STRS,
                    "mean": _STRS,
                    "median": _STRS,
                    "min": _STRS,
                    "max": _STRS,
                    "count_distinct": _STRS,
                    "sort": _STR_OR_STRS,
                    "ascending": {"type": "boolean"},
                    "order": {"oneOf": [_VALUES, {"type": "object", "additionalProperties": _VALUES}]},
                    "limit": {"type": "integer", "minimum": 0},
                    "others": _STR,
                    "change": _STRS,
                    "running": _STRS,
                    "period": _STR,
                    "sql": _STR,
                },
            },
        },
        "charts": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["data", "series"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "index": {"type": "integer", "minimum": 1},
                    "data": {"type": "string", "minLength": 1},
                    "categories": _STR,
                    "series": {"type": "array", "items": {"type": "string", "minLength": 1}, "minItems": 1},
                    "series_names": _STRS,
                    "number_format": _STR,
                    "title": _STR,
                },
            },
        },
    },
}

_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\"-]+)\s*\]\]?\s*(#.*)?$")


def locate(text: str, key_path: Sequence[str | int]) -> int | None:
    """Best-effort 1-based line of ``key_path`` (e.g. ``("sections", 2, "max_tokens")``) in TOML ``text``.

    Returns the line of the key, else of its table header, else None.
    """
    if not key_path:
        return None
    lines = text.splitlines()
    table = str(key_path[0])
    index = key_path[1] if len(key_path) > 1 and isinstance(key_path[1], int) else None
    rest = [k for k in key_path[1:] if not isinstance(k, int)]
    seen = -1
    start = None
    for number, line in enumerate(lines, 1):
        match = _HEADER.match(line)
        if match and match.group(2) == table:
            seen += 1
            if index is None or seen == index:
                start = number
                break
    if start is None:
        for number, line in enumerate(lines, 1):  # a top-level key, or a table written inline
            if re.match(rf"^\s*{re.escape(table)}\s*=", line):
                return number
        return None
    if not rest:
        return start
    key = re.compile(rf"^\s*\"?{re.escape(str(rest[0]))}\"?\s*=")
    for number in range(start + 1, len(lines) + 1):
        line = lines[number - 1]
        if _HEADER.match(line):
            break
        if key.match(line):
            return number
    return start


def _dotted(key_path: Sequence[str | int]) -> str:
    out = ""
    for part in key_path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def package_file(root: Path, name: str, fail: Any) -> Path:
    """``root / name`` for a file a manifest names, refusing any path that leaves the package: absolute paths
    (``/etc/passwd``, ``C:\\...``), ``..`` steps and links pointing outside. ``fail(message)`` builds the
    ManifestError (the caller knows the key and line). Returns the path (it may not exist)."""
    pure = Path(name)
    windows_absolute = re.match(r"^([A-Za-z]:|[\\/]{2})", name) is not None
    if pure.is_absolute() or windows_absolute or ".." in re.split(r"[\\/]", name):
        raise fail(f"'{name}' points outside the template package. Files a manifest names must be inside the "
                   f"package folder ({root}); write a path relative to it, such as 'sample.csv'.")
    candidate = root / name
    try:
        inside = candidate.resolve().is_relative_to(root.resolve())
    except OSError:
        inside = False
    if not inside:
        raise fail(f"'{name}' leads outside the template package (through a link). Copy the file into the "
                   f"package folder ({root}) and name it relative to it.")
    return candidate


def load_manifest(root: Path, *, source: str = "path") -> TemplateSpec:
    """Read and validate ``root/docgen.toml``; return the :class:`TemplateSpec`.

    Raises ManifestError (file, key, line) for any problem, including a missing template.docx.
    """
    path = root / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ManifestError(path, f"no {MANIFEST_NAME} here; a template package is a folder with "
                            f"{DOCX_NAME} and {MANIFEST_NAME}.") from None
    except UnicodeDecodeError as exc:
        raise ManifestError(path, f"not UTF-8 text ({exc}); save it as UTF-8.") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        line = re.search(r"line (\d+)", str(exc))
        raise ManifestError(path, f"TOML syntax error: {exc}", line=int(line.group(1)) if line else None) from exc

    errors = sorted(jsonschema.Draft202012Validator(MANIFEST_SCHEMA).iter_errors(data), key=lambda e: list(e.path))
    if errors:
        err = errors[0]
        key_path = list(err.absolute_path)
        if err.validator == "additionalProperties":
            extra = re.findall(r"'([^']+)'", err.message)
            if extra:
                key_path.append(extra[0])
            message = (f"unknown key. {err.message}. Check the spelling against the manifest keys in docgen's "
                       f"documentation, {REFERENCE_DOC}.")
        elif err.validator == "required":
            message = f"missing key: {err.message}."
        else:
            message = f"{err.message}."
        raise ManifestError(path, message, key=_dotted(key_path) or None, line=locate(text, key_path))

    def fail(key_path: Sequence[str | int], message: str) -> ManifestError:
        return ManifestError(path, message, key=_dotted(key_path), line=locate(text, key_path))

    env = make_environment()

    def check_jinja(key_path: Sequence[str | int], source_text: str) -> None:
        try:
            env.parse(source_text)
        except jinja2.TemplateSyntaxError as exc:
            raise fail(key_path, f"Jinja syntax error in this text (line {exc.lineno} of it): {exc.message}.") from exc

    meta = data["template"]
    data_table = data.get("data", {})
    prompt = data.get("prompt", {})

    fields = []
    for i, f in enumerate(data.get("fields", [])):
        if f.get("type") == "choice" and not f.get("choices"):
            raise fail(("fields", i, "choices"), "a field of type 'choice' needs a 'choices' list.")
        fields.append(FieldSpec(
            name=f["name"], label=f.get("label", f["name"].replace("_", " ").capitalize()),
            type=f.get("type", "text"), required=f.get("required", False), default=f.get("default"),
            choices=tuple(f.get("choices", ())), help=f.get("help", ""),
        ))
    sections = []
    for i, s in enumerate(data.get("sections", [])):
        fmt = s.get("format", "markdown")
        if fmt == "choice" and len(s.get("choices", ())) < 2:
            raise fail(("sections", i, "choices"), "a section of format 'choice' needs at least two 'choices'.")
        bias = s.get("choice_bias", {})
        if bias and fmt != "choice":
            raise fail(("sections", i, "choice_bias"), "choice_bias applies only to a section of format 'choice'.")
        for name in bias:
            if name not in s.get("choices", ()):
                raise fail(("sections", i, "choice_bias", name), f"'{name}' is not one of this section's choices "
                           f"({', '.join(s.get('choices', ()))}); choice_bias keys must be choices.")
        if fmt == "json" and "schema" not in s:
            raise fail(("sections", i, "schema"), "a section of format 'json' needs a 'schema' table.")
        check_jinja(("sections", i, "prompt"), s["prompt"])
        sections.append(SectionSpec(
            id=s["id"], title=s.get("title", s["id"].replace("_", " ").capitalize()), prompt=s["prompt"],
            format=fmt, max_tokens=s.get("max_tokens", 256 if fmt != "choice" else 8),
            temperature=s.get("temperature"), choices=tuple(s.get("choices", ())),
            choice_bias=tuple((name, float(value)) for name, value in bias.items()), schema=s.get("schema"),
            per_row=s.get("per_row", False), min_words=s.get("min_words"), fallback=s.get("fallback", ""),
            insights=tuple(s.get("insights", ())),
        ))
    computed = tuple((name, expr) for name, expr in data_table.get("computed", {}).items())
    aggregates = tuple(_aggregate(a, i, computed, fail) for i, a in enumerate(data.get("aggregates", [])))

    charts = []
    for i, c in enumerate(data.get("charts", [])):
        if "name" not in c and "index" not in c:
            raise fail(("charts", i), "a [[charts]] entry needs name (the chart's name, alt text or title in Word) "
                       "or index (its order in the document, from 1).")
        if len(c.get("series_names", ())) > len(c["series"]):
            raise fail(("charts", i, "series_names"), f"{len(c['series_names'])} series_names for "
                       f"{len(c['series'])} series; give one name per series (or none).")
        try:
            env.compile_expression(c["data"])
        except jinja2.TemplateSyntaxError as exc:
            raise fail(("charts", i, "data"), f"not a valid expression ({exc.message}); use an aggregate's name, "
                       "rows or row.") from exc
        if "title" in c:
            check_jinja(("charts", i, "title"), c["title"])
        charts.append(ChartSpec(
            data=c["data"], name=c.get("name", ""), index=c.get("index"), categories=c.get("categories"),
            series=tuple(c["series"]), series_names=tuple(c.get("series_names", ())),
            number_format=c.get("number_format"), title=c.get("title"),
        ))

    insights = tuple(InsightSpec(
        id=x["id"], kind=x["kind"], of=x.get("of", ""), value=x.get("value", ""), n=x.get("n", 0),
        between=tuple(str(b) for b in x.get("between", ())), date=x.get("date", ""), by=x.get("by", ""),
        label=x.get("label", ""),
    ) for x in data.get("insights", []))
    agg_names = {a.name for a in aggregates}
    for i, ins in enumerate(insights):
        if ins.kind == "trend":
            if not ins.date or not ins.value:
                raise fail(("insights", i, "date"), "an insight of kind 'trend' needs 'date' (a date column) and "
                           "'value' (a numeric column).")
        elif ins.of not in agg_names:
            raise fail(("insights", i, "of"), f"insight '{ins.id}' reads aggregate '{ins.of}', which is not declared; "
                       f"declared: {', '.join(sorted(agg_names)) or 'none'}.")
        elif len(groups := next(a.group_by or () for a in aggregates if a.name == ins.of)) != 1 \
                or next(a.sql for a in aggregates if a.name == ins.of):
            raise fail(("insights", i, "of"), f"insight '{ins.id}' reads aggregate '{ins.of}', which must group by "
                       f"exactly one column (it groups by {', '.join(groups) or 'none'}"
                       f"{'; an sql aggregate has no group_by' if not groups else ''}).")
    insight_ids = {x.id for x in insights}
    for i, sec in enumerate(sections):
        unknown = [x for x in sec.insights if x not in insight_ids]
        if unknown:
            raise fail(("sections", i, "insights"), f"section '{sec.id}' names insight(s) {', '.join(unknown)} that "
                       "are not declared in [[insights]].")
    for kind, items, attr in (("fields", fields, "name"), ("sections", sections, "id"),
                              ("aggregates", aggregates, "name"), ("insights", insights, "id")):
        seen: set[str] = set()
        for i, item in enumerate(items):
            name = getattr(item, attr)
            if name in seen:
                raise fail((kind, i, attr), f"'{name}' is declared twice; names must be unique.")
            seen.add(name)
    clashes = {f.name for f in fields} & ({a.name for a in aggregates} | {"sections", "rows", "row", "template", "sources"})
    if clashes:
        name = sorted(clashes)[0]
        index = next(i for i, f in enumerate(fields) if f.name == name)
        raise fail(("fields", index, "name"), f"field name '{name}' clashes with a built-in or aggregate name.")

    output_name = data_table.get("output_name", "{{ template.id }}.docx")
    check_jinja(("data", "output_name"), output_name)
    check_jinja(("prompt", "system"), prompt.get("system", ""))
    check_jinja(("prompt", "context"), prompt.get("context", ""))

    docx = next((root / name for name in DOCX_NAMES if (root / name).is_file()), root / DOCX_NAME)
    if not docx.is_file():
        raise ManifestError(path, f"the package has no {DOCX_NAME} next to the manifest ({docx}).")
    package_file(root, docx.name, lambda message: ManifestError(path, message))
    sample = None
    if "sample" in data_table:
        sample = package_file(root, data_table["sample"], lambda message: fail(("data", "sample"), message))
        if not sample.is_file():
            raise fail(("data", "sample"), f"sample data file '{data_table['sample']}' does not exist in {root}.")
    else:
        candidates = sorted(p for p in root.glob("sample.*") if p.suffix.lower() in SAMPLE_SUFFIXES)
        sample = candidates[0] if candidates else None
        if sample is not None:
            package_file(root, sample.name, lambda message: ManifestError(path, message))

    references = _references(data.get("references"), root, {s.id for s in sections}, fail, check_jinja)

    return TemplateSpec(
        id=meta["id"], name=meta["name"], description=meta.get("description", ""),
        version=meta.get("version", "0"), language=meta.get("language", "en"),
        root=root, docx=docx, manifest_path=path,
        mode=data_table.get("mode", "table"), required_columns=tuple(data_table.get("required_columns", ())),
        output_name=output_name, system_prompt=prompt.get("system", ""), context=prompt.get("context", ""),
        max_context_rows=data_table.get("max_context_rows", 50),
        fields=tuple(fields), sections=tuple(sections), aggregates=aggregates, charts=tuple(charts),
        sample_data=sample, source=source,
        references=references,
        computed=computed, missing_values=tuple(data_table["missing_values"]) if "missing_values" in data_table
        else None,
        on_unsupported=data.get("checks", {}).get("on_unsupported", ""),
        candidates=data.get("checks", {}).get("candidates", 0),
        insights=insights, money_columns=tuple(data["facts"]["money"]) if "money" in data.get("facts", {}) else None,
    )


def _aggregate(a: dict[str, Any], i: int, computed: tuple[tuple[str, str], ...], fail: Any) -> AggregateSpec:
    """One ``[[aggregates]]`` table -> AggregateSpec, refusing combinations that cannot work (docs:
    "Aggregates" in docs/template-language.md)."""
    if "sql" in a:
        extra = [k for k in _NOT_WITH_SQL if k in a]
        if extra:
            raise fail(("aggregates", i, extra[0]), f"an aggregate with 'sql' takes no '{extra[0]}': write it in "
                       "the SELECT.")
    groups = a.get("group_by")
    groups = (groups,) if isinstance(groups, str) else tuple(groups or ())
    for key in ("change", "running", "period", "others"):
        if key in a and not groups:
            raise fail(("aggregates", i, key), f"'{key}' needs 'group_by' (the groups it goes along).")
    if "period" in a and a["period"] not in groups:
        raise fail(("aggregates", i, "period"), f"period '{a['period']}' must be one of the group_by columns "
                   f"({', '.join(groups)}).")
    if "others" in a:
        if not a.get("limit"):
            raise fail(("aggregates", i, "others"), "'others' needs 'limit' (how many groups to keep).")
        if len(groups) != 1 or a.get("change") or a.get("running"):
            raise fail(("aggregates", i, "others"), "'others' works with one group_by column and without "
                       "change or running.")
    order = a.get("order", {})
    if isinstance(order, list):
        if not groups:
            raise fail(("aggregates", i, "order"), "'order' needs 'group_by'.")
        order = {groups[0]: order}
    for column in order:
        if column not in groups:
            raise fail(("aggregates", i, "order"), f"'order' names '{column}', which is not a group_by column "
                       f"({', '.join(groups) or 'none'}).")
    return AggregateSpec(
        name=a["name"], group_by=groups or None, sum=tuple(a.get("sum", ())), mean=tuple(a.get("mean", ())),
        median=tuple(a.get("median", ())), min=tuple(a.get("min", ())), max=tuple(a.get("max", ())),
        count_distinct=tuple(a.get("count_distinct", ())), where=a.get("where"),
        sort=a.get("sort"), ascending=a.get("ascending", False), limit=a.get("limit", 0),
        order={k: tuple(v) for k, v in order.items()}, others=a.get("others"), change=tuple(a.get("change", ())),
        running=tuple(a.get("running", ())), period=a.get("period"), sql=a.get("sql"), computed=computed,
    )


#: The package folder read as reference documents when ``[references]`` does not name another.
REFERENCES_FOLDER = "references"


def _references(table: dict[str, Any] | None, root: Path, section_ids: set[str], fail, check_jinja) -> ReferencesSpec | None:
    """``[references]`` as a :class:`ReferencesSpec`; without the table, the defaults when the package has a
    ``references/`` folder, else None. The folder must be inside the package; named sections must exist."""
    default = root / REFERENCES_FOLDER
    if table is None:
        return ReferencesSpec(folder=default) if default.is_dir() else None
    folder = package_file(root, table.get("folder", REFERENCES_FOLDER), lambda m: fail(("references", "folder"), m))
    if "folder" in table and not folder.is_dir():
        raise fail(("references", "folder"), f"folder '{table['folder']}' does not exist in {root}.")
    for i, sid in enumerate(table.get("sections", ())):
        if sid not in section_ids:
            raise fail(("references", "sections"), f"'{sid}' is not a section of this template; its sections: "
                       f"{', '.join(sorted(section_ids)) or 'none'}.")
    check_jinja(("references", "query"), table.get("query", ""))
    return ReferencesSpec(folder=folder if folder.is_dir() else None, sections=tuple(table.get("sections", ())),
                          query=table.get("query", ""), passages=table.get("passages", 4),
                          max_tokens=table.get("max_tokens", 800), citations=table.get("citations", "footnotes"),
                          unsupported=table.get("unsupported", "mark"))
