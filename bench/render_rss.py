"""bench/run.py's render and batch-memory figures (issue #8 item 4), each with its baseline measured in the
same run:

- ``render vs docxtpl``: documents per second of docgen's ``render_document`` against plain docxtpl
  (``DocxTemplate(path).render(context, Environment(autoescape=True))`` + ``save``) for the same template and
  data: a letter with fields, a 20-row table loop, a section placed inline and a footer. Run in turn, one
  document each, interleaved; target docgen >= 0.9x docxtpl. The second line counts what a batch document
  costs docgen in all: the rehearsal (in memory, placeholder sections) plus the written render.
- ``batch RSS 1000 vs 100``: peak resident memory of a child process that runs a rows-mode batch of
  service-reply with the scripted fake backend (the whole pipeline: references, prompts, claim check, render,
  atomic write, sidecar, journal, report) over 1,000 rows, against the same over 100 rows. Target <= 1.2x.

Run alone: ``python bench/render_rss.py [--reps N] [--quick]``; ``--child-batch N`` is the child process.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from timing import interleaved, spread

REPLY = ("We are sorry that your order arrived damaged. Our policy offers a free replacement or a full refund "
         "[1].\n\nPlease write to support@example.com quoting your ticket number.")
NOTE = "Thank you for a strong quarter: sales grew in every region, led by the West."


def letter_template(path: Path) -> Path:
    """A template both docxtpl and docgen render alike: fields, a table loop, an inline section, a footer."""
    import docx

    d = docx.Document()
    d.add_heading("Quarterly letter for {{ name }}", 1)
    d.add_paragraph("Dear {{ name }}, here are your figures for {{ period }}.")
    table = d.add_table(rows=3, cols=3)
    table.rows[0].cells[0].text = "Region"
    table.rows[0].cells[1].text = "Sales"
    table.rows[0].cells[2].text = "Orders"
    table.rows[1].cells[0].text = "{%tr for r in rows %}"
    table.rows[2].cells[0].text = "{{ r.region }}"
    table.rows[2].cells[1].text = "{{ r.sales }}"
    table.rows[2].cells[2].text = "{{ r.orders }}"
    table.add_row().cells[0].text = "{%tr endfor %}"
    d.add_paragraph("{{ sections.note }}")
    d.add_paragraph("Kind regards, {{ signer }}")
    d.sections[0].footer.paragraphs[0].text = "{{ company }} · {{ period }}"
    d.save(str(path))
    return path


def letter_context(i: int) -> dict:
    rows = [{"region": f"Region {k}", "sales": f"{1000 + 37 * k + i:,}", "orders": 10 + k} for k in range(20)]
    return {"name": f"Person {i}", "period": "Q3", "rows": rows, "signer": "Ada", "company": "Northwind"}


def render_vs_docxtpl(reps: int, quick: bool, work: Path, add: Callable[[tuple], None]) -> None:
    """Append the two render rows (see the module docstring) through ``add``."""
    import jinja2
    from docxtpl import DocxTemplate

    from docgen.render import rehearse_document, render_document

    template = letter_template(work / "letter.docx")
    docs = 3 if quick else 30
    texts: dict[str, list[str]] = {}

    def plain() -> float:
        start = time.perf_counter()
        for i in range(docs):
            tpl = DocxTemplate(str(template))
            tpl.render({**letter_context(i), "sections": {"note": NOTE}}, jinja2.Environment(autoescape=True))
            tpl.save(str(work / f"docxtpl-{i}.docx"))
        return docs / (time.perf_counter() - start)

    def docgen(rehearse: bool) -> Callable[[], float]:
        def run() -> float:
            start = time.perf_counter()
            for i in range(docs):
                if rehearse:
                    rehearse_document(template, letter_context(i), {"note": ("text", "[Note]")})
                render_document(template, letter_context(i), {"note": ("text", NOTE)}, work / f"docgen-{i}.docx")
            return docs / (time.perf_counter() - start)
        return run

    runs = interleaved({"docxtpl": plain, "docgen": docgen(False), "docgen+rehearsal": docgen(True)}, reps)
    for name in ("docxtpl", "docgen"):
        texts[name] = [_text(work / f"{name}-{i}.docx") for i in range(docs)]
    if texts["docxtpl"] != texts["docgen"]:
        raise SystemExit("render: docgen's documents read back differently from docxtpl's: bench template bug")
    base = statistics.median(runs["docxtpl"])
    for name, label in (("docgen", "render vs docxtpl: docs/s"),
                        ("docgen+rehearsal", "render + rehearsal (a batch document) vs docxtpl: docs/s")):
        ratio = statistics.median(runs[name]) / base
        add((label, ">= 0.90x", "docxtpl " + spread(runs["docxtpl"], "docs/s"),
             spread(runs[name], "docs/s") + f" = {ratio:.2f}x", "PASS" if ratio >= 0.9 else "FAIL"))


def _text(path: Path) -> str:
    import docx

    d = docx.Document(str(path))
    cells = [c.text for t in d.tables for r in t.rows for c in r.cells]
    return "\n".join([p.text for p in d.paragraphs] + cells)


def tickets(path: Path, n: int) -> Path:
    """``n`` service-reply rows, the sample's comments in turn with their own ticket numbers."""
    from docgen.templates.catalog import resolve

    with resolve("service-reply").sample_data.open(encoding="utf-8", newline="") as fh:
        sample = list(csv.DictReader(fh))
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.DictWriter(fh, fieldnames=list(sample[0]))
        out.writeheader()
        for i in range(n):
            out.writerow({**sample[i % len(sample)], "ticket_id": f"T-{i:05d}"})
    return path


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def child_batch(rows: int) -> None:
    """In a child process: a rows-mode service-reply batch of ``rows`` letters with the fake backend; prints
    JSON with the peak RSS (MB), RSS after the 100th document and at the end, and seconds."""
    from docgen.batch import run_batch
    from docgen.llm.fake import FakeGenerator
    from docgen.sources import load_dataset
    from docgen.templates.catalog import resolve

    with tempfile.TemporaryDirectory(prefix="docgen-bench-rss-") as tmp:
        work = Path(tmp)
        os.environ["DOCGEN_HOME"] = str(work / "home")
        data = load_dataset(tickets(work / "tickets.csv", rows))
        after: list[float] = []

        def on_event(event) -> None:
            if event.kind == "document_done" and len(after) < 100:
                after.append(rss_mb())

        start = time.perf_counter()
        report = run_batch(resolve("service-reply"), data, FakeGenerator(REPLY), work / "out", on_event=on_event)
        seconds = time.perf_counter() - start
        failed = [d.error for d in report.documents if not d.ok]
        if failed:
            raise SystemExit(f"{len(failed)} letters failed, first: {failed[0]}")
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(json.dumps({"peak": peak, "at100": after[-1], "end": rss_mb(), "seconds": seconds}))


