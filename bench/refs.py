"""Reference index: build time and size for 100 documents / 5,000 passages, the no-change update, and query
latency p50/p95, each with a target and a baseline measured in the same run.

    python bench/refs.py [--docs 100] [--passages 50] [--queries 200] [--repeat 3]

Corpus: ``--docs`` Markdown files of ``--passages`` numbered clauses each (one passage per clause), the clause
texts being real sentences in file order from ../shared/realdata (NYT editorial and Amazon review snippets,
Hutto & Gilbert 2014), two or three per clause. Queries: the 38 labelled customer questions of
tests/data/refs/questions.csv plus real review sentences, cycled to ``--queries``, each searched over all files
(the scope a template with 100 references would have).

Figures and baselines:

- build: ``Index.update`` of every file into an empty index; baseline: reading and splitting the same files
  without the database (:func:`docgen.refs.read_passages`), so the difference is SQLite + FTS5;
- no-change update: ``Index.update`` again (every file unchanged: one stat each, nothing opened); baseline:
  the build;
- size: the database file; baseline: the passages' text in UTF-8;
- query p50/p95: ``Index.search`` (BM25, top 10, scoped to all files); baseline: a linear scan in Python over
  the same passages (count of query terms per passage, top 10), the least a search without an index costs.
  Query and baseline runs are interleaved (A, B, A, B ...) so machine noise hits both; min/median of
  ``--repeat`` rounds are reported for the build.

Targets (why): build <= 60 s (a user adding a folder of 100 documents waits at most a minute on a 2-core
office PC); no-change update <= 1 s (it runs before every document of a batch run); size <= 3x the text;
query p95 <= 50 ms (a letter's retrieval must be negligible beside seconds of generation).
"""

from __future__ import annotations

import argparse
import re
import statistics
import tempfile
import time
from pathlib import Path

from docgen.refs import Index, read_passages
from docgen.refs.index import STOPWORDS

ROOT = Path(__file__).resolve().parent.parent
REALDATA = ROOT.parent / "shared" / "realdata" / "text"


def sentences() -> list[str]:
    out = []
    for name in ("nytEditorialSnippets_GroundTruth.txt", "amazonReviewSnippets_GroundTruth.txt"):
        for line in (REALDATA / name).read_text(encoding="utf-8").splitlines():
            parts = line.split("\t")
            if len(parts) == 3 and len(parts[2].split()) >= 5:
                out.append(parts[2].strip())
    return out


def make_corpus(folder: Path, docs: int, per_doc: int) -> list[Path]:
    pool = sentences()
    files = []
    at = 0
    for d in range(docs):
        lines = [f"# Reference document {d + 1}", ""]
        for c in range(per_doc):
            take = 2 + (c % 2)
            text = " ".join(pool[(at + i) % len(pool)] for i in range(take))
            at += take
            lines += [f"## {c + 1}. Clause {c + 1}", "", text, ""]
        path = folder / f"doc{d + 1:03}.md"
        path.write_text("\n".join(lines), encoding="utf-8")
        files.append(path)
    return files


def queries(n: int) -> list[str]:
    import csv

    with (ROOT / "tests" / "data" / "refs" / "questions.csv").open(encoding="utf-8", newline="") as fh:
        qs = [r["question"] for r in csv.DictReader(fh)]
    reviews = [line.split("\t")[2] for line in (REALDATA / "amazonReviewSnippets_GroundTruth.txt").read_text(
        encoding="utf-8").splitlines()[::37] if line.count("\t") == 2]
    pool = qs + reviews
    return [pool[i % len(pool)] for i in range(n)]


def linear_search(passages: list[tuple[str, set[str]]], query: str, k: int = 10) -> list[str]:
    terms = {w for w in re.findall(r"\w+", query.lower()) if w not in STOPWORDS}
    scored = sorted(((len(terms & words), text) for text, words in passages), key=lambda x: -x[0])
    return [t for s, t in scored[:k] if s]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def row(name: str, figure: str, target: str, baseline: str, ok: bool) -> None:
    print(f"{name:<22} {figure:>14} {target:>12} {baseline:>22}  {'PASS' if ok else 'FAIL'}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--docs", type=int, default=100)
    parser.add_argument("--passages", type=int, default=50)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="docgen-bench-refs-") as tmp:
        tmp = Path(tmp)
        corpus = tmp / "corpus"
        corpus.mkdir()
        files = make_corpus(corpus, args.docs, args.passages)
        builds, parses, sizes = [], [], []
        index = None
        for r in range(args.repeat):
            start = time.perf_counter()
            parsed = [p for f in files for p in read_passages(f)]
            parses.append(time.perf_counter() - start)
            index = Index(tmp / f"index{r}.sqlite3")
            report = index.update(files)
            builds.append(report.seconds)
            assert not report.failed, report.failed
            sizes.append(index.stats()["bytes"])
        stats = index.stats()
        text_bytes = sum(len(p.text.encode("utf-8")) for p in parsed)
        nochange = []
        for _ in range(args.repeat):
            rep = index.update(files)
            assert len(rep.unchanged) == len(files)
            nochange.append(rep.seconds)
        table = [(p.text, set(re.findall(r"\w+", p.text.lower()))) for p in parsed]
        fts, scan = [], []
        for q in queries(args.queries):
            t0 = time.perf_counter()
            index.search(q, files, limit=10)
            fts.append(time.perf_counter() - t0)
            t0 = time.perf_counter()
            linear_search(table, q)
            scan.append(time.perf_counter() - t0)
    print(f"corpus: {len(files)} documents, {stats['passages']} passages, {text_bytes / 1e6:.2f} MB of text; "
          f"{args.queries} queries; repeat {args.repeat}")
    print(f"{'figure':<22} {'measured':>14} {'target':>12} {'baseline':>22}  result")
    build_med = statistics.median(builds)
    row("build (min/median)", f"{min(builds):.2f}/{build_med:.2f} s", "<= 60 s",
        f"parse only {min(parses):.2f}/{statistics.median(parses):.2f} s", build_med <= 60)
    row("no-change update", f"{statistics.median(nochange) * 1000:.0f} ms", "<= 1000 ms",
        f"build {build_med * 1000:.0f} ms", statistics.median(nochange) <= 1.0)
    size = statistics.median(sizes)
    row("index size", f"{size / 1e6:.2f} MB", "<= 3x text", f"text {text_bytes / 1e6:.2f} MB",
        size <= 3 * text_bytes)
    row("query p50", f"{pct(fts, 50) * 1000:.1f} ms", "", f"scan {pct(scan, 50) * 1000:.1f} ms", True)
    row("query p95", f"{pct(fts, 95) * 1000:.1f} ms", "<= 50 ms", f"scan {pct(scan, 95) * 1000:.1f} ms",
        pct(fts, 95) <= 0.050)


if __name__ == "__main__":
    main()
