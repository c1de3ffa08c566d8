"""Prompt assembly: the shared prefix and the context budget rule (FakeGenerator counts tokens as words)."""

from __future__ import annotations

import dataclasses
import re

import pytest

from docgen.errors import ContextOverflow
from docgen.llm.fake import FakeGenerator
from docgen.llm.prompt import build_document_prompts, build_row_prompt
from docgen.model import SectionSpec
from docgen.templates.catalog import resolve


@pytest.fixture
def template():
    # sales-report without its template-written context: the data rows go into the prompt as a table
    return dataclasses.replace(resolve("sales-report"), context="", max_context_rows=100_000)


def rows(n: int) -> list[dict]:
    return [{"Region": "West", "Category": "Furniture", "Sales": i * 1.5, "Profit": i} for i in range(n)]


def context(n: int) -> dict:
    return {"rows": rows(n), "columns": ["Region", "Category", "Sales", "Profit"], "company": "Acme",
            "period": "2024", "author": "Ops"}


def test_all_sections_share_an_identical_prefix_and_end_with_their_instruction(template):
    prompts = build_document_prompts(template, template.sections, context(20), FakeGenerator())
    assert len(prompts) == 2
    systems = {p.messages[0].content for p in prompts}
    assert len(systems) == 1
    users = [p.messages[-1].content for p in prompts]
    shared = users[0].rsplit("Task: ", 1)[0]
    assert "Data (20 rows):" in shared
    for user, section in zip(users, template.sections, strict=True):
        assert user.startswith(shared + "Task: ")
        assert user.endswith(section.prompt.strip() + "\n\nFormat: Markdown body text (paragraphs, **bold**, "
                                                     "bullet lists where useful); no title heading.")


def test_huge_data_is_shortened_once_with_a_note_and_fits(template):
    generator = FakeGenerator(n_ctx=2000)
    prompts = build_document_prompts(template, template.sections, context(5000), generator)
    for p in prompts:
        assert p.prompt_tokens + p.section.max_tokens <= generator.n_ctx
    users = [p.messages[-1].content for p in prompts]
    note = re.search(r"\[(\d+) more lines of data left out to fit the model's context window\]", users[0])
    assert note, users[0][-300:]
    left_out = int(note.group(1))
    kept = users[0].count("\nWest | Furniture")
    assert kept + left_out == 5000 and kept > 0
    # shortened once per document: every section carries the same rows and note
    assert len({u.rsplit("Task: ", 1)[0] for u in users}) == 1


def test_context_overflow_names_the_section_and_the_fix(template):
    with pytest.raises(ContextOverflow) as err:
        build_document_prompts(template, template.sections, context(10), FakeGenerator(n_ctx=200))
    message = str(err.value)
    assert "commentary" in message and "200 tokens" in message and "n_ctx" in message


def test_row_prompt_carries_a_content_free_copy_for_calibration():
    template = resolve("sentiment-report")
    section = next(s for s in template.sections if s.id == "sentiment")
    prompt = build_row_prompt(template, section, {"row": {"comment": "Broke in a day."}, "product": "x"},
                              FakeGenerator())
    assert prompt.messages[-1].content.endswith('Comment: "Broke in a day."\nSentiment:')
    free = prompt.messages.content_free
    assert free[0] == prompt.messages[0]
    assert free[-1].content.endswith('Comment: "N/A"\nSentiment:') and "Broke" not in free[-1].content
    assert isinstance(section, SectionSpec)


def test_a_field_is_in_the_prompt_of_exactly_the_sections_that_name_it(template):
    sections = (dataclasses.replace(template.sections[0], prompt="Summarise {{ period }} for {{ company }}."),
                dataclasses.replace(template.sections[1], prompt="Write a commentary."))
    template = dataclasses.replace(template, sections=sections)
    before = build_document_prompts(template, sections, context(5), FakeGenerator())
    after = build_document_prompts(template, sections, {**context(5), "period": "2025"}, FakeGenerator())
    assert "2024" in before[0].messages[-1].content and "2025" in after[0].messages[-1].content
    assert before[1].messages == after[1].messages  # the commentary does not read the period: same prompt
    signed = build_document_prompts(template, sections, {**context(5), "author": "Someone Else"}, FakeGenerator())
    assert [p.messages for p in signed] == [p.messages for p in before]  # no prompt names the author


def test_rows_mode_puts_the_shared_instruction_first_and_the_record_last():
    template = resolve("service-reply")
    rows = [{"ticket_id": "T-1", "rating": -2, "comment": "The screen cracked."},
            {"ticket_id": "T-2", "rating": -3, "comment": "It never arrived at all."}]
    fields = {"company": "Acme", "support_contact": "help@acme.test", "signer": "Ann"}
    users = [build_document_prompts(template, template.sections, {**fields, "row": r}, FakeGenerator())[0]
             .messages[-1].content for r in rows]
    first_row_value = users[0].index("T-1")
    assert users[0][:first_row_value] == users[1][:first_row_value]  # everything before the record is shared
    assert "help@acme.test" in users[0][:first_row_value]
    assert users[0].endswith('"The screen cracked."')  # the record comes last, once (the prompt names row)
    assert users[0].count("The screen cracked.") == 1 and "Ann" not in users[0]
    # shared sources come first, a row's own sources right before the task (the model reads the instruction
    # and the customer's words last)
    block = "Sources (...):\n[1] Warranty: two years."
    cited = build_document_prompts(template, template.sections, {**fields, "row": rows[0]}, FakeGenerator(),
                                   sources=[block], shared_sources="Shared: terms.")[0].messages[-1].content
    assert cited.startswith("Shared: terms.\n\nFormat: ") and "heading.\n\n" + block + "\n\nTask: " in cited
    assert cited.endswith('"The screen cracked."')
