"""Provenance beyond the document properties: the sidecar JSON written beside each document, and the
readable form ``docgen inspect`` prints.

- Custom document properties (:mod:`docgen.render.properties`, built by :func:`docgen.pipeline.provenance_for`)
  hold text values only; ``section_params`` is compact JSON ``{section id: sampling parameters}`` (max_tokens,
  temperature, top_p, top_k, repeat_penalty, frequency_penalty, presence_penalty, seed; ``{"locked": true}`` for
  text the user supplied), with sorted keys, so identical runs give identical properties (and bytes).
- The sidecar is ``<stem>.provenance.json`` beside ``<stem>.docx`` (not ``<name>.docx.json``: Windows hides
  known extensions, and that name would show as a second "report.docx"). It holds ``properties`` - exactly the
  custom properties docgen wrote - plus what is too long or too variable for the properties: per section
  ``tokens``, ``prompt_tokens``, ``seconds``, ``warnings``, ``ungrounded``. It is written atomically after the
  .docx (see :func:`docgen.pipeline.generate`).
- Determinism: two runs with the same inputs and seed give identical sidecars except the fields named in
  :data:`TIMING_FIELDS` (wall-clock seconds, at any depth); :func:`comparable` drops them.

Sits beside :mod:`docgen.render` in the layers, so it does not read .docx files itself: callers pass the
properties (from :func:`docgen.render.read_provenance`).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from docgen.files import atomic_write_text
from docgen.model import DocumentJob, SectionResult

SIDECAR_SUFFIX = ".provenance.json"
SIDECAR_FORMAT = 1
SECTION_PARAMS = "section_params"
#: keys whose values differ between identical runs (wall time); dropped by :func:`comparable`
TIMING_FIELDS = frozenset({"seconds"})
_PARAM_COLUMNS = (("max_tokens", "max_tok"), ("temperature", "temp"), ("top_p", "top_p"), ("top_k", "top_k"),
                  ("repeat_penalty", "repeat"), ("frequency_penalty", "freq"), ("presence_penalty", "pres"),
                  ("seed", "seed"))


#: provenance properties that must match for batch resume to keep a document an earlier run wrote: the template
#: (id, version, content), the record (:func:`document_identity`), the model and every run-wide sampling choice
RESUME_KEYS = ("template_id", "template_version", "template_sha256", "data_row_sha256", "fields_sha256",
               "model_file", "model_sha256", "backend", "server_url", "server_model", "run_seed", "temperature",
               "top_p", "top_k", "repeat_penalty", "frequency_penalty", "presence_penalty", "n_ctx")
_FILE_SHA: dict[tuple[str, int, int], str] = {}


def _files_sha256(paths: Sequence[Path]) -> str:
    digest = hashlib.sha256()
    for path in paths:
        stat = path.stat()
        key = (str(path), stat.st_size, stat.st_mtime_ns)
        if key not in _FILE_SHA:
            _FILE_SHA[key] = hashlib.sha256(path.read_bytes()).hexdigest()
        digest.update(_FILE_SHA[key].encode())
    return digest.hexdigest()


def _canonical(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=str)


def document_identity(job: DocumentJob, run_seed: int) -> dict[str, str]:
    """What identifies one document's inputs beyond the model, as provenance properties (sha256 hex):
    ``template_sha256`` (docgen.toml + template.docx bytes), ``data_row_sha256`` (rows mode: this record's
    values, so a row that moved keeps its hash and a changed one does not; table mode: the data file's sha256 and
    sheet), ``fields_sha256`` (the field values), and ``run_seed`` (the run's seed; a section's own seed can be one
    higher after a retry). Batch resume compares these (:data:`RESUME_KEYS`)."""
    template = job.template
    try:
        template_sha = _files_sha256([template.manifest_path, template.docx])
    except OSError:
        template_sha = ""
    if job.row_index is None:
        row = _canonical([job.dataset.sha256, job.dataset.sheet])
    else:
        row = _canonical(dict(job.dataset.rows[job.row_index]))
    return {
        "template_sha256": template_sha,
        "data_row_sha256": hashlib.sha256(row.encode("utf-8")).hexdigest(),
        "fields_sha256": hashlib.sha256(_canonical(dict(job.values)).encode("utf-8")).hexdigest(),
        "run_seed": str(run_seed),
    }


def sidecar_path(docx_path: Path) -> Path:
    """``report.docx`` -> ``report.provenance.json`` in the same folder."""
    docx_path = Path(docx_path)
    return docx_path.with_name(docx_path.stem + SIDECAR_SUFFIX)


def section_params(results: Sequence[SectionResult]) -> str:
    """The ``section_params`` property: compact JSON of every section's sampling parameters."""
    params = {r.id: {"locked": True} if r.locked else asdict(r.params) for r in results}
    return json.dumps(params, sort_keys=True, separators=(",", ":"))


