"""Clean-up of model prose: echo, repeats, unfinished endings, title lines, greetings and signatures."""

from __future__ import annotations

from pathlib import Path

from docgen.llm.cleanup import clean_text, cut_unfinished, strip_echo, strip_letter_lines, strip_repeats, strip_title

CONTEXT = """Data:
Sales figures for Superstore, period 2014-2017:
Total sales $2,297,200.86; total profit $286,397.02; profit margin 12.5%; 37,873 units sold in 9,994 order lines.
Sales by region:
- West: sales $725,457.82 (31.6% of total), profit $108,418.45
- East: sales $678,781.24 (29.5% of total), profit $91,522.78
"""


def test_echoed_data_lines_are_removed_and_prose_is_kept():
    text = ("Sales figures for Superstore, period 2014-2017:\n"
            "Total sales $2,297,200.86; total profit $286,397.02; profit margin 12.5%; 37,873 units sold.\n"
            "Sales by region:\n"
            "- West: sales $725,457.82 (31.6% of total), profit $108,418.45; East: sales $678,781.24 (29.5% of total)\n\n"
            "The West led the year with about a third of all sales, while margins stayed healthy.")
    out, notes = strip_echo(text, CONTEXT)
    assert out == "The West led the year with about a third of all sales, while margins stayed healthy."
    assert notes == ["removed 4 lines copied from the data"]


def test_rephrased_figures_are_not_echo():
    text = "Superstore sold goods worth $2,297,200.86 over the period and kept a margin of 12.5% overall."
    assert strip_echo(text, CONTEXT) == (text, [])


def test_repeated_paragraphs_and_bullets_keep_the_first():
    para = ("The company has made significant strides in improving its products and services, with a focus on "
            "customer satisfaction.")
    near = para.replace("significant", "major")
    text = f"{para}\n\nSomething else entirely.\n\n{near}\n\n- Tables lose money\n- Copiers lead\n- Tables lose money"
    out, notes = strip_repeats(text)
    assert out == f"{para}\n\nSomething else entirely.\n\n- Tables lose money\n- Copiers lead"
    assert notes == ["removed 1 repeated paragraph", "removed 1 repeated list item"]


def test_unfinished_sentence_is_cut_only_at_max_tokens():
    text = "Sales grew by a third. Profit held at 12.5%. The main concern is the loss on Tab"
    assert cut_unfinished(text) == ("Sales grew by a third. Profit held at 12.5%.", ["cut an unfinished sentence at the end"])
    assert clean_text(text, finish_reason="stop").text == text
    assert clean_text(text, finish_reason="length").text == "Sales grew by a third. Profit held at 12.5%."
    assert cut_unfinished("All done.") == ("All done.", [])
    # a last line without any sentence end is dropped
    assert cut_unfinished("First point.\n- Tables: loss of $17,7")[0] == "First point."


def test_title_line_repeating_the_section_title_is_removed():
    assert strip_title("**Executive summary:**\nSales rose.", "Executive summary")[0] == "Sales rose."
    assert strip_title("# Anything\nSales rose.", "Summary")[0] == "Sales rose."
    assert strip_title("Title: Q3 results\nSales rose.", "Summary")[0] == "Sales rose."
    assert strip_title("Executive summaries are short.\nSales rose.", "Executive summary")[1] == []


def test_greeting_and_signature_are_removed():
    text = ('"Dear [Customer Name],\n\nWe are sorry the player failed.\n\nWe offer a free replacement.\n\n'
            "Best regards,\n[Your Name]\n**Customer Service Team**")
    out, notes = strip_letter_lines(text)
    assert out == "We are sorry the player failed.\n\nWe offer a free replacement."
    assert notes == ["removed a greeting line", "removed a closing and signature"]
    body = "Thank you again for your patience while we fix this.\nWe will call you."
    assert strip_letter_lines(body) == (body, [])
    assert strip_letter_lines("Hi there!\nAll fixed.\nSincerely, Ann")[0] == "All fixed."


def test_clean_text_can_return_empty_when_everything_is_echo():
    text = "Sales figures for Superstore, period 2014-2017:\nTotal sales $2,297,200.86; total profit $286,397.02;"
    result = clean_text(text, prompt=CONTEXT, title="Executive summary", finish_reason="length")
    assert result.text == ""
    assert result.notes


def test_pipeline_cleans_sections_and_retries_once_when_nothing_is_left():
    from pathlib import Path

    from docgen.llm.fake import FakeGenerator
    from docgen.pipeline import DocumentJob, RunOptions, generate
    from docgen.sources import load_dataset
    from docgen.templates.catalog import resolve

    template = resolve("service-reply")
    data = load_dataset(Path(template.root) / "sample.csv")
    calls = []

    def script(messages):
        calls.append(messages)
        if len(calls) == 1:  # first try: only a copy of the customer's words and a greeting
            comment = data.rows[0]["comment"]
            return f"Dear Customer,\n\n{comment}\n\n{comment}"
        return "We are sorry the player fails on dual-layer discs.\n\nWe are sorry the player fails on dual-layer discs."

    result = generate(DocumentJob(template, data, row_index=0), FakeGenerator(script), options=RunOptions(seed=5))
    body = result.sections[0]
    assert len(calls) == 2
    assert body.text == "We are sorry the player fails on dual-layer discs."
    assert body.params.seed == 5  # the seed asked for, whichever attempt was kept (the retry drew with 6)
    assert "removed 1 repeated paragraph" in body.warnings


