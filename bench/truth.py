"""Truthful narrative: what the bundled templates write with the embedded model, and what reaches the reader
unmarked.

Runs each bundled template on its sample (``--rows`` first records for the mail-merge template) at
``--seeds`` seeds, twice per seed, interleaved so the machine's load hits both alike:

- ``before``: the pipeline as it was before the fact sheet and verified generation: one candidate, the
  template's hand-written data context (bench/data/<template>-context-before-facts.txt where it had one),
  no Word comments (a mark then reaches the reader as plain text: every problem counts as unmarked);
- ``now``: the shipped pipeline: fact sheet, k candidates (``--candidates``, default the template's, 3),
  the claim check, marks as Word comments (``on_unsupported = "mark"``).

For every written document the model-written sections' final text is checked again (the claim check,
:func:`docgen.claims.check_text`, with the document's own evidence) and every problem found is looked up
among the Word comments read back from the .docx (:func:`docgen.render.comments.read_comments`): a problem
whose sentence carries no comment is *written unmarked*. Printed per template and pipeline: documents
written, sentences and figures in them, problems by kind (unsupported figures, misattributed figures,
entities and names, echoes, commitments), how many of them were written unmarked, sections left empty
(documents refused), seconds per document (min / median), and PASS/FAIL for the targets: 0 problems
written unmarked, and seconds per document ``now`` <= 1.5 x ``before``.

What "unmarked" can and cannot see: it proves every problem the check finds reaches Word as a comment on
its sentence (nothing is lost between check, drop, render); what the check itself misses is measured by
its precision and recall on the labelled set (tests/data/claims/, bench/claims_accuracy.py).

    python bench/truth.py [--seeds 3] [--rows 5] [--templates sales-report,sentiment-report,service-reply]
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import statistics
import tempfile
import time
from pathlib import Path

from docgen.batch import run_batch
from docgen.claims import extract_claims, sentence_spans
from docgen.llm import open_generator
from docgen.model import RunOptions
from docgen.render.comments import read_comments
from docgen.render.markdown import markdown_to_plain
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

ROOT = Path(__file__).resolve().parent
KINDS = ("unsupported", "misattributed", "derived", "entity", "name", "echo", "commitment", "placeholder",
         "markup")


def subset(src: Path, dest: Path, rows: int) -> Path:
    """The header and the first ``rows`` records of a CSV file."""
    with src.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    with dest.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(lines[: rows + 1])
    return dest


def before_template(template):
    """The template as the single-candidate pipeline had it: its hand-written context, if it had one."""
    legacy = ROOT / "data" / f"{template.id}-context-before-facts.txt"
    if legacy.is_file():
        template = dataclasses.replace(template, context=legacy.read_text(encoding="utf-8"))
    return dataclasses.replace(template, candidates=1)


def audit(template, report, comments_count: bool) -> collections.Counter:
    """Problems in the written documents of ``report`` (the claim check's marks on each section's final text,
    and the sentences it removed), and how many of the marks reached the reader without a Word comment on
    their sentence (``comments_count`` False: the before-pipeline wrote none, so every mark is unmarked)."""
    c: collections.Counter = collections.Counter()
    for d in report.documents:
        if not d.ok:
            c["refused"] += 1
            c["empty"] += "is empty" in (d.error or "")
            continue
        c["documents"] += 1
        anchored = [markdown_to_plain(a).strip() for _au, _t, a in read_comments(d.path)] if comments_count else []
        for s in d.sections:
            spec = next(x for x in template.sections if x.id == s.id)
            if spec.format not in ("markdown", "text") or spec.per_row:
                continue
            c["sentences"] += len(sentence_spans(s.text))
            c["figures"] += len(extract_claims(s.text))
            c["removed"] += len({(m.start, m.end) for m in s.dropped})
            for m in s.dropped:
                c[m.kind] += 1
            for m in s.marks:
                c[m.kind] += 1
                c["problems"] += 1
                if markdown_to_plain(m.sentence).strip() not in anchored:
                    c["unmarked"] += 1
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=5, help="records of the mail-merge template per run")
    parser.add_argument("--candidates", type=int, default=0)
    parser.add_argument("--templates", default="sales-report,sentiment-report,service-reply")
    parser.add_argument("--model")
    args = parser.parse_args()
    generator = open_generator("llamacpp", model_path=args.model, n_ctx=4096, n_threads=2)
    print(f"model: {generator.name}; seeds 1..{args.seeds}; generate_many: "
          f"{getattr(generator, 'generate_many', None) is not None}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory(prefix="docgen-truth-") as tmp:
        for tid in args.templates.split(","):
            template = resolve(tid)
            sample = template.root / "sample.csv"
            if template.mode == "rows":
                sample = subset(sample, Path(tmp) / f"{tid}.csv", args.rows)
            dataset = load_dataset(sample)
            totals = {"before": collections.Counter(), "now": collections.Counter()}
            seconds: dict[str, list[float]] = {"before": [], "now": []}
            for seed in range(1, args.seeds + 1):
                for label in ("before", "now"):
                    spec = before_template(template) if label == "before" else template
                    options = RunOptions(seed=seed, candidates=1 if label == "before" else args.candidates)
                    out = Path(tmp) / f"{tid}-{label}-{seed}"
                    t0 = time.perf_counter()
                    report = run_batch(spec, dataset, generator, out, options=options)
                    wall = time.perf_counter() - t0
                    seconds[label].append(wall / max(1, len(report.documents)))
                    found = audit(spec, report, comments_count=label == "now")
                    totals[label] += found
                    print(f"{tid} seed {seed} {label}: {found['documents']} written, {found['problems']} problems, "
                          f"{found['unmarked']} unmarked, {wall:.0f} s", flush=True)
            for label in ("before", "now"):
                rows.append((tid, label, totals[label], seconds[label]))
    print()
    head = (f"{'template':<17} {'pipeline':<7} {'docs':>4} {'refused':>7} {'empty':>5} {'sent':>5} {'figs':>5} "
            f"{'unsupp':>6} {'misattr':>7} {'ent+name':>8} {'derived':>7} {'echo':>4} {'commit':>6} "
            f"{'removed':>7} {'marks':>5} {'UNMARKED':>8} {'s/doc min':>9} {'s/doc med':>9}")
    print(head)
    verdicts = []
    for tid, label, c, secs in rows:
        print(f"{tid:<17} {label:<7} {c['documents']:>4} {c['refused']:>7} {c['empty']:>5} {c['sentences']:>5} "
              f"{c['figures']:>5} {c['unsupported']:>6} {c['misattributed']:>7} {c['entity'] + c['name']:>8} "
              f"{c['derived']:>7} {c['echo']:>4} {c['commitment']:>6} {c['removed']:>7} {c['problems']:>5} {c['unmarked']:>8} "
              f"{min(secs):>9.1f} {statistics.median(secs):>9.1f}")
        if label == "now":
            before = next(s for t, lab, _c, s in rows if t == tid and lab == "before")
            ratio = statistics.median(secs) / statistics.median(before)
            verdicts.append(f"{tid}: written unmarked {c['unmarked']} (target 0) "
                            f"{'PASS' if c['unmarked'] == 0 else 'FAIL'}; seconds per document {ratio:.2f} x before "
                            f"(target <= 1.5) {'PASS' if ratio <= 1.5 else 'FAIL'}")
    print()
    print("\n".join(verdicts))


if __name__ == "__main__":
    main()
