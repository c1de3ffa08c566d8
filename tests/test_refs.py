"""Reference documents: readers, the FTS5 index and when it re-reads a file, retrieval within the budget and
what it says it used, the prompt block, citations as footnotes, the policy-term check, the manifest keys and
``docgen refs`` / ``--refs`` on the command line."""

from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from docx import Document

from docgen.cli import main
from docgen.llm.fake import FakeGenerator
from docgen.llm.prompt import SOURCES_HEADER
from docgen.model import Source
from docgen.pipeline import DocumentJob, RunOptions, generate
from docgen.refs import Index, read_passages
from docgen.refs.evidence import policy_marks, policy_terms
from docgen.refs.retrieve import remove_unsupported
from docgen.render import convert_to_pdf
from docgen.render import pdf as pdf_mod
from docgen.render.citations import footnote_texts
from docgen.sources import load_dataset
from docgen.templates.catalog import resolve
from docgen.templates.manifest import load_manifest
from docgen.errors import ManifestError

ROOT = Path(__file__).resolve().parent.parent
POLICIES = ROOT / "templates" / "service-reply" / "references"


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- readers ------------------------------------------------------------------------------------------------------
def test_docx_reader_keeps_heading_path_paragraph_numbers_and_table_rows():
    passages = read_passages(POLICIES / "Warranty terms.docx")
    by_section = {p.section: p for p in passages}
    assert by_section["§6 After the warranty"].text.startswith("After the warranty has ended")
    assert by_section["§6 After the warranty"].headings == ("Warranty terms", "6. After the warranty")
    assert by_section["§6 After the warranty"].location.startswith("para. ")
    table = by_section["§2 Warranty periods"].text
    assert "Product: Refurbished products; Warranty period: 6 months" in table


def test_markdown_text_html_and_csv_readers(tmp_path):
    md = read_passages(POLICIES / "Shipping.md")
    late = next(p for p in md if p.section == "§3 Late or lost parcels")
    assert late.location == "line 20" and "7 working days" in late.text
    assert any("Express delivery" in p.text and "$12.95" in p.text for p in md)  # a table row
    txt = read_passages(write(tmp_path / "faq.txt", "FAQ\n\n1. Opening hours\n\nWe are open 9 to 5.\n\n"
                              "2. Phone\n\nCall 555 0100.\n"))
    assert [(p.section, p.text, p.location) for p in txt] == [
        ("§1 Opening hours", "We are open 9 to 5.", "line 5"), ("§2 Phone", "Call 555 0100.", "line 9")]
    html = read_passages(write(tmp_path / "p.html", "<html><head><script>x()</script></head><body><nav>Home</nav>"
                               "<h1>Prices</h1><p>Cables cost $5.</p><table><tr><th>Item</th><th>Price</th></tr>"
                               "<tr><td>Adapter</td><td>$9</td></tr></table></body></html>"))
    # blocks under one heading are packed into one passage (script and navigation skipped)
    assert [(p.section, p.text) for p in html] == [("Prices", "Cables cost $5.\nItem: Adapter; Price: $9")]
    csv_p = read_passages(write(tmp_path / "prices.csv", "item,price\nHDMI cable,5\nAdapter,9\n"))
    assert [(p.text, p.location) for p in csv_p] == [("item: HDMI cable; price: 5", "row 2"), ("item: Adapter; price: 9", "row 3")]


def test_unreadable_reference_names_the_file(tmp_path):
    from docgen.errors import DataError

    bad = write(tmp_path / "policy.docx", "not a zip")
    with pytest.raises(DataError, match="policy.docx"):
        read_passages(bad)
    with pytest.raises(DataError, match="cannot read .odt"):
        read_passages(write(tmp_path / "x.odt", "x"))


# -- index ------------------------------------------------------------------------------------------------------
def test_index_rereads_a_file_when_it_changes_and_not_otherwise(tmp_path):
    doc = write(tmp_path / "policy.md", "# Returns\n\nReturn within 30 days.\n")
    index = Index(tmp_path / "ix.sqlite3")
    assert index.update([doc]).indexed == [doc]
    assert index.update([doc]).unchanged == [doc]  # same size and mtime: not even opened
    os.utime(doc, ns=(doc.stat().st_atime_ns, doc.stat().st_mtime_ns + 5_000_000_000))
    report = index.update([doc])
    assert report.touched == [doc] and not report.indexed  # new mtime, same bytes: not re-read
    assert [h.passage.text for h in index.search("return", [doc])] == ["Return within 30 days."]
    write(doc, "# Returns\n\nReturn within 60 days.\n")
    os.utime(doc, ns=(doc.stat().st_atime_ns, doc.stat().st_mtime_ns + 10_000_000_000))
    assert index.update([doc]).indexed == [doc]
    assert [h.passage.text for h in index.search("return", [doc])] == ["Return within 60 days."]
    assert index.stats()["passages"] == 1


