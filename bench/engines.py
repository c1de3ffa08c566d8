"""The engine comparison behind docgen's data layer: DuckDB vs Polars on the same 1M-row CSV, against today's path.

    python bench/engines.py [--rows 1000000] [--repeat 3]   (Polars is optional: pip install polars)

Each engine does, in a fresh process, what docgen's data layer has to do with a sales file: read the CSV as text
(docgen types columns by its own rules, so every cell arrives as text), trim the cells and turn the empty text
into a missing value, check which columns are numbers and cast them, then compute the sales-report's five
aggregates (totals; by region; by category; top-5 and bottom-3 sub-categories by profit). Runs alternate
between engines; the table shows min and median wall time and peak RSS, with docgen's old pure-Python path
(bench/legacy_data.py) measured in the same run as the baseline. The data is bench/data.py's.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from data import make_file  # noqa: E402 - the same generated file as bench/data.py

GROUPS = (("Region", ("Sales", "Profit"), "Sales", False, 0), ("Category", ("Sales", "Profit"), "Sales", False, 0),
          ("Sub-Category", ("Profit", "Sales"), "Profit", False, 5), ("Sub-Category", ("Profit", "Sales"), "Profit", True, 3))
NUMERIC = r"^[+-]?([0-9]+(\.[0-9]+)?|\.[0-9]+)$"


def run_duckdb(path: Path) -> None:
    import duckdb

    con = duckdb.connect(config={"threads": 2})
    con.execute("SET enable_progress_bar = false")
    con.execute(f"CREATE TABLE raw AS SELECT * FROM read_csv('{path}', header=true, all_varchar=true)")
    cols = [r[0] for r in con.execute("DESCRIBE raw").fetchall()]
    checks = ", ".join(f"bool_and(regexp_full_match(trim(\"{c}\"), '{NUMERIC[1:-1]}')) FILTER "
                       f"(WHERE trim(\"{c}\") <> '')" for c in cols)
    numeric = con.execute(f"SELECT {checks} FROM raw").fetchone()
    for c, ok in zip(cols, numeric, strict=True):
        expr = f"CASE WHEN trim(\"{c}\") = '' THEN NULL ELSE trim(\"{c}\") END"
        kind = "DOUBLE" if ok and "Postal" not in c else "VARCHAR"
        con.execute(f"ALTER TABLE raw ALTER COLUMN \"{c}\" SET DATA TYPE {kind} USING CAST({expr} AS {kind})")
    out = [con.execute('SELECT count(*), sum("Sales"), sum("Profit"), sum("Quantity") FROM raw').fetchall()]
    for group, sums, sort, asc, limit in GROUPS:
        sql = (f'SELECT "{group}", count(*), ' + ", ".join(f'sum("{c}") AS "{c}"' for c in sums)
               + f' FROM raw GROUP BY 1 ORDER BY "{sort}" {"ASC" if asc else "DESC"}' + (f" LIMIT {limit}" if limit else ""))
        out.append(con.execute(sql).fetchall())


def run_polars(path: Path) -> None:
    import polars as pl

    df = pl.read_csv(path, infer_schema=False)
    columns = []
    for c in df.columns:
        s = df[c].str.strip_chars()
        s = pl.select(pl.when(s == "").then(None).otherwise(s)).to_series().alias(c)
        ok = "Postal" not in c and s.drop_nulls().str.contains(NUMERIC).all()
        columns.append(s.cast(pl.Float64) if ok else s)
    df = pl.DataFrame(columns)
    out = [df.select(pl.len(), pl.col("Sales").sum(), pl.col("Profit").sum(), pl.col("Quantity").sum()).rows()]
    for group, sums, sort, asc, limit in GROUPS:
        g = df.group_by(group).agg([pl.len(), *(pl.col(c).sum() for c in sums)]).sort(sort, descending=not asc)
        out.append((g.head(limit) if limit else g).rows())


def run_docgen(path: Path) -> None:
    from docgen.sources import load_dataset
    from docgen.templates.aggregates import compute
    from docgen.templates.manifest import load_manifest

    spec = load_manifest(Path(__file__).resolve().parent.parent / "templates" / "sales-report")
    dataset = load_dataset(path)
    [compute(a, dataset) for a in spec.aggregates]


def run_old(path: Path) -> None:
    import legacy_data
    from docgen.templates.manifest import load_manifest

    spec = load_manifest(Path(__file__).resolve().parent.parent / "templates" / "sales-report")
    dataset = legacy_data.load_csv(path)
    [legacy_data.compute(a, dataset) for a in spec.aggregates]


RUNNERS = {"old (pure Python)": run_old, "DuckDB": run_duckdb, "Polars": run_polars,
           "docgen data layer (DuckDB)": run_docgen}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--keep", type=Path)
    parser.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        import resource

        start = time.perf_counter()
        RUNNERS[args.child[0]](Path(args.child[1]))
        print(json.dumps({"seconds": time.perf_counter() - start,
                          "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
        return 0
    folder = args.keep or Path(tempfile.mkdtemp(prefix="docgen-bench-engines-"))
    folder.mkdir(parents=True, exist_ok=True)
    path = make_file(args.rows, folder)
    names = [n for n in RUNNERS if n != "Polars"]
    try:
        import polars  # noqa: F401

        names.insert(2, "Polars")
    except ImportError:
        print("Polars is not installed: pip install polars to compare it")
    print(f"{args.rows:,} rows; load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    runs: dict[str, list[dict]] = {n: [] for n in names}
    for _ in range(args.repeat):
        for name in names:
            done = subprocess.run([sys.executable, __file__, "--child", name, str(path)], capture_output=True,
                                  text=True, check=False)
            if done.returncode:
                raise SystemExit(f"{name} failed:\n{done.stderr}")
            runs[name].append(json.loads(done.stdout.strip().splitlines()[-1]))
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}\n")
    print(f"{'engine':<28}  {'s min':>7}  {'s median':>8}  {'MB min':>7}  {'MB median':>9}")
    for name in names:
        secs = [r["seconds"] for r in runs[name]]
        mbs = [r["rss_mb"] for r in runs[name]]
        print(f"{name:<28}  {min(secs):>7.2f}  {statistics.median(secs):>8.2f}  {min(mbs):>7.0f}  "
              f"{statistics.median(mbs):>9.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