def sidecar(document: str, properties: Mapping[str, str], results: Sequence[SectionResult],
            formats: Mapping[str, str], seconds: float) -> dict[str, Any]:
    """The sidecar's content for ``document`` (a file name) with ``properties`` as written into it."""
    return {
        "docgen_provenance": SIDECAR_FORMAT,
        "document": document,
        "properties": dict(properties),
        "seconds": round(seconds, 3),
        "sections": [{
            "id": r.id, "format": formats.get(r.id, ""), "locked": r.locked, "cached": r.cached,
            "tokens": r.tokens, "prompt_tokens": r.prompt_tokens, "seconds": round(r.seconds, 3),
            "params": None if r.locked else asdict(r.params),
            "warnings": list(r.warnings), "ungrounded": list(r.ungrounded), **sources_dict(r),
        } for r in results],
    }


def sources_dict(r: SectionResult) -> dict[str, Any]:
    """The section's reference sources, what retrieval said about them, and its claim-check marks, for the
    report and the sidecar; {} for a section written without references and without marks."""
    out: dict[str, Any] = {}
    if r.sources or r.sources_note:
        out["sources"] = [{"number": s.number, "label": s.label, "path": s.path, "whole": s.whole} for s in r.sources]
        out["sources_note"] = r.sources_note
    if r.marks:
        out["marks"] = [{"kind": m.kind, "sentence": m.sentence, "claim": m.claim, "message": m.message,
                         "evidence": m.evidence} for m in r.marks]
    return out


def write_sidecar(path: Path, data: Mapping[str, Any]) -> Path:
    """Write ``data`` as JSON to ``path`` atomically (:func:`docgen.files.atomic_write_text`)."""
    return atomic_write_text(path, json.dumps(data, indent=2, ensure_ascii=False) + "\n")


def read_sidecar(docx_path: Path) -> dict[str, Any] | None:
    """The sidecar beside ``docx_path``, or None when there is none or it is not readable JSON."""
    try:
        data = json.loads(sidecar_path(docx_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def comparable(data: Any) -> Any:
    """``data`` without :data:`TIMING_FIELDS` at any depth (for comparing two runs)."""
    if isinstance(data, Mapping):
        return {k: comparable(v) for k, v in data.items() if k not in TIMING_FIELDS}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


def inspection(path: Path, properties: Mapping[str, str], side: Mapping[str, Any] | None) -> dict[str, Any]:
    """What ``docgen inspect --json`` prints: the properties (``section_params`` parsed) and, per section, the
    parameters plus the sidecar's tokens/seconds/warnings when the sidecar is there."""
    props = dict(properties)
    try:
        params = json.loads(props.pop(SECTION_PARAMS, "") or "{}")
    except ValueError:
        params = {}
    stats = {s.get("id"): s for s in (side or {}).get("sections", []) if isinstance(s, Mapping)}
    sections = []
    for sid in dict.fromkeys([*stats, *params]):  # template order when the sidecar is there
        s = dict(stats.get(sid, {"id": sid}))
        p = params.get(sid)
        s["params"] = None if not p or p.get("locked") else p
        s["locked"] = bool(p and p.get("locked")) or bool(s.get("locked"))
        sections.append(s)
    return {"file": str(path), "sidecar": str(sidecar_path(path)) if side else None, "properties": props,
            "sections": sections}


def format_inspection(info: Mapping[str, Any]) -> str:
    """``docgen inspect``'s table: properties, one line per section (tokens ``0 (cached)`` for a section read
    from the section cache), then warnings and ungrounded figures."""
    props = info["properties"]
    width = max((len(k) for k in props), default=0)
    lines = [f"{info['file']}", *(f"  {k:<{width}}  {v}" for k, v in props.items())]
    if info["sections"]:
        head = ["section", *(h for _k, h in _PARAM_COLUMNS), "tokens", "seconds", "warn"]
        rows = []
        for s in info["sections"]:
            p = s.get("params") or {}
            cells = ["locked" if s.get("locked") else str(p.get(k, "")) for k, _h in _PARAM_COLUMNS]
            rows.append([str(s["id"]), *cells, str(s.get("tokens", "")) + (" (cached)" if s.get("cached") else ""),
                         str(s.get("seconds", "")),
                         str(len(s.get("warnings", []))) if "warnings" in s else ""])
        widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head))]
        lines += ["", "Sections:", *("  " + "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
                                     for r in [head, *rows])]
        for s in info["sections"]:
            for w in s.get("warnings", []):
                lines.append(f"  warning [{s['id']}]: {w}")
            if s.get("ungrounded"):
                lines.append(f"  ungrounded [{s['id']}]: {', '.join(s['ungrounded'])}")
    lines.append("")
    lines.append(f"Sidecar: {info['sidecar']}" if info["sidecar"] else
                 "No sidecar (.provenance.json) beside the document: tokens, seconds and warnings unknown.")
    return "\n".join(lines)
