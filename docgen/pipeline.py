"""One document: plan -> generate sections -> render -> write atomically.

:func:`generate` is what batch mode calls per document and what the GUI worker calls; both pass callbacks
(``on_event``) for progress and a :class:`~docgen.cancel.CancelToken` for Cancel.

Order of work for one document (DESIGN.md sections 2-3):

1. the Jinja context: field values (``--set`` / GUI form, else a same-named data column in rows mode, else the
   manifest default), ``rows`` (table mode) or ``row`` (rows mode), ``columns``, ``template``, ``today``;
2. per-row sections (``per_row = true``, table mode): run once per row, result stored in the row under the
   section id;
3. declared aggregates over the (extended) rows, added to the context by name;
4. document sections, sharing one prompt prefix (KV cache reuse), unless the caller supplies the text
   (GUI edits and locked sections);
4b. the grounding check (:func:`check_grounding`): figures the data does not support become section warnings;
   with ``RunOptions.strict_grounding`` the document fails instead of being written;
5. rendering into template.docx and an atomic write, with provenance in the document properties, then the
   provenance sidecar ``<stem>.provenance.json`` beside it (:mod:`docgen.provenance`).

``format = "json"`` sections are generated grammar-constrained by their schema, parsed and validated
(:func:`json_reply`); template.docx reaches the fields as ``{{ sections.<id>.<field> }}``, and a per-row json
section stores the parsed object in the row (``row.<id>.<field>`` for aggregates and later prompts).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema

from docgen.version import __version__
from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DocgenError, MissingValues, RenderError, TemplateError
from docgen.grounding import evidence_values, message as grounding_message, unsupported
from docgen.llm.base import Generation, Generator, TokenCallback
from docgen.llm.discovery import file_sha256
from docgen.llm.fake import example_instance
from docgen.llm.cleanup import clean_text
from docgen.llm.prompt import SectionPrompt, build_document_prompts, build_row_prompt, render_text
from docgen.model import Dataset, DocumentResult, GenerationParams, ProgressEvent, SectionResult, SectionSpec, TemplateSpec
from docgen.provenance import section_params, sidecar, sidecar_path, write_sidecar
from docgen.render import render_document
from docgen.templates.aggregates import compute as compute_aggregate

log = logging.getLogger(__name__)

EventCallback = Callable[[ProgressEvent], None]


@dataclass(frozen=True)
class RunOptions:
    """Per-run choices that are not part of the template: sampling defaults and where the model came from.

    ``seed``/``temperature`` apply to sections that do not set their own (choice sections default to 0, greedy).
    ``strict_grounding`` (``--strict-grounding``): a document with any figure the data does not support
    (:mod:`docgen.grounding`) fails instead of being written.
    """

    seed: int = 42
    temperature: float = 0.3
    model_sha256: str = ""
    strict_grounding: bool = False


@dataclass
class DocumentJob:
    """What one document is made of. ``row_index`` is the 0-based record in rows mode (None in table mode).

    ``fixed_sections`` maps section id -> text to use instead of generating (the GUI's edited or locked
    sections); ``only_sections``, when given, limits generation to those ids (regenerating one section).
    """

    template: TemplateSpec
    dataset: Dataset
    values: Mapping[str, Any] = field(default_factory=dict)
    row_index: int | None = None
    fixed_sections: Mapping[str, str] = field(default_factory=dict)
    only_sections: Sequence[str] | None = None
    seeds: Mapping[str, int] = field(default_factory=dict)

    @property
    def record(self) -> str:
        """How error messages name this document's data: ``row 7 of sales.csv`` or ``sales.csv``."""
        if self.row_index is None:
            return self.dataset.path.name
        return f"row {self.dataset.row_numbers[self.row_index]} of {self.dataset.path.name}"


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


def base_context(job: DocumentJob) -> dict[str, Any]:
    """The Jinja context shared by prompts, the output name and template.docx (before sections)."""
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
        ctx["rows"] = [dict(r) for r in job.dataset.rows]
    ctx.update(field_values(job))
    return ctx


def params_for(section: SectionSpec, options: RunOptions, seed: int | None = None) -> GenerationParams:
    """Sampling parameters for ``section``: its own temperature, else 0 for choices, else the run default."""
    temperature = section.temperature
    if temperature is None:
        temperature = 0.0 if section.format == "choice" else options.temperature
    return GenerationParams(max_tokens=section.max_tokens, temperature=temperature,
                            seed=options.seed if seed is None else seed)