def test_search_is_scoped_ranked_and_stems(tmp_path):
    a = write(tmp_path / "a.md", "# Refunds\n\nWe refund you within 14 days.\n\n# Delivery\n\nParcels take 3 days.\n")
    b = write(tmp_path / "b.md", "# Refunds\n\nOther company refunds.\n")
    index = Index(tmp_path / "ix.sqlite3")
    index.update([a, b])
    hits = index.search("Can I get a refund?", [a])
    assert [h.file.name for h in hits] == ["a.md"] and hits[0].passage.section == "Refunds"
    assert index.search("the of and", [a, b]) == []


# -- retrieval stage, prompt block, citations -------------------------------------------------------------------
def letter_job(tmp_path, comment: str):
    data = write(tmp_path / "t.csv", f'ticket_id,comment\nT-1,"{comment}"\n')
    return DocumentJob(resolve("service-reply"), load_dataset(data), row_index=0)


def test_sources_enter_the_prompt_numbered_with_what_was_left_out(tmp_path):
    seen = []

    def script(messages):
        seen.append(messages[-1].content)
        return "We are sorry it stopped. Your player is covered for 12 months [1]."
    job = letter_job(tmp_path, "It broke after 3 months")
    result = generate(job, FakeGenerator(script))
    prompt = seen[0]
    assert SOURCES_HEADER in prompt and prompt.index(SOURCES_HEADER) < prompt.index("Task: ")
    assert "[1] Warranty terms.docx, §2 Warranty periods" in prompt
    body = result.sections[0]
    assert [s.number for s in body.sources] == list(range(1, len(body.sources) + 1))
    assert body.sources[0].file == "Warranty terms.docx"
    assert "lower-ranked" in body.sources_note and f"({body.sources_note})" in prompt


def test_a_reference_that_fits_whole_is_used_whole(tmp_path):
    refs = tmp_path / "refs"
    refs.mkdir()
    write(refs / "short.md", "# Hours\n\nOpen 9 to 5.\n\n# Phone\n\nCall 555 0100.\n")
    job = letter_job(tmp_path, "When are you open?")
    job.template = resolve("sales-report")  # a template without references of its own
    job = DocumentJob(resolve("service-reply"), job.dataset, row_index=0)
    seen = []
    options = RunOptions(references=(refs,))
    generate(job, FakeGenerator(lambda m: seen.append(m[-1].content) or "Fine."), options=options)
    assert "[" in seen[0] and "short.md, Hours" in seen[0] and "short.md, Phone" in seen[0]


def test_citations_become_footnotes_libreoffice_renders(tmp_path):
    job = letter_job(tmp_path, "It broke after 3 months")
    text = "We are sorry it stopped working.\n\nYour DVD player is covered for 12 months [1]."
    out = tmp_path / "out" / "reply.docx"
    generate(job, FakeGenerator(text), out)
    doc = Document(out)
    notes = footnote_texts(doc)
    assert notes[0].startswith("Warranty terms.docx, §2 Warranty periods")
    assert len(notes) == 2  # the body's [1] and the quoted clause's
    texts = [p.text for p in doc.paragraphs]
    assert "Your DVD player is covered for 12 months." in texts  # the marker became a footnote reference
    assert "The part of our policy that applies:" in texts
    styles = {s.name for s in doc.styles}
    assert {"footnote text", "footnote reference"} <= styles
    if pdf_mod.find_soffice() is None:
        pytest.skip("LibreOffice is not installed")
    import subprocess

    pdf = convert_to_pdf(out, tmp_path)
    page = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "covered for 12 months1." in page  # the footnote mark, numbered by LibreOffice
    # the quoted clause's mark after its last table row (pdftotext may set a space before the italic line's mark)
    assert re.search(r"Batteries and remote controls; Warranty period: 6 months ?2", page)
    foot = [line.strip() for line in page.splitlines() if "Warranty terms.docx, §2 Warranty periods" in line]
    assert len(foot) == 2  # both footnotes at the foot of the page


def test_remove_takes_out_a_deadline_and_a_wrong_product_term_and_keeps_the_true_sentences(tmp_path):
    # service-reply says [references] unsupported = "remove": a promise the policy set does not make (a reply
    # deadline, the trial's 12 months for a TV) must not reach the customer; the true sentences stay
    job = letter_job(tmp_path, "My TV broke after 3 months")
    text = ("We are sorry your TV stopped working.\n\nOur warranty covers every TV for 12 months [1]. "
            "We will contact you again within 48 hours. Thank you for your patience.")
    out = tmp_path / "out" / "reply.docx"
    result = generate(job, FakeGenerator(text), out)
    body = " ".join(p.text for p in Document(out).paragraphs)
    assert "We are sorry your TV stopped working." in body and "Thank you for your patience." in body
    assert "every TV for 12 months" not in body and "48 hours" not in body
    (section,) = result.sections
    # both removals are listed as dropped (the report's "dropped", the CLI's "N sentence(s) removed")
    assert sorted(m.kind for m in section.dropped) == ["commitment", "policy"] and not section.marks
    assert any("every TV for 12 months" in w for w in section.warnings)
    assert any("48 hours" in w for w in section.warnings)
    assert not any("'48' is not in the data" in w for w in section.warnings)  # its sentence is gone


