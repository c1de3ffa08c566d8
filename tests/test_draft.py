"""docgen.draft: the Qt-free document under review - edits lock, stopped runs keep earlier text, marks follow
their sentences, Remove is text surgery on the Markdown that the renderer still reads as the same structure,
the export gate lists what it asks about, and a draft survives a JSON round trip (autosave)."""

from __future__ import annotations

import json
import pytest

from docgen.draft import (Draft, DraftBook, DraftError, marks_from_figures, mark_key, reanchor, remove_span,
                          sentence_bounds)
from docgen.model import GenerationParams, Mark, SectionResult
from docgen.render.markdown import markdown_to_plain
from docgen.templates.catalog import resolve


@pytest.fixture
def sales():
    return resolve("sales-report")


def _mark(text: str, sentence: str, claim: str, kind: str = "unsupported") -> Mark:
    start = text.index(sentence)
    return Mark(kind, sentence, start, start + len(sentence), claim, f"'{claim}' is not in the data")


def _result(sid: str, text: str, *, seed: int = 42, marks=(), ungrounded=(), warnings=()) -> SectionResult:
    return SectionResult(sid, text, tokens=12, seconds=0.5, params=GenerationParams(seed=seed), marks=tuple(marks),
                         ungrounded=tuple(ungrounded), warnings=tuple(warnings))


def test_new_draft_has_the_document_sections_only():
    sentiment = resolve("sentiment-report")
    draft = Draft.new(sentiment)
    assert list(draft.sections) == ["summary"]  # the per-row 'sentiment' labels are results, not a draft
    assert draft.sections["summary"].title == next(s.title for s in sentiment.sections if s.id == "summary")
    assert [p.kind for p in draft.problems()] == ["empty"]


def test_edit_locks_and_counts_as_unexported(sales):
    draft = Draft.new(sales)
    draft.finish(_result("summary", "Sales rose."))
    draft.finish(_result("commentary", "The West leads."))
    draft.mark_exported("/tmp/a.docx")
    assert not draft.unexported
    draft.edit("summary", "Sales rose. Checked by Ann.")
    s = draft.sections["summary"]
    assert (s.locked, s.edited, s.state) == (True, True, "edited")
    assert draft.locked_texts() == {"summary": "Sales rose. Checked by Ann."}
    assert draft.unexported


def test_stopped_run_restores_earlier_text_or_keeps_the_unfinished_stream(sales):
    draft = Draft.new(sales)
    draft.finish(_result("summary", "First version."))
    draft.begin("summary")
    draft.begin("commentary")
    draft.stopped("summary", "Half a sen", "cancelled")
    draft.stopped("commentary", "Half a sen", "cancelled")
    assert draft.sections["summary"].text == "First version."
    assert draft.sections["summary"].state == "written"
    assert draft.sections["commentary"].text == "Half a sen"  # not lost...
    problems = draft.problems()
    assert [(p.section_id, p.kind) for p in problems] == [("commentary", "cancelled")]  # ...but the gate asks
    assert "cancelled before it was finished" in problems[0].describe()


def test_end_run_puts_back_sections_the_run_never_reached(sales):
    draft = Draft.new(sales)
    draft.finish(_result("commentary", "Kept."))
    draft.begin("commentary")
    draft.end_run()
    assert (draft.sections["commentary"].text, draft.sections["commentary"].state) == ("Kept.", "written")


def test_grounding_figures_become_marks_on_their_sentences():
    text = "Sales were $2,297,201. The West sold $5 million more than planned! Profit was fine."
    marks = marks_from_figures(text, ["$5 million"])
    assert len(marks) == 1
    m = marks[0]
    assert m.sentence == "The West sold $5 million more than planned!"
    assert text[m.start:m.end] == m.sentence and m.claim == "$5 million"
    assert marks_from_figures(text, ["$9"]) == ()  # a figure not in the text gives no mark


def test_sentence_bounds_stop_at_list_markers_and_line_breaks():
    text = "Intro line.\n\n- **Tables** lost $17,725.\n- Phones sold well."
    i = text.index("$17,725")
    a, b = sentence_bounds(text, i, i + 7)
    assert text[a:b] == "**Tables** lost $17,725."


def test_marks_follow_their_sentence_after_an_edit(sales):
    draft = Draft.new(sales)
    text = "Sales grew. The West sold $5 million. Profit held."
    draft.finish(_result("summary", text, marks=[_mark(text, "The West sold $5 million.", "$5 million")]))
    draft.edit("summary", "A new opening sentence. " + text)
    (m,) = draft.sections["summary"].marks
    assert draft.sections["summary"].text[m.start:m.end] == "The West sold $5 million."
    draft.edit("summary", "Sales grew. Profit held.")  # the user rewrote the sentence away
    assert draft.sections["summary"].marks == ()


def test_remove_mark_is_text_surgery_that_keeps_the_structure(sales):
    text = ("Sales grew. The West sold $5 million. Profit held.\n\n"
            "- **Technology** led.\n- **Tables** lost $17,725.\n- Phones sold well.\n\n"
            "| Region | Sales |\n| --- | ---: |\n| West | 725,458 |")
    marks = [_mark(text, "The West sold $5 million.", "$5 million"), _mark(text, "**Tables** lost $17,725.",
                                                                        "$17,725")]
    draft = Draft.new(sales)
    draft.finish(_result("summary", text, marks=marks))
    new = draft.remove_mark("summary", draft.sections["summary"].marks[0])
    assert new.startswith("Sales grew. Profit held.\n\n- **Technology** led.")
    (left,) = draft.sections["summary"].open_marks
    assert new[left.start:left.end] == "**Tables** lost $17,725."  # the other mark moved with its sentence
    new = draft.remove_mark("summary", left)
    assert "- **Technology** led.\n- Phones sold well." in new  # the item is gone, the list is whole
    plain = markdown_to_plain(new)
    assert plain.splitlines() == ["Sales grew. Profit held.", "\u2022 Technology led.", "\u2022 Phones sold well.",
                                  "Region | Sales", "West | 725,458"]
    s = draft.sections["summary"]
    assert s.locked and s.edited and [p.section_id for p in draft.problems()] == ["commentary"]  # empty
    assert draft.undo("summary")
    assert "**Tables** lost $17,725." in s.text and len(s.open_marks) == 1


