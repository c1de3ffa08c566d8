"""``docgen eval``: how well and how fast each model writes *these* templates on this machine.

For each model, every template (default: the bundled ones) runs through the real batch pipeline on its sample
data (rows-mode templates and per-row sections on the first ``rows`` rows) into a throwaway folder, and
:func:`evaluate_model` measures:

- ``prompt_tps`` / ``gen_tps``: tokens/s reading the prompt and writing, split at each section's first streamed
  token (:class:`TimingGenerator`); scored choices count as prompt reading;
- ``sec_per_doc``: wall seconds per written document (rendering included);
- ``problems_per_doc``: what the claim check found per document: its marks (``SectionResult.marks``) where it
  sets them, else today's unsupported figures (``ungrounded``), plus empty sections, chat-template markup left
  in the text, and failed documents (each counts 1);
- ``format_ok``: share of prose sections that did what their instruction asked, where it can be checked: a
  list when the prompt asks for a list or bullets (not when it says "not a list"), N sentences or N paragraphs
  (+-1) when it asks for N, and not cut off at ``max_tokens``;
- ``choice_acc``: accuracy of per-row choice sections on labelled rows, when the template ships
  ``eval-labels.csv`` (first column: a key column of the sample data; other columns: section ids holding the
  expected choice; see docs/models.md);
- ``peak_ram``: the process's peak resident memory while the model was loaded and running (psutil, sampled
  every 50 ms), in bytes.

Each model's figures are stored (:mod:`docgen.models.evals`) so ``docgen models list`` and the Models dialog
show them next to the model, and speed estimates start from them.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from docgen.cancel import CancelToken
from docgen.llm.base import Generation, Message
from docgen.model import Dataset, DocumentResult, GenerationParams, TemplateSpec

LABELS_FILE = "eval-labels.csv"
#: Columns of the table, in order: key -> (heading, format).
COLUMNS: dict[str, tuple[str, str]] = {
    "model": ("model", "{}"),
    "load_s": ("load s", "{:.1f}"),
    "prompt_tps": ("prompt tok/s", "{:.0f}"),
    "gen_tps": ("gen tok/s", "{:.1f}"),
    "sec_per_doc": ("s/doc", "{:.1f}"),
    "problems_per_doc": ("problems/doc", "{:.1f}"),
    "format_ok": ("format ok", "{:.0%}"),
    "choice_acc": ("choice acc", "{:.0%}"),
    "peak_ram": ("peak RAM", "{}"),
    "docs": ("docs", "{}"),
}
_MARKUP = re.compile(r"<\|(?:im_start|im_end|eot_id|start_header_id|end_header_id|endoftext)\|>|<start_of_turn>|"
                     r"<end_of_turn>|\[/?INST\]")
_LIST_ASKED = re.compile(r"\b(bullet(?:ed)?(?: point)?s?|bullet list|numbered list|a list|list of)\b", re.I)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+\S", re.M)
_LIST_LINE = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+.*$", re.M)
_NUMBERS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6}
_SENTENCES_ASKED = re.compile(r"\b(\d+|one|two|three|four|five|six)[- ](?:short )?sentences?\b", re.I)
_PARAGRAPHS_ASKED = re.compile(r"\b(\d+|one|two|three|four|five|six)(?: short| long)? paragraphs?\b", re.I)
_NEGATED = re.compile(r"\b(?:not|no|without|never)\s+(?:\w+\s+)?$", re.I)
CUT_WARNING = "stopped at max_tokens"


class TimingGenerator:
    """Wraps a generator and records, per call, prompt tokens evaluated and the seconds until the first streamed
    token (prompt reading) and after it (writing). Hides ``generate_many`` so every call is timed."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self.prompt_tokens = 0
        self.prompt_seconds = 0.0
        self.gen_tokens = 0
        self.gen_seconds = 0.0

    def __getattr__(self, name: str) -> Any:
        if name == "generate_many":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def generate(self, messages: Sequence[Message], params: GenerationParams, *, choices: Sequence[str] = (),
                 on_token: Callable[[str], None] | None = None, cancel: CancelToken | None = None,
                 schema: dict[str, Any] | None = None) -> Generation:
        """See :meth:`docgen.llm.base.Generator.generate`."""
        start = time.perf_counter()
        first: list[float] = []

        def stream(piece: str) -> None:
            if not first:
                first.append(time.perf_counter())
            if on_token:
                on_token(piece)

        extra: dict[str, Any] = {"schema": schema} if schema is not None else {}
        result = self.inner.generate(messages, params, choices=choices, on_token=stream, cancel=cancel, **extra)
        end = time.perf_counter()
        if first and result.tokens > 1:
            self.prompt_seconds += first[0] - start
            self.gen_seconds += end - first[0]
            self.gen_tokens += result.tokens - 1
        else:
            self.prompt_seconds += end - start
        self.prompt_tokens += result.evaluated_tokens
        return result


