"""Many documents: one per file (mode "table") or one per row (mode "rows").

- Output names come from the manifest's ``output_name`` and are made safe by :func:`safe_filename`;
  a name already used in this run gets `` (2)``, `` (3)``... before the extension.
- One bad row is reported and skipped; the others are written (exit code 1 at the CLI).
- ``docgen-report.json`` in the output folder lists every document: file, row, ``marks`` (how many sentences
  the claim check marked), sections (tokens, seconds, warnings, ``ungrounded``: figures the data does not
  support, ``marks``: every problem of the claim check with its sentence, offsets, claim, message and evidence,
  ``dropped``: marks whose sentences ``on_unsupported = "drop"`` removed; see :mod:`docgen.claims`), seconds
  and error. It is written atomically at the end, also after a cancel; while the run goes, each finished
  document is appended to ``docgen-journal.jsonl`` at once, so a killed run still says what it finished.
- Re-running a batch skips the documents an earlier run already wrote from the same inputs (``--force``
  rewrites them), ``--shard K/N`` makes this process one of N, and ``--jobs N`` keeps N documents in flight
  (:mod:`docgen.journal`).
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import re
import tempfile
import time
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import asdict
from pathlib import Path
from typing import Any

from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DocgenError, RenderError
from docgen.files import atomic_write_text, prepare_folder
from docgen.llm.base import Generator
from docgen.llm.schedule import Outcome, Steps, run_many
from docgen.model import BatchReport, Dataset, DocumentResult, ProgressEvent, TemplateSpec
from docgen.journal import (Journal, Shard, already_written, expected_identity, folder_session, journal_name,
                            report_name)
from docgen.pipeline import (DocumentJob, RunOptions, base_context, document_steps, output_name, provenance_for,
                             rehearse)
from docgen.provenance import sources_dict

REPORT_NAME = "docgen-report.json"
# Windows reserves these device names with any extension (Microsoft, "Naming Files, Paths, and Namespaces").
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
_FORBIDDEN = re.compile('[<>:"/\\\\|?*\ud800-\udfff]')  # and lone surrogates: no file system can store them
#: Invisible characters that have no place in a file name: C0/C1 controls and DEL (NUL from a broken cell),
#: bidi overrides and marks (U+202E makes "report\u202excod.docx" show as "reportdocx.doc"), zero-width ones.
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
MAX_NAME = 150  # characters; keeps full paths under Windows' 260 limit in ordinary folders


def safe_filename(name: str, *, default: str = "document") -> str:
    """A file name that is valid on Windows, macOS and Linux, ending in ``.docx``.

    Tabs and line breaks become spaces and other invisible characters (:data:`CONTROL`) are left out; path
    separators, characters Windows forbids and lone surrogates (from a JSON ``"\\ud800"``) become ``_``; trailing
    dots/spaces are removed; reserved device
    names (CON, NUL, COM1...) get a ``_`` prefix; the stem is cut to ``MAX_NAME`` characters.
    """
    name = CONTROL.sub("", re.sub(r"[\t\n\r\v\f]+", " ", name))
    name = unicodedata.normalize("NFC", name).strip()
    stem = name[:-5] if name.lower().endswith(".docx") else name
    stem = _FORBIDDEN.sub("_", stem).strip(" .")
    stem = re.sub(r"_{2,}", "_", stem)[:MAX_NAME].strip(" .") or default
    if stem.split(".")[0].upper() in _RESERVED:
        stem = "_" + stem
    return stem + ".docx"


def unique_name(name: str, used: set[str]) -> str:
    """``name``, or ``stem (2).docx``, ``stem (3).docx``... if already in ``used`` (case-insensitive)."""
    stem, suffix = name[:-5], ".docx"
    candidate, n = name, 1
    while candidate.lower() in used:
        n += 1
        candidate = f"{stem} ({n}){suffix}"
    used.add(candidate.lower())
    return candidate


def check_output_dir(out_dir: Path) -> Path:
    """Create ``out_dir`` if needed and prove it is writable. Raises RenderError naming the folder."""
    prepare_folder(out_dir)
    try:
        with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".docgen-probe-", delete=True):
            pass
    except OSError as exc:
        raise RenderError(
            f"Cannot write to the output folder {out_dir}: {exc.strerror or exc}. Choose another folder with "
            "--out (or in Settings) or fix its permissions."
        ) from exc
    return out_dir


def plan_jobs(template: TemplateSpec, dataset: Dataset, values: Mapping[str, Any]) -> list[DocumentJob]:
    """One job for "table" mode, one per row for "rows" mode."""
    if template.mode == "rows":
        return [DocumentJob(template, dataset, values, row_index=i) for i in range(len(dataset.rows))]
    return [DocumentJob(template, dataset, values)]


def run_batch(template: TemplateSpec, dataset: Dataset, generator: Generator, out_dir: Path, *,
              values: Mapping[str, Any] | None = None, options: RunOptions = RunOptions(),
              on_event: Callable[[ProgressEvent], None] | None = None, cancel: CancelToken | None = None,
              dry_run: bool = False, width: int = 1, shard: Shard | None = None, force: bool = False) -> BatchReport:
    """Write every document of the run into ``out_dir`` and the JSON report beside them.

    A DocgenError or backend failure in one document is recorded in its DocumentResult and the run goes on;
    Cancelled stops the run (the report marks it cancelled and keeps the documents finished before). ``width``
    documents are in progress at once (:func:`docgen.llm.schedule.run_many`): their model requests reach the
    backend together, which decodes them as parallel sequences when it can (or, for a server, sends them at
    once); 1 writes one document after the other. ``dry_run`` rehearses every document
    (:func:`docgen.pipeline.rehearse`: output name, fields, aggregates and a render with placeholder sections, no
    model) and writes nothing at all, not even the folder or the report. Raises RenderError if ``out_dir`` cannot
    be written (before any work).

    Kill-safety, resume and shards (:mod:`docgen.journal`): each finished document is appended to the journal at
    once; stale temp files of killed runs are removed; a document an earlier run wrote with the same inputs is
    skipped (``DocumentResult.skipped``) unless ``force``; ``shard`` takes its share of the work list, named over
    the whole list, and writes ``docgen-report-shard-K-of-N.json``.
    """
    values = dict(values or {})
    if not dry_run:
        check_output_dir(out_dir)
    all_jobs = plan_jobs(template, dataset, values)
    positions = [i for i in range(len(all_jobs)) if shard is None or shard.takes(i)]
    started = time.perf_counter()
    used: set[str] = set()
    existing: dict[int, str] = {}  # document index -> name of a file it would replace (counted once written)
    notes: list[str] = list(data_notes(dataset))
    cancelled = False
    if on_event:
        on_event(ProgressEvent("run_started", documents=len(positions)))
    if dry_run:
        documents = _rehearse_all(all_jobs, out_dir, used, cancel, positions)
        cancelled = bool(cancel and cancel.cancelled)
        report = BatchReport(template.id, dataset.path, out_dir, tuple(documents), time.perf_counter() - started,
                             generator.name, cancelled, (), tuple(notes))
        if on_event:
            on_event(ProgressEvent("run_done", document=len(documents), documents=len(positions)))
        return report
    names = plan_names(all_jobs, template.id, used, notes, set(positions))
    with folder_session(out_dir) as stale:
        journal = Journal(out_dir / journal_name(shard), {
            "template": template.id, "data": str(dataset.path), "data_sha256": dataset.sha256,
            "shard": shard.label if shard else None, "total": len(all_jobs), "model": generator.name})
        begun: dict[int, float] = {}
        finished: dict[int, DocumentResult] = {}
        order = {pos: n for n, pos in enumerate(positions)}

        def work(pos: int) -> Callable[[], Steps[DocumentResult]]:
            def start() -> Steps[DocumentResult]:
                begun[pos] = time.perf_counter()
                job, name = all_jobs[pos], names[pos]
                if isinstance(name, Exception):
                    raise name
                path = out_dir / name
                if path.exists():
                    if not force:
                        expected = expected_identity(provenance_for(job, generator, options, {}))
                        earlier = already_written(path, expected, pos, job.row_number)
                        if earlier is not None:
                            if on_event:
                                on_event(ProgressEvent("document_done", document=pos, documents=len(all_jobs),
                                                       path=path))
                            return _done(earlier)
                    existing[pos] = name
                return document_steps(job, generator, path, options=options, on_event=on_event, cancel=cancel,
                                      doc_index=pos, doc_total=len(all_jobs))
            return start

        def done(outcome: Outcome) -> None:
            pos = outcome.index
            job = all_jobs[pos]
            if outcome.error is None:
                result = outcome.value
            else:
                seconds = time.perf_counter() - begun.get(pos, time.perf_counter())
                message = failure_message(job, outcome.error)
                result = DocumentResult(pos, None, job.row_number, seconds=seconds, error=message)
                if on_event:
                    on_event(ProgressEvent("document_failed", document=order[pos], documents=len(positions),
                                           text=message))
            finished[pos] = result
            journal.add(document_entry(result))

        try:
            run_many(_Positions(positions, work), generator, width=width, cancel=cancel, on_outcome=done)
        except Cancelled:
            cancelled = True
        documents = [finished[i] for i in sorted(finished)]
        replaced = tuple(existing[d.index] for d in documents if d.ok and not d.skipped and d.index in existing)
        report = BatchReport(template.id, dataset.path, out_dir, tuple(documents), time.perf_counter() - started,
                             generator.name, cancelled, replaced, tuple(notes), shard=shard, total=len(all_jobs),
                             stale_removed=stale, data_sha256=dataset.sha256)
        try:
            write_report(report)
        except RenderError as exc:  # e.g. the disk filled up: the documents written so far stay, say why
            report = dataclasses.replace(report, report_error=str(exc))
        else:
            journal.close(remove=True)  # kept when the report could not be written: it says what was finished
    if on_event:
        on_event(ProgressEvent("run_done", document=len(documents), documents=len(positions)))
    return report


def data_notes(dataset: Dataset) -> list[str]:
    """What the run should tell about how the data was read: a text file that was not UTF-8 (the encoding docgen
    recognized, so a wrong guess can be spotted and the file saved as UTF-8), then the reader's notes
    (``dataset.notes``: values cleaned on reading, naming file, row and column)."""
    cleaned = list(getattr(dataset, "notes", ()))
    encoding = (dataset.encoding or "").lower().replace("_", "-")
    if not encoding or encoding in ("utf-8", "utf-8-sig", "ascii", "utf-16", "utf-32"):
        return cleaned
    names = {"cp1252": "Windows-1252 (Western European)", "cp1250": "Windows-1250 (Central European)",
             "cp1251": "Windows-1251 (Cyrillic)", "latin-1": "Latin-1", "iso8859-1": "Latin-1",
             "shift-jis": "Shift-JIS (Japanese)", "cp932": "Shift-JIS (Japanese)", "gb18030": "GB18030 (Chinese)",
             "big5": "Big5 (Chinese)", "euc-kr": "EUC-KR (Korean)", "cp949": "EUC-KR (Korean)"}
    return [f"{dataset.path.name} is not UTF-8 text; docgen read it as {names.get(encoding, encoding)}. If letters "
            "look wrong in the documents, save the file as 'CSV UTF-8' and run again.", *cleaned]


class _Positions:
    """``run_many``'s work items for the given work-list ``positions``; outcomes carry the position as index."""

    def __init__(self, positions: list[int], make: Callable[[int], Callable[[], Steps[DocumentResult]]]) -> None:
        self.positions, self.make = positions, make

    def __iter__(self):
        return (self.make(pos) for pos in self.positions)