def test_a_sentence_restating_the_cited_clause_is_kept_not_taken_for_an_echo(tmp_path):
    # the reference passages are in the prompt; restating the clause a reply cites is what a reply should do
    job = letter_job(tmp_path, "My DVD player has a fault after 3 months, it does not play discs")
    clause = "If a product develops a fault during the warranty period, we repair it free of charge"
    out = tmp_path / "out" / "reply.docx"
    result = generate(job, FakeGenerator(lambda m: f"We are sorry your player stopped working.\n\n{clause} [3]."),
                      out)
    (section,) = result.sections
    assert section.sources[2].label.startswith("Warranty terms.docx, §3 What we will do")
    assert not section.dropped and not section.marks
    assert any(p.text.startswith(clause) for p in Document(out).paragraphs)


def test_sources_list_style_numbers_citations_through_the_document_and_lists_them_at_the_end(tmp_path):
    import dataclasses

    job = letter_job(tmp_path, "It broke after 3 months")
    refs = dataclasses.replace(job.template.references, citations="list")
    job = DocumentJob(dataclasses.replace(job.template, references=refs), job.dataset, row_index=0)
    text = "We are sorry it stopped working.\n\nYour DVD player is covered for 12 months [1]."
    out = tmp_path / "out" / "reply.docx"
    result = generate(job, FakeGenerator(text), out)
    doc = Document(out)
    assert footnote_texts(doc) == []  # no footnotes in this style
    texts = [p.text for p in doc.paragraphs]
    assert "Your DVD player is covered for 12 months [1]." in texts
    first = result.sections[0].sources[0]
    heading = texts.index("Sources")
    assert doc.paragraphs[heading].style.name == "Heading 2" or doc.paragraphs[heading].runs[0].bold
    # the quoted clause is the same source as the body's [1], so it keeps number 1 and is listed once
    assert texts[heading + 1:] == [f"[1] {first.label}"]
    quote = next(t for t in texts if "Batteries and remote controls" in t)
    assert quote.endswith("[1]")


def test_unknown_citation_number_stays_and_is_marked(tmp_path):
    job = letter_job(tmp_path, "It broke after 3 months")
    result = generate(job, FakeGenerator("Your player is covered for 12 months [9]."))
    marks = result.sections[0].marks
    assert [m.kind for m in marks] == ["citation", "uncited"]
    assert "[9]" in marks[0].message


# -- policy terms against the cited passage ---------------------------------------------------------------------
SOURCES = (Source(1, "Warranty terms.docx", "/w", "§1 Cover", "para. 4",
                  "Covered for 12 months from delivery. We repair it free of charge."),
           Source(2, "Returns policy.docx", "/r", "§1 Your right to return", "para. 4",
                  "You may return any product within 30 days of delivery for a full refund."))


def test_policy_terms_are_normalised():
    keys = [t.key for t in policy_terms("one year, 12 months, 10 working days, $49.00, 15 percent, a full refund")]
    assert keys == ["12 month", "10 working day", "$49", "15%", "refund"]


def test_policy_marks_cited_uncited_unsupported():
    text = ("I am sorry it stopped after 3 months. It is covered for one year [1]. We will repair it [1]. "
            "You can also have a full refund [1]. You may return it within 30 days. We will add a $20 voucher.")
    marks = policy_marks(text, SOURCES, ["It stopped after 3 months"])
    got = [(m.kind, m.claim) for m in marks]
    # "refund" is in [2], not the cited [1]: a wrong citation (the sentence is true), not a false promise
    assert got == [("citation", "refund"), ("uncited", "30 days"), ("policy", "$20, voucher")]
    assert "[2]" in marks[0].message  # the source that does say it
    assert text[marks[1].start:marks[1].end] == "You may return it within 30 days."


def test_unsupported_promises_are_removed_when_the_template_says_so():
    text = "Sorry about that. We will add a $20 voucher.\n\nPlease call us."
    cleaned, removed = remove_unsupported(text, policy_marks(text, SOURCES))
    assert cleaned == "Sorry about that.\n\nPlease call us." and removed == ["We will add a $20 voucher."]


