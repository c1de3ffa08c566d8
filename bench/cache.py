"""Section cache: what regenerating an unchanged document costs, cold (empty cache) vs warm (the same run
done before), with the embedded model.

Runs the bundled service-reply template on the first ``--rows`` tickets of its sample ``--reps`` times each
way, interleaved (cold, warm, cold, warm...) so the machine's load hits both alike. Each cold run starts from
an empty cache file; the warm run after it uses the file the cold run filled and writes into a new output
folder. Tokens are counted below the cache (what the model read and wrote). Prints seconds (min / median)
and tokens per run, and PASS when every warm run cost 0 tokens (issue target: a cache hit costs 0 tokens).

    python bench/cache.py [--rows 3] [--reps 3] [--candidates 1]
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import tempfile
import time
from pathlib import Path

from docgen.batch import run_batch
from docgen.cache import CachedGenerator, SectionCache, model_identity
from docgen.llm import open_generator
from docgen.model import RunOptions
from docgen.sources import load_dataset, prepare_dataset
from docgen.templates.catalog import resolve


class Counting:
    """The real model, with the prompt tokens it evaluated and the tokens it generated added up."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.tokens = 0

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def generate(self, messages, params, **kw):
        gen = self.inner.generate(messages, params, **kw)
        self.tokens += gen.evaluated_tokens + gen.tokens
        return gen


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=3)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--candidates", type=int, default=1)
    args = ap.parse_args()
    template = resolve("service-reply")
    llm = open_generator("llamacpp", n_ctx=4096, n_threads=os.cpu_count() or 2)
    counting = Counting(llm)
    model = model_identity(llm)
    results: dict[str, list[tuple[float, int]]] = {"cold": [], "warm": []}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        data = root / "tickets.csv"
        with template.sample_data.open(encoding="utf-8", newline="") as fh:
            lines = list(csv.reader(fh))[: args.rows + 1]
        with data.open("w", encoding="utf-8", newline="") as fh:
            csv.writer(fh).writerows(lines)
        dataset = load_dataset(data, missing=template.missing_values)
        prepare_dataset(dataset, template_id=template.id, required=template.required_columns,
                        computed=template.computed)
        options = RunOptions(seed=7, candidates=args.candidates)
        for rep in range(args.reps):
            store = root / f"cache-{rep}.sqlite3"
            for kind in ("cold", "warm"):
                gen = CachedGenerator(counting, SectionCache(store), model)
                counting.tokens = 0
                start = time.perf_counter()
                report = run_batch(template, dataset, gen, root / f"out-{rep}-{kind}", options=options)
                seconds = time.perf_counter() - start
                assert not report.failed, report.failed[0].error
                results[kind].append((seconds, counting.tokens))
                gen.cache.close()
    llm.close()
    print(f"section cache, service-reply {args.rows} rows, candidates {args.candidates}, {args.reps} reps "
          f"interleaved, load average {os.getloadavg()[0]:.1f} at the end")
    print(f"{'run':<6} {'s min':>7} {'s median':>9} {'tokens (each run)':>24}")
    for kind, runs in results.items():
        secs = [s for s, _t in runs]
        print(f"{kind:<6} {min(secs):7.2f} {statistics.median(secs):9.2f} {str([t for _s, t in runs]):>24}")
    warm = [t for _s, t in results["warm"]]
    print(f"target: warm regenerate = 0 model tokens; measured {max(warm)} -> {'PASS' if max(warm) == 0 else 'FAIL'}")


if __name__ == "__main__":
    main()