def _done(result: DocumentResult) -> Steps[DocumentResult]:
    """A step function that asks nothing and returns ``result`` (a document resume keeps)."""
    return result
    yield  # noqa: B901 - makes this a generator


def plan_names(jobs: list[DocumentJob], default: str, used: set[str], notes: list[str] | None = None,
               wanted: set[int] | None = None) -> list[str | Exception]:
    """Every job's output file name, in work-list order (so every shard and every re-run gives each document the
    same name); a job whose name cannot be rendered gets the exception instead. A name that had invisible
    characters (left out, see :data:`CONTROL`) adds a line to ``notes`` for the jobs in ``wanted`` (all if None)."""
    names: list[str | Exception] = []
    for index, job in enumerate(jobs):
        try:
            raw = output_name(job, base_context(job))
            name = unique_name(safe_filename(raw, default=default), used)
        except Exception as exc:  # noqa: BLE001 - one bad row must never end the batch
            names.append(exc)
            continue
        names.append(name)
        if notes is not None and CONTROL.search(raw) and (wanted is None or index in wanted):
            notes.append(f"{job.record}: the output name had invisible characters (such as NUL) in it; "
                         f"they were left out: {name}")
    return names


def _rehearse_all(jobs: list[DocumentJob], out_dir: Path, used: set[str], cancel: CancelToken | None,
                  positions: list[int] | None = None) -> list[DocumentResult]:
    """``--dry-run``: rehearse each job (no model) and name its file; a failure is that document's error. With
    ``positions`` (a shard) every job is named, but only those are rehearsed and listed."""
    documents = []
    wanted = set(range(len(jobs)) if positions is None else positions)
    for index, job in enumerate(jobs):
        if index not in wanted:
            with contextlib.suppress(Exception):
                unique_name(safe_filename(output_name(job, base_context(job)), default=job.template.id), used)
            continue
        if cancel and cancel.cancelled:
            break
        t0 = time.perf_counter()
        try:
            name = unique_name(safe_filename(rehearse(job), default=job.template.id), used)
            documents.append(DocumentResult(index, out_dir / name, job.row_number, seconds=time.perf_counter() - t0))
        except Exception as exc:  # noqa: BLE001 - one bad row must never end the batch
            documents.append(DocumentResult(index, None, job.row_number, seconds=time.perf_counter() - t0,
                                            error=failure_message(job, exc)))
    return documents