def _bundled_sources() -> list[Source]:
    out: list[Source] = []
    for name in ("Warranty terms.docx", "Returns policy.docx", "Shipping.md"):
        for passage in read_passages(POLICIES / name):
            out.append(Source(len(out) + 1, name, str(POLICIES / name), "§", "para.", passage.text))
    return out


@pytest.mark.parametrize("sentence, claim, scope", [
    # the new-user trial's letter: 12 months is the policy's term for DVD players, not for TVs (24 months)
    ("We offer a 12-month warranty on all our products, including TVs and monitors.", "12-month", "TVs"),
    ("Your headphones are covered for 24 months.", "24 months", "headphones"),
    ("Refurbished products are covered for 12 months [3].", "12 months", "Refurbished"),
    ("Express delivery costs $4.95.", "$4.95", "Express"),
    # a claim about every product, against "Every product ... is covered ... for 12 months" (new-user trial)
    ("We offer a 6-month warranty on all our products.", "6-month", "all our products"),
])
def test_a_policy_term_given_to_the_wrong_product_is_a_policy_mark(sentence, claim, scope):
    marks = policy_marks(sentence, _bundled_sources())
    assert [(m.kind, m.claim) for m in marks] == [("policy", claim)]
    assert f"says for {scope}: it says" in marks[0].message


@pytest.mark.parametrize("sentence", [
    "Every product is covered for 12 months from delivery.",
    "Your TV is covered for 24 months, and repairs are normally finished within 10 working days.",
    "Refurbished products are covered for 6 months.",
    "Your Northwind Audio speaker is covered for 24 months.",  # own brand: 24 months, whatever the product row
    "Standard delivery costs $4.95 and is free on orders over $50.",
    "Tell us within 14 days of delivery if it arrived damaged and we send a replacement.",
    "We refund the price you paid within 14 days of receiving the returned product.",
    "All our products come with a 12-month warranty.",
    "Tell us within 14 days if any product arrives damaged.",  # "damaged" says which case: 14 days
])
def test_a_policy_term_stated_for_what_the_sentence_names_is_not_a_scope_mark(sentence):
    marks = policy_marks(sentence, _bundled_sources())
    assert [m.kind for m in marks] == ["uncited"], [(m.kind, m.message) for m in marks]


# -- manifest ---------------------------------------------------------------------------------------------------
def test_manifest_references_keys(tmp_path):
    pkg = tmp_path / "t"
    shutil.copytree(ROOT / "templates" / "service-reply", pkg)
    spec = load_manifest(pkg).references
    assert spec.folder == pkg / "references" and spec.query == "{{ row.comment }}" and spec.unsupported == "remove"
    manifest = (pkg / "docgen.toml").read_text()
    (pkg / "docgen.toml").write_text(manifest.replace('passages = 3', 'passages = 3\nsections = ["nope"]'))
    with pytest.raises(ManifestError, match="'nope' is not a section"):
        load_manifest(pkg)
    (pkg / "docgen.toml").write_text(manifest.replace('passages = 3', 'passages = 3\nfolder = "../.."'))
    with pytest.raises(ManifestError, match="outside the template package"):
        load_manifest(pkg)


# -- command line -----------------------------------------------------------------------------------------------
def test_refs_cli_add_list_search(tmp_path, capsys):
    faq = write(tmp_path / "faq.md", "# Gift wrapping\n\nWe gift-wrap any order for $3.\n")
    assert main(["refs", "add", str(faq)]) == 0
    assert main(["refs", "list"]) == 0
    out = capsys.readouterr().out
    assert "faq.md  (1 passages" in out
    assert main(["refs", "search", "gift wrap", "-n", "1"]) == 0
    assert "1. faq.md, Gift wrapping" in capsys.readouterr().out
    assert main(["refs", "search", "warranty on a dvd player", "--template", "service-reply", "-n", "1"]) == 0
    assert "Warranty terms.docx" in capsys.readouterr().out
    assert main(["refs", "add", str(tmp_path / "missing.pdf")]) == 2


def test_batch_refs_flag_and_report(tmp_path, capsys):
    data = write(tmp_path / "t.csv", 'ticket_id,comment\nT-1,"Do you gift-wrap?"\n')
    faq = write(tmp_path / "faq.md", "# Gift wrapping\n\nWe gift-wrap any order for $3.\n")
    code = main(["--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "out"), "--backend",
                 "fake", "--refs", str(faq), "-q"])
    assert code == 0
    report = json.loads((tmp_path / "out" / "docgen-report.json").read_text())
    section = report["documents"][0]["sections"][0]
    assert section["sources"][0]["label"].startswith("faq.md, Gift wrapping") and section["sources_note"]
    assert main(["--template", "service-reply", "--data", str(data), "--out", str(tmp_path / "o2"),
                 "--backend", "fake", "--refs", str(tmp_path / "nope.pdf")]) == 2
    assert "nope.pdf does not exist" in capsys.readouterr().err
