"""The claim check (docgen.claims) and what it does to the written .docx: Word comments anchored on the marked
sentence, ``drop`` removing exactly that sentence, ``fail`` and ``--strict-grounding`` refusing the document,
the report and the CLI summary."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from docgen.batch import REPORT_NAME, run_batch
from docgen.llm.fake import FakeGenerator
from docgen.model import RunOptions
from docgen.pipeline import DocumentJob, generate
from docgen.render import read_back
from docgen.render.comments import AUTHOR, read_comments
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve

ROOT = Path(__file__).resolve().parents[1]


def marks_of(template_id: str, text: str, section: str | None = None, row: int | None = None):
    template = resolve(template_id)
    data = load_dataset(template.root / "sample.csv")
    if template.mode == "rows" and row is None:
        row = 0
    result = generate(DocumentJob(template, data, row_index=row), FakeGenerator(text))
    by_id = {s.id: s for s in result.sections}
    return by_id[section or next(s.id for s in template.sections if s.format == "markdown")]


def kinds(result) -> list[tuple[str, str]]:
    return [(m.kind, m.claim) for m in result.marks]


def test_a_figure_of_another_region_is_misattributed_and_the_comment_says_what_the_data_says():
    r = marks_of("sales-report", "The Central region kept a profit margin of 29.5% over the period.")
    (m,) = r.marks
    assert (m.kind, m.claim) == ("misattributed", "29.5%")
    assert "East's share of sales (29.5%)" in m.message
    assert "Central's profit as a share of sales: 7.9%" in m.evidence
    assert r.text[m.start:m.end] == m.sentence


@pytest.mark.parametrize("text, expected", [
    ("The North region has also made significant strides this year.", ("entity", "North")),
    ("The strongest region was Technology by a wide margin.", ("entity", "Technology")),
    ("Superstore is a renowned retailer in the city of Paris, praised by its staff.", ("name", "Paris")),
    ("Its Michelin-starred service impressed the managers most.", ("name", "Michelin-starred")),
    ("Overall profit margin was 14.9% for the whole period.", ("misattributed", "14.9%")),
    ("West's sales rose by 31.6% compared to last year.", ("derived", "31.6%")),
    ("Total sales reached $2.1 billion over the period.", ("unsupported", "$2.1 billion")),
])
def test_each_kind_of_problem_is_marked(text, expected):
    assert expected in kinds(marks_of("sales-report", text))


@pytest.mark.parametrize("text", [
    "The West was the strongest region with sales of $725,457.82, or 31.6% of the total.",
    "East followed closely with $678,781.24 (29.5% of total) and a profit of $91,522.78.",
    "Copiers were the most profitable sub-category at $55,617.82, ahead of Phones at $44,515.73.",
    "Tables lost -$17,725.48, the largest loss of any sub-category.",
    "Superstore's overall profit margin was 12.5% on total sales of $2,297,200.86.",
    "Technology led the categories; Furniture's thin margin is the main concern.",
])
def test_true_sentences_are_not_marked(text):
    assert kinds(marks_of("sales-report", text)) == []


def offer_letters(tmp_path: Path) -> Path:
    """The service-reply letter whose offer is a field and that has no reference documents (the labelled set's
    ``offer-letters`` context, made by bench/claims_accuracy.py): the commitment rule alone judges it."""
    spec = importlib.util.spec_from_file_location("claims_accuracy", ROOT / "bench" / "claims_accuracy.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    return bench.offer_letters(tmp_path)


def test_letters_promising_what_the_template_does_not_offer_are_marked(tmp_path):
    text = ("We are sorry the player fails on dual-layer discs. We will send you a free replacement or a full "
            "refund; please contact support@example.com quoting your ticket.\n\n"
            "We can also give you a 20% discount, and we will call you within 24 hours at +1 555 010 2020. "
            "We sincerely apologize that we cannot provide this service.")
    found = kinds(marks_of(str(offer_letters(tmp_path)), text))
    assert ("commitment", "discount") in found and ("commitment", "within 24 hours") in found
    assert ("commitment", "+1 555 010 2020") in found
    assert any(k == "commitment" and "cannot provide" in c for k, c in found)
    assert not any("free replacement" in c or "support@example.com" in c for _k, c in found)
    assert not any(c in ("555", "2020") for _k, c in found)  # a phone number's digits are not figures


def test_an_echoed_instruction_never_reaches_the_document(tmp_path):
    echo = "One paragraph on the overall mood with counts, followed by a bullet list of main complaints and praises."
    template = resolve("sentiment-report")
    data = load_dataset(template.root / "sample.csv")
    text = f"{echo}\n\nCustomers of the product write about it at length, with mixed feelings."
    report = run_batch(template, data, FakeGenerator(text), tmp_path)
    (doc,) = report.documents
    assert doc.ok, doc.error
    body = read_back(doc.path).text
    assert "One paragraph on the overall mood" not in body
    assert "Customers of the product write about it at length" in body
    summary = {s.id: s for s in doc.sections}["summary"]
    assert [m.kind for m in summary.dropped] == ["echo"]


WRONG = ("The West was the strongest region with sales of $725,457.82. The North region grew faster than any "
         "other. Tables lost -$17,725.48.")


def _write(tmp_path, options=RunOptions()):
    template = resolve("sales-report")
    data = load_dataset(template.root / "sample.csv")
    return run_batch(template, data, FakeGenerator(WRONG), tmp_path, options=options)


def test_mark_puts_a_comment_by_docgen_check_on_exactly_the_marked_sentence(tmp_path):
    report = _write(tmp_path)
    (doc,) = report.documents
    assert doc.ok
    comments = read_comments(doc.path)
    assert len(comments) == 2  # the North sentence, in each of the two sections
    for author, text, anchored in comments:
        assert author == AUTHOR
        assert anchored == "The North region grew faster than any other."
        assert "no region 'North'" in text and "Central, East" in text or "South, West" in text
    body = read_back(doc.path).text
    assert "The West was the strongest region with sales of $725,457.82." in body  # true sentences stay


def test_drop_removes_exactly_the_marked_sentence_and_the_report_says_so(tmp_path):
    report = _write(tmp_path, RunOptions(on_unsupported="drop"))
    (doc,) = report.documents
    assert doc.ok
    body = read_back(doc.path).text
    assert "North" not in body
    assert "The West was the strongest region with sales of $725,457.82. Tables lost -$17,725.48." in body
    assert read_comments(doc.path) == []
    data = json.loads((tmp_path / REPORT_NAME).read_text(encoding="utf-8"))
    summary = data["documents"][0]["sections"][0]
    assert [m["claim"] for m in summary["dropped"]] == ["North"] and summary["marks"] == []
    assert any("removed 1 marked sentence" in w for w in summary["warnings"])


@pytest.mark.parametrize("options", [RunOptions(on_unsupported="fail"), RunOptions(strict_grounding=True)])
def test_fail_and_strict_grounding_refuse_a_document_with_any_mark(tmp_path, options):
    report = _write(tmp_path, options)
    (doc,) = report.documents
    assert not doc.ok and not list(tmp_path.glob("*.docx"))
    assert "'North'" in doc.error and "section 'summary'" in doc.error


def test_the_manifest_chooses_and_the_user_overrides(tmp_path):
    import dataclasses

    template = dataclasses.replace(resolve("sales-report"), on_unsupported="fail")
    data = load_dataset(template.root / "sample.csv")
    refused = run_batch(template, data, FakeGenerator(WRONG), tmp_path / "a")
    assert not refused.documents[0].ok
    written = run_batch(template, data, FakeGenerator(WRONG), tmp_path / "b",
                        options=RunOptions(on_unsupported="mark"))
    assert written.documents[0].ok


def test_the_report_lists_marks_per_section_and_the_cli_counts_them(tmp_path, monkeypatch, capsys):
    from docgen import cli
    import docgen.llm.fake as fake

    monkeypatch.setattr(fake, "DEFAULT_REPLY", WRONG)
    sample = ROOT / "templates" / "sales-report" / "sample.csv"
    args = ["--template", "sales-report", "--data", str(sample), "--backend", "fake", "-q"]
    assert cli.main([*args, "--out", str(tmp_path / "a")]) == cli.EXIT_OK
    err = capsys.readouterr().err
    assert "sales-report-Superstore-2014-2017.docx: 2 marked sentence(s) (2 unknown value(s))" in err
    data = json.loads((tmp_path / "a" / REPORT_NAME).read_text(encoding="utf-8"))
    assert data["documents"][0]["marks"] == 2
    mark = data["documents"][0]["sections"][0]["marks"][0]
    assert mark["kind"] == "entity" and mark["sentence"] == "The North region grew faster than any other."
    assert cli.main([*args, "--out", str(tmp_path / "b"), "--on-unsupported", "drop"]) == cli.EXIT_OK
    assert cli.main([*args, "--out", str(tmp_path / "c"), "--strict-grounding"]) == cli.EXIT_SOME_FAILED
    # a re-run skips the written document; its marks are still reported (from the sidecar), not 0
    capsys.readouterr()
    assert cli.main([*args, "--out", str(tmp_path / "a")]) == cli.EXIT_OK
    again = json.loads((tmp_path / "a" / REPORT_NAME).read_text(encoding="utf-8"))
    assert again["skipped"] == 1 and again["documents"][0]["marks"] == 2
    assert again["documents"][0]["sections"][0]["marks"][0]["sentence"] == mark["sentence"]
    assert "2 marked sentence(s)" in capsys.readouterr().err


# -- verified generation: k candidates, the fewest marks wins ----------------------------------------------------

class SeededFake(FakeGenerator):
    """Replies by seed (what a sampling model does), optionally decoding several requests in one call."""

    def __init__(self, by_seed, *, many=False):
        super().__init__("unused")
        self.by_seed, self.seeds, self.rounds = by_seed, [], []
        if many:
            self.generate_many = self._many

    def generate(self, messages, params, **kw):
        self.seeds.append(params.seed)
        self._script = self.by_seed.get(params.seed, "Sales were steady over the period for the company.")
        return super().generate(messages, params, **kw)

    def _many(self, requests, *, on_token=None, cancel=None):
        self.rounds.append(len(requests))
        return [self.generate(r.messages, r.params, choices=r.choices, cancel=cancel) for r in requests]


BY_SEED = {42: "The North region grew. The South region grew too, said our staff in Paris.",
           43: "The West was the strongest region with sales of $725,457.82.",
           44: "The North region grew faster than the others."}


@pytest.mark.parametrize("many, seeds", [(False, [42, 43]), (True, [42, 43, 44])])
def test_the_candidate_with_the_fewest_marks_is_kept(tmp_path, many, seeds):
    template = resolve("sales-report")
    gen = SeededFake(BY_SEED, many=many)
    data = load_dataset(template.root / "sample.csv")
    result = generate(DocumentJob(template, data, only_sections=["summary"]), gen, options=RunOptions(candidates=3))
    (summary,) = result.sections
    assert summary.text == BY_SEED[43] and summary.marks == () and summary.params.seed == 42  # the seed asked for
    assert gen.seeds == seeds  # in turn: stops at the first candidate without marks; together: all three at once
    assert gen.rounds == ([3] if many else [])


def marking_letters(tmp_path: Path) -> Path:
    """The bundled service-reply with its reference documents, set to mark (not remove) what no policy
    supports: ``[references] unsupported = "mark"``."""
    pkg = tmp_path / "marking-letters"
    shutil.copytree(ROOT / "templates" / "service-reply", pkg)
    manifest = (pkg / "docgen.toml").read_text(encoding="utf-8")
    assert 'unsupported = "remove"' in manifest
    (pkg / "docgen.toml").write_text(manifest.replace('unsupported = "remove"', 'unsupported = "mark"'),
                                     encoding="utf-8")
    return pkg


def test_a_letter_written_from_policies_keeps_their_marks_and_may_offer_what_they_offer(tmp_path):
    # row 1's passages are the warranty terms (12 months for DVD players; repairs) and the shipping charges
    text = ("We are sorry that your player fails on dual-layer discs. Your DVD player has a warranty of 12 months "
            "[1], and we can offer a repair under the warranty [2].\n\n"
            "We will also give you a 20% discount on your next order.")
    template = resolve(str(marking_letters(tmp_path)))
    data = load_dataset(template.root / "sample.csv")
    report = run_batch(template, data, FakeGenerator(text), tmp_path / "out", options=RunOptions(candidates=1))
    doc = report.documents[0]
    assert doc.ok, doc.error
    body = {s.id: s for s in doc.sections}["body"]
    assert body.sources, "the letter was written from the policy passages"
    found = kinds(body)
    # the reference check's mark (a promise no policy makes) survives the claim check that runs after it
    assert ("policy", "20%, discount") in found
    # an offer the cited policy states is not an offer "the template does not make"
    assert not any(k == "commitment" and "repair" in c.lower() for k, c in found), found
    anchored = [anchor for author, _text, anchor in read_comments(doc.path) if author == AUTHOR]
    assert any("20% discount" in a for a in anchored) and not any("repair" in a for a in anchored)
    said = [text for author, text, anchor in read_comments(doc.path) if author == AUTHOR and "20% discount" in anchor]
    # the reader is told it is a promise no policy supports, not a figure missing from the data
    assert any("Promise no source supports" in t for t in said) and not any("Figure not in the data: '20%, discount'" in t for t in said)


def test_a_figure_of_another_group_of_a_two_column_grouping_is_misattributed():
    # wildlife-survey groups by species and sex: 4.68 kg is Gentoo females' body mass, not an Adelie figure
    # (the new-user trial's real-model summary); the true figures of the same groups are not marked
    wrong = marks_of("wildlife-survey", "Adelie females had a higher body mass than Adelie males (4.68 kg).")
    assert kinds(wrong) == [("misattributed", "4.68")]
    assert "not a figure of Adelie" in wrong.marks[0].message and "Gentoo female" in wrong.marks[0].message
    right = marks_of("wildlife-survey", "Adelie males weighed 4.04 kg on average and Adelie females 3.37 kg, "
                                        "while Gentoo females weighed 4.68 kg.")
    assert kinds(right) == []
