"""Documents per minute for each bundled template, model tokens/s inside docgen, and the gain from the
shared-prefix KV cache, measured against a baseline in the same run.

    python bench/throughput.py [--model PATH] [--rows N]

For each template it runs the real pipeline (load data, per-row sections, aggregates, document sections,
render, atomic write) on its sample data (rows-mode and per-row templates on the first ``--rows`` rows) and
prints documents/minute and generated tokens/s. Then it generates the sales report's sections twice: with
the KV cache kept between sections (docgen's layout) and with the cache cleared before every section
(baseline), and prints the ratio of prompt-processing time. Run it on an otherwise idle machine: llama.cpp
threads busy-wait, so a second CPU-heavy process halves the speed or worse.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from docgen.batch import run_batch
from docgen.llm import open_generator
from docgen.pipeline import DocumentJob, base_context
from docgen.sources import load_dataset
from docgen.templates.aggregates import compute
from docgen.templates.catalog import resolve
from docgen.llm.prompt import build_document_prompts
from docgen.model import GenerationParams


def head(src: Path, dest: Path, rows: int) -> Path:
    with src.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    with dest.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(lines[: rows + 1])
    return dest


def documents_per_minute(generator, rows: int, work: Path) -> None:
    for template_id in ("sales-report", "service-reply", "sentiment-report"):
        template = resolve(template_id)
        sample = template.sample_data
        if template.mode == "rows" or any(s.per_row for s in template.sections):
            sample = head(sample, work / f"{template_id}.csv", rows)
        data = load_dataset(sample)
        start = time.perf_counter()
        report = run_batch(template, data, generator, work / template_id)
        seconds = time.perf_counter() - start
        docs = sum(1 for d in report.documents if d.ok)
        tokens = sum(s.tokens for d in report.documents for s in d.sections)
        gen_seconds = sum(s.seconds for d in report.documents for s in d.sections)
        print(f"{template_id:<17} {docs:>3} docs from {len(data.rows):>5} rows in {seconds:6.1f} s = "
              f"{60 * docs / seconds:6.1f} docs/min; {tokens} tokens, {tokens / gen_seconds:5.1f} tok/s "
              f"(incl. prompt reading)")


def prefix_cache_ratio(generator) -> None:
    template = resolve("sales-report")
    data = load_dataset(template.sample_data)
    context = base_context(DocumentJob(template, data))
    for agg in template.aggregates:
        context[agg.name] = compute(agg, data, context["rows"])
    prompts = build_document_prompts(template, template.sections, context, generator)
    params = GenerationParams(max_tokens=1)  # isolate prompt processing

    def run(reset: bool) -> tuple[float, int]:
        generator.reset_cache()
        total, evaluated = 0.0, 0
        for _ in range(3):
            for prompt in prompts:
                if reset:
                    generator.reset_cache()
                result = generator.generate(prompt.messages, params)
                total += result.seconds
                evaluated += result.evaluated_tokens
        return total, evaluated

    shared, shared_tokens = run(reset=False)
    fresh, fresh_tokens = run(reset=True)
    print(f"prompt processing, {len(prompts)} sections x 3: shared prefix {shared:.2f} s ({shared_tokens} tokens "
          f"read), fresh context {fresh:.2f} s ({fresh_tokens} tokens read): {fresh / shared:.1f}x faster")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--rows", type=int, default=8)
    args = parser.parse_args()
    generator = open_generator("llamacpp", model_path=args.model, n_ctx=4096, n_threads=2)
    print(f"model: {generator.name}")
    with tempfile.TemporaryDirectory() as tmp:
        documents_per_minute(generator, args.rows, Path(tmp))
    prefix_cache_ratio(generator)


if __name__ == "__main__":
    main()