class PeakMemory:
    """Samples this process's resident memory every ``interval`` seconds between ``start()`` and ``stop()``;
    ``peak`` is the largest sample in bytes (0 without psutil)."""

    def __init__(self, interval: float = 0.05) -> None:
        self.interval, self.peak = interval, 0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        import psutil

        proc = psutil.Process()
        while True:
            self.peak = max(self.peak, proc.memory_info().rss)
            if self._stop.wait(self.interval):
                return

    def start(self) -> PeakMemory:
        try:
            import psutil  # noqa: F401
        except ImportError:  # pragma: no cover - psutil is a dependency
            return self
        self._thread = threading.Thread(target=self._run, name="docgen-eval-memory", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> int:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
        return self.peak


@dataclass
class ModelEvaluation:
    """The figures of one model (keys of :data:`COLUMNS`), plus per-template detail for ``--json``."""

    model: str
    path: Path
    metrics: dict[str, Any] = field(default_factory=dict)
    templates: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: what the backend said at load time (a base model without a chat template)
    warnings: tuple[str, ...] = ()


def head(dataset: Dataset, rows: int) -> Dataset:
    """The first ``rows`` records of ``dataset`` (all when ``rows`` <= 0)."""
    if rows <= 0 or len(dataset.rows) <= rows:
        return dataset
    return Dataset(dataset.path, dataset.columns, dataset.rows[:rows], dataset.row_numbers[:rows], dataset.sha256,
                   dataset.sheet, dataset.encoding, dataset.delimiter)


def section_problems(text: str, result: Any) -> int:
    """Problems in one prose section: its claim-check marks (else its unsupported figures), an empty text, and
    chat-template markup left in it."""
    marks = tuple(getattr(result, "marks", ()) or ())
    count = len(marks) if marks else len(result.ungrounded)
    if not text.strip():
        count += 1
    if _MARKUP.search(text) and not any(getattr(m, "kind", "") == "markup" for m in marks):
        count += 1
    return count


def _asked(pattern: re.Pattern[str], prompt: str) -> re.Match[str] | None:
    """The first match of ``pattern`` in ``prompt`` that is not negated ("not a list", "without bullets")."""
    for match in pattern.finditer(prompt):
        if not _NEGATED.search(prompt[max(0, match.start() - 20):match.start()]):
            return match
    return None


def _count(word: str) -> int:
    return int(word) if word.isdigit() else _NUMBERS[word.lower()]


def format_follows(prompt: str, text: str, warnings: Sequence[str]) -> bool | None:
    """Whether a prose section did what its instruction asks, where that can be checked (rules in the module
    docstring; a negated ask such as "not a list" is not an ask); None when nothing in the instruction can be
    checked and the text was not cut off."""
    if any(CUT_WARNING in w for w in warnings):
        return False
    checked = False
    if _asked(_LIST_ASKED, prompt):
        checked = True
        if not _LIST_ITEM.search(text):
            return False
    prose = _LIST_LINE.sub("", text).strip()
    asked = _asked(_SENTENCES_ASKED, prompt)
    if asked:
        checked = True
        got = len([s for s in re.split(r"(?<=[.!?])\s+", prose) if len(s) > 1])
        if abs(got - _count(asked.group(1))) > 1:
            return False
    asked = _asked(_PARAGRAPHS_ASKED, prompt)
    if asked:
        checked = True
        # a paragraph: a block with prose of its own (list items and short headings such as "Complaints:" aside)
        blocks = [b for b in re.split(r"\n\s*\n", text) if re.search(r"\w[.!?]", _LIST_LINE.sub("", b))]
        if abs(len(blocks) - _count(asked.group(1))) > 1:
            return False
    return True if checked else None


def load_labels(template: TemplateSpec, dataset: Dataset) -> dict[str, list[tuple[int, str]]]:
    """``{section id: [(row index, expected choice), ...]}`` from the template's ``eval-labels.csv`` ({} when
    it has none). Raises DataError naming the file and line for a key the sample data does not hold."""
    from docgen.errors import DataError

    path = template.root / LABELS_FILE
    if not path.is_file():
        return {}
    with path.open(encoding="utf-8", newline="") as fh:
        reader = csv.reader(fh)
        header = next(reader, [])
        if len(header) < 2 or header[0] not in dataset.column_names:
            raise DataError(path, f"the first column must name a column of the sample data (one of "
                            f"{', '.join(dataset.column_names)}), then one column per choice section.")
        key = header[0]
        index = {str(r.get(key)): i for i, r in enumerate(dataset.rows)}
        choices = {s.id: s.choices for s in template.sections if s.format == "choice"}
        out: dict[str, list[tuple[int, str]]] = {sid: [] for sid in header[1:] if sid in choices}
        for line, values in enumerate(reader, 2):
            if not values:
                continue
            if values[0] not in index:
                raise DataError(path, f"key '{values[0]}' is not in the sample data's column '{key}'.", row=line)
            for sid, value in zip(header[1:], values[1:], strict=False):
                if sid in out and value:
                    if value not in choices[sid]:
                        raise DataError(path, f"'{value}' is not a choice of section '{sid}' "
                                        f"({', '.join(choices[sid])}).", row=line, column=sid)
                    out[sid].append((index[values[0]], value))
    return out


def choice_accuracy(template: TemplateSpec, dataset: Dataset, generator: Any, labels: dict[str, list[tuple[int, str]]],
                    cancel: CancelToken | None = None) -> tuple[int, int]:
    """(correct, labelled) over the labelled rows, asking each per-row choice section exactly as the pipeline
    does (its row prompt and sampling parameters)."""
    from docgen.context import base_context
    from docgen.llm.prompt import build_row_prompt
    from docgen.model import DocumentJob, RunOptions
    from docgen.sections.choice import pick_choice
    from docgen.sections.document import params_for

    context = base_context(DocumentJob(template, dataset))
    correct = total = 0
    for sid, rows in labels.items():
        section = next(s for s in template.sections if s.id == sid)
        params = params_for(section, RunOptions())
        for index, expected in rows:
            if cancel:
                cancel.raise_if_cancelled()
            row_ctx = {**context, "row": dict(dataset.rows[index]), "row_number": dataset.row_numbers[index]}
            prompt = build_row_prompt(template, section, row_ctx, generator)
            gen = generator.generate(prompt.messages, params, choices=section.choices, cancel=cancel)
            correct += pick_choice(section, gen) == expected  # the section's choice_bias, as the pipeline does
            total += 1
    return correct, total


def _prompt_of(template: TemplateSpec, section_id: str) -> str:
    return next((s.prompt for s in template.sections if s.id == section_id), "")


def evaluate_template(template: TemplateSpec, dataset: Dataset, generator: TimingGenerator, work: Path,
                      cancel: CancelToken | None = None) -> dict[str, Any]:
    """Run one template into ``work`` and count documents, seconds, problems and format checks."""
    from docgen.batch import run_batch
    from docgen.model import RunOptions

    report = run_batch(template, dataset, generator, work / template.id, options=RunOptions(), cancel=cancel)
    prose = {s.id for s in template.sections if s.format in ("markdown", "text") and not s.per_row}
    docs: Sequence[DocumentResult] = report.documents
    written = [d for d in docs if d.ok]
    problems = len(docs) - len(written)
    checks: list[bool] = []
    for d in written:
        for s in d.sections:
            if s.id not in prose:
                continue
            problems += section_problems(s.text, s)
            verdict = format_follows(_prompt_of(template, s.id), s.text, s.warnings)
            if verdict is not None:
                checks.append(verdict)
    return {"docs": len(docs), "written": len(written), "seconds": sum(d.seconds for d in written),
            "problems": problems, "format_checks": len(checks), "format_passed": sum(checks),
            "errors": [d.error for d in docs if d.error]}


def evaluate_model(model_path: Path, templates: Sequence[TemplateSpec], *, rows: int = 8, n_ctx: int = 4096,
                   threads: int = 2, cancel: CancelToken | None = None,
                   on_status: Callable[[str], None] | None = None) -> ModelEvaluation:
    """Load the model, run every template, measure (module docstring). Raises ModelError when the model cannot
    be loaded, Cancelled."""
    from docgen.llm import open_generator
    from docgen.sources import load_dataset

    memory = PeakMemory().start()
    start = time.perf_counter()
    inner = open_generator("llamacpp", model_path=model_path, n_ctx=n_ctx, n_threads=threads)
    load_s = time.perf_counter() - start
    generator = TimingGenerator(inner)
    result = ModelEvaluation(inner.name, Path(getattr(inner, "path", model_path)),
                             warnings=tuple(getattr(inner, "warnings", ())))
    totals = {"docs": 0, "written": 0, "seconds": 0.0, "problems": 0, "format_checks": 0, "format_passed": 0}
    correct = labelled = 0
    try:
        with tempfile.TemporaryDirectory(prefix="docgen-eval-") as tmp:
            for template in templates:
                if template.sample_data is None:
                    continue
                if on_status:
                    on_status(f"{inner.name}: {template.id}")
                full = load_dataset(template.sample_data)
                labels = load_labels(template, full)
                limit = rows if (template.mode == "rows" or any(s.per_row for s in template.sections)) else 0
                detail = evaluate_template(template, head(full, limit), generator, Path(tmp), cancel)
                if labels:
                    c, n = choice_accuracy(template, full, generator, labels, cancel)
                    detail["choice_correct"], detail["choice_labelled"] = c, n
                    correct, labelled = correct + c, labelled + n
                result.templates[template.id] = detail
                for key in totals:
                    totals[key] += detail[key]
    finally:
        generator.close()
        peak = memory.stop()
    written = max(totals["written"], 1)
    result.metrics = {
        "model": inner.name, "load_s": round(load_s, 2),
        "prompt_tps": round(generator.prompt_tokens / generator.prompt_seconds, 1) if generator.prompt_seconds else 0.0,
        "gen_tps": round(generator.gen_tokens / generator.gen_seconds, 2) if generator.gen_seconds else 0.0,
        "sec_per_doc": round(totals["seconds"] / written, 2),
        "problems_per_doc": round(totals["problems"] / max(totals["docs"], 1), 2),
        "format_ok": round(totals["format_passed"] / totals["format_checks"], 3) if totals["format_checks"] else None,
        "choice_acc": round(correct / labelled, 3) if labelled else None,
        "peak_ram": peak, "docs": totals["docs"],
    }
    return result


def record(evaluation: ModelEvaluation) -> None:
    """Store the evaluation for the model list and the Models dialog (:mod:`docgen.models.evals`)."""
    from docgen.llm.discovery import file_sha256
    from docgen.models.evals import EvalRecord, record_evaluation

    path = evaluation.path
    record_evaluation(EvalRecord(model=path.name, size=path.stat().st_size, sha256=file_sha256(path),
                                 when=dt.datetime.now().isoformat(timespec="seconds"),
                                 templates=tuple(evaluation.templates), metrics=dict(evaluation.metrics)))


def format_table(evaluations: Sequence[ModelEvaluation]) -> str:
    """The evaluation as a plain-text table, one row per model (columns of :data:`COLUMNS`)."""
    from docgen.models.estimate import human_bytes

    def cell(key: str, value: Any) -> str:
        if value is None:
            return "-"
        if key == "peak_ram":
            return human_bytes(value) if value else "-"
        return COLUMNS[key][1].format(value)

    def model_cell(e: ModelEvaluation) -> str:
        return cell("model", e.metrics.get("model")) + (" (!)" if e.warnings else "")

    rows = [[COLUMNS[k][0] for k in COLUMNS]] + [
        [model_cell(e) if k == "model" else cell(k, e.metrics.get(k)) for k in COLUMNS] for e in evaluations]
    widths = [max(len(r[i]) for r in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths, strict=True)))
             for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    if any(e.warnings for e in evaluations):
        lines.append("(!) no chat template: a base model, not an instruct model (see the warning above)")
    return "\n".join(lines)


__all__ = ["COLUMNS", "LABELS_FILE", "ModelEvaluation", "PeakMemory", "TimingGenerator", "choice_accuracy",
           "evaluate_model", "evaluate_template", "format_follows", "format_table", "load_labels", "record",
           "section_problems"]
