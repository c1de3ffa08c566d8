"""``docgen eval``: the checks it counts (format adherence, problems, labels) and a real run of the embedded model
that prints the table and stores the figures shown by ``docgen models list``."""

from __future__ import annotations

import json

import pytest

from docgen import cli
from docgen.errors import DataError
from docgen.evaluation import COLUMNS, format_follows, load_labels, section_problems
from docgen.llm.discovery import embedded_model
from docgen.model import Mark, SectionResult
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

LIST_PROMPT = "One paragraph on the overall mood, then a bullet list of the main complaints."


def test_format_follows_what_the_instruction_asks():
    assert format_follows(LIST_PROMPT, "Mostly happy.\n\n- slow delivery\n- noisy fan", ()) is True
    assert format_follows(LIST_PROMPT, "Mostly happy. Some complained about delivery.", ()) is False
    three = "Write a 3-sentence executive summary."
    assert format_follows(three, "Sales rose. West led. Tables lost money.", ()) is True
    assert format_follows(three, "One. Two. Three. Four. Five. Six.", ()) is False
    assert format_follows("Write a reply.", "Dear customer, thank you.", ()) is None  # nothing to check
    # the bundled sales summary: "In three sentences of your own words (not a list)" asks for no list
    sales = "In three sentences of your own words (not a list), summarise these results."
    assert format_follows(sales, "Sales were high. West led. Tables lost money.", ()) is True
    letter = "Write the body of our reply in two short paragraphs: apologise, then offer a refund."
    assert format_follows(letter, "We are sorry.\n\nWe offer a refund.", ()) is True
    many = "\n\n".join(["We are very sorry about the problem you describe here."] * 5)
    assert format_follows(letter, many, ()) is False
    mood = "One paragraph on the overall mood, then a bullet list of the main complaints."
    answer = ("Customers are mostly happy with the player and its picture.\n\nComplaints:\n- noise.\n- remote.\n\n"
              "Praise:\n- the picture.")
    assert format_follows(mood, answer, ()) is True
    cut = ("The model stopped at max_tokens; the text may end mid-sentence.",)
    assert format_follows("Write a reply.", "Dear customer, we", cut) is False


def test_section_problems_counts_what_a_reader_would_trip_over():
    assert section_problems("", SectionResult("s", "")) == 1
    assert section_problems("Hello <|im_start|>user", SectionResult("s", "x")) == 1
    assert section_problems("Sales were $9.", SectionResult("s", "x", ungrounded=("$9", "12%"))) == 2
    marked = SectionResult("s", "x", ungrounded=("$9",), marks=(
        Mark("unsupported", "Sales were $9.", 0, 14, "$9", "not in the data"),
        Mark("entity", "North region", 0, 12, "North", "no such region")))
    assert section_problems("Sales were $9. North region.", marked) == 2  # the claim check's marks win


def test_labels_of_the_bundled_sentiment_report():
    template = resolve("sentiment-report")
    data = load_dataset(template.sample_data)
    labels = load_labels(template, data)
    assert list(labels) == ["sentiment"] and len(labels["sentiment"]) == 60
    assert sorted({v for _, v in labels["sentiment"]}) == ["negative", "neutral", "positive"]
    assert load_labels(resolve("sales-report"), load_dataset(resolve("sales-report").sample_data)) == {}


def test_bad_labels_are_named(tmp_path):
    import shutil

    pkg = tmp_path / "sentiment"
    shutil.copytree(resolve("sentiment-report").root, pkg)
    (pkg / "eval-labels.csv").write_text("id,sentiment\n1_2,neutral\nnope,positive\n", encoding="utf-8")
    template = resolve(str(pkg))
    with pytest.raises(DataError, match=r"eval-labels\.csv, row 3: key 'nope' is not in the sample data's column"):
        load_labels(template, load_dataset(template.sample_data))
    (pkg / "eval-labels.csv").write_text("id,sentiment\n1_2,angry\n", encoding="utf-8")
    with pytest.raises(DataError, match="'angry' is not a choice of section 'sentiment'"):
        load_labels(template, load_dataset(template.sample_data))


@pytest.mark.model
@pytest.mark.slow
def test_eval_of_the_embedded_model_prints_the_table_and_remembers_it(capsys):
    code = cli.main(["eval", "--template", "sentiment-report", "--rows", "2"])
    out = capsys.readouterr().out
    assert code == 0
    header = next(line for line in out.splitlines() if line.startswith("model"))
    assert all(title in header for title, _ in COLUMNS.values())
    row = next(line for line in out.splitlines() if line.startswith(embedded_model().name))
    assert row.count("%") == 2  # format adherence and choice accuracy on the 60 labelled rows
    assert " MB" in row  # peak RAM
    code = cli.main(["models", "list", "--json"])
    smol = next(r for r in json.loads(capsys.readouterr().out) if r["name"] == embedded_model().name)
    last = smol["last_eval"]
    assert last["docs"] == 1 and 0 <= last["choice_acc"] <= 1 and last["gen_tps"] > 0 and last["peak_ram"] > 50e6
    assert smol["speed_basis"] == "measured" and smol["tokens_per_second"] == pytest.approx(last["gen_tps"])


def test_table_flags_a_base_model():
    from pathlib import Path

    from docgen.evaluation import ModelEvaluation, format_table

    good = ModelEvaluation("chat.gguf", Path("chat.gguf"), metrics={"model": "chat.gguf", "gen_tps": 12.34,
                                                                     "format_ok": 0.5, "peak_ram": 3e8})
    base = ModelEvaluation("base.gguf", Path("base.gguf"), metrics={"model": "base.gguf"}, warnings=("no template",))
    lines = format_table([good, base]).splitlines()
    assert lines[2].split()[:1] == ["chat.gguf"] and "12.3" in lines[2] and "50%" in lines[2] and "300.0 MB" in lines[2]
    assert lines[3].startswith("base.gguf (!)") and lines[-1].startswith("(!) no chat template")
