"""Three-class accuracy of the sentiment-report template's per-row classifier, on rows it was not tuned on.

Data: ``amazonReviewSnippets_GroundTruth.txt`` of Hutto & Gilbert, ICWSM-14 (GitHub cjhutto/vaderSentiment,
``additional_resources/hutto_ICWSM_2014.tar.gz``, commit 44fc044c, MIT licence; realdata/text/ beside the
repository): 3,708 Amazon review snippets with the mean rating of human raters (-4..+4). Truth by the bands
``templates/sentiment-report/sample.csv`` was drawn with: rating >= 1.5 positive, |rating| <= 0.3 neutral,
<= -1.5 negative (snippets of at least 30 characters; ratings between the bands are left out, as in the sample).

Splits (fixed seed :data:`SEED`; every snippet of sample.csv is left out of both):

- each band is shuffled with ``random.Random(SEED)``; positions ``[0, 200)`` of each band are the **tuning
  split**: the template's few-shot examples come from positions 100-199, its ``choice_bias`` was chosen on
  positions 0-59 (``--tune`` prints that grid again);
- positions ``[200, 200 + --held)`` of each band are the **held-out split**, never looked at while tuning;
- ``sample.csv`` (60 rows, 20 per band, the bundled sample) is the second measurement set.

"before" is the template as it was (six "->" examples, no bias: :data:`BEFORE_PROMPT`), "after" is the bundled
template; both run with the same model in the same run. Prints accuracy, per-class precision and recall and the
confusion matrix for each set, then the figure: held-out accuracy after, target :data:`TARGET`, before, PASS/FAIL.

    python bench/sentiment_accuracy.py [--held 30] [--model PATH] [--tune]

``--write-heldout tests/data/sentiment/heldout.csv`` writes the held-out split the tests read.
"""

from __future__ import annotations

import argparse
import collections
import csv
import dataclasses
import itertools
import random
import time
from pathlib import Path

from docgen.llm import open_generator
from docgen.llm.prompt import build_row_prompt
from docgen.model import GenerationParams, SectionSpec
from docgen.sections.choice import pick_choice
from docgen.templates.catalog import resolve

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT.parent / "shared" / "realdata" / "text" / "amazonReviewSnippets_GroundTruth.txt"
SAMPLE = ROOT / "templates" / "sentiment-report" / "sample.csv"
SEED = 14
TARGET = 0.75
TUNE_ROWS = 60  # per band, positions 0-59 of the tuning split: where choice_bias was chosen
CLASSES = ("positive", "neutral", "negative")

#: the sentiment section's prompt before #14 item 6 (bias-free), for the baseline in the same run
BEFORE_PROMPT = """Examples:
Comment: "it takes great pictures, operates quickly, and feels solid." -> positive
Comment: "what a disappointment!" -> negative
Comment: "this is an edited review, now that i have had time to use the device." -> neutral
Comment: "overall this has been my favorite phone that i have owned." -> positive
Comment: "only used for 3 month before it's down!" -> negative
Comment: "the reasons below will be true for any product in this category." -> neutral

Comment: "{{ row.comment }}" ->"""


def band(rating: float) -> str | None:
    """Truth for a mean human rating (-4..+4): the sample's bands; None between them."""
    return "positive" if rating >= 1.5 else "negative" if rating <= -1.5 else "neutral" if abs(rating) <= 0.3 \
        else None


def splits(held: int) -> tuple[list[tuple[str, str, str]], list[tuple[str, str, str]]]:
    """(tuning rows used for choice_bias, held-out rows): (id, comment, truth), TUNE_ROWS resp. ``held`` per band."""
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        in_sample = {r["id"] for r in csv.DictReader(fh)}
    pool: dict[str, list[tuple[str, str, str]]] = {c: [] for c in CLASSES}
    for line in SNIPPETS.read_text(encoding="utf-8").splitlines():
        parts = line.split("\t")
        if len(parts) != 3:
            continue
        sid, text, truth = parts[0], parts[2].strip(), band(float(parts[1]))
        if truth and len(text) >= 30 and sid not in in_sample:
            pool[truth].append((sid, text, truth))
    rng = random.Random(SEED)
    for c in CLASSES:
        rng.shuffle(pool[c])
    tune = [r for c in CLASSES for r in pool[c][:TUNE_ROWS]]
    out = [r for c in CLASSES for r in pool[c][200:200 + held]]
    return tune, out


def sample_rows() -> list[tuple[str, str, str]]:
    """sample.csv as (id, comment, truth)."""
    with SAMPLE.open(encoding="utf-8", newline="") as fh:
        return [(r["id"], r["comment"], band(float(r["human_rating"])) or "neutral") for r in csv.DictReader(fh)]