def output_name(job: DocumentJob, context: Mapping[str, Any]) -> str:
    """The manifest's ``output_name`` rendered for this document (not yet sanitized)."""
    return render_text(job.template.output_name, context, what="[data] output_name", record=job.record)


def placeholder(section: SectionSpec) -> str:
    """Stand-in text for a section in :func:`rehearse`: its first choice, an instance of its JSON schema, or
    ``[Title]``."""
    if section.format == "choice" and section.choices:
        return section.choices[0]
    if section.format == "json":
        return json.dumps(example_instance(section.schema or {}))
    return f"[{section.title}]"


def rehearse(job: DocumentJob, context: Mapping[str, Any] | None = None) -> str:
    """Render the document once with placeholder section text into a throwaway folder, without the model.

    This finds what only rendering finds (a tag such as ``{{ row.order_no }}`` naming a value this record
    lacks, a filter failing on a value) in a fraction of a second instead of after minutes of generation.
    Returns the output file name the document would get. Raises the same errors as rendering.
    """
    context = dict(base_context(job) if context is None else context)
    per_row = [s for s in job.template.sections if s.per_row and job.row_index is None]
    if per_row and "rows" in context:
        stand_in = {s.id: json.loads(placeholder(s)) if s.format == "json" else placeholder(s) for s in per_row}
        context["rows"] = [{**r, **stand_in} for r in context["rows"]]
    rows = context.get("rows") or [context.get("row", {})]
    for agg in job.template.aggregates:
        context[agg.name] = compute_aggregate(agg, job.dataset, rows, template_id=job.template.id)
    name = output_name(job, context)
    sections = {s.id: (s.format, job.fixed_sections.get(s.id, placeholder(s)))
                for s in job.template.sections if not (s.per_row and job.row_index is None)}
    with tempfile.TemporaryDirectory(prefix="docgen-rehearsal-") as tmp:
        render_document(job.template.docx, context, sections, Path(tmp) / "rehearsal.docx", record=job.record)
    return name


def _emit(on_event: EventCallback | None, **kw: Any) -> None:
    if on_event:
        on_event(ProgressEvent(**kw))


def run_row_sections(job: DocumentJob, context: dict[str, Any], generator: Generator, options: RunOptions,
                     on_event: EventCallback | None, cancel: CancelToken | None,
                     doc_index: int, doc_total: int) -> list[SectionResult]:
    """Run the per-row sections over ``context["rows"]`` in place; one SectionResult per section (totals)."""
    results = []
    specs = [s for s in job.template.sections if s.per_row]
    for si, section in enumerate(specs):
        start = time.perf_counter()
        tokens = prompt_tokens = 0
        params = params_for(section, options)
        _emit(on_event, kind="section_started", document=doc_index, documents=doc_total, section_id=section.id,
              section=si, sections=len(specs))
        for ri, row in enumerate(context["rows"]):
            if cancel:
                cancel.raise_if_cancelled()
            row_ctx = {**context, "row": row, "row_number": job.dataset.row_numbers[ri]}
            record = f"row {job.dataset.row_numbers[ri]} of {job.dataset.path.name}"
            prompt = build_row_prompt(job.template, section, row_ctx, generator, record=record)
            if section.format == "json":
                gen, _params, row[section.id] = json_reply(section, prompt.messages, generator, params, record,
                                                           None, cancel)
            else:
                gen = ask_model(generator, section, prompt.messages, params, record, cancel=cancel)
                row[section.id] = gen.text.strip()
            tokens += gen.tokens
            prompt_tokens += gen.prompt_tokens
            _emit(on_event, kind="token", document=doc_index, documents=doc_total, section_id=section.id,
                  section=ri, sections=len(context["rows"]), text=f"{record}: {row[section.id]}\n", tokens=tokens)
        results.append(SectionResult(section.id, "", tokens, prompt_tokens, time.perf_counter() - start, params))
    return results


