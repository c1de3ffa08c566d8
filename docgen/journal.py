"""What lets a batch survive being killed, be resumed, and be split over machines.

- **Journal.** ``docgen-journal.jsonl`` (``docgen-journal-shard-K-of-N.jsonl`` for a shard) in the output folder
  gets one JSON line per document as it finishes, flushed and fsynced, so a run killed with SIGKILL still says
  what it finished. The first line describes the run. The final ``docgen-report.json`` replaces it when the run
  ends (also after Ctrl+C); ``docgen report merge`` reads a journal left by a killed run as its report.
- **Stale temp files.** A run killed while writing leaves ``.~docgen-*.tmp`` (the atomic writer's temp file,
  :mod:`docgen.files`). Each run holds a shared lock on ``.docgen-batch.lock`` in the output folder; a run that
  can take it exclusively (no other docgen run writes there, e.g. another shard) removes every such file, else
  only those older than :data:`STALE_SECONDS`. Where locks do not exist (Windows) the age rule applies alone.
- **Resume.** A planned document whose file and provenance sidecar are there, with the same
  :data:`docgen.provenance.RESUME_KEYS` as this run would write, is skipped (unless ``--force``); anything else
  (missing, changed row, other model or seed, a document without its sidecar because the run died between the
  two writes) is made again and replaces the file.
- **Shards.** ``--shard K/N`` (K from 1 to N): every process plans the same work list in data order and takes
  documents ``K-1, K-1+N, K-1+2N, ...``; names are given over the whole list, so shards writing into one folder
  never collide. ``docgen report merge`` (:func:`merge_reports`) combines the shards' reports.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from docgen.errors import DocgenError
from docgen.files import TEMP_PREFIX, TEMP_SUFFIX, atomic_write_text
from docgen.model import DocumentResult, GenerationParams, Mark, SectionResult
from docgen.provenance import RESUME_KEYS, read_sidecar

REPORT_STEM = "docgen-report"
JOURNAL_STEM = "docgen-journal"
LOCK_NAME = ".docgen-batch.lock"
#: seconds; a temp file untouched this long belongs to no live write (a document is written in well under a
#: second, a very large one in seconds), so it may go even while another run uses the folder
STALE_SECONDS = 3600
JOURNAL_FORMAT = 1


@dataclass(frozen=True)
class Shard:
    """``--shard K/N``: this process's ``index`` (1..``count``) of ``count`` shards."""

    index: int
    count: int

    @property
    def label(self) -> str:
        return f"{self.index}/{self.count}"

    @property
    def suffix(self) -> str:
        """File name part: ``-shard-2-of-4``."""
        return f"-shard-{self.index}-of-{self.count}"

    def takes(self, position: int) -> bool:
        """True when the document at ``position`` (0-based) of the full work list is this shard's."""
        return position % self.count == self.index - 1


def parse_shard(text: str) -> Shard:
    """``"2/4"`` -> Shard(2, 4). Raises DocgenError for anything else, with the 1-based rule and how to turn a
    0-based index (Kubernetes ``JOB_COMPLETION_INDEX``) into K."""
    m = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text or "")
    if not m or not 1 <= int(m.group(1)) <= int(m.group(2)) or int(m.group(2)) > 100000:
        raise DocgenError(f"--shard expects K/N with K from 1 to N (for example 2/4), got {text!r}. Shards count "
                          "from 1: with a 0-based index such as Kubernetes' JOB_COMPLETION_INDEX, pass "
                          "$((JOB_COMPLETION_INDEX + 1))/N.")
    return Shard(int(m.group(1)), int(m.group(2)))


def report_name(shard: Shard | None) -> str:
    """``docgen-report.json``, or ``docgen-report-shard-K-of-N.json`` for a shard."""
    return f"{REPORT_STEM}{shard.suffix if shard else ''}.json"


def journal_name(shard: Shard | None) -> str:
    """``docgen-journal.jsonl``, or ``docgen-journal-shard-K-of-N.jsonl`` for a shard."""
    return f"{JOURNAL_STEM}{shard.suffix if shard else ''}.jsonl"


# -- the folder lock and stale temp files --------------------------------------------------------------------
@contextlib.contextmanager
def folder_session(out_dir: Path) -> Iterator[int]:
    """Hold a shared lock on the output folder for a run; yields how many stale temp files were removed on entry
    (module docstring). The lock file is removed on exit when no other run holds it."""
    lock_path = out_dir / LOCK_NAME
    fd = None
    alone = False
    try:
        import fcntl
    except ImportError:  # Windows: no advisory locks here; the age rule alone decides
        fcntl = None  # type: ignore[assignment]
    if fcntl is not None:
        try:
            fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                alone = True
            except OSError:
                alone = False
        except OSError:
            fd = None
    removed = remove_stale_temps(out_dir, everything=alone)
    if fd is not None and fcntl is not None:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_SH)
    try:
        yield removed
    finally:
        if fd is not None and fcntl is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                lock_path.unlink(missing_ok=True)  # only when no other run holds it
            os.close(fd)