def batch_rss(reps: int, quick: bool, add: Callable[[tuple], None]) -> None:
    """Append the batch-memory row (module docstring) through ``add``."""
    small, large = (4, 8) if quick else (100, 1000)

    def child(rows: int) -> Callable[[], dict]:
        def run() -> dict:
            out = subprocess.run([sys.executable, __file__, "--child-batch", str(rows)], capture_output=True,
                                 text=True, check=True)
            return json.loads(out.stdout.strip().splitlines()[-1])
        return run

    runs = interleaved({"small": child(small), "large": child(large)}, reps)
    peak_small = [r["peak"] for r in runs["small"]]
    peak_large = [r["peak"] for r in runs["large"]]
    ratio = statistics.median(peak_large) / statistics.median(peak_small)
    per_doc = [(b["end"] - b["at100"]) * 1024 / (large - 100) for b in runs["large"]] if large > 100 else []
    growth = f", {statistics.median(per_doc):+.0f} KB/doc after doc 100" if per_doc else ""
    add((f"batch peak RSS {large} vs {small} rows-mode docs", "<= 1.20x",
         f"{small} docs " + spread(peak_small, "MB"), spread(peak_large, "MB") + f" = {ratio:.2f}x{growth}",
         "PASS" if ratio <= 1.2 else "FAIL"))




def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--only", default="render,rss")
    parser.add_argument("--child-batch", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_batch:
        child_batch(args.child_batch)
        return
    rows: list[tuple] = []

    def add(row: tuple) -> None:
        rows.append(row)
        print("  " + " | ".join(str(c) for c in row), flush=True)

    print("load average before: " + " ".join(f"{x:.2f}" for x in os.getloadavg()), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        if "render" in args.only:
            render_vs_docxtpl(args.reps, args.quick, Path(tmp), add)
        if "rss" in args.only:
            batch_rss(1 if args.quick else args.reps, args.quick, add)
    print("load average after: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))


if __name__ == "__main__":
    main()
