"""One document, as named stages: context -> sections (model) -> checks -> render -> write.

:func:`generate` is what the GUI worker calls for one document; :func:`document_steps` is the same work as a
step function (:mod:`docgen.llm.schedule`) that *yields* its model requests, so batch mode can drive many
documents together (:func:`docgen.llm.schedule.run_many`) and a backend can decode their sequences at once.
Each stage is a function of the package that owns it; this module only orders them:

1. context (:mod:`docgen.context`): fields, ``rows``/``row``, ...; then a rehearsal render with placeholder
   section text (:func:`rehearse`), so a tag naming a value this record lacks fails before any model time;
2. per-row sections (``per_row = true``, table mode; :mod:`docgen.sections.rows`), stored in the rows;
3. declared aggregates over the (extended) rows (:func:`docgen.context.add_aggregates`);
4. document sections (:mod:`docgen.sections.document`), sharing one prompt prefix (KV cache reuse), unless the
   caller supplies the text (GUI edits and locked sections: ``fixed_sections``);
5. facts and checks (:mod:`docgen.sections.checks`): the fact sheet, then the claim check of every prose
   section (marks anchored on sentences; unsupported figures also as warnings; a section written from
   reference documents first gets the policy-term marks of :func:`docgen.refs.with_sources`, and its passages
   count as evidence), then ``on_unsupported``
   (mark / drop / fail): an empty section fails the document, and so does any mark with ``fail`` or
   ``RunOptions.strict_grounding``;
6. rendering into template.docx (marks become Word comments on their sentences) and an atomic write, with
   provenance in the document properties, then the
   provenance sidecar ``<stem>.provenance.json`` beside it (:mod:`docgen.provenance`).

``format = "json"`` sections are generated grammar-constrained by their schema, parsed and validated
(:mod:`docgen.sections.jsonreply`); template.docx reaches the fields as ``{{ sections.<id>.<field> }}``, and a
per-row json section stores the parsed object in the row (``row.<id>.<field>``).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from docgen.version import __version__
from docgen.cancel import CancelToken
from docgen.context import add_aggregates, base_context, coerce_field, field_values, output_name
from docgen.errors import Cancelled, DocgenError, RenderError
from docgen.llm.base import Generator
from docgen.llm.discovery import file_sha256
from docgen.llm.fake import example_instance
from docgen.llm.prompt import build_document_prompts
from docgen.llm.schedule import Steps, run_steps
from docgen.model import DocumentJob, DocumentResult, GenerationParams, RunOptions, SectionResult, SectionSpec
from docgen.provenance import document_identity, section_params, sidecar, sidecar_path, write_sidecar
from docgen.refs import document_sources, prompt_sources, record_texts, with_sources
from docgen.render import rehearse_document, render_document
from docgen.sections import EventCallback, Progress, json_problem, row_section_steps, section_steps
from docgen.sections.checks import Checker, add_facts, check_sections, reference_passages, settle

log = logging.getLogger(__name__)


def placeholder(section: SectionSpec) -> str:
    """Stand-in text for a section in :func:`rehearse`: its first choice, an instance of its JSON schema, or
    ``[Title]``."""
    if section.format == "choice" and section.choices:
        return section.choices[0]
    if section.format == "json":
        return json.dumps(example_instance(section.schema or {}))
    return f"[{section.title}]"


def rehearse(job: DocumentJob, context: Mapping[str, Any] | None = None, *, strict_images: bool = False) -> str:
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
    add_aggregates(job, context)
    add_facts(job, context)
    name = output_name(job, context)
    sections = {s.id: (s.format, job.fixed_sections.get(s.id, placeholder(s)))
                for s in job.template.sections if not (s.per_row and job.row_index is None)}
    rehearse_document(job.template.docx, context, sections, record=job.record, charts=job.template.charts,
                      dataset=job.dataset, strict_images=strict_images)  # tags evaluated, nothing built or written
    return name


def _needs_model(job: DocumentJob) -> bool:
    return any(s.per_row or job.wants(s.id) for s in job.template.sections)


def document_steps(job: DocumentJob, generator: Generator, out_path: Path | None = None, *,
                   options: RunOptions = RunOptions(), on_event: EventCallback | None = None,
                   cancel: CancelToken | None = None, doc_index: int = 0, doc_total: int = 1,
                   out_dir: Path | None = None) -> Steps[DocumentResult]:
    """:func:`generate` as a step function: yields the document's model requests, returns its result.
    ``generator`` is used here only to count tokens (prompt budget) and for provenance; the driver generates."""
    started = time.perf_counter()
    template = job.template
    progress = Progress(on_event, doc_index, doc_total)
    progress.emit("document_started")
    context = base_context(job)
    if _needs_model(job):
        # a tag naming a value that does not exist (or, strict, a missing picture) fails now, not after the model
        rehearse(job, context, strict_images=options.strict_images)
    results: dict[str, SectionResult] = {}
    if job.row_index is None and any(s.per_row for s in template.sections):
        for r in (yield from row_section_steps(job, context, generator, options, progress)):
            results[r.id] = r
    add_aggregates(job, context)
    sheet = add_facts(job, context)

    doc_sections = [s for s in template.sections if not (s.per_row and job.row_index is None)]
    wanted = [s for s in doc_sections if job.wants(s.id)]
    selections = document_sources(job, doc_sections, context, generator, options)  # reference documents
    own, shared = prompt_sources(selections, wanted)
    prompts = build_document_prompts(template, wanted, context, generator, record=job.record, sources=own,
                                     shared_sources=shared) if wanted else []
    checker = Checker(job, context, prompts, sheet, reference_passages(selections))
    together = getattr(generator, "generate_many", None) is not None
    for si, prompt in enumerate(prompts):
        if cancel:
            cancel.raise_if_cancelled()
        results[prompt.section.id] = yield from section_steps(job, prompt, options, progress, si, len(prompts),
                                                              judge=checker.judge, together=together,
                                                              facts=sheet)
    results.update(fixed_results(job))
    said = record_texts(context, doc_sections, job.record) if selections else []
    remove = template.references is not None and template.references.unsupported == "remove"
    results.update({sid: with_sources(results[sid], sel, said, remove=remove)
                    for sid, sel in selections.items() if sid in results})
    check_sections(job, doc_sections, results, context, prompts, checker=checker)
    settle(job, doc_sections, results, options, writing=out_path is not None or out_dir is not None, facts=sheet)

    if out_path is None and out_dir is not None:
        out_path = out_dir / output_name(job, context)
    ordered = tuple(results[s.id] for s in template.sections if s.id in results)
    warnings: tuple[str, ...] = ()
    if out_path is not None:
        if cancel:
            cancel.raise_if_cancelled()
        warnings = write_document(job, generator, options, context, doc_sections, results, out_path, started)
    result = DocumentResult(doc_index, out_path, job.row_number, ordered, time.perf_counter() - started,
                            warnings=warnings)
    progress.emit("document_done", path=out_path, tokens=sum(r.tokens for r in ordered))
    return result


def generate(job: DocumentJob, generator: Generator, out_path: Path | None = None, *,
             options: RunOptions = RunOptions(), on_event: EventCallback | None = None,
             cancel: CancelToken | None = None, doc_index: int = 0, doc_total: int = 1,
             out_dir: Path | None = None) -> DocumentResult:
    """Make one document and write it to ``out_path`` (or ``out_dir``/the rendered output name).

    Pass neither path to generate the sections without rendering (the GUI's review step).
    Raises DocgenError subclasses (MissingValues, DataError, ContextOverflow, RenderError, ...) and Cancelled;
    the batch runner turns them into a failed :class:`DocumentResult` for that row.
    """
    steps = document_steps(job, generator, out_path, options=options, on_event=on_event, cancel=cancel,
                           doc_index=doc_index, doc_total=doc_total, out_dir=out_dir)
    return run_steps(steps, generator, cancel)


def fixed_results(job: DocumentJob) -> dict[str, SectionResult]:
    """The caller's text for ``fixed_sections`` (GUI edits and locks) as locked results. Raises DocgenError
    when an edited json section is not valid JSON for its schema."""
    out = {}
    for sid, text in job.fixed_sections.items():
        spec = next((s for s in job.template.sections if s.id == sid), None)
        problem = json_problem(text, spec.schema) if spec is not None and spec.format == "json" else None
        if problem:
            raise DocgenError(f"The edited text of section '{sid}' ({job.record}) is not {problem}. Fix it or "
                              "regenerate the section.")
        out[sid] = SectionResult(sid, text, locked=True)
    return out


def write_document(job: DocumentJob, generator: Generator, options: RunOptions, context: Mapping[str, Any],
                   sections: Sequence[SectionSpec], results: Mapping[str, SectionResult], out_path: Path,
                   started: float) -> tuple[str, ...]:
    """Render and atomically write the document (its ``[[charts]]`` filled, pictures from the data), then its
    provenance sidecar; returns rendering's warnings (pictures not shown). Raises RenderError, DataError."""
    texts = {s.id: (s.format, results[s.id].text) for s in sections if s.id in results}
    marks = {sid: r.marks for sid, r in results.items() if r.marks}
    provenance = provenance_for(job, generator, options, results)
    style = job.template.references.citations if job.template.references is not None else "footnotes"
    sources = {sid: r.sources for sid, r in results.items() if r.sources and style != "none"}
    warnings: list[str] = []
    render_document(job.template.docx, context, texts, out_path, provenance=provenance, record=job.record,
                    charts=job.template.charts, dataset=job.dataset, strict_images=options.strict_images,
                    warnings=warnings, sources=sources, marks=marks, citations=style)
    ordered = tuple(results[s.id] for s in job.template.sections if s.id in results)
    write_document_sidecar(out_path, provenance, ordered, job.template, time.perf_counter() - started)
    return tuple(warnings)


def write_document_sidecar(out_path: Path, provenance: Mapping[str, str], results: Sequence[SectionResult],
                           template: Any, seconds: float) -> None:
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


def provenance_for(job: DocumentJob, generator: Generator, options: RunOptions,
                   results: Mapping[str, SectionResult]) -> dict[str, str]:
    """What made this document: docgen version, template, model file + sha256, backend, n_ctx, seed, parameters
    (of the first section, and every section's in ``section_params``: :mod:`docgen.provenance`), data file, and
    what the backend reports about itself (``generator.provenance``: an inference server's URL without
    credentials, the model name it reports and its fingerprint)."""
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
        **{str(k): str(v) for k, v in (getattr(generator, "provenance", None) or {}).items()},
        "data_file": job.dataset.path.name,
        "data_sha256": job.dataset.sha256,
        "row": "" if job.row_index is None else str(job.dataset.row_numbers[job.row_index]),
        **document_identity(job, options.seed),
    }


_SHA_CACHE: dict[tuple[str, int, int], str] = {}


def model_sha256(path: Path) -> str:
    """SHA-256 of a model file, computed once per (path, size, mtime) in this process."""
    stat = Path(path).stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key not in _SHA_CACHE:
        _SHA_CACHE[key] = file_sha256(Path(path))
    return _SHA_CACHE[key]


__all__ = ["DocumentJob", "RunOptions", "generate", "document_steps", "rehearse", "base_context", "field_values",
           "coerce_field", "output_name", "Cancelled"]
