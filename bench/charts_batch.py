"""A batch of rows-mode documents each with charts: is it linear in time and flat in memory?

    python bench/charts_batch.py [--docs 1000] [--rounds 2]

It writes a rows-mode template package in a temporary folder (a letter per sales person with two native
charts of that person's quarterly figures: a template chart bound by ``[[charts]]`` and a new one drawn by
the ``{{ chart(...) }}`` tag) and a data file of ``--docs`` rows, and runs the real batch (docgen.batch.run_batch:
plan, rehearsal, sections from the scripted backend, render, atomic write, provenance sidecar, report) twice
per round: A with the charts, B (the baseline) the same template without them. Runs are interleaved A, B, A,
B...; for each it records every document's time and the process's resident memory after it.

Figures (min / median over the rounds), each printed with its target and PASS/FAIL:

- linear in time: median seconds per document of the last 10 % of the batch / of the first 10 % (after
  the first 20 documents, which warm up imports and caches); target at most 1.25; the same ratio of the
  process's CPU seconds per document is printed too (wall seconds follow the machine's load, CPU seconds
  hardly do);
- flat in memory: resident memory growth from document 100 to the last document; target at most 25 MB
  (A's growth is printed beside B's, the same batch without charts);
- the cost of the charts: A's median seconds per document minus B's (reported, no target).

The machine is shared: run it when nothing else is busy, and say what else ran.
"""

from __future__ import annotations

import argparse
import csv
import gc
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

TIME_RATIO_TARGET = 1.25
MEMORY_GROWTH_TARGET_MB = 25.0

MANIFEST = """[template]
id = "rep-letter{suffix}"
name = "Sales person letter"

[data]
mode = "rows"
output_name = "letter-{{{{ row.name }}}}-{{{{ row_number }}}}.docx"

[[sections]]
id = "note"
format = "text"
prompt = "Write one sentence to {{{{ row.name }}}} about the quarter."
max_tokens = 40
{charts}"""

BOUND = """
[[charts]]
name = "Quarterly sales"
data = "row"
series = ["Q1", "Q2", "Q3", "Q4"]
series_names = ["Sales"]
title = "Quarterly sales of {{ row.name }}"
number_format = '"$"#,##0'
"""


def rss_mb() -> float:
    """Current resident memory of this process in MB (/proc on Linux; peak RSS elsewhere)."""
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            pages = int(fh.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, AttributeError):
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak / (2**20 if sys.platform == "darwin" else 2**10)


def build_package(folder: Path, with_charts: bool) -> Path:
    import docx

    from docgen.render.charts import ChartValues, Series, insert_chart

    folder.mkdir(parents=True)
    d = docx.Document()
    d.add_paragraph("Dear {{ row.name }},")
    d.add_paragraph("{{p sections.note }}")
    if with_charts:
        placeholder = ChartValues(("Q1", "Q2", "Q3", "Q4"), (Series("Sales", (1, 2, 3, 4)),))
        insert_chart(d.add_paragraph(), placeholder, "column", title="Quarterly sales", width_cm=12, height_cm=6)
        d.add_paragraph("{{p chart(row, y=['Q1', 'Q2', 'Q3', 'Q4'], kind='line', names=['Sales'], "
                        "title='Trend', width='12cm', height='6cm') }}")
    d.add_paragraph("Kind regards")
    d.save(str(folder / "template.docx"))
    text = MANIFEST.format(suffix="" if with_charts else "-baseline", charts=BOUND if with_charts else "")
    (folder / "docgen.toml").write_text(text, encoding="utf-8")
    return folder


def write_data(path: Path, rows: int) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(["name", "Q1", "Q2", "Q3", "Q4"])
        for i in range(rows):
            out.writerow([f"Person {i:04d}", 1000 + i, 1200 + (i * 7) % 500, 900 + (i * 13) % 700, 1500 - i % 300])
    return path


def run_once(package: Path, data_path: Path, out: Path) -> tuple[list[float], list[float], float, list[float]]:
    """(seconds per document, RSS in MB after each document, wall seconds, CPU seconds of this process per
    document) of one batch. CPU seconds hardly change with what else runs on the machine, wall seconds do."""
    from docgen.batch import run_batch
    from docgen.llm.fake import FakeGenerator
    from docgen.sources import load_dataset
    from docgen.templates.catalog import load_package

    template = load_package(package)
    dataset = load_dataset(data_path)
    times: list[float] = []
    memory: list[float] = []
    cpu: list[float] = []
    last = [time.perf_counter(), time.process_time()]

    def on_event(event) -> None:
        if event.kind in ("document_done", "document_failed"):
            now, now_cpu = time.perf_counter(), time.process_time()
            times.append(now - last[0])
            cpu.append(now_cpu - last[1])
            last[0], last[1] = now, now_cpu
            memory.append(rss_mb())

    gc.collect()
    start = time.perf_counter()
    last[0], last[1] = start, time.process_time()
    report = run_batch(template, dataset, FakeGenerator("Thank you for a strong quarter."), out, on_event=on_event)
    wall = time.perf_counter() - start
    failed = [d.error for d in report.documents if not d.ok]
    if failed:
        raise SystemExit(f"{len(failed)} documents failed, first: {failed[0]}")
    return times, memory, wall, cpu