def remove_stale_temps(out_dir: Path, *, everything: bool, now: float | None = None) -> int:
    """Remove ``.~docgen-*.tmp`` files left in ``out_dir`` by killed runs: all of them when ``everything`` (no
    other run uses the folder), else those older than :data:`STALE_SECONDS`. Returns how many went."""
    now = time.time() if now is None else now
    removed = 0
    for path in out_dir.glob(f"{TEMP_PREFIX}*{TEMP_SUFFIX}"):
        try:
            if everything or now - path.stat().st_mtime > STALE_SECONDS:
                path.unlink()
                removed += 1
        except OSError:
            continue
    return removed


# -- the journal ---------------------------------------------------------------------------------------------
class Journal:
    """``docgen-journal*.jsonl``: :meth:`add` appends one document's report entry (flush + fsync). Opened fresh
    (truncated) by each run with a header line ``{"journal": 1, "template", "data", "shard", "total"}``."""

    def __init__(self, path: Path, header: Mapping[str, Any]) -> None:
        self.path = path
        self._fh: IO[str] | None = open(path, "w", encoding="utf-8")  # noqa: SIM115 - lives for the run
        self._write({"journal": JOURNAL_FORMAT, **header})

    def _write(self, data: Mapping[str, Any]) -> None:
        if self._fh is None:
            return
        try:
            self._fh.write(json.dumps(data, ensure_ascii=False) + "\n")
            self._fh.flush()
            os.fsync(self._fh.fileno())
        except OSError:  # a full disk must not end the batch; the final report says what finished
            self.close()

    def add(self, entry: Mapping[str, Any]) -> None:
        """Append one document's entry (the form :func:`docgen.batch.report_dict` gives documents)."""
        self._write(entry)

    def close(self, *, remove: bool = False) -> None:
        """Close; with ``remove`` delete the file (the final report now holds everything)."""
        if self._fh is not None:
            with contextlib.suppress(OSError):
                self._fh.close()
            self._fh = None
        if remove:
            with contextlib.suppress(OSError):
                self.path.unlink()


