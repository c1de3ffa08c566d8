"""Load + aggregate time and peak memory of the data path, old vs new, for 100k and 1M rows, in one run.

    python bench/data.py [--sizes 100000 1000000] [--repeat 3] [--keep DIR]

The data is the sales-report sample (templates/sales-report/sample.csv, 9,994 real order lines) repeated to the
size, with Sales and Profit shifted by a cent per repetition so that the values are not all the same few
thousand. What is measured, in a fresh process per run: reading the CSV file and computing all five
aggregates of the bundled sales-report (its docgen.toml), exactly as a document of that template does.

- old: docgen before the data layer (bench/legacy_data.py, verbatim): one Python dict per row, sums in Python;
- new: docgen.sources.load_dataset + docgen.templates.aggregates.compute (the DuckDB data layer).

Runs of old and new alternate (the machine is shared and noisy); the table shows min and median of the wall
time and of the peak resident memory (ru_maxrss of the child). The new path must stay within the target at 1M
rows: <= 10 s and <= 500 MB (the data-layer issue's target). The two paths' aggregates are compared and must
agree (floats to 1e-9 relative).
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "templates" / "sales-report" / "sample.csv"
TEMPLATE = ROOT / "templates" / "sales-report"
TARGET_SECONDS = 10.0
TARGET_MB = 500.0


def make_file(rows: int, folder: Path) -> Path:
    """The sales sample repeated to ``rows`` order lines (module docstring); reused if already there."""
    path = folder / f"sales-{rows}.csv"
    if path.exists():
        return path
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        records = list(csv.reader(fh))
    header, body = records[0], records[1:]
    sales, profit = header.index("Sales"), header.index("Profit")
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\r\n")
        writer.writerow(header)
        for i in range(rows):
            record = list(body[i % len(body)])
            k = i // len(body)
            if k:
                record[sales] = f"{float(record[sales]) + k * 0.01:.2f}"
                record[profit] = f"{float(record[profit]) + k * 0.01:.4f}"
            writer.writerow(record)
    return path


def child(variant: str, path: Path) -> None:
    """One measured run in this (fresh) process; prints a JSON line."""
    import resource

    from docgen.templates.manifest import load_manifest

    spec = load_manifest(TEMPLATE)
    start = time.perf_counter()
    if variant == "old":
        sys.path.insert(0, str(ROOT / "bench"))
        import legacy_data

        dataset = legacy_data.load_csv(path)
        results = {a.name: legacy_data.compute(a, dataset, template_id=spec.id) for a in spec.aggregates}
    else:
        from docgen.sources import load_dataset
        from docgen.templates.aggregates import compute

        dataset = load_dataset(path)
        results = {a.name: compute(a, dataset, template_id=spec.id) for a in spec.aggregates}
    seconds = time.perf_counter() - start
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"seconds": seconds, "rss_mb": rss_mb, "rows": len(dataset.rows), "results": results},
                     default=str))


def run_child(variant: str, path: Path) -> dict:
    done = subprocess.run([sys.executable, __file__, "--child", variant, str(path)], capture_output=True,
                          text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{variant} run failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def same(a, b) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float | int) and isinstance(b, float | int):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    return a == b


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path, help="folder for the generated data files (default: a temp folder)")
    parser.add_argument("--child", nargs=2, metavar=("VARIANT", "PATH"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]))
        return 0
    folder = args.keep or Path(tempfile.mkdtemp(prefix="docgen-bench-data-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())} on {os.cpu_count()} cores")
    rows_out = []
    failed = False
    for size in args.sizes:
        path = make_file(size, folder)
        runs: dict[str, list[dict]] = {"old": [], "new": []}
        for _ in range(args.repeat):
            for variant in ("old", "new"):
                runs[variant].append(run_child(variant, path))
        agree = same(runs["old"][0]["results"], runs["new"][0]["results"])
        failed |= not agree
        for variant in ("old", "new"):
            secs = [r["seconds"] for r in runs[variant]]
            mbs = [r["rss_mb"] for r in runs[variant]]
            rows_out.append((size, variant, min(secs), statistics.median(secs), min(mbs), statistics.median(mbs),
                             agree))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print()
    print(f"{'rows':>9}  {'path':<4}  {'s min':>7}  {'s median':>8}  {'MB min':>7}  {'MB median':>9}  result")
    for size, variant, smin, smed, mmin, mmed, agree in rows_out:
        verdict = ""
        if variant == "new" and size == 1_000_000:
            ok = smed <= TARGET_SECONDS and mmed <= TARGET_MB
            failed |= not ok
            verdict = (f"target <= {TARGET_SECONDS:.0f} s and <= {TARGET_MB:.0f} MB: {'PASS' if ok else 'FAIL'}")
        elif variant == "new":
            old = next(r for r in rows_out if r[0] == size and r[1] == "old")
            verdict = f"{old[3] / smed:.1f}x faster, {old[5] / mmed:.1f}x less memory than old"
        else:
            verdict = "baseline" + ("" if agree else "  RESULTS DIFFER from new")
        print(f"{size:>9,}  {variant:<4}  {smin:>7.2f}  {smed:>8.2f}  {mmin:>7.0f}  {mmed:>9.0f}  {verdict}")
    print()
    print("aggregates of old and new agree" if not failed or all(r[6] for r in rows_out)
          else "aggregates of old and new DIFFER")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
