"""The bundled sentiment report classifies held-out comments better than the template did before its prompt and
choice_bias were tuned (#14 item 6), with the real embedded model, read back from the written .docx.

The rows are the first of each class in tests/data/sentiment/heldout.csv (the held-out split of
bench/sentiment_accuracy.py: neither the prompt nor the bias was chosen on them). The bench gives the full
figures (90 held-out rows and sample.csv); this test keeps to a handful of rows.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
from pathlib import Path

import pytest

from docgen.llm import open_generator
from docgen.llm.base import Generation
from docgen.llm.prompt import build_row_prompt
from docgen.model import GenerationParams
from docgen.pipeline import DocumentJob, generate
from docgen.render import read_back
from docgen.sections.choice import pick_choice
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

pytestmark = pytest.mark.model

HELDOUT = Path(__file__).parent / "data" / "sentiment" / "heldout.csv"
PER_CLASS = 5

#: the sentiment section's prompt before it was tuned (also bench/sentiment_accuracy.BEFORE_PROMPT)
BEFORE_PROMPT = """Examples:
Comment: "it takes great pictures, operates quickly, and feels solid." -> positive
Comment: "what a disappointment!" -> negative
Comment: "this is an edited review, now that i have had time to use the device." -> neutral
Comment: "overall this has been my favorite phone that i have owned." -> positive
Comment: "only used for 3 month before it's down!" -> negative
Comment: "the reasons below will be true for any product in this category." -> neutral

Comment: "{{ row.comment }}" ->"""


@pytest.fixture(scope="module")
def llm():
    generator = open_generator("llamacpp", n_ctx=4096, n_threads=2)
    yield generator
    generator.close()


def heldout_rows(per_class: int) -> list[dict[str, str]]:
    """The first ``per_class`` rows of each label, in file order."""
    seen: collections.Counter[str] = collections.Counter()
    out = []
    with HELDOUT.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if seen[row["label"]] < per_class:
                seen[row["label"]] += 1
                out.append(row)
    return out


def test_choice_bias_moves_the_answer_only_when_the_backend_scored_the_choices():
    bundled = next(s for s in resolve("sentiment-report").sections if s.id == "sentiment")
    assert dict(bundled.choice_bias)["neutral"] > 0  # the bundled template leans to "neutral" (bench --tune)
    section = dataclasses.replace(bundled, choice_bias=(("neutral", 0.5),))
    # choices: positive, neutral, negative; calibrated scores from the backend
    assert pick_choice(section, Generation("positive", 1, 10, 10, 0.0, scores=(0.2, -0.29, 0.1))) == "neutral"
    assert pick_choice(section, Generation("positive", 1, 10, 10, 0.0, scores=(0.2, -0.31, 0.1))) == "positive"
    # no scores (sampled, or a backend that cannot score): the backend's answer stands
    assert pick_choice(section, Generation(" negative\n", 1, 10, 10, 0.0)) == "negative"
    assert pick_choice(bundled, Generation("negative", 1, 10, 10, 0.0)) == "negative"


@pytest.mark.slow
def test_sentiment_report_classifies_held_out_rows_better_than_before(llm, tmp_path):
    rows = heldout_rows(PER_CLASS)
    truth = [r["label"] for r in rows]
    path = tmp_path / "comments.csv"
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["id", "comment"])
        writer.writerows((r["id"], r["comment"]) for r in rows)
    template = resolve("sentiment-report")
    section = next(s for s in template.sections if s.id == "sentiment")

    # before: the same model with the untuned prompt and no bias, asked row by row
    old = dataclasses.replace(section, prompt=BEFORE_PROMPT, choice_bias=())
    params = GenerationParams(max_tokens=old.max_tokens, temperature=0.0)
    before = []
    for r in rows:
        prompt = build_row_prompt(template, old, {"row": {"comment": r["comment"]}, "product": "x"}, llm)
        before.append(pick_choice(old, llm.generate(prompt.messages, params, choices=old.choices)))

    # now: the bundled report end to end, read back from the .docx
    result = generate(DocumentJob(template, load_dataset(path)), llm, out_dir=tmp_path)
    tables = [b for b in read_back(result.path) if type(b).__name__ == "Table"]
    counts = {row[0]: int(row[1]) for row in tables[0].rows[1:]}
    appendix = tables[-1].rows[1:]
    assert [row[1] for row in appendix] == [r["comment"] for r in rows]
    now = [row[2] for row in appendix]
    assert counts == dict(collections.Counter(now))

    def correct(answers: list[str]) -> int:
        return sum(a == t for a, t in zip(answers, truth, strict=True))

    def count_error(answers: list[str]) -> int:
        got, want = collections.Counter(answers), collections.Counter(truth)
        return sum(abs(got[c] - want[c]) for c in section.choices)

    # more comments get their true sentiment, and the breakdown table is no further from the true counts
    # (on these 15 rows both put 10 comments in the wrong count: "neutral" is still rarely chosen by the
    # 135M model, see bench/sentiment_accuracy.py)
    assert correct(now) > correct(before), (now, before, truth)
    assert count_error(now) <= count_error(before), (counts, collections.Counter(before))