def read_journal(path: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """(header, document entries) of a journal; a line cut short by a kill is ignored."""
    header: dict[str, Any] = {}
    entries = []
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            data = json.loads(line)
        except ValueError:
            continue
        if isinstance(data, dict):
            if "journal" in data and not header:
                header = data
            elif "index" in data:
                entries.append(data)
    return header, entries


# -- resume --------------------------------------------------------------------------------------------------
def expected_identity(provenance: Mapping[str, str]) -> dict[str, str]:
    """The :data:`RESUME_KEYS` part of the provenance a document of this run would get."""
    return {k: str(provenance.get(k, "")) for k in RESUME_KEYS}


def already_written(path: Path, expected: Mapping[str, str], index: int, row: int | None) -> DocumentResult | None:
    """The earlier run's result for the document at ``path`` when its sidecar's properties match ``expected``
    (and the .docx is there and not empty), rebuilt from the sidecar with ``skipped=True`` (its sections keep
    their claim-check marks, with offsets 0: the sidecar names the sentence, not where it is); else None."""
    try:
        if not path.is_file() or path.stat().st_size == 0:
            return None
    except OSError:
        return None
    side = read_sidecar(path)
    if not side or not isinstance(side.get("properties"), dict):
        return None
    props = side["properties"]
    if any(str(props.get(k, "")) != v for k, v in expected.items()):
        return None
    sections = []
    for s in side.get("sections", []):
        if not isinstance(s, dict) or "id" not in s:
            continue
        try:
            params = GenerationParams(**s["params"]) if isinstance(s.get("params"), dict) else GenerationParams()
        except TypeError:
            params = GenerationParams()
        marks = tuple(Mark(str(m.get("kind", "")), str(m.get("sentence", "")), 0, 0, str(m.get("claim", "")),
                           str(m.get("message", "")), str(m.get("evidence", "")))
                      for m in s.get("marks", ()) if isinstance(m, dict))  # offsets: the sidecar does not keep them
        sections.append(SectionResult(str(s["id"]), "", int(s.get("tokens", 0) or 0), int(s.get("prompt_tokens", 0) or 0),
                                      float(s.get("seconds", 0) or 0), params, cached=bool(s.get("cached")),
                                      locked=bool(s.get("locked")), warnings=tuple(s.get("warnings", ())),
                                      ungrounded=tuple(s.get("ungrounded", ())), marks=marks))
    return DocumentResult(index, path, row, tuple(sections), 0.0, None, skipped=True)


# -- merging shard reports -----------------------------------------------------------------------------------
def _load_reports(folder: Path) -> list[tuple[Path, dict[str, Any]]]:
    found = []
    reports = sorted(folder.glob(f"{REPORT_STEM}*.json"))
    shards_reported = set()
    for path in reports:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise DocgenError(f"{path}: not a readable docgen report ({exc}).") from exc
        if not isinstance(data, dict) or "documents" not in data:
            raise DocgenError(f"{path}: not a docgen report (no 'documents').")
        if data.get("merged_from"):
            continue  # an earlier merge's output: its shards are read themselves
        shards_reported.add(data.get("shard"))
        found.append((path, data))
    for path in sorted(folder.glob(f"{JOURNAL_STEM}*.jsonl")):
        header, entries = read_journal(path)
        if header.get("shard") in shards_reported:
            continue  # that run finished: its report is newer than this journal
        found.append((path, {"template": header.get("template"), "data": header.get("data"),
                             "data_sha256": header.get("data_sha256"), "shard": header.get("shard"),
                             "total": header.get("total"), "model": header.get("model"), "documents": entries,
                             "unfinished": True}))
    return found


def merge_reports(folders: Sequence[Path], out: Path) -> dict[str, Any]:
    """One report from the shard reports (and journals of killed shards) in ``folders``, written to ``out``.

    Documents are ordered by their place in the full work list; a document reported twice keeps the written
    entry (else the later one). ``missing`` lists the work-list positions no shard reported (a shard that did not
    run), ``shards`` what each input was. Raises DocgenError when there is nothing to merge or the inputs come from
    different templates or data files. Returns the merged report (as written)."""
    inputs = [(p, d) for folder in folders for p, d in _load_reports(Path(folder))]
    if not inputs:
        raise DocgenError(f"No docgen report (docgen-report*.json) or journal in {', '.join(map(str, folders))}.")
    kinds = {(d.get("template"), d.get("data_sha256") or d.get("data")) for _p, d in inputs}
    if len(kinds) > 1:
        listing = "; ".join(f"{p}: template {d.get('template')}, data {d.get('data')}" for p, d in inputs)
        raise DocgenError(f"These reports are not shards of one batch (different template or data): {listing}.")
    by_index: dict[int, dict[str, Any]] = {}
    total = max((int(d["total"]) for _p, d in inputs if isinstance(d.get("total"), int)), default=0)
    for path, data in inputs:
        for entry in data["documents"]:
            entry = dict(entry)
            if entry.get("file") and path.parent.resolve() != out.parent.resolve():
                entry["file"] = os.path.relpath(path.parent / entry["file"], out.parent)
            index = int(entry.get("index", len(by_index)))
            old = by_index.get(index)
            if old is None or entry.get("ok") or not old.get("ok"):
                by_index[index] = entry
    documents = [by_index[i] for i in sorted(by_index)]
    first = inputs[0][1]
    missing = [i for i in range(total) if i not in by_index]
    merged = {
        "template": first.get("template"),
        "data": first.get("data"),
        "data_sha256": first.get("data_sha256"),
        "model": first.get("model"),
        "seconds": round(sum(float(d.get("seconds", 0) or 0) for _p, d in inputs), 3),
        "cancelled": any(d.get("cancelled") for _p, d in inputs),
        "written": sum(1 for d in documents if d.get("ok") and not d.get("skipped")),
        "skipped": sum(1 for d in documents if d.get("skipped")),
        "failed": sum(1 for d in documents if not d.get("ok")),
        "total": total or len(documents),
        "missing": missing,
        "merged_from": [{"report": os.path.relpath(p, out.parent), "shard": d.get("shard"),
                         "unfinished": bool(d.get("unfinished")), "documents": len(d["documents"])} for p, d in inputs],
        "replaced": sorted({r for _p, d in inputs for r in d.get("replaced", [])}),
        "documents": documents,
    }
    atomic_write_text(out, json.dumps(merged, indent=2, ensure_ascii=False))
    return merged


__all__ = ["Shard", "parse_shard", "report_name", "journal_name", "folder_session", "remove_stale_temps", "Journal",
           "read_journal", "expected_identity", "already_written", "merge_reports", "STALE_SECONDS"]