def generate(job: DocumentJob, generator: Generator, out_path: Path | None = None, *,
             options: RunOptions = RunOptions(), on_event: EventCallback | None = None,
             cancel: CancelToken | None = None, doc_index: int = 0, doc_total: int = 1,
             out_dir: Path | None = None) -> DocumentResult:
    """Make one document and write it to ``out_path`` (or ``out_dir``/the rendered output name).

    Pass neither path to generate the sections without rendering (the GUI's review step).
    Raises DocgenError subclasses (MissingValues, DataError, ContextOverflow, RenderError, ...) and Cancelled;
    the batch runner turns them into a failed :class:`DocumentResult` for that row.
    """
    started = time.perf_counter()
    template = job.template
    _emit(on_event, kind="document_started", document=doc_index, documents=doc_total)
    context = base_context(job)
    needs_model = any(s.per_row for s in template.sections) or any(
        s.id not in job.fixed_sections and (job.only_sections is None or s.id in job.only_sections)
        for s in template.sections)
    if needs_model:
        rehearse(job, context)  # a tag naming a value that does not exist fails now, not after the model ran
    results: dict[str, SectionResult] = {}
    if job.row_index is None and any(s.per_row for s in template.sections):
        for r in run_row_sections(job, context, generator, options, on_event, cancel, doc_index, doc_total):
            results[r.id] = r
    rows_for_aggregates = context.get("rows") or [context.get("row", {})]
    for agg in template.aggregates:
        context[agg.name] = compute_aggregate(agg, job.dataset, rows_for_aggregates, template_id=template.id)

    doc_sections = [s for s in template.sections if not (s.per_row and job.row_index is None)]
    wanted = [s for s in doc_sections if s.id not in job.fixed_sections
              and (job.only_sections is None or s.id in job.only_sections)]
    prompts = build_document_prompts(template, wanted, context, generator, record=job.record) if wanted else []
    for si, prompt in enumerate(prompts):
        if cancel:
            cancel.raise_if_cancelled()
        results[prompt.section.id] = write_section(job, prompt, generator, options, on_event, cancel,
                                                   doc_index, doc_total, si, len(prompts))
    for sid, text in job.fixed_sections.items():
        spec = next((s for s in template.sections if s.id == sid), None)
        problem = json_problem(text, spec.schema) if spec is not None and spec.format == "json" else None
        if problem:
            raise DocgenError(f"The edited text of section '{sid}' ({job.record}) is not {problem}. Fix it or "
                              "regenerate the section.")
        results[sid] = SectionResult(sid, text, locked=True)
    check_grounding(job, doc_sections, results, context, prompts)
    ungrounded = [f"section '{r.id}': {', '.join(repr(u) for u in r.ungrounded)}" for r in results.values()
                  if r.ungrounded]
    if options.strict_grounding and ungrounded and (out_path is not None or out_dir is not None):
        raise DocgenError(f"Figures not found in the data ({job.record}), so the document was not written "
                          f"(--strict-grounding): {'; '.join(ungrounded)}. Correct or regenerate those sections, "
                          "or run without --strict-grounding to write it with warnings in the report.")

    if out_path is None and out_dir is not None:
        out_path = out_dir / output_name(job, context)
    if out_path is not None:
        if cancel:
            cancel.raise_if_cancelled()
        sections = {s.id: (s.format, results[s.id].text) for s in doc_sections if s.id in results}
        provenance = provenance_for(job, generator, options, results)
        render_document(template.docx, context, sections, out_path, provenance=provenance, record=job.record)
    ordered = tuple(results[s.id] for s in template.sections if s.id in results)
    if out_path is not None:
        write_document_sidecar(out_path, provenance, ordered, template, time.perf_counter() - started)
    result = DocumentResult(doc_index, out_path, job.dataset.row_numbers[job.row_index] if job.row_index is not None
                            else None, ordered, time.perf_counter() - started)
    _emit(on_event, kind="document_done", document=doc_index, documents=doc_total, path=out_path,
          tokens=sum(r.tokens for r in ordered))
    return result