def score(generator, template, section: SectionSpec, rows) -> list[tuple[str, tuple[float, ...]]]:
    """Per row: (truth, Generation with the calibrated choice scores), one greedy scored request each."""
    params = GenerationParams(max_tokens=section.max_tokens, temperature=0.0)
    out = []
    for _sid, comment, truth in rows:
        prompt = build_row_prompt(template, section, {"row": {"comment": comment}, "product": "the product"},
                                  generator)
        gen = generator.generate(prompt.messages, params, choices=section.choices)
        if len(gen.scores) != len(section.choices):
            raise SystemExit("this backend did not score the choices; the bench needs the llama.cpp backend")
        out.append((truth, gen))
    return out


def report(name: str, section: SectionSpec, scored) -> float:
    """Print accuracy, per-class precision/recall and the confusion matrix; returns the accuracy."""
    pairs = [(truth, pick_choice(section, gen)) for truth, gen in scored]
    confusion = collections.Counter(pairs)
    n = len(pairs)
    accuracy = sum(v for (t, a), v in confusion.items() if t == a) / n
    majority = max(collections.Counter(t for t, _ in pairs).values()) / n
    print(f"{name}: n={n} accuracy={accuracy:.3f} (majority class {majority:.3f})")
    for c in CLASSES:
        predicted = sum(v for (t, a), v in confusion.items() if a == c)
        actual = sum(v for (t, a), v in confusion.items() if t == c)
        precision = confusion[(c, c)] / predicted if predicted else float("nan")
        recall = confusion[(c, c)] / actual if actual else float("nan")
        row = " ".join(f"{confusion[(c, a)]:>4}" for a in CLASSES)
        print(f"  truth {c:<8} -> {row}   precision {precision:.2f} recall {recall:.2f}")
    print(f"  (columns: answered {', '.join(CLASSES)})")
    return accuracy


def tune(section: SectionSpec, scored) -> None:
    """Print the best choice_bias (neutral, negative) on a grid, as chosen for the template."""
    grid = [round(x * 0.05, 2) for x in range(-30, 31)]
    results = []
    for neutral, negative in itertools.product(grid, grid):
        biased = dataclasses.replace(section, choice_bias=(("neutral", neutral), ("negative", negative)))
        acc = sum(t == pick_choice(biased, g) for t, g in scored) / len(scored)
        results.append((acc, -abs(neutral) - abs(negative), neutral, negative))
    results.sort(reverse=True)
    for acc, _, neutral, negative in results[:5]:
        print(f"  choice_bias = {{ neutral = {neutral}, negative = {negative} }}: tuning accuracy {acc:.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--held", type=int, default=30, help="held-out rows per class (default 30)")
    parser.add_argument("--model")
    parser.add_argument("--tune", action="store_true", help="print the choice_bias grid on the tuning rows only")
    parser.add_argument("--write-heldout", type=Path, metavar="CSV",
                        help="write the held-out split (id, label = truth by the bands, comment) to CSV and stop")
    args = parser.parse_args()
    if args.write_heldout:
        with args.write_heldout.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["id", "label", "comment"])
            writer.writerows((sid, truth, comment) for sid, comment, truth in splits(args.held)[1])
        return
    template = resolve("sentiment-report")
    after = next(s for s in template.sections if s.id == "sentiment")
    before = dataclasses.replace(after, prompt=BEFORE_PROMPT, choice_bias=())
    generator = open_generator("llamacpp", model_path=args.model, n_ctx=2048, n_threads=2)
    tune_rows, held = splits(args.held)
    print(f"model: {generator.name}; seed {SEED}; tuning rows {len(tune_rows)}, held-out rows {len(held)}, "
          f"sample rows 60")
    if args.tune:
        scored = score(generator, template, after, tune_rows)
        report("tuning rows, after (bias as bundled)", after, scored)
        tune(after, scored)
        return
    start = time.perf_counter()
    results = {}
    for label, section in (("before", before), ("after", after)):
        for name, rows in (("held-out", held), ("sample.csv", sample_rows())):
            results[(label, name)] = report(f"{name}, {label}", section, score(generator, template, section, rows))
    print(f"({time.perf_counter() - start:.0f} s)")
    for name in ("held-out", "sample.csv"):
        a, b = results[("after", name)], results[("before", name)]
        print(f"{name} 3-class accuracy: {a:.3f} (target {TARGET}, before {b:.3f}) "
              f"{'PASS' if a >= TARGET else 'FAIL'}")


if __name__ == "__main__":
    main()
