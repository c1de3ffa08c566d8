"""Does a sequence's text depend on how it was decoded? A check of docgen's same-seed-same-text guarantee for
multi-sequence decoding (docgen/llm/batched.py), on the embedded model and on other quantizations of it
(their CPU weight kernels differ: Q4_0 and Q8_0 take llama.cpp's tinyBLAS and repacked paths, Q4_1 does not).

    python bench/numerics.py [--model PATH] [--quant Q4_0,Q8_0] [--requests 10]

For each model it writes ``--requests`` reply letters (sampled, temperature 0.8, 30 tokens) one at a time with
``parallel = 1`` (the reference), then with ``parallel = 4`` in random orders and subsets, and reports how many
texts differ from the reference. Requantized copies are written to a temporary folder (llama.cpp's own
quantizer, ``llama_model_quantize`` with requantizing allowed) and removed afterwards. Prints a table; exits 1 if
any text differs. Not a speed measurement: run it on a loaded machine if you like (it sets
OMP_WAIT_POLICY=PASSIVE).
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from docgen.llm import Message  # noqa: E402
from docgen.llm.base import Request  # noqa: E402
from docgen.llm.discovery import find_model  # noqa: E402
from docgen.model import GenerationParams  # noqa: E402

SYSTEM = ("You are a customer service agent for Northwind Electronics. You write short, warm, professional reply "
          "letters. Never promise anything other than a free replacement or a full refund.")
TASK = ("Write the body of our reply to the customer's message below, in two short paragraphs: apologise for the "
        "specific problem they describe, then offer a refund.\n\n")
COMPLAINTS = ["The DVD player stopped reading discs after a week.", "My phone charger melted.",
              "The laptop screen has a dead line of pixels across it.", "Headphones arrived with one side silent.",
              "The kettle leaks from the bottom.", "The blender is too loud.", "My order came two weeks late.",
              "The remote has no batteries.", "The cable is too short for my desk.", "Wrong colour sent.",
              "The speaker crackles at any volume.", "The box was open and the manual missing."]
FTYPES = {"Q4_0": 2, "Q4_1": 3, "Q8_0": 7, "Q5_0": 8, "Q4_K_M": 15, "Q6_K": 18}


def requests(n: int) -> list[Request]:
    """``n`` reply-letter requests sharing a system prompt and an instruction, each with its own seed."""
    rows = [COMPLAINTS[i % len(COMPLAINTS)] + ("" if i < len(COMPLAINTS) else f" (again, #{i})") for i in range(n)]
    return [Request((Message("system", SYSTEM), Message("user", TASK + f'Ticket T-{i}. The customer wrote:\n"{c}"')),
                    GenerationParams(max_tokens=30, temperature=0.8, seed=100 + i)) for i, c in enumerate(rows)]


def requantize(src: Path, quant: str, out_dir: Path) -> Path:
    """A copy of ``src`` quantized to ``quant`` by llama.cpp (requantizing allowed)."""
    import llama_cpp

    dest = out_dir / f"{src.stem}.{quant}.gguf"
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = FTYPES[quant]
    params.allow_requantize = True
    params.nthread = 2
    rc = llama_cpp.llama_model_quantize(str(src).encode(), str(dest).encode(), params)
    if rc != 0:
        raise SystemExit(f"quantizing to {quant} failed (code {rc})")
    return dest


def check(model: Path, n: int, trials: int = 5) -> tuple[int, int]:
    """(texts compared, texts that differ from the one-at-a-time reference) for ``model``."""
    from docgen.llm.llamacpp import LlamaCppGenerator

    reqs = requests(n)
    one = LlamaCppGenerator(model, n_ctx=1024, n_threads=2, parallel=1)
    many = LlamaCppGenerator(model, n_ctx=1024, n_threads=2, parallel=4)
    try:
        reference = [one.generate(r.messages, r.params).text for r in reqs]
        compared = differ = 0
        rng = random.Random(1)
        orders = [list(range(n))] + [rng.sample(range(n), rng.randint(2, n)) for _ in range(trials)]
        for order in orders:
            for i, gen in zip(order, many.generate_many([reqs[i] for i in order]), strict=True):
                compared += 1
                differ += gen.text != reference[i]
        return compared, differ
    finally:
        one.close()
        many.close()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", type=Path, help="GGUF model (default: the embedded model)")
    ap.add_argument("--quant", default="Q4_0,Q8_0", help="also check these requantized copies ('' for none)")
    ap.add_argument("--requests", type=int, default=10)
    args = ap.parse_args(argv)
    model = find_model(args.model)
    failed = False
    print(f"{'model':<48} {'texts':>6} {'differ':>6}")
    with tempfile.TemporaryDirectory(prefix="docgen-numerics-") as tmp:
        models = [model] + [requantize(model, q, Path(tmp)) for q in args.quant.split(",") if q]
        for m in models:
            compared, differ = check(m, args.requests)
            failed |= differ > 0
            print(f"{m.name:<48} {compared:>6} {differ:>6}", flush=True)
    print("FAIL: some texts depend on the batch" if failed else "PASS: every text equals the one-at-a-time text")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