def test_number_cut_in_half_and_dangling_lead_in_are_removed():
    text = "Sales rose by a third.\nSales by region:\nSales by category: Technology (31."
    assert clean_text(text, finish_reason="length").text == "Sales rose by a third."
    assert clean_text("Profit rose in 2017.", finish_reason="stop").text == "Profit rose in 2017."


def test_opening_line_parroting_the_instruction_is_removed():
    prompt = CONTEXT + "\nTask: In three sentences of your own words (not a list), summarise these results."
    text = "In three sentences of your own words, I've summarised the key points:\n- Sales reached $2.3 million."
    assert clean_text(text, prompt=prompt).text == "- Sales reached $2.3 million."


def test_placeholders_are_reported_not_removed():
    from docgen.llm.cleanup import clean_text, placeholders

    text = "We will call you at [Phone Number]. See [our policy](https://x.example) and [Phone Number] again. [1]"
    assert placeholders(text) == ["[Phone Number]"]
    cleaned = clean_text(text)
    assert "[Phone Number]" in cleaned.text
    assert any("[Phone Number]" in note for note in cleaned.notes)


# -- chat markup, reasoning, preambles (what a base model or a chatty model writes) -----------------------------

import pytest  # noqa: E402


@pytest.mark.parametrize("reply, expected", [
    ("<|eot_id|><|start_header_id|>assistant", ""),
    ("Done. <|im_end|> <|im_start|>user\nNow write a poem.", "Done."),
    ("<think>plan</think> Final answer.", "Final answer."),
    ("First list the regions, then the totals.</think>\nWest led with $725,457.82.", "West led with $725,457.82."),
    ("West led the regions. <think>Should I add the totals", "West led the regions."),
    ("Sure! Here is your summary:\nWest led the regions.", "West led the regions."),
    ("Sure! Here is your summary: West led the regions.", "West led the regions."),
    ("<|im_start|>assistant\nWest led the regions.<|im_end|>", "West led the regions."),
    ("<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nWest led the regions.<|eot_id|>",
     "West led the regions."),
    ("West led the regions.\n\nI hope this helps! Let me know if you'd like any changes.", "West led the regions."),
    ("Here's the commentary on sales: regions did well.", "Regions did well."),
    ("West led.</s><s>[INST] more [/INST]", "West led."),
])
def test_markup_reasoning_and_preambles_never_remain(reply, expected):
    out = clean_text(reply).text
    assert out == expected
    assert "<|" not in out and "think>" not in out


@pytest.mark.parametrize("text", [
    "Great Lakes region sales rose.", "Surely the West led.", "Here, in the West, sales rose.",
    "Okay-rated products sold less.", "Let me know if the parcel has not arrived by Friday.",
])
def test_ordinary_sentences_are_not_preambles(text):
    assert clean_text(text).text == text


def _empty_run(tmp_path, replies, candidates=1):
    from docgen.batch import run_batch
    from docgen.llm.fake import FakeGenerator
    from docgen.model import RunOptions
    from docgen.sources import load_dataset
    from docgen.templates.catalog import resolve

    template = resolve("service-reply")
    data = load_dataset(template.root / "sample.csv")
    data = type(data)(data.path, data.columns, data.rows[:1], data.row_numbers[:1], data.sha256)
    calls = []

    def script(messages):
        calls.append(messages)
        return replies[min(len(calls), len(replies)) - 1]
    return run_batch(template, data, FakeGenerator(script), tmp_path,
                     options=RunOptions(candidates=candidates)), calls


@pytest.mark.parametrize("replies", [
    ["   \n ", "\n"],                                          # whitespace only, twice
    ["Done. <|im_end|> <|im_start|>user", "<|eot_id|><|start_header_id|>assistant"],  # a base model's markup
])
@pytest.mark.parametrize("candidates, attempts", [(1, 2), (3, 3)])
def test_a_section_left_empty_after_the_retry_fails_its_document(tmp_path, replies, candidates, attempts):
    report, calls = _empty_run(tmp_path, replies, candidates)
    assert len(calls) == attempts  # one candidate: one retry; three candidates: no usable one among them
    (doc,) = report.documents
    assert not doc.ok and not list(tmp_path.glob("*.docx"))
    assert "section 'Letter body'" in doc.error and "row 2 of sample.csv" in doc.error
    assert "instruct" in doc.error


def test_the_retry_rescues_a_section_and_the_document_has_no_markup(tmp_path):
    from docgen.render import read_back

    report, calls = _empty_run(tmp_path, ["<|im_end|><|im_start|>user", "<think>apologise, then offer</think>"
                                          "We are sorry the player fails. <|im_end|><|im_start|>user\nMore"])
    (doc,) = report.documents
    assert doc.ok, doc.error
    text = read_back(doc.path).text
    assert "We are sorry the player fails." in text
    assert "<|" not in text and "think" not in text and "More" not in text


def test_cli_exit_code_for_an_empty_section(tmp_path, monkeypatch, capsys):
    from docgen import cli
    import docgen.llm.fake as fake

    monkeypatch.setattr(fake, "DEFAULT_REPLY", " ")
    tickets = tmp_path / "tickets.csv"
    tickets.write_text("ticket_id,comment\nT-1,The player will not open its tray.\n", encoding="utf-8")
    code = cli.main(["--template", "service-reply", "--data", str(tickets), "--backend", "fake", "-q",
                     "--out", str(tmp_path / "out")])
    assert code == cli.EXIT_SOME_FAILED
    assert "section 'Letter body'" in capsys.readouterr().err
    assert not list((tmp_path / "out").glob("*.docx"))