def failure_message(job: DocumentJob, exc: BaseException) -> str:
    """How the report names a document's failure: the DocgenError's message (prefixed with the record when it
    does not name it), or "unexpected error (Type): ..." for anything else."""
    if isinstance(exc, DocgenError):
        return str(exc) if job.record in str(exc) else f"{job.record}: {exc}"
    return f"{job.record}: unexpected error ({type(exc).__name__}): {exc}"


def export_pdfs(report: BatchReport, cancel: CancelToken | None = None) -> dict[int, tuple[Path | None, str | None]]:
    """Convert every written document of ``report`` to PDF beside it (``--pdf``): document index -> (PDF path,
    None) or (None, error message). A failed conversion keeps the .docx; the others go on."""
    from docgen.render import convert_to_pdf

    out: dict[int, tuple[Path | None, str | None]] = {}
    for d in report.documents:
        if not d.ok or d.path is None or (cancel and cancel.cancelled):
            continue
        try:
            out[d.index] = (convert_to_pdf(d.path), None)
        except DocgenError as exc:
            out[d.index] = (None, str(exc))
    return out


def report_dict(report: BatchReport, pdfs: Mapping[int, tuple[Path | None, str | None]] | None = None
                ) -> dict[str, Any]:
    """The JSON-ready form of a report (paths as strings, relative names for documents); with ``pdfs`` (from
    :func:`export_pdfs`) each converted document also has ``pdf`` (file name) and ``pdf_error``."""
    docs = []
    for d in report.documents:
        if pdfs is not None:
            pdf, pdf_error = pdfs.get(d.index, (None, None))
            extra = {"pdf": pdf.name if pdf else None, "pdf_error": pdf_error}
        else:
            extra = {}
        docs.append({**document_entry(d), **extra})
    return {
        "template": report.template_id,
        "data": str(report.data_path),
        "data_sha256": report.data_sha256,
        "model": report.model,
        "seconds": round(report.seconds, 3),
        "cancelled": report.cancelled,
        "written": sum(1 for d in report.documents if d.ok and not d.skipped),
        "skipped": sum(1 for d in report.documents if d.skipped),
        "failed": len(report.failed),
        "shard": report.shard.label if report.shard else None,
        "total": report.total or len(report.documents),
        "replaced": list(report.replaced),
        "notes": list(report.notes),
        "stale_temp_files_removed": report.stale_removed,
        "documents": docs,
    }