def _late_over_early(times: list[float]) -> float:
    n = len(times)
    tenth = max(1, n // 10)
    early = times[20:20 + tenth] if n > 20 + 2 * tenth else times[:tenth]
    return statistics.median(times[-tenth:]) / max(statistics.median(early), 1e-9)


def figures(times: list[float], memory: list[float], cpu: list[float]) -> dict[str, float]:
    n = len(times)
    start_mem = memory[min(99, n - 1)]
    return {
        "ratio": _late_over_early(times),
        "cpu_ratio": _late_over_early(cpu),
        "growth": max(memory[min(99, n - 1):]) - start_mem,
        "median": statistics.median(times[20:] if n > 40 else times),
        "peak": max(memory),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=1000)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docgen-bench-charts-") as tmp:
        work = Path(tmp)
        os.environ.setdefault("DOCGEN_HOME", str(work / "home"))
        with_charts = build_package(work / "with-charts", True)
        baseline = build_package(work / "baseline", False)
        data = write_data(work / "people.csv", args.docs)
        results: dict[str, list[dict[str, float]]] = {"A": [], "B": []}
        for r in range(args.rounds):
            for label, package in (("A", with_charts), ("B", baseline)):
                out = work / f"out-{label}-{r}"
                times, memory, wall, cpu = run_once(package, data, out)
                f = figures(times, memory, cpu)
                results[label].append(f)
                print(f"round {r + 1} {label} ({'charts' if label == 'A' else 'baseline, no charts'}): "
                      f"{len(times)} docs in {wall:.1f} s, median {f['median'] * 1000:.1f} ms/doc, last/first 10% "
                      f"{f['ratio']:.2f} (CPU seconds {f['cpu_ratio']:.2f}), RSS growth doc 100->end {f['growth']:+.1f} MB (peak {f['peak']:.0f} MB)",
                      flush=True)
                for p in out.iterdir():
                    p.unlink()
        a, b = results["A"], results["B"]

        def mm(values: list[float], fmt: str) -> str:
            return f"min {format(min(values), fmt)} / median {format(statistics.median(values), fmt)}"

        ratio = [x["ratio"] for x in a]
        growth = [x["growth"] for x in a]
        cpu_ratio = [x["cpu_ratio"] for x in a]
        print()
        print(f"{args.docs} rows-mode documents, each with 2 native charts (1 bound template chart + 1 chart tag),"
              f" {args.rounds} rounds interleaved with the baseline")
        print(f"linear in time: last/first 10% per-document time  A {mm(ratio, '.2f')}  (baseline B "
              f"{mm([x['ratio'] for x in b], '.2f')}); target <= {TIME_RATIO_TARGET}: "
              f"{'PASS' if statistics.median(ratio) <= TIME_RATIO_TARGET else 'FAIL'}")
        print(f"linear in CPU time (what else runs on the machine hardly changes it): last/first 10% per-document "
              f"CPU seconds  A {mm(cpu_ratio, '.2f')}  (baseline B {mm([x['cpu_ratio'] for x in b], '.2f')}); target "
              f"<= {TIME_RATIO_TARGET}: {'PASS' if statistics.median(cpu_ratio) <= TIME_RATIO_TARGET else 'FAIL'}")
        print(f"flat in memory: RSS growth doc 100 -> {args.docs}  A {mm(growth, '+.1f')} MB  (baseline B "
              f"{mm([x['growth'] for x in b], '+.1f')} MB); target <= {MEMORY_GROWTH_TARGET_MB:.0f} MB: "
              f"{'PASS' if statistics.median(growth) <= MEMORY_GROWTH_TARGET_MB else 'FAIL'}")
        cost = [x["median"] - y["median"] for x, y in zip(a, b, strict=True)]
        print(f"cost of the charts: {mm([c * 1000 for c in cost], '.1f')} ms per document (A "
              f"{mm([x['median'] * 1000 for x in a], '.1f')} ms, B {mm([y['median'] * 1000 for y in b], '.1f')} ms)")


if __name__ == "__main__":
    main()