def write_section(job: DocumentJob, prompt: SectionPrompt, generator: Generator, options: RunOptions,
                  on_event: EventCallback | None, cancel: CancelToken | None, doc_index: int, doc_total: int,
                  index: int, count: int) -> SectionResult:
    """Generate one document-level section, streaming ``token`` events, then clean the text
    (:func:`docgen.llm.cleanup.clean_text`). When cleaning leaves nothing (all echo or repeats), the section is
    generated once more with seed + 1. A backend failure becomes a DocgenError naming the section and record.
    """
    section = prompt.section
    params = params_for(section, options, job.seeds.get(section.id))
    _emit(on_event, kind="section_started", document=doc_index, documents=doc_total, section_id=section.id,
          section=index, sections=count)
    counter = {"n": 0, "t0": time.perf_counter()}

    def on_token(piece: str) -> None:
        counter["n"] += 1
        elapsed = max(time.perf_counter() - counter["t0"], 1e-6)
        _emit(on_event, kind="token", document=doc_index, documents=doc_total, section_id=section.id,
              section=index, sections=count, text=piece, tokens=counter["n"],
              tokens_per_second=counter["n"] / elapsed)

    cleaned = None
    if section.format == "json":
        gen, params, _value = json_reply(section, prompt.messages, generator, params, job.record, on_token, cancel)
    else:
        for attempt in (0, 1):
            if attempt:
                params = dataclasses.replace(params, seed=params.seed + 1)
            gen = ask_model(generator, section, prompt.messages, params, job.record, on_token=on_token,
                            cancel=cancel)
            if section.format not in ("markdown", "text"):
                break
            cleaned = clean_text(gen.text, prompt="\n".join(m.content for m in prompt.messages),
                                 title=section.title, finish_reason=gen.finish_reason)
            if cleaned.text:
                break
    text = cleaned.text if cleaned is not None else gen.text.strip()
    warnings: tuple[str, ...] = ()
    if gen.finish_reason == "length":
        warnings = ("The model stopped at max_tokens; the text may end mid-sentence.",)
    warnings += cleaned.notes if cleaned is not None else ()
    _emit(on_event, kind="section_done", document=doc_index, documents=doc_total, section_id=section.id,
          section=index, sections=count, text=text, tokens=gen.tokens,
          tokens_per_second=gen.tokens / gen.seconds if gen.seconds else 0.0)
    return SectionResult(section.id, text, gen.tokens, gen.prompt_tokens, gen.seconds, params, warnings=warnings)



def ask_model(generator: Generator, section: SectionSpec, messages: Sequence[Any], params: GenerationParams,
              record: str, *, on_token: TokenCallback | None = None, cancel: CancelToken | None = None) -> Generation:
    """One backend call for ``section``: its choices, or its schema for ``format = "json"`` (only then, so
    backends without a ``schema`` keyword keep working). A backend failure that is not already a DocgenError
    becomes one naming the section and the record, so one bad row never ends a batch with a bare traceback."""
    extra: dict[str, Any] = {"schema": section.schema} if section.format == "json" else {"choices": section.choices}
    try:
        return generator.generate(messages, params, on_token=on_token, cancel=cancel, **extra)
    except DocgenError:
        raise
    except Exception as exc:  # a backend failure must name the section, not crash the batch
        raise DocgenError(f"The model failed on section '{section.id}' ({record}): {exc}") from exc

def json_problem(text: str, schema: Mapping[str, Any] | None) -> str | None:
    """Why ``text`` is not a JSON value valid for ``schema`` ("valid JSON: ...", "valid for the section's
    schema: ..."), or None when it is."""
    try:
        value = json.loads(text)
    except ValueError as exc:
        return f"valid JSON: {exc}"
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema or {}).iter_errors(value))
    if error is not None:
        where = "/".join(str(p) for p in error.absolute_path)
        return f"valid for the section's schema: {error.message}" + (f" (at {where})" if where else "")
    return None


def json_reply(section: SectionSpec, messages: Sequence[Any], generator: Generator, params: GenerationParams,
               record: str, on_token: TokenCallback | None, cancel: CancelToken | None
               ) -> tuple[Generation, GenerationParams, Any]:
    """Generate a ``format = "json"`` section, grammar-constrained by its schema; parse and validate the reply.
    An invalid reply is generated once more with seed + 1; a second one raises DocgenError naming the section,
    the record and the JSON or schema error. Returns the generation, the parameters used and the parsed value."""
    for attempt in (0, 1):
        if attempt:
            params = dataclasses.replace(params, seed=params.seed + 1)
        gen = ask_model(generator, section, messages, params, record, on_token=on_token, cancel=cancel)
        problem = json_problem(gen.text, section.schema)
        if problem is None:
            return gen, params, json.loads(gen.text)
    cut = " It stopped at max_tokens: raise max_tokens." if gen.finish_reason == "length" else ""
    raise DocgenError(f"The model's reply for JSON section '{section.id}' ({record}) is not {problem} "
                      f"(tried seeds {params.seed - 1} and {params.seed}).{cut} Reply: {gen.text[:200]!r}")


