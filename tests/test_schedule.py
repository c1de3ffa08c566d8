"""The step drivers (docgen.llm.schedule): requests from several documents reach a backend together, the
results go back to the document that asked, and one document's failure or a cancel is handled as a batch
user expects (the others are written; a cancel keeps what finished)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from docgen.batch import run_batch
from docgen.cancel import CancelToken
from docgen.errors import Cancelled, DocgenError
from docgen.llm.base import Generation, Message, Request
from docgen.llm.fake import FakeGenerator
from docgen.llm.schedule import ask, run_many, run_steps
from docgen.model import GenerationParams
from docgen.render import read_back
from docgen.sections.document import DEFAULT_CANDIDATES
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve


class ManyFake(FakeGenerator):
    """A fake backend that also decodes several requests in one call, recording each call's size."""

    def __init__(self, *args, fail_word: str | None = None, **kw) -> None:
        super().__init__(*args, **kw)
        self.rounds: list[int] = []
        self.fail_word = fail_word

    def generate_many(self, requests, *, on_token=None, cancel=None):
        self.rounds.append(len(requests))
        out = []
        for r in requests:
            if self.fail_word and self.fail_word in r.messages[-1].content:
                raise RuntimeError("backend fell over")
            out.append(self.generate(r.messages, r.params, choices=r.choices, on_token=r.on_token, cancel=cancel))
        return out


def echo(messages):
    return "reply to " + messages[-1].content.split()[-1]


def steps_for(word: str, asks: int = 2):
    texts = []
    for i in range(asks):
        gen = yield from ask(Request((Message("user", f"{word}{i}"),), GenerationParams(), what=f"doc {word}"))
        texts.append(gen.text)
    return texts


def test_requests_of_several_documents_are_decoded_together_and_answered_in_order():
    gen = ManyFake(echo)
    outcomes = run_many([lambda w=w: steps_for(w) for w in "abcde"], gen, width=3)
    assert [o.value for o in outcomes] == [[f"reply to {w}0", f"reply to {w}1"] for w in "abcde"]
    assert max(gen.rounds) == 3 and sum(gen.rounds) == 10  # up to 3 sequences per call, every request once


def test_width_one_is_one_document_after_the_other():
    gen = ManyFake(echo)
    order = []
    outcomes = run_many([lambda w=w: steps_for(w) for w in "abc"], gen, width=1, on_outcome=order.append)
    assert [o.index for o in order] == [0, 1, 2]
    assert set(gen.rounds) == {1}  # one document at a time: never two requests in one call
    assert outcomes[2].value == ["reply to c0", "reply to c1"]


def test_a_failing_document_does_not_take_the_others_down():
    gen = ManyFake(echo, fail_word="b1")
    outcomes = run_many([lambda w=w: steps_for(w) for w in "abc"], gen, width=3)
    assert outcomes[0].value == ["reply to a0", "reply to a1"]
    assert outcomes[2].value == ["reply to c0", "reply to c1"]
    assert isinstance(outcomes[1].error, DocgenError) and "doc b" in str(outcomes[1].error)
    assert "backend fell over" in str(outcomes[1].error)


def test_a_step_function_can_handle_a_backend_failure_itself():
    gen = FakeGenerator(echo, fail_on="bad")

    def retrying():
        try:
            yield from ask(Request((Message("user", "bad"),), GenerationParams(), what="first try"))
        except DocgenError as exc:
            first = str(exc)
        gen2 = yield from ask(Request((Message("user", "good"),), GenerationParams()))
        return first, gen2.text

    first, text = run_steps(retrying(), gen)
    assert "first try" in first and text == "reply to good"


def test_cancel_stops_all_documents():
    cancel = CancelToken()
    gen = ManyFake(echo)
    seen = []

    def on_outcome(o):
        seen.append(o.index)
        cancel.cancel()

    with pytest.raises(Cancelled):
        run_many([lambda w=w: steps_for(w, asks=3) for w in "abcdef"], gen, width=2, cancel=cancel,
                 on_outcome=on_outcome)
    assert len(seen) <= 2  # nothing new started after the cancel


def test_rows_batch_with_parallel_documents_writes_the_same_letters(tmp_path):
    """Mail merge with 3 documents in flight gives the same files and text as one after the other."""
    template = resolve("service-reply")
    data = tmp_path / "tickets.csv"
    with data.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["ticket_id", "comment"])
        for i in range(5):
            w.writerow([f"T-{i}", f"The charger number {i} stopped working."])
    dataset = load_dataset(data)
    script = lambda messages: "We are sorry about " + messages[-1].content.split("Ticket ")[1].split(".")[0] + "."
    one = run_batch(template, dataset, ManyFake(script), tmp_path / "one", width=1)
    gen = ManyFake(script)
    many = run_batch(template, dataset, gen, tmp_path / "many", width=3)
    # 3 documents in flight, each asking for its section's candidates together (#14's verified generation)
    assert max(gen.rounds) == 3 * DEFAULT_CANDIDATES
    assert [d.path.name for d in one.documents] == [d.path.name for d in many.documents]
    for a, b in zip(one.documents, many.documents, strict=True):
        assert read_back(a.path).text == read_back(b.path).text
        assert f"{b.path.stem.split('-', 1)[1]}" in read_back(b.path).text


def test_rows_batch_failure_in_one_parallel_document_is_reported_for_its_row(tmp_path):
    template = resolve("service-reply")
    data = tmp_path / "tickets.csv"
    data.write_text("ticket_id,comment\nT-1,fine\nT-2,explode please\nT-3,also fine\n", encoding="utf-8")
    report = run_batch(template, load_dataset(data), ManyFake(fail_word="explode"), tmp_path / "out", width=3)
    assert [d.ok for d in report.documents] == [True, False, True]
    assert "row 3 of tickets.csv" in report.documents[1].error
    assert not any(Path(tmp_path / "out").glob("*T-2*"))


def test_candidates_decoded_together_report_the_wall_time_not_the_sum(tmp_path):
    """A section's k candidates decoded in one call took as long as the slowest, not k times as long: the
    report's seconds for the section must not exceed the document's (the new-user trial saw 3x)."""
    import dataclasses

    class Together(ManyFake):
        def generate_many(self, requests, *, on_token=None, cancel=None):
            gens = super().generate_many(requests, on_token=on_token, cancel=cancel)
            return [dataclasses.replace(g, seconds=1.5) for g in gens]  # each waited for the one shared decode

    template = resolve("service-reply")
    dataset = load_dataset(template.root / "sample.csv")
    report = run_batch(template, dataset, Together(echo), tmp_path, width=1)
    body = report.documents[0].sections[0]
    assert body.seconds == pytest.approx(1.5)