def test_remove_span_tidies_markdown():
    assert remove_span("One. Two. Three.", 5, 9) == "One. Three."
    assert remove_span("One. Two.", 5, 9) == "One."
    assert remove_span("One. Two.", 0, 4) == "Two."
    assert remove_span("Intro.\n\n**Bold claim.**\n\nEnd.", 10, 22) == "Intro.\n\nEnd."
    assert remove_span("1. A.\n2. B.\n3. C.", 9, 11) == "1. A.\n3. C."
    assert remove_span("# Title here\n\nText.", 2, 12) == "Text."
    with pytest.raises(ValueError):
        remove_span("abc", 2, 9)


def test_remove_mark_whose_sentence_is_gone_says_so(sales):
    draft = Draft.new(sales)
    text = "The West sold $5 million."
    draft.finish(_result("summary", text))
    with pytest.raises(DraftError, match="no longer in section"):
        draft.remove_mark("summary", _mark("Another sentence. x", "Another sentence.", "x"))


def test_keep_mark_survives_a_recheck(sales):
    draft = Draft.new(sales)
    text = "Sales grew. The West sold $5 million."
    draft.finish(_result("summary", text, ungrounded=["$5 million"]))
    draft.finish(_result("commentary", "Fine."))
    (mark,) = draft.sections["summary"].open_marks
    problems = draft.problems()
    assert [(p.section_id, p.kind) for p in problems] == [("summary", "marked")]
    assert "'$5 million' is not in the data" in problems[0].detail
    draft.keep_mark("summary", mark)
    assert draft.problems() == []
    draft.apply_check(_result("summary", text, ungrounded=["$5 million"]))  # export re-checks the text
    assert draft.sections["summary"].marks and draft.problems() == []
    assert mark_key(draft.sections["summary"].marks[0]) in draft.sections["summary"].kept


def test_json_round_trip(sales):
    book = DraftBook()
    draft = book.open(sales)
    text = "Sales grew. The West sold $5 million."
    draft.finish(_result("summary", text, seed=7, ungrounded=["$5 million"], warnings=["'$5 million' is not..."]))
    draft.edit("commentary", "My own words.")
    draft.set_values({"company": "Acme"})
    draft.set_data("/data/sales.csv", None, None)
    draft.begin("summary")  # saved mid-run: comes back as unfinished, not as 'writing'
    state = json.loads(json.dumps(book.to_dict()))
    (saved,) = DraftBook.saved_drafts(state)
    again = Draft.from_dict(saved, sales)
    s, c = again.sections["summary"], again.sections["commentary"]
    assert s.text == text and s.seed == 7 and s.state == "cancelled" and len(s.marks) == 1
    assert c.text == "My own words." and c.locked and c.edited
    assert again.values == {"company": "Acme"} and again.data_path == "/data/sales.csv"
    assert again.revision == draft.revision


def test_version_1_autosave_is_read():
    state = {"version": 1, "template_id": "service-reply", "template_root": "", "data_path": "x.csv", "row": 3,
             "values": {"signer": "Ann"}, "sections": {"body": {"text": "Letter.", "locked": True,
                                                                "edited": True, "seed": 5}}}
    (saved,) = DraftBook.saved_drafts(state)
    draft = Draft.from_dict(saved, resolve("service-reply"))
    assert draft.row == 3 and draft.sections["body"].text == "Letter." and draft.sections["body"].locked


def test_book_keeps_one_draft_per_template(sales):
    book = DraftBook()
    a = book.open(sales)
    a.edit("summary", "Mine.")
    b = book.open(resolve("service-reply"))
    assert b is not a and book.current is b
    assert book.open(sales) is a and a.sections["summary"].text == "Mine."
    assert [d.template_id for d in book.unexported()] == ["sales-report"]


def test_reanchor_orders_marks_and_drops_missing():
    text = "B is 2. A is 1."
    marks = [_mark(text, "A is 1.", "1"), _mark(text, "B is 2.", "2"), Mark("x", "Gone.", 0, 5, "g", "m")]
    assert [m.claim for m in reanchor(text, marks)] == ["2", "1"]



def test_gate_counts_sentences_not_figures(sales):
    draft = Draft.new(sales)
    text = "Sales were $2.1 billion, up 3.6% in 20 years. Fine."
    draft.finish(_result("summary", text, ungrounded=["$2.1 billion", "3.6%"]))
    (problem,) = [p for p in draft.problems() if p.section_id == "summary"]
    assert problem.detail.startswith("1 marked sentence (") and "'3.6%' is not in the data" in problem.detail


def test_a_burst_of_typing_is_one_undo(sales):
    draft = Draft.new(sales)
    draft.finish(_result("summary", "Sales rose."))
    for text in ("Sales rose. C", "Sales rose. Ch", "Sales rose. Checked."):
        draft.edit("summary", text)
    assert [c.action for c in draft.history] == ["generate", "edit"]
    assert draft.undo("summary") and draft.sections["summary"].text == "Sales rose."
