"""Which form of the fact sheet the embedded model follows best: the sales-report's two sections written
from each form, at several seeds, one candidate each, scored by the claim check.

Forms: ``handwritten`` (the template's own ``[prompt] context`` before the fact sheet existed: a compact
list per aggregate), and the fact sheet's ``grouped``, ``facts`` and ``sentences`` forms
(:func:`docgen.facts.sheet_text`). For each form it prints sentences written, marked sentences per kind,
problems per sentence, sentences with no mark (true sentences kept), prompt tokens and seconds.

    python bench/prompt_forms.py [--seeds 6] [--model PATH]
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import time
from pathlib import Path

from docgen.claims import sentence_spans
from docgen.llm import open_generator
from docgen.model import RunOptions
from docgen.pipeline import DocumentJob, generate
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=6)
    parser.add_argument("--model")
    parser.add_argument("--forms", default="handwritten,grouped,facts,sentences")
    args = parser.parse_args()
    from docgen.context import add_aggregates
    from docgen.facts import sheet_text
    from docgen.pipeline import base_context
    from docgen.sections.checks import fact_sheet

    base = resolve("sales-report")
    data = load_dataset(base.root / "sample.csv")
    generator = open_generator("llamacpp", model_path=args.model, n_ctx=4096, n_threads=2)
    context = base_context(DocumentJob(base, data))
    add_aggregates(DocumentJob(base, data), context)
    sheet = fact_sheet(DocumentJob(base, data), context)
    contexts = {"handwritten": (Path(__file__).parent / "data" / "sales-report-context-before-facts.txt")
                .read_text(encoding="utf-8")}
    forms = args.forms.split(",")
    for form in forms:
        if form != "handwritten":  # the sheet as literal text (no Jinja tags in it)
            contexts[form] = sheet_text(sheet, form)
    totals = {f: collections.Counter() for f in forms}
    for seed in range(1, args.seeds + 1):
        for form in forms:  # interleaved: the machine's load hits every form alike
            template = dataclasses.replace(base, context=contexts[form])
            t0 = time.perf_counter()
            result = generate(DocumentJob(template, data), generator, options=RunOptions(seed=seed, candidates=1))
            seconds = time.perf_counter() - t0
            c = totals[form]
            for s in result.sections:
                sentences = sentence_spans(s.text)
                marked = {(m.start, m.end) for m in s.marks}
                c["sentences"] += len(sentences)
                c["clean sentences"] += sum((x.start, x.end) not in marked for x in sentences)
                c["problems"] += len(s.marks)
                for m in s.marks:
                    c[m.kind] += 1
                c["prompt tokens"] += s.prompt_tokens
            c["seconds"] += seconds
            c["documents"] += 1
            print(f"seed {seed} {form}: {sum(len(sentence_spans(s.text)) for s in result.sections)} sentences, "
                  f"{sum(len(s.marks) for s in result.sections)} marks, {seconds:.0f} s", flush=True)
    kinds = sorted({k for c in totals.values() for k in c} - {"sentences", "clean sentences", "problems",
                                                               "prompt tokens", "seconds", "documents"})
    print()
    print(f"{'form':<12} {'docs':>4} {'sent':>5} {'clean':>5} {'marks':>5} {'marks/sent':>10} "
          + " ".join(f"{k:>13}" for k in kinds) + f" {'prompt tok':>10} {'s/doc':>6}")
    for form, c in totals.items():
        per = c["problems"] / c["sentences"] if c["sentences"] else 0
        print(f"{form:<12} {c['documents']:>4} {c['sentences']:>5} {c['clean sentences']:>5} {c['problems']:>5} "
              f"{per:>10.2f} " + " ".join(f"{c[k]:>13}" for k in kinds)
              + f" {c['prompt tokens'] / max(1, c['documents']) / 2:>10.0f} {c['seconds'] / max(1, c['documents']):>6.0f}")


if __name__ == "__main__":
    main()