def write_document_sidecar(out_path: Path, provenance: Mapping[str, str], results: Sequence[SectionResult],
                           template: TemplateSpec, seconds: float) -> None:
    """Write ``<stem>.provenance.json`` beside the just-written ``out_path`` (:mod:`docgen.provenance`). If that
    fails the document is removed too, so no document is left without its record; raises RenderError."""
    formats = {s.id: s.format for s in template.sections}
    try:
        write_sidecar(sidecar_path(out_path), sidecar(out_path.name, provenance, results, formats, seconds))
    except BaseException as exc:
        out_path.unlink(missing_ok=True)
        if isinstance(exc, OSError):
            raise RenderError(f"Writing the provenance file {sidecar_path(out_path)} failed: "
                              f"{exc.strerror or exc}; the document was removed. Check the output folder.") from exc
        raise


def check_grounding(job: DocumentJob, sections: Sequence[SectionSpec], results: dict[str, SectionResult],
                    context: Mapping[str, Any], prompts: Sequence[Any]) -> None:
    """Run the grounding check (:mod:`docgen.grounding`) on every markdown/text section in ``results``, in place:
    unsupported figures go to ``ungrounded`` and, as messages, after the existing ``warnings``.

    Edited and locked sections are checked too (the reviewer sees a figure they typed that the data does not
    hold; with ``--strict-grounding`` it fails the document like a generated one). Evidence: the context
    (fields, aggregates, rows) and the prompt text the model was shown (or the rendered ``[prompt] context``
    when no section was generated).
    """
    todo = [s for s in sections if s.format in ("markdown", "text") and s.id in results and results[s.id].text]
    if not todo:
        return
    texts = [m.content for p in prompts for m in p.messages]
    if not texts and job.template.context:
        try:
            texts = [render_text(job.template.context, context, what="[prompt] context", record=job.record)]
        except DocgenError:
            texts = []
    evidence = evidence_values(context, texts)
    for spec in todo:
        r = results[spec.id]
        claims = unsupported(r.text, evidence)
        if claims:
            results[spec.id] = dataclasses.replace(
                r, warnings=r.warnings + tuple(grounding_message(c, spec.id) for c in claims),
                ungrounded=tuple(c.text for c in claims))


def provenance_for(job: DocumentJob, generator: Generator, options: RunOptions,
                   results: Mapping[str, SectionResult]) -> dict[str, str]:
    """What made this document: docgen version, template, model file + sha256, backend, n_ctx, seed, parameters
    (of the first section, and every section's in ``section_params``: :mod:`docgen.provenance`), data file."""
    first = next(iter(results.values()), None)
    params = first.params if first else GenerationParams(seed=options.seed)
    path = getattr(generator, "path", None)
    sha = options.model_sha256 or (model_sha256(path) if path else "")
    return {
        "docgen_version": __version__,
        "template_id": job.template.id,
        "template_version": job.template.version,
        "model_file": generator.name,
        "model_sha256": sha,
        "quantization": str(getattr(generator, "quantization", "")),
        "seed": str(params.seed),
        "temperature": str(options.temperature),
        "top_p": str(params.top_p),
        "top_k": str(params.top_k),
        "repeat_penalty": str(params.repeat_penalty),
        "frequency_penalty": str(params.frequency_penalty),
        "presence_penalty": str(params.presence_penalty),
        "section_params": section_params(list(results.values())),
        "n_ctx": str(getattr(generator, "n_ctx", "")),
        "backend": str(getattr(generator, "backend", type(generator).__name__)),
        "data_file": job.dataset.path.name,
        "data_sha256": job.dataset.sha256,
        "row": "" if job.row_index is None else str(job.dataset.row_numbers[job.row_index]),
    }


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def model_sha256(path: Path) -> str:
    """SHA-256 of a model file, computed once per (path, size, mtime) in this process."""
    stat = Path(path).stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = file_sha256(Path(path))
    return _SHA_CACHE[key]


__all__ = ["DocumentJob", "RunOptions", "generate", "base_context", "field_values", "coerce_field", "Cancelled"]