def document_entry(d: DocumentResult) -> dict[str, Any]:
    """One document as the report and the journal list it: ``index`` (place in the full work list), file, row,
    ok, skipped, seconds, tokens, error, sections."""
    return {
        "index": d.index,
        "file": d.path.name if d.path else None,
        "row": d.row,
        "ok": d.ok,
        "skipped": d.skipped,
        "seconds": round(d.seconds, 3),
        "tokens": sum(s.tokens for s in d.sections),
        "marks": sum(len(s.marks) for s in d.sections),
        "error": d.error,
        "warnings": list(d.warnings),
        "sections": [{"id": s.id, "cached": s.cached, "tokens": s.tokens, "prompt_tokens": s.prompt_tokens,
                      "seconds": round(s.seconds, 3), "warnings": list(s.warnings),
                      "ungrounded": list(s.ungrounded),
                      "marks": [asdict(m) for m in s.marks], "dropped": [asdict(m) for m in s.dropped],
                      "params": asdict(s.params), **sources_dict(s)} for s in d.sections],
    }


def write_report(report: BatchReport, pdfs: Mapping[int, tuple[Path | None, str | None]] | None = None) -> Path:
    """Write ``docgen-report.json`` (``docgen-report-shard-K-of-N.json`` for a shard) atomically into the
    report's output folder; return its path."""
    data = report_dict(report, pdfs)
    return atomic_write_text(report.out_dir / report_name(report.shard),
                             json.dumps(data, indent=2, ensure_ascii=False))
